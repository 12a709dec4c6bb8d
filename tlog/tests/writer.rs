//! The on-disk log: RFC 6962 known answers, tampering, crashes, proofs, scale.
// The writer side (feature `writer`, on by default) builds the logs and keys used here.
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use rust_pki_tlog::Error;
use rust_pki_tlog::writer::{Fault, Log, PENDING_FILE, TreeHead};
use tlog_tiles::{Hash, check_record, check_tree, record_hash};

const ORIGIN: &str = "example.com/test-log";

/// A stand-in signer: appends one fake signature line (real signing is the note module's).
fn signer(body: &[u8]) -> rust_pki_tlog::Result<Vec<u8>> {
    let mut note = body.to_vec();
    note.extend_from_slice("\n\u{2014} test-log AAAAAA==\n".as_bytes());
    Ok(note)
}

fn entries(prefix: &str, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    range.map(|i| format!("{prefix}{i}").into_bytes()).collect()
}

struct Vectors {
    leaves: Vec<Vec<u8>>,
    roots: Vec<(u64, Hash)>,
}

/// tests/data/rfc6962-merkle-vectors.txt (from transparency-dev/merkle testonly/constants.go).
fn vectors() -> Vectors {
    let text = include_str!("data/rfc6962-merkle-vectors.txt");
    let mut v = Vectors {
        leaves: Vec::new(),
        roots: Vec::new(),
    };
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "leaf" if f[1] == "-" => v.leaves.push(Vec::new()),
            "leaf" => v.leaves.push(hex::decode(f[1]).unwrap()),
            "root" => {
                let h: [u8; 32] = hex::decode(f[2]).unwrap().try_into().unwrap();
                v.roots.push((f[1].parse().unwrap(), Hash(h)));
            }
            _ => panic!("bad vector line {line}"),
        }
    }
    assert_eq!(v.leaves.len(), 8);
    assert_eq!(v.roots.len(), 9);
    v
}

#[test]
fn rfc6962_roots_one_at_a_time_and_batched() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::create(dir.path().join("log"), ORIGIN, signer).unwrap();
    assert_eq!(log.head().root, v.roots[0].1);
    for (i, leaf) in v.leaves.iter().enumerate() {
        let head = log.append(std::slice::from_ref(leaf)).unwrap();
        let (size, root) = v.roots[i + 1];
        assert_eq!(head.size, size);
        assert_eq!(head.root, root, "size {size}");
        // Reopening recomputes the same root from the files (the old Log releases the
        // lock first).
        drop(log);
        log = Log::open(dir.path().join("log"), ORIGIN, signer).unwrap();
        assert_eq!(log.head(), &head);
    }
    for &(size, root) in &v.roots[1..] {
        let d = tempfile::tempdir().unwrap();
        let mut log = Log::create(d.path(), ORIGIN, signer).unwrap();
        let n = usize::try_from(size).unwrap();
        assert_eq!(
            log.append(&v.leaves[..n]).unwrap().root,
            root,
            "batch of {size}"
        );
    }
}

#[test]
fn checkpoint_file_is_c2sp_text() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
    log.append(&v.leaves).unwrap();
    let text = fs::read_to_string(dir.path().join("checkpoint")).unwrap();
    let body: Vec<&str> = text.split("\n\n").next().unwrap().lines().collect();
    assert_eq!(body[0], ORIGIN);
    assert_eq!(body[1], "8");
    assert_eq!(body[2], v.roots[8].1.to_string());
    assert_eq!(Hash::parse_hash(body[2]).unwrap(), v.roots[8].1);
    assert!(dir.path().join("tile/0/000.p/8").is_file());
    assert!(dir.path().join("tile/entries/000.p/8").is_file());
    assert!(!dir.path().join(PENDING_FILE).exists());
    // Empty append does not sign again.
    assert_eq!(&log.append(&[]).unwrap(), log.head());
}

#[test]
fn create_refuses_existing_and_open_checks_origin() {
    let dir = tempfile::tempdir().unwrap();
    Log::create(dir.path(), ORIGIN, signer).unwrap();
    assert!(matches!(
        Log::create(dir.path(), ORIGIN, signer),
        Err(Error::LogExists { .. })
    ));
    assert!(matches!(
        Log::open(dir.path(), "other.example/log", signer),
        Err(Error::LogOrigin { .. })
    ));
    assert!(matches!(
        Log::open(dir.path().join("missing"), ORIGIN, signer),
        Err(Error::Io { .. })
    ));
}

