//! Known answers from transparency-dev/merkle (tests/data/transparency-dev-merkle/, see its
//! README for source commit and license): every inclusion and consistency probe through
//! `tlog_tiles::check_record` / `check_tree` (inclusion also through our own
//! `rust_pki_tlog::merkle::check_record`, which must agree on every probe), and the happy paths against the proofs our
//! on-disk `Log` serves.
//!
//! A probe is "accepted" when all its hashes parse as `tlog_tiles::Hash` (32 bytes, via
//! `Hash::parse_hash`) and the verifier returns `Ok`; upstream's `wantErr` must be the
//! opposite. Some probes carry values that are not 32-byte hashes ("WrongLeaf", "don't care
//! 1", empty strings); Go's verifier takes byte slices, ours cannot even represent them, so
//! they are rejected at parsing. To still run the verifier on every probe, each case is
//! also checked in an "analogue" form where every non-32-byte value `v` is replaced by
//! SHA-256(v) (equal values stay equal, distinct ones stay distinct). The cases where the two
//! forms disagree with `wantErr` are listed exactly below, with the reason.
// Compares with `tlog_tiles`, a dependency of the writer side (feature `writer`).
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use rust_pki_tlog::merkle;
use rust_pki_tlog::writer::Log;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tlog_tiles::{Hash, check_record, check_tree, record_hash};

/// Cases per suite as shipped upstream (tests/data/transparency-dev-merkle/SHA256SUMS).
const INCLUSION_CASES: usize = 98;
const CONSISTENCY_CASES: usize = 98;
/// Cases with `"wantErr": false`.
const INCLUSION_VALID: usize = 6;
const CONSISTENCY_VALID: usize = 6;
/// Cases holding at least one value that is not a 32-byte hash.
const INCLUSION_UNPARSABLE: usize = 26;
const CONSISTENCY_UNPARSABLE: usize = 27;

/// Valid upstream, but its "roots" are the 12-byte strings "don't care 2" (equal sizes,
/// equal roots, empty proof): not representable as a 32-byte `Hash`, so rejected at parsing.
/// Its analogue (equal 32-byte roots) must verify.
const VALID_BUT_UNPARSABLE: &[&str] =
    &["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"];
/// Must fail upstream only because a hash is an empty byte string ("wrong hash size" in
/// cmd/proofgen), and the analogue of the empty string, SHA-256(""), is exactly the root
/// given: one-leaf trees (index 0, size 1, empty proof) whose leaf hash equals the root. The
/// strict form is rejected at parsing; the analogue is a correct proof and verifies.
/// - single-entry/empty-root-and-leaf: root = leaf hash = "" (analogue: both SHA-256("")).
/// - additional/1/empty-root: root = SHA-256("") (RFC 6962 empty tree hash), leaf hash = "".
const INVALID_ONLY_BY_LENGTH: &[&str] = &[
    "inclusion/additional/1/empty-root.json",
    "inclusion/single-entry/empty-root-and-leaf.json",
];

const ORIGIN: &str = "example.com/vectors-merkle";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/transparency-dev-merkle")
}

fn walk_json(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk_json(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(base).unwrap();
            out.insert(rel.to_str().unwrap().replace('\\', "/"));
        }
    }
}

/// All cases of `suite` ("inclusion" or "consistency"), named by their path. Checks that the
/// files are exactly those of SHA256SUMS, byte for byte, so no case is silently lost.
fn load<T: DeserializeOwned>(suite: &str) -> Vec<(String, T)> {
    let dir = data_dir();
    let sums = fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed = BTreeSet::new();
    let mut cases = Vec::new();
    for line in sums.lines() {
        let (digest, name) = line.split_once("  ").expect("SHA256SUMS line");
        if !name.starts_with(&format!("{suite}/")) {
            continue;
        }
        let bytes = fs::read(dir.join(name)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            digest,
            "{name} differs from the upstream copy"
        );
        let case: T = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(listed.insert(name.to_owned()), "{name} listed twice");
        cases.push((name.to_owned(), case));
    }
    let mut on_disk = BTreeSet::new();
    walk_json(&dir.join(suite), &dir, &mut on_disk);
    assert_eq!(on_disk, listed, "files under {suite}/ vs SHA256SUMS");
    cases
}

