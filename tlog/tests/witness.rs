//! Witness: first checkpoint, consistent growth, rollback, split view, bad proof, unknown
//! origin, persistence.
// The writer side (feature `writer`, on by default) builds the logs and keys used here.
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;

use rust_pki_tlog::Error;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::verify_cosignature;
use rust_pki_tlog::note::{KeyType, SignerKey};
use rust_pki_tlog::witness::Witness;
use tlog_tiles::{Hash, HashReader, prove_tree, stored_hashes, tree_hash};

const ORIGIN: &str = "pki.rust-lang.org/log";

/// In-memory tree: stored hashes computed with tlog_tiles.
#[derive(Default)]
struct Tree {
    hashes: RefCell<Vec<Hash>>,
    size: u64,
}

impl HashReader for Tree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let h = self.hashes.borrow();
        indexes
            .iter()
            .map(|&i| {
                h.get(i as usize)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl Tree {
    fn append(&mut self, n: u64, tag: &str) {
        for _ in 0..n {
            let data = format!("{tag}-{}", self.size);
            let new = stored_hashes(self.size, data.as_bytes(), self).unwrap();
            self.hashes.borrow_mut().extend(new);
            self.size += 1;
        }
    }

    fn root(&self) -> [u8; 32] {
        tree_hash(self.size, self).unwrap().0
    }

    fn proof(&self, old: u64) -> Vec<[u8; 32]> {
        prove_tree(self.size, old, self)
            .unwrap()
            .into_iter()
            .map(|h| h.0)
            .collect()
    }
}

struct Setup {
    dir: tempfile::TempDir,
    log: SignerKey,
    witness: Witness,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let log = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let wkey = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let witness = Witness::open(dir.path(), wkey, &[log.verifier()]).unwrap();
    Setup { dir, log, witness }
}

fn sign(log: &SignerKey, t: &Tree) -> SignedCheckpoint {
    SignedCheckpoint::sign(log, t.size, t.root()).unwrap()
}

#[test]
fn first_then_consistent_growth_then_refusals() {
    let mut s = setup();
    let mut t = Tree::default();
    t.append(5, "a");
    let cp5 = sign(&s.log, &t);
    let line = s
        .witness
        .add_checkpoint_at(&cp5.note, 0, &[], 1000)
        .unwrap();
    let c = verify_cosignature(&line, &cp5.body().unwrap(), &s.witness.verifier()).unwrap();
    assert_eq!(c.timestamp, 1000);
    assert_eq!(s.witness.latest(ORIGIN).unwrap().size, 5);

    // Same checkpoint again: cosigned again (idempotent), no proof needed.
    s.witness
        .add_checkpoint_at(&cp5.note, 5, &[], 1001)
        .unwrap();

    // Consistent growth 5 -> 13.
    let old_root = t.root();
    t.append(8, "a");
    let cp13 = sign(&s.log, &t);
    let proof = t.proof(5);
    let line = s
        .witness
        .add_checkpoint_at(&cp13.note, 5, &proof, 1002)
        .unwrap();
    verify_cosignature(&line, &cp13.body().unwrap(), &s.witness.verifier()).unwrap();
    assert_eq!(s.witness.latest(ORIGIN).unwrap().size, 13);

    // Rollback to 5.
    let err = s
        .witness
        .add_checkpoint_at(&cp5.note, 13, &[], 1003)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WitnessRollback {
                old: 13,
                new: 5,
                ..
            }
        ),
        "{err}"
    );

    // Split view: another tree of size 13.
    let mut fork = Tree::default();
    fork.append(13, "fork");
    let fork13 = sign(&s.log, &fork);
    let err = s
        .witness
        .add_checkpoint_at(&fork13.note, 13, &[], 1004)
        .unwrap_err();
    assert!(
        matches!(err, Error::WitnessSplitView { size: 13, .. }),
        "{err}"
    );

    // Bad proof: fork grown to 20, proof from the fork's 13 (not our cosigned 13).
    fork.append(7, "fork");
    let fork20 = sign(&s.log, &fork);
    let err = s
        .witness
        .add_checkpoint_at(&fork20.note, 13, &fork.proof(13), 1005)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WitnessBadProof {
                old: 13,
                new: 20,
                ..
            }
        ),
        "{err}"
    );
    // Bad proof: proof for another size, tampered proof, empty proof.
    let mut t2 = Tree::default();
    t2.append(13, "a");
    assert_eq!(t2.root(), t.root());
    t2.append(7, "a");
    let cp20 = sign(&s.log, &t2);
    let err = s
        .witness
        .add_checkpoint_at(&cp20.note, 13, &t2.proof(12), 1006)
        .unwrap_err();
    assert!(matches!(err, Error::WitnessBadProof { .. }), "{err}");
    let mut tampered = t2.proof(13);
    tampered[0][0] ^= 1;
    let err = s
        .witness
        .add_checkpoint_at(&cp20.note, 13, &tampered, 1006)
        .unwrap_err();
    assert!(matches!(err, Error::WitnessBadProof { .. }), "{err}");
    let err = s
        .witness
        .add_checkpoint_at(&cp20.note, 13, &[], 1006)
        .unwrap_err();
    assert!(matches!(err, Error::WitnessBadProof { .. }), "{err}");
    // Client's old size is not the cosigned one.
    let err = s
        .witness
        .add_checkpoint_at(&cp20.note, 5, &t2.proof(5), 1006)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WitnessOldSizeMismatch {
                claimed: 5,
                stored: 13,
                ..
            }
        ),
        "{err}"
    );
    // State unchanged by refusals.
    assert_eq!(s.witness.latest(ORIGIN).unwrap().root_hash, t.root());
    assert_ne!(old_root, t.root());

    // The good proof is accepted.
    s.witness
        .add_checkpoint_at(&cp20.note, 13, &t2.proof(13), 1007)
        .unwrap();

    // Persistence: reopen and continue from 20.
    let wkey = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let mut reopened = Witness::open(s.dir.path(), wkey, &[s.log.verifier()]).unwrap();
    assert_eq!(reopened.latest(ORIGIN).unwrap().size, 20);
    let err = reopened
        .add_checkpoint_at(&cp13.note, 20, &[], 1008)
        .unwrap_err();
    assert!(matches!(err, Error::WitnessRollback { .. }), "{err}");
}