#[test]
fn signer_must_return_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let bad = |_: &[u8]| -> rust_pki_tlog::Result<Vec<u8>> { Ok(b"not a note\n\nx\n".to_vec()) };
    assert!(matches!(
        Log::create(dir.path(), ORIGIN, bad),
        Err(Error::LogSignerOutput)
    ));
}

fn make_log(dir: &Path, n: u64) -> Log {
    let mut log = Log::create(dir, ORIGIN, signer).unwrap();
    log.append(&entries("e", 0..n / 2)).unwrap();
    log.append(&entries("e", n / 2..n)).unwrap();
    log
}

fn flip_bit(path: &Path, byte: usize) {
    let mut data = fs::read(path).unwrap();
    data[byte] ^= 0x01;
    fs::write(path, data).unwrap();
}

fn open_error(dir: &Path) -> String {
    match Log::open(dir, ORIGIN, signer) {
        Ok(_) => panic!("open succeeded on a damaged log"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn flipped_bit_in_a_tile_is_refused_naming_the_tile() {
    // 600 entries: tile/0/000, tile/0/001, tile/0/002.p/88, tile/1/000.p/2.
    for (tile, byte) in [
        ("tile/0/001", 100),
        ("tile/0/002.p/88", 0),
        ("tile/1/000.p/2", 63),
    ] {
        let dir = tempfile::tempdir().unwrap();
        drop(make_log(dir.path(), 600));
        Log::open(dir.path(), ORIGIN, signer).unwrap();
        flip_bit(&dir.path().join(tile), byte);
        let err = open_error(dir.path());
        assert!(err.contains(tile), "{err}");
    }
}

#[test]
fn damaged_entry_bundles_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    drop(make_log(dir.path(), 600));
    // Truncated entries tile.
    let bundle = dir.path().join("tile/entries/002.p/88");
    let data = fs::read(&bundle).unwrap();
    fs::write(&bundle, &data[..data.len() - 1]).unwrap();
    let err = open_error(dir.path());
    assert!(
        err.contains("tile/entries/002.p/88") && err.contains("truncated"),
        "{err}"
    );
    // An entry dropped cleanly: wrong count.
    fs::write(&bundle, &data[..data.len() - 6]).unwrap();
    let err = open_error(dir.path());
    assert!(
        err.contains("tile/entries/002.p/88") && err.contains("87 entries"),
        "{err}"
    );
    fs::write(&bundle, &data).unwrap();
    Log::open(dir.path(), ORIGIN, signer).unwrap();
    // A changed entry: its hash no longer matches the level-0 tile.
    flip_bit(&dir.path().join("tile/entries/001"), 5);
    let err = open_error(dir.path());
    assert!(
        err.contains("tile/0/001") && err.contains("tile/entries/001"),
        "{err}"
    );
}

#[test]
fn missing_tile_or_forged_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(make_log(dir.path(), 300));
    fs::remove_file(dir.path().join("tile/1/000.p/1")).unwrap();
    assert!(open_error(dir.path()).contains("tile/1/000.p/1"));

    let dir = tempfile::tempdir().unwrap();
    drop(make_log(dir.path(), 300));
    // A checkpoint claiming another root for the same size.
    let forged = tlog_tiles::Checkpoint::new(ORIGIN, 300, Hash([7; 32]), "").unwrap();
    fs::write(
        dir.path().join("checkpoint"),
        signer(&forged.to_bytes()).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        Log::open(dir.path(), ORIGIN, signer),
        Err(Error::LogRootMismatch { size: 300, .. })
    ));
    fs::write(dir.path().join("checkpoint"), b"garbage").unwrap();
    assert!(matches!(
        Log::open(dir.path(), ORIGIN, signer),
        Err(Error::LogCheckpoint { .. })
    ));
}