fn raw(b64: &str) -> Vec<u8> {
    Base64::decode_vec(b64).unwrap_or_else(|e| panic!("bad base64 {b64:?}: {e}"))
}

/// Strict: what a client of tlog_tiles gets from the base64 text.
fn strict(b64: &str) -> Result<Hash, String> {
    Hash::parse_hash(b64).map_err(|e| format!("{b64:?}: {e}"))
}

/// Analogue: the value itself if it is 32 bytes, else SHA-256 of it.
fn analogue(b64: &str) -> Hash {
    let bytes = raw(b64);
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(h) => Hash(h),
        Err(_) => Hash(Sha256::digest(&bytes).into()),
    }
}

enum Verdict {
    Accepted,
    Unparsable(String),
    Rejected(String),
}

impl Verdict {
    fn accepted(&self) -> bool {
        matches!(self, Verdict::Accepted)
    }

    fn describe(&self) -> String {
        match self {
            Verdict::Accepted => "accepted".to_owned(),
            Verdict::Unparsable(e) => format!("not a 32-byte hash: {e}"),
            Verdict::Rejected(e) => format!("rejected by the verifier: {e}"),
        }
    }
}

/// Runs a verifier, turning a panic into a failure of the test case rather than of the run.
fn run(name: &str, f: impl FnOnce() -> Result<(), tlog_tiles::Error>) -> Verdict {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => Verdict::Accepted,
        Ok(Err(e)) => Verdict::Rejected(e.to_string()),
        Err(_) => panic!("{name}: the verifier panicked"),
    }
}

fn strict_all(values: &[&str], proof: &[String]) -> Result<(Vec<Hash>, Vec<Hash>), String> {
    let v = values.iter().map(|s| strict(s)).collect::<Result<_, _>>()?;
    let p = proof.iter().map(|s| strict(s)).collect::<Result<_, _>>()?;
    Ok((v, p))
}

fn inclusion_verdicts(name: &str, c: &InclusionCase) -> (Verdict, Verdict) {
    let proof = c.proof.clone().unwrap_or_default();
    let strict_verdict = match strict_all(&[&c.root, &c.leaf_hash], &proof) {
        Err(e) => Verdict::Unparsable(e),
        Ok((v, p)) => run(name, || {
            check_record(&p, c.tree_size, v[0], c.leaf_idx, v[1])
        }),
    };
    let p: Vec<Hash> = proof.iter().map(|s| analogue(s)).collect();
    let analogue_verdict = run(name, || {
        check_record(
            &p,
            c.tree_size,
            analogue(&c.root),
            c.leaf_idx,
            analogue(&c.leaf_hash),
        )
    });
    // The verifier side's own RFC 6962 check (rust_pki_tlog::merkle, what bundles use)
    // must agree with tlog_tiles on every probe, both forms.
    if let Ok((v, p)) = strict_all(&[&c.root, &c.leaf_hash], &proof) {
        assert_eq!(
            light_check(&p, c.tree_size, v[0], c.leaf_idx, v[1]),
            strict_verdict.accepted(),
            "{name}: rust_pki_tlog::merkle and tlog_tiles disagree"
        );
    }
    assert_eq!(
        light_check(
            &p,
            c.tree_size,
            analogue(&c.root),
            c.leaf_idx,
            analogue(&c.leaf_hash)
        ),
        analogue_verdict.accepted(),
        "{name} (analogue): rust_pki_tlog::merkle and tlog_tiles disagree"
    );
    (strict_verdict, analogue_verdict)
}

fn light_check(proof: &[Hash], size: u64, root: Hash, index: u64, leaf: Hash) -> bool {
    let proof: Vec<merkle::Hash> = proof.iter().map(|h| merkle::Hash(h.0)).collect();
    merkle::check_record(
        &proof,
        size,
        &merkle::Hash(root.0),
        index,
        &merkle::Hash(leaf.0),
    )
    .is_ok()
}

