//! `cargo bench -p rust-pki-tlog --bench tlog`: the on-disk transparency log
//! (`writer::Log`) at several sizes, next to raw baselines measured in the same run. Not a
//! test: nothing is asserted about speed. The correctness of what was built is asserted
//! (every proof made is checked, and the largest log is reopened and proved against).
//!
//! For each size N (entries of `ENTRY_LEN` bytes, appended in batches of `BATCH`):
//!
//! - append rate (entries/s), batched, and one-entry appends (each one a signed checkpoint);
//! - raw RFC 6962 leaf hashing of the same entries with the `sha2` crate (hashes/s, MB/s),
//!   and `tlog_tiles::stored_hashes` in memory (all the tree's hashes, no files), and the
//!   ratio of the append rate to each;
//! - `Log::open` (recomputes and checks the whole tree from the files);
//! - `Log::find_entry` of every entry once after the reopen (what `rust-pki sign` does for
//!   each entry of a run when it staples), mean µs per lookup;
//! - `Log::prove_inclusion` (reads tiles from disk) and `tlog_tiles::check_record`, mean
//!   over random indexes; the same for consistency proofs (`prove_consistency`,
//!   `check_tree`) from random older sizes, whose roots are computed in memory.
//!
//! Every proof made is checked (and every signed head's consistency with the last), and the
//! log is reopened before proving: at 10^6 this is the scale run. `scripts/test`
//! runs it at 10^6 in the test profile (`cargo test --bench tlog -- --bench`), where the
//! timings mean little; `scripts/bench` runs it with `cargo bench`.
//!
//! Environment:
//! - `RUST_PKI_TLOG_BENCH_SIZES`: comma-separated sizes (default `1000,100000,1000000`);
//! - `RUST_PKI_TLOG_BENCH_DIR`: where to make the logs (default: a temporary directory).
//!
//! The checkpoints are signed with a real Ed25519 note key (`note::sign_note`).

// A benchmark binary, neither library code nor a test: it fails loudly and prints its table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use rust_pki_tlog::note::{KeyType, SignerKey, sign_note};
use rust_pki_tlog::writer::Log;
use sha2::{Digest as _, Sha256};
use tlog_tiles::{
    Hash, HashReader, check_record, check_tree, record_hash, stored_hashes, tree_hash,
};

