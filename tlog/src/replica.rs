//! Reading a log from its published files, wherever they are: a directory, or a static
//! HTTP server (the CLI implements [`Source`] for URLs; this crate does no networking).
//!
//! [`Replica::fetch`] verifies the checkpoint with the log key, recomputes the whole tree
//! from the entry bundles, checks the root against the checkpoint and every hash tile
//! against the recomputed hashes. The writer uses the same check when it opens its own
//! directory, so a log and any mirror of it are verified by one piece of code.

use tlog_tiles::{Hash, check_record, prove_record, record_hash, tree_hash};

use crate::checkpoint::SignedCheckpoint;
use crate::layout::{CHECKPOINT_FILE, MemHashes, load, merkle};
pub use crate::layout::{DirSource, Source};
use crate::merkle::Hash as ProofHash;
use crate::note::VerifierKey;
use crate::{Error, Result};

/// A verified copy of a whole log.
#[derive(Debug, Clone)]
pub struct Replica {
    /// The verified checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// The checkpoint note as fetched (log signature and any cosignatures).
    pub note: Vec<u8>,
    /// Every entry, in log order.
    pub entries: Vec<Vec<u8>>,
    hashes: Vec<Hash>,
}

impl Replica {
    /// Fetches and verifies the log at `source` (see the module documentation).
    ///
    /// # Errors
    /// [`Error::LogCheckpoint`] (unreadable), note and checkpoint errors (bad signature,
    /// wrong key), [`Error::LogTileDamaged`] naming the file, [`Error::LogRootMismatch`].
    pub fn fetch(source: &dyn Source, log_key: &VerifierKey) -> Result<Self> {
        let note = source
            .fetch(CHECKPOINT_FILE)
            .map_err(|reason| Error::LogCheckpoint {
                path: source.location(CHECKPOINT_FILE),
                reason,
            })?;
        let checkpoint = SignedCheckpoint::verify(&note, log_key)?;
        let mut entries = Vec::new();
        let state = load(source, checkpoint.size, &mut |_, e| {
            entries.push(e.to_vec())
        })?;
        if state.root.0 != checkpoint.root_hash {
            return Err(Error::LogRootMismatch {
                size: checkpoint.size,
                expected: hex::encode(checkpoint.root_hash),
                computed: hex::encode(state.root.0),
            });
        }
        Ok(Self {
            checkpoint,
            note,
            entries,
            hashes: state.hashes,
        })
    }

    /// RFC 6962 inclusion proof of entry `index` in the tree of this replica's checkpoint,
    /// computed from the verified hashes and checked against the root before it is returned.
    ///
    /// # Errors
    /// [`Error::LogOutOfRange`] when `index` is beyond this log; [`Error::Merkle`].
    pub fn prove_inclusion(&self, index: u64) -> Result<Vec<ProofHash>> {
        let size = self.checkpoint.size;
        let entry = usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .ok_or(Error::LogOutOfRange {
                what: "entry index",
                index,
                size,
            })?;
        let context = format!("inclusion proof of entry {index} in tree {size}");
        let proof =
            prove_record(size, index, &MemHashes(&self.hashes)).map_err(merkle(&context))?;
        check_record(
            &proof,
            size,
            Hash(self.checkpoint.root_hash),
            index,
            record_hash(entry),
        )
        .map_err(merkle(&context))?;
        Ok(proof.into_iter().map(ProofHash::from).collect())
    }

    /// The root hash of the first `size` entries: a checkpoint of that size seen earlier
    /// is consistent with this log exactly when its root equals this one.
    ///
    /// # Errors
    /// [`Error::LogOutOfRange`] when `size` is beyond this log.
    pub fn root_at(&self, size: u64) -> Result<[u8; 32]> {
        if size > self.checkpoint.size {
            return Err(Error::LogOutOfRange {
                what: "tree size",
                index: size,
                size: self.checkpoint.size,
            });
        }
        let root = tree_hash(size, &MemHashes(&self.hashes)).map_err(merkle("tree hash"))?;
        Ok(root.0)
    }
}