fn consistency_verdicts(name: &str, c: &ConsistencyCase) -> (Verdict, Verdict) {
    let proof = c.proof.clone().unwrap_or_default();
    // Go's VerifyConsistency(size1, size2, proof, root1, root2) is tlog_tiles'
    // check_tree(proof, t = size2, th = root2, n = size1, h = root1).
    let strict_verdict = match strict_all(&[&c.root1, &c.root2], &proof) {
        Err(e) => Verdict::Unparsable(e),
        Ok((v, p)) => run(name, || check_tree(&p, c.size2, v[1], c.size1, v[0])),
    };
    let p: Vec<Hash> = proof.iter().map(|s| analogue(s)).collect();
    let analogue_verdict = run(name, || {
        check_tree(&p, c.size2, analogue(&c.root2), c.size1, analogue(&c.root1))
    });
    (strict_verdict, analogue_verdict)
}

struct Tally {
    cases: usize,
    valid: usize,
    unparsable: usize,
    strict_mismatch: BTreeSet<String>,
    analogue_mismatch: BTreeSet<String>,
}

fn tally<T>(
    cases: &[(String, T)],
    want_err: impl Fn(&T) -> bool,
    desc: impl Fn(&T) -> &str,
    verdicts: impl Fn(&str, &T) -> (Verdict, Verdict),
) -> Tally {
    let mut t = Tally {
        cases: cases.len(),
        valid: 0,
        unparsable: 0,
        strict_mismatch: BTreeSet::new(),
        analogue_mismatch: BTreeSet::new(),
    };
    for (name, case) in cases {
        let want_ok = !want_err(case);
        t.valid += usize::from(want_ok);
        let (s, a) = verdicts(name, case);
        if matches!(s, Verdict::Unparsable(_)) {
            t.unparsable += 1;
        }
        if s.accepted() != want_ok {
            eprintln!(
                "strict   {name} ({}): want ok={want_ok}, got {}",
                desc(case),
                s.describe()
            );
            t.strict_mismatch.insert(name.clone());
        }
        if a.accepted() != want_ok {
            eprintln!(
                "analogue {name} ({}): want ok={want_ok}, got {}",
                desc(case),
                a.describe()
            );
            t.analogue_mismatch.insert(name.clone());
        }
    }
    t
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn only<'a>(names: &[&'a str], suite: &str) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| n.starts_with(&format!("{suite}/")))
        .collect()
}

#[test]
fn every_inclusion_probe() {
    let cases: Vec<(String, InclusionCase)> = load("inclusion");
    let t = tally(&cases, |c| c.want_err, |c| &c.desc, inclusion_verdicts);
    assert_eq!(t.cases, INCLUSION_CASES);
    assert_eq!(t.valid, INCLUSION_VALID);
    assert_eq!(t.unparsable, INCLUSION_UNPARSABLE);
    assert_eq!(
        t.strict_mismatch,
        set(&only(VALID_BUT_UNPARSABLE, "inclusion"))
    );
    assert_eq!(
        t.analogue_mismatch,
        set(&only(INVALID_ONLY_BY_LENGTH, "inclusion"))
    );
}

#[test]
fn every_consistency_probe() {
    let cases: Vec<(String, ConsistencyCase)> = load("consistency");
    let t = tally(&cases, |c| c.want_err, |c| &c.desc, consistency_verdicts);
    assert_eq!(t.cases, CONSISTENCY_CASES);
    assert_eq!(t.valid, CONSISTENCY_VALID);
    assert_eq!(t.unparsable, CONSISTENCY_UNPARSABLE);
    assert_eq!(
        t.strict_mismatch,
        set(&only(VALID_BUT_UNPARSABLE, "consistency"))
    );
    assert_eq!(
        t.analogue_mismatch,
        set(&only(INVALID_ONLY_BY_LENGTH, "consistency"))
    );
}