const ORIGIN: &str = "bench.rust-lang.org/tlog";
/// Bytes per entry: a small record, like a leaf-issuance entry's digests.
const ENTRY_LEN: usize = 80;
/// Entries per `Log::append` in the batched measurement.
const BATCH: usize = 10_000;
/// One-entry appends timed per size.
const SINGLES: u64 = 50;
/// Random indexes (and old tree sizes) proved per size.
const PROOFS: usize = 2_000;
const DEFAULT_SIZES: &str = "1000,100000,1000000";

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` (or --all-targets) does not, and
    // then building it was the test.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "tlog bench: not run under `cargo bench`; pass --bench to run it (scripts/bench, \
             scripts/test)"
        );
        return;
    }
    let sizes: Vec<usize> = std::env::var("RUST_PKI_TLOG_BENCH_SIZES")
        .unwrap_or_else(|_| DEFAULT_SIZES.to_owned())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|e| panic!("RUST_PKI_TLOG_BENCH_SIZES: {s:?}: {e}"))
        })
        .collect();
    assert!(
        sizes.iter().all(|&n| n > 0),
        "RUST_PKI_TLOG_BENCH_SIZES: sizes must be positive"
    );
    let base = match std::env::var_os("RUST_PKI_TLOG_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .expect("temporary directory");
    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).expect("log key");

    let mut results = Vec::new();
    for &n in &sizes {
        eprintln!("tlog bench: {n} entries");
        results.push(run_size(base.path(), &key, n));
    }
    print_table(&results);
}

/// What one size measured.
struct SizeResult {
    n: usize,
    batch: usize,
    /// Batched appends, entries/s.
    append: f64,
    /// One-entry appends, appends/s.
    single: f64,
    /// RFC 6962 leaf hashes/s (sha2).
    leaf_hash: f64,
    /// Bytes hashed per leaf (0x00 and the entry).
    leaf_bytes: f64,
    /// `tlog_tiles::stored_hashes` in memory, entries/s.
    stored: f64,
    reopen: Duration,
    /// `Log::find_entry`, µs per lookup of an entry of the log.
    find_us: f64,
    prove_us: f64,
    verify_us: f64,
    prove_tree_us: f64,
    verify_tree_us: f64,
    files: u64,
    bytes: u64,
}

fn run_size(base: &Path, key: &SignerKey, n: usize) -> SizeResult {
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    let batch = BATCH.min(n);
    // Small sizes are repeated (fresh logs) and the median taken; 10^6 is one run.
    let repeats = (200_000 / n).clamp(1, 5);
    let mut appends = Vec::new();
    let mut leaf_rates = Vec::new();
    let mut stored_rates = Vec::new();
    let mut last = None;
    for r in 0..repeats {
        // Baselines first, then the log, alternating each repeat, on the same entries.
        leaf_rates.push(leaf_hash_rate(&entries));
        stored_rates.push(stored_hashes_rate(&entries));
        let dir = base.join(format!("log-{n}-{r}"));
        let signer_key = key.clone();
        let mut log = Log::create(&dir, ORIGIN, move |body: &[u8]| {
            sign_note(body, &signer_key)
        })
        .expect("create log");
        let mut heads = Vec::new();
        let start = Instant::now();
        for chunk in entries.chunks(batch) {
            heads.push(log.append(chunk).expect("append"));
        }
        appends.push(n as f64 / start.elapsed().as_secs_f64());
        if let Some((old_dir, _, _)) = last.replace((dir, log, heads)) {
            std::fs::remove_dir_all(old_dir).expect("remove old log");
        }
    }
    let (dir, log, heads) = last.expect("at least one repeat");
    let head = log.head().clone();
    assert_eq!(head.size, n as u64);
    drop(log);
    leaf_rates.push(leaf_hash_rate(&entries));

    // Reopen: the whole tree recomputed from the entry bundles and checked.
    let signer_key = key.clone();
    let start = Instant::now();
    let mut log = Log::open(&dir, ORIGIN, move |body: &[u8]| {
        sign_note(body, &signer_key)
    })
    .expect("reopen log");
    let reopen = start.elapsed();
    assert_eq!(log.head(), &head, "reopened log has another head");

    // Every entry looked up by its bytes, as `rust-pki sign` does before stapling each one.
    let start = Instant::now();
    for (i, e) in (0..).zip(&entries) {
        assert_eq!(
            log.find_entry(black_box(e)),
            Some(i),
            "find_entry of entry {i}"
        );
    }
    let find_us = micros(start.elapsed(), n);
    assert_eq!(log.find_entry(b"not an entry"), None);

    // Inclusion proofs at random indexes, read from the tiles on disk.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    let indexes: Vec<u64> = (0..PROOFS).map(|_| rng.below(n as u64)).collect();
    let start = Instant::now();
    let proofs: Vec<Vec<Hash>> = indexes
        .iter()
        .map(|&i| log.prove_inclusion(i).expect("inclusion proof").0)
        .collect();
    let prove_us = micros(start.elapsed(), PROOFS);
    let leaves: Vec<Hash> = indexes
        .iter()
        .map(|&i| record_hash(&entries[usize::try_from(i).expect("index")]))
        .collect();
    // Verification is fast: repeat over the same proofs for a measurable time.
    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        for ((proof, &i), &leaf) in proofs.iter().zip(&indexes).zip(&leaves) {
            check_record(black_box(proof), head.size, head.root, i, leaf)
                .expect("inclusion proof verifies");
        }
    }
    let verify_us = micros(start.elapsed(), rounds * PROOFS);
    // A proof does not verify for another entry.
    assert!(
        check_record(
            &proofs[0],
            head.size,
            head.root,
            indexes[0],
            record_hash(b"x")
        )
        .is_err()
    );

    // Every head signed along the way is consistent with the last one.
    for old in &heads {
        let (proof, _) = log.prove_consistency(old.size).expect("consistency proof");
        check_tree(&proof, head.size, head.root, old.size, old.root)
            .expect("consistency with a signed head");
    }
    // Consistency proofs from random older sizes, against roots computed independently
    // in memory (tlog_tiles over the entries, no files).
    let hashes = all_stored_hashes(&entries);
    let olds: Vec<(u64, Hash)> = (0..PROOFS)
        .map(|_| {
            let size = 1 + rng.below(n as u64);
            (size, tree_hash(size, &Mem(&hashes)).expect("tree hash"))
        })
        .collect();
    assert_eq!(
        tree_hash(head.size, &Mem(&hashes)).expect("tree hash"),
        head.root
    );
    drop(hashes);
    let start = Instant::now();
    let tree_proofs: Vec<Vec<Hash>> = olds
        .iter()
        .map(|&(size, _)| log.prove_consistency(size).expect("consistency proof").0)
        .collect();
    let prove_tree_us = micros(start.elapsed(), PROOFS);
    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        for (proof, &(size, root)) in tree_proofs.iter().zip(&olds) {
            check_tree(black_box(proof), head.size, head.root, size, root)
                .expect("consistency proof verifies");
        }
    }
    let verify_tree_us = micros(start.elapsed(), rounds * PROOFS);

    // One-entry appends on the full log: each writes its tiles and a signed checkpoint.
    let start = Instant::now();
    for i in 0..SINGLES {
        log.append(&[entry(n + usize::try_from(i).expect("small"))])
            .expect("single append");
    }
    let single = SINGLES as f64 / start.elapsed().as_secs_f64();
    let grown = log.head().clone();
    assert_eq!(grown.size, n as u64 + SINGLES);
    let (proof, _) = log.prove_consistency(head.size).expect("consistency proof");
    check_tree(&proof, grown.size, grown.root, head.size, head.root)
        .expect("grown log is consistent with the batched one");
    let (files, bytes) = du(&dir);
    drop(log);
    std::fs::remove_dir_all(&dir).expect("remove log");

    SizeResult {
        n,
        batch,
        append: median(appends),
        single,
        leaf_hash: median(leaf_rates),
        leaf_bytes: entries.iter().map(|e| e.len() + 1).sum::<usize>() as f64 / n as f64,
        stored: median(stored_rates),
        reopen,
        find_us,
        prove_us,
        verify_us,
        prove_tree_us,
        verify_tree_us,
        files,
        bytes,
    }
}

/// Entry `i`: `ENTRY_LEN` bytes, distinct per index.
fn entry(i: usize) -> Vec<u8> {
    let mut e = format!("rust-pki tlog bench entry {i:012} ").into_bytes();
    let mut x = i as u64 ^ 0xa076_1d64_78bd_642f;
    while e.len() < ENTRY_LEN {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        e.push(b'a' + (x % 26) as u8);
    }
    e
}

/// Raw RFC 6962 leaf hashing, SHA-256(0x00 ‖ entry), of all `entries` with the `sha2`
/// crate, repeated to at least 0.2 s: hashes/s.
fn leaf_hash_rate(entries: &[Vec<u8>]) -> f64 {
    let start = Instant::now();
    let mut rounds = 0usize;
    while rounds == 0 || start.elapsed() < Duration::from_millis(200) {
        for e in entries {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(e);
            black_box(h.finalize());
        }
        rounds += 1;
    }
    (rounds * entries.len()) as f64 / start.elapsed().as_secs_f64()
}

/// `tlog_tiles::stored_hashes` for all `entries` in memory (leaf and interior hashes, no
/// files), repeated to at least 0.2 s: entries/s.
fn stored_hashes_rate(entries: &[Vec<u8>]) -> f64 {
    let start = Instant::now();
    let mut rounds = 0usize;
    while rounds == 0 || start.elapsed() < Duration::from_millis(200) {
        black_box(all_stored_hashes(entries));
        rounds += 1;
    }
    (rounds * entries.len()) as f64 / start.elapsed().as_secs_f64()
}

/// Every stored hash of the tree of `entries`, by stored hash index.
fn all_stored_hashes(entries: &[Vec<u8>]) -> Vec<Hash> {
    let mut hashes: Vec<Hash> = Vec::with_capacity(2 * entries.len());
    for (i, e) in entries.iter().enumerate() {
        let new = stored_hashes(i as u64, e, &Mem(&hashes)).expect("stored hashes");
        hashes.extend(new);
    }
    hashes
}

/// Stored hashes in memory, by stored hash index.
struct Mem<'a>(&'a [Hash]);

impl HashReader for Mem<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Files and bytes under `dir`.
fn du(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    for item in std::fs::read_dir(dir).expect("read_dir") {
        let item = item.expect("dir entry");
        let meta = item.metadata().expect("metadata");
        if meta.is_dir() {
            let (f, b) = du(&item.path());
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    (files, bytes)
}

fn micros(elapsed: Duration, count: usize) -> f64 {
    elapsed.as_secs_f64() * 1e6 / count as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 0 => (values[mid - 1] + values[mid]) / 2.0,
        _ => values[mid],
    }
}

/// xorshift64: reproducible random indexes without a dependency.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn print_table(results: &[SizeResult]) {
    println!();
    println!(
        "rust-pki tlog bench: {ENTRY_LEN}-byte entries, Ed25519-signed checkpoints, every file \
         fsynced; {PROOFS} random proofs per size"
    );
    let row = |what: &str, cells: Vec<String>, goal: &str| {
        let mut line = format!("{what:<52}");
        for c in cells {
            line.push_str(&format!(" {c:>12}"));
        }
        println!("{line}  {goal}");
    };
    row(
        "measurement",
        results.iter().map(|r| format!("N = {}", r.n)).collect(),
        "goal",
    );
    let f = |g: &dyn Fn(&SizeResult) -> String| results.iter().map(g).collect::<Vec<_>>();
    row(
        "append, batched: entries/s",
        f(&|r| format!("{:.0}", r.append)),
        ">= 50000",
    );
    row(
        "  batch size (entries per append)",
        f(&|r| r.batch.to_string()),
        "",
    );
    row(
        "raw leaf hash SHA-256(0x00||e), sha2: hashes/s",
        f(&|r| format!("{:.0}", r.leaf_hash)),
        "",
    );
    row(
        "raw leaf hash: MB/s",
        f(&|r| format!("{:.1}", r.leaf_hash * r.leaf_bytes / 1e6)),
        "",
    );
    row(
        "ratio append / raw leaf hash",
        f(&|r| format!("{:.3}", r.append / r.leaf_hash)),
        "",
    );
    row(
        "tlog_tiles::stored_hashes in memory: entries/s",
        f(&|r| format!("{:.0}", r.stored)),
        "",
    );
    row(
        "ratio append / in-memory stored_hashes",
        f(&|r| format!("{:.3}", r.append / r.stored)),
        "",
    );
    row(
        "append, 1 entry per append: appends/s",
        f(&|r| format!("{:.1}", r.single)),
        "",
    );
    row(
        "reopen (Log::open, full check): s",
        f(&|r| format!("{:.3}", r.reopen.as_secs_f64())),
        "",
    );
    row(
        "reopen: entries/s",
        f(&|r| format!("{:.0}", r.n as f64 / r.reopen.as_secs_f64())),
        "",
    );
    row(
        "ratio reopen / raw leaf hash",
        f(&|r| format!("{:.3}", r.n as f64 / r.reopen.as_secs_f64() / r.leaf_hash)),
        "",
    );
    row(
        "find_entry, every entry once (after reopen): µs",
        f(&|r| format!("{:.2}", r.find_us)),
        "",
    );
    row(
        "inclusion proof, Log::prove_inclusion (disk): µs",
        f(&|r| format!("{:.1}", r.prove_us)),
        "",
    );
    row(
        "inclusion verify, tlog_tiles::check_record: µs",
        f(&|r| format!("{:.2}", r.verify_us)),
        "< 50 at 10^6",
    );
    row(
        "consistency proof, Log::prove_consistency: µs",
        f(&|r| format!("{:.1}", r.prove_tree_us)),
        "",
    );
    row(
        "consistency verify, tlog_tiles::check_tree: µs",
        f(&|r| format!("{:.2}", r.verify_tree_us)),
        "",
    );
    row("log on disk: files", f(&|r| r.files.to_string()), "");
    row(
        "log on disk: MB",
        f(&|r| format!("{:.1}", r.bytes as f64 / 1e6)),
        "",
    );
}