#[test]
fn crash_after_tiles_keeps_the_old_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 250);
    let before = log.head().clone();
    // Crash: tiles and bundles for 250..270 written (crossing a full tile), no checkpoint.
    let err = log.append_with_fault(&entries("lost", 0..20), Fault::AfterTiles);
    assert!(matches!(err, Err(Error::InjectedFault(_))));
    assert!(dir.path().join("tile/0/000").is_file());
    assert_eq!(log.head(), &before);
    drop(log);
    let mut log = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(log.head(), &before);
    // A different append reuses the same positions; the tree stays consistent.
    let head = log.append(&entries("kept", 0..30)).unwrap();
    assert_eq!(head.size, 280);
    let (proof, _) = log.prove_consistency(250).unwrap();
    check_tree(&proof, 280, head.root, 250, before.root).unwrap();
    drop(log);
    let reopened = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(reopened.head(), &head);
}

#[test]
fn failed_append_in_process_then_retry() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 10);
    let before = log.head().clone();
    log.append_with_fault(&entries("x", 0..5), Fault::AfterTiles)
        .unwrap_err();
    let head = log.append(&entries("y", 0..5)).unwrap();
    assert_eq!(head.size, 15);
    let (proof, _) = log.prove_consistency(10).unwrap();
    check_tree(&proof, 15, head.root, 10, before.root).unwrap();
}

#[test]
fn crash_after_signing_rolls_forward_and_never_forks() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 10);
    let new = entries("signed", 0..5);
    // Reference: what the root for size 15 with these entries is.
    let other = tempfile::tempdir().unwrap();
    let mut reference = make_log(other.path(), 10);
    let expected = reference.append(&new).unwrap();

    // Crash after the signer saw size 15 but before the checkpoint was written.
    log.append_with_fault(&new, Fault::AfterSign).unwrap_err();
    assert!(dir.path().join(PENDING_FILE).exists());
    // This process may not sign anything else now.
    assert!(log.append(&entries("fork", 0..5)).is_err());
    drop(log);
    // Reopen: the pending checkpoint (same size, same root) is re-signed.
    let mut log = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(log.head().size, 15);
    assert_eq!(log.head().root, expected.root);
    assert!(!dir.path().join(PENDING_FILE).exists());
    log.append(&entries("more", 0..3)).unwrap();
    drop(log);
    assert_eq!(
        Log::open(dir.path(), ORIGIN, signer).unwrap().head().size,
        18
    );
}

#[test]
fn pending_checkpoint_with_other_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 10);
    log.append_with_fault(&entries("signed", 0..5), Fault::AfterSign)
        .unwrap_err();
    drop(log);
    // Someone rewrites the uncommitted bundle and tile with other entries: re-signing
    // would give size 15 a second root, so open refuses.
    let other = tempfile::tempdir().unwrap();
    let mut forked = make_log(other.path(), 10);
    forked.append(&entries("fork", 0..5)).unwrap();
    for f in ["tile/entries/000.p/15", "tile/0/000.p/15"] {
        fs::copy(other.path().join(f), dir.path().join(f)).unwrap();
    }
    assert!(matches!(
        Log::open(dir.path(), ORIGIN, signer),
        Err(Error::LogConflictingCheckpoint { size: 15, .. })
    ));
}

#[test]
fn inclusion_and_consistency_proofs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
    let all = entries("entry-", 0..1000);
    let mut heads: Vec<TreeHead> = Vec::new();
    let mut start = 0;
    for end in [1, 2, 7, 255, 256, 257, 511, 513, 999, 1000] {
        heads.push(log.append(&all[start..end]).unwrap());
        start = end;
    }
    let head = log.head().clone();
    for index in [0u64, 1, 6, 255, 256, 511, 512, 998, 999] {
        let (proof, cp) = log.prove_inclusion(index).unwrap();
        assert_eq!(cp, head);
        let leaf = record_hash(&all[usize::try_from(index).unwrap()]);
        check_record(&proof, head.size, head.root, index, leaf).unwrap();
        // The proof does not hold for another entry or another tree size.
        assert!(check_record(&proof, head.size, head.root, index, record_hash(b"x")).is_err());
        assert!(check_record(&proof, 999, heads[8].root, index, leaf).is_err());
    }
    for old in &heads {
        let (proof, _) = log.prove_consistency(old.size).unwrap();
        check_tree(&proof, head.size, head.root, old.size, old.root).unwrap();
    }
    let (proof, _) = log.prove_consistency(1).unwrap();
    assert!(check_tree(&proof, head.size, head.root, 1, heads[1].root).is_err());
    assert!(matches!(
        log.prove_inclusion(1000),
        Err(Error::LogOutOfRange { .. })
    ));
    assert!(matches!(
        log.prove_consistency(1001),
        Err(Error::LogOutOfRange { .. })
    ));
    // Proofs read tiles from disk: a damaged tile is detected while proving.
    // Leaf 256's hash, in a tile that tlog_tiles 0.2's TileHashReader does not authenticate
    // for this tree size: the proof check in prove_inclusion catches it.
    flip_bit(&dir.path().join("tile/0/001"), 0);
    let err = log.prove_inclusion(300).unwrap_err().to_string();
    assert!(err.contains("does not verify"), "{err}");
    assert!(log.prove_consistency(257).is_err());
}