/// The leaves of transparency-dev/merkle testonly/constants.go, from
/// tests/data/rfc6962-merkle-vectors.txt.
fn rfc6962_leaves() -> Vec<Vec<u8>> {
    let leaves: Vec<Vec<u8>> = include_str!("data/rfc6962-merkle-vectors.txt")
        .lines()
        .filter_map(|l| l.strip_prefix("leaf "))
        .map(|h| {
            if h == "-" {
                Vec::new()
            } else {
                hex::decode(h).unwrap()
            }
        })
        .collect();
    assert_eq!(leaves.len(), 8);
    leaves
}

fn signer(body: &[u8]) -> rust_pki_tlog::Result<Vec<u8>> {
    let mut note = body.to_vec();
    note.extend_from_slice("\n\u{2014} vectors-merkle AAAAAA==\n".as_bytes());
    Ok(note)
}

fn hashes(b64: &Option<Vec<String>>) -> Vec<Hash> {
    b64.iter().flatten().map(|s| strict(s).unwrap()).collect()
}

/// Whether the case is one of the happy paths built from the RFC 6962 test leaves
/// (numbered directories, see the README).
fn standard_happy_path(name: &str, desc: &str) -> bool {
    let dir = name.split('/').nth(1).unwrap();
    desc == "happy path" && dir.parse::<u8>().is_ok()
}

#[test]
fn log_serves_the_inclusion_proofs_of_the_vectors() {
    let leaves = rfc6962_leaves();
    let mut checked = 0;
    for (name, c) in load::<InclusionCase>("inclusion") {
        if !standard_happy_path(&name, &c.desc) {
            continue;
        }
        let size = usize::try_from(c.tree_size).unwrap();
        let index = usize::try_from(c.leaf_idx).unwrap();
        assert_eq!(
            record_hash(&leaves[index]),
            strict(&c.leaf_hash).unwrap(),
            "{name}: leaf hash is not that of the standard leaf {index}"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
        let head = log.append(&leaves[..size]).unwrap();
        assert_eq!(head.root, strict(&c.root).unwrap(), "{name}: root");
        let (proof, at) = log.prove_inclusion(c.leaf_idx).unwrap();
        assert_eq!(at.size, c.tree_size, "{name}");
        assert_eq!(proof, hashes(&c.proof), "{name}: inclusion proof");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn log_of_one_entry_matches_single_entry_vector() {
    // single-entry/matching-root-and-leaf.json: the one-leaf tree of the entry "data"
    // (cmd/proofgen singleEntryInclusionProbes).
    let (name, c) = load::<InclusionCase>("inclusion")
        .into_iter()
        .find(|(n, _)| n == "inclusion/single-entry/matching-root-and-leaf.json")
        .unwrap();
    assert!(!c.want_err, "{name}");
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
    let head = log.append(&[b"data".to_vec()]).unwrap();
    assert_eq!(head.root, strict(&c.root).unwrap());
    assert_eq!(record_hash(b"data"), strict(&c.leaf_hash).unwrap());
    let (proof, _) = log.prove_inclusion(0).unwrap();
    assert_eq!(proof, hashes(&c.proof));
}

#[test]
fn log_serves_the_consistency_proofs_of_the_vectors() {
    let leaves = rfc6962_leaves();
    let mut checked = 0;
    for (name, c) in load::<ConsistencyCase>("consistency") {
        if !standard_happy_path(&name, &c.desc) {
            continue;
        }
        let size1 = usize::try_from(c.size1).unwrap();
        let size2 = usize::try_from(c.size2).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), ORIGIN, signer).unwrap();
        let old = log.append(&leaves[..size1]).unwrap();
        assert_eq!(old.root, strict(&c.root1).unwrap(), "{name}: root1");
        let new = log.append(&leaves[size1..size2]).unwrap();
        assert_eq!(new.size, c.size2, "{name}");
        assert_eq!(new.root, strict(&c.root2).unwrap(), "{name}: root2");
        let (proof, _) = log.prove_consistency(c.size1).unwrap();
        assert_eq!(proof, hashes(&c.proof), "{name}: consistency proof");
        checked += 1;
    }
    assert_eq!(checked, 5);
}
