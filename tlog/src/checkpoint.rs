//! Signed checkpoints (C2SP tlog-checkpoint): a signed note whose body is
//! `origin\nsize\nbase64(root)\n`, signed by the log key, whose name is the origin.

use tlog_tiles::{Checkpoint, Hash};

use crate::note::{SignerKey, VerifierKey, sign_note, verify_note};
use crate::{Error, Result};

/// A checkpoint with its signed note bytes (log signature and any cosignatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The log origin (first line; equals the log key name).
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// RFC 6962 root hash.
    pub root_hash: [u8; 32],
    /// The whole signed note.
    pub note: Vec<u8>,
}

/// The checkpoint body (note text) for `origin`, `size`, `root_hash`, without extensions.
pub fn checkpoint_body(origin: &str, size: u64, root_hash: [u8; 32]) -> Result<Vec<u8>> {
    let cp = Checkpoint::new(origin, size, Hash(root_hash), "")
        .map_err(|e| Error::CheckpointMalformed(format!("origin {origin:?}: {e}")))?;
    Ok(cp.to_bytes())
}

impl SignedCheckpoint {
    /// Signs a checkpoint for the tree `(size, root_hash)` with the log key; the origin is
    /// the key's name.
    pub fn sign(key: &SignerKey, size: u64, root_hash: [u8; 32]) -> Result<Self> {
        let body = checkpoint_body(key.name(), size, root_hash)?;
        let note = sign_note(&body, key)?;
        Ok(Self {
            origin: key.name().to_owned(),
            size,
            root_hash,
            note,
        })
    }

    /// Parses a signed checkpoint and verifies the log's signature with `log_key`; the
    /// origin line must equal the key name. Other signature lines (cosignatures) are kept.
    pub fn verify(note: &[u8], log_key: &VerifierKey) -> Result<Self> {
        let verified = verify_note(note, std::slice::from_ref(log_key))?;
        let cp = Checkpoint::from_bytes(&verified.text)
            .map_err(|e| Error::CheckpointMalformed(e.to_string()))?;
        if cp.origin() != log_key.name() {
            return Err(Error::CheckpointOriginMismatch {
                origin: cp.origin().to_owned(),
                key_name: log_key.name().to_owned(),
            });
        }
        Ok(Self {
            origin: cp.origin().to_owned(),
            size: cp.size(),
            root_hash: cp.hash().0,
            note: note.to_vec(),
        })
    }

    /// The note text (checkpoint body), the part cosignatures sign.
    pub fn body(&self) -> Result<Vec<u8>> {
        checkpoint_body(&self.origin, self.size, self.root_hash)
    }

    /// Appends signature lines (e.g. cosignature lines ending in '\n') to the note.
    pub fn with_signature_lines(mut self, lines: &[String]) -> Self {
        for l in lines {
            self.note.extend_from_slice(l.as_bytes());
        }
        self
    }
}