#[test]
fn hundred_thousand_appends() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
    // 2,000 single-entry appends, then batches up to 100,000 entries.
    for i in 0..2000u64 {
        log.append(&[format!("s{i}").into_bytes()]).unwrap();
    }
    let mut size = 2000u64;
    while size < 70_000 {
        let end = (size + 1000).min(70_000);
        log.append(&entries("b", size..end)).unwrap();
        size = end;
    }
    // The C2SP example: a tree of size 70,000 has 273 full level-0 tiles, tile/0/273.p/112,
    // tile/1/000, tile/1/001.p/17 and tile/2/000.p/1 (see tests/data/c2sp-tile-paths.txt).
    for f in [
        "tile/0/272",
        "tile/0/273.p/112",
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
        "tile/entries/273.p/112",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    // Obsolete partial tiles were removed once the full tile existed.
    assert!(!dir.path().join("tile/0/000.p").exists());
    while size < 100_000 {
        let end = (size + 4999).min(100_000);
        log.append(&entries("c", size..end)).unwrap();
        size = end;
    }
    let head = log.head().clone();
    assert_eq!(head.size, 100_000);
    drop(log);
    let reopened = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(reopened.head(), &head);
    let (proof, _) = reopened.prove_inclusion(77_777).unwrap();
    check_record(&proof, head.size, head.root, 77_777, record_hash(b"c77777")).unwrap();
    // Every entry is found where it is (a lookup per entry: a scan each would be quadratic).
    let all = (0..2000u64)
        .map(|i| format!("s{i}"))
        .chain((2000..70_000u64).map(|i| format!("b{i}")))
        .chain((70_000..100_000u64).map(|i| format!("c{i}")));
    for (i, e) in (0..).zip(all) {
        assert_eq!(reopened.find_entry(e.as_bytes()), Some(i), "{e}");
    }
    assert_eq!(reopened.find_entry(b"c100000"), None);
}

#[test]
fn find_entry_gives_the_first_index_after_appends_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 0);
    let a = entries("a", 0..300);
    // Batched across an entry bundle boundary (256), then one at a time.
    log.append(&a[..280]).unwrap();
    for e in &a[280..] {
        log.append(std::slice::from_ref(e)).unwrap();
    }
    // The log takes an entry twice (nothing refuses it); the first index is the answer,
    // within one append and across appends.
    let twice = b"twice".to_vec();
    log.append(&[twice.clone(), a[7].clone(), twice.clone()])
        .unwrap();
    log.append(std::slice::from_ref(&twice)).unwrap();
    assert_eq!(log.head().size, 304);
    // An append that failed leaves nothing findable.
    log.append_with_fault(&entries("lost", 0..3), Fault::AfterTiles)
        .unwrap_err();
    let check = |log: &Log| {
        for (i, e) in (0..).zip(&a) {
            assert_eq!(log.find_entry(e), Some(i), "{}", String::from_utf8_lossy(e));
        }
        assert_eq!(log.find_entry(&twice), Some(300));
        assert_eq!(log.find_entry(b"lost0"), None);
        assert_eq!(log.find_entry(b"a300"), None);
        assert_eq!(log.find_entry(b""), None);
    };
    check(&log);
    drop(log);
    let mut log = Log::open(dir.path(), ORIGIN, signer).unwrap();
    check(&log);
    // Appends after reopening are found too.
    log.append(&[b"late".to_vec(), twice.clone()]).unwrap();
    assert_eq!(log.find_entry(b"late"), Some(304));
    assert_eq!(log.find_entry(&twice), Some(300));
}