#[test]
fn unknown_origin_and_forged_checkpoints_refused() {
    let mut s = setup();
    let mut t = Tree::default();
    t.append(3, "x");
    // Another log, not configured.
    let other = SignerKey::generate("other.example/log", KeyType::Ed25519).unwrap();
    let cp = sign(&other, &t);
    let err = s
        .witness
        .add_checkpoint_at(&cp.note, 0, &[], 1)
        .unwrap_err();
    assert!(matches!(err, Error::WitnessUnknownOrigin { .. }), "{err}");
    // Right origin, wrong key.
    let imposter = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let cp = sign(&imposter, &t);
    let err = s
        .witness
        .add_checkpoint_at(&cp.note, 0, &[], 1)
        .unwrap_err();
    assert!(matches!(err, Error::NoteUnknownKey { .. }), "{err}");
    // Forged size.
    let cp = sign(&s.log, &t);
    let forged = String::from_utf8(cp.note)
        .unwrap()
        .replacen("\n3\n", "\n4\n", 1);
    let err = s
        .witness
        .add_checkpoint_at(forged.as_bytes(), 0, &[], 1)
        .unwrap_err();
    assert!(matches!(err, Error::NoteBadSignature { .. }), "{err}");
    assert!(s.witness.latest(ORIGIN).is_none());
}

#[test]
fn tampered_state_file_is_detected_on_open() {
    let mut s = setup();
    let mut t = Tree::default();
    t.append(4, "y");
    let cp = sign(&s.log, &t);
    s.witness.add_checkpoint_at(&cp.note, 0, &[], 1).unwrap();
    let files: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one state file, no temp files left: {files:?}"
    );
    let text = std::fs::read_to_string(&files[0])
        .unwrap()
        .replacen("\n4\n", "\n9\n", 1);
    std::fs::write(&files[0], text).unwrap();
    let wkey = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let err = Witness::open(s.dir.path(), wkey, &[s.log.verifier()]).unwrap_err();
    assert!(matches!(err, Error::WitnessState { .. }), "{err}");
}