#[test]
fn find_entry_after_a_rolled_forward_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = make_log(dir.path(), 10);
    let new = entries("signed", 0..5);
    log.append_with_fault(&new, Fault::AfterSign).unwrap_err();
    // The checkpoint was not written: this process does not find them.
    assert_eq!(log.find_entry(&new[0]), None);
    drop(log);
    // Reopening rolls the signed checkpoint forward; its entries are found.
    let log = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(log.head().size, 15);
    for (i, e) in (10..).zip(&new) {
        assert_eq!(log.find_entry(e), Some(i));
    }
}

#[test]
fn writers_take_turns_and_never_fork() {
    let dir = tempfile::tempdir().unwrap();
    drop(Log::create(dir.path(), ORIGIN, signer).unwrap());
    // Each thread opens its own Log (own lock file descriptor), as separate processes do.
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let path = dir.path().to_owned();
            std::thread::spawn(move || {
                let mut log = Log::open(&path, ORIGIN, signer).unwrap();
                log.append(&entries(&format!("t{t}-"), 0..3)).unwrap().size
            })
        })
        .collect();
    let mut sizes: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    sizes.sort_unstable();
    // Every append saw the previous one's head: sizes 3, 6, ..., 24, each signed once.
    assert_eq!(sizes, (1..=8).map(|k| k * 3).collect::<Vec<_>>());
    let log = Log::open(dir.path(), ORIGIN, signer).unwrap();
    assert_eq!(log.head().size, 24);
    for t in 0..8u64 {
        for e in entries(&format!("t{t}-"), 0..3) {
            assert!(
                log.find_entry(&e).is_some(),
                "{}",
                String::from_utf8_lossy(&e)
            );
        }
    }
}

#[test]
fn second_writer_times_out_naming_the_log_and_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::create(dir.path(), ORIGIN, signer).unwrap();
    let err = Log::open_with_timeout(
        dir.path(),
        ORIGIN,
        signer,
        std::time::Duration::from_millis(50),
    )
    .unwrap_err();
    assert!(matches!(err, Error::LogLocked(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("transparency log {}", dir.path().display()))
            && message.contains(".lock"),
        "{message}"
    );
    // A second create waits for the lock too, then finds the log.
    drop(log);
    assert!(matches!(
        Log::create(dir.path(), ORIGIN, signer),
        Err(Error::LogExists { .. })
    ));
}

#[test]
fn one_cosignature_per_witness_the_earliest_kept() {
    use rust_pki_tlog::cosignature::cosign;
    use rust_pki_tlog::note::{KeyType, SignerKey};
    let tmp = tempfile::tempdir().unwrap();
    let mut log = make_log(tmp.path(), 3);
    let body = {
        let note = String::from_utf8(log.head().note.clone()).unwrap();
        let (body, _) = note.split_once("\n\n").unwrap();
        format!("{body}\n")
    };
    let w1 = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let w2 = SignerKey::generate("witness.example/w2", KeyType::CosignatureV1).unwrap();
    let first = cosign(&w1, body.as_bytes(), 1_000).unwrap();
    log.add_cosignatures(&[first.trim_end().to_owned()])
        .unwrap();
    let note = log.head().note.clone();
    // Asked again later (a rerun): the same witness's newer cosignature changes nothing.
    let later = cosign(&w1, body.as_bytes(), 2_000).unwrap();
    log.add_cosignatures(&[later.trim_end().to_owned()])
        .unwrap();
    assert_eq!(log.head().note, note);
    // Another witness is added.
    let other = cosign(&w2, body.as_bytes(), 2_000).unwrap();
    log.add_cosignatures(&[other.trim_end().to_owned()])
        .unwrap();
    let text = String::from_utf8(log.head().note.clone()).unwrap();
    assert!(
        text.contains(first.trim_end()) && text.contains(other.trim_end()),
        "{text}"
    );
    assert!(!text.contains(later.trim_end()), "{text}");
    // And the file on disk is what the log holds.
    assert_eq!(
        fs::read(tmp.path().join("checkpoint")).unwrap(),
        log.head().note
    );
}
