//! Signed checkpoints (C2SP tlog-checkpoint): a signed note whose body is
//! `origin\nsize\nbase64(root)\n`, signed by the log key, whose name is the origin.
//! Bodies are built and parsed here with `tlog_tiles::Checkpoint`'s rules (strict form), so
//! a verifier does not need that crate.

use base64ct::{Base64, Encoding};

#[cfg(feature = "writer")]
use crate::note::{SignerKey, sign_note};
use crate::note::{VerifierKey, verify_note};
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
    if origin.is_empty() {
        return Err(Error::CheckpointMalformed("empty origin".into()));
    }
    Ok(format!("{origin}\n{size}\n{}\n", Base64::encode_string(&root_hash)).into_bytes())
}

/// Parses a checkpoint body: origin (non-empty), size (canonical decimal), base64 root
/// hash, then any non-empty extension lines, each line ending in a newline.
fn parse_body(text: &[u8]) -> Result<(String, u64, [u8; 32])> {
    let bad = |reason: &str| Error::CheckpointMalformed(reason.to_owned());
    let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8"))?;
    let lines = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("does not end in a newline"))?;
    let mut lines = lines.split('\n');
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(bad("fewer than 3 lines (origin, size, root hash)"));
    };
    if origin.is_empty() {
        return Err(bad("empty origin"));
    }
    if lines.any(str::is_empty) {
        return Err(bad("empty extension line"));
    }
    let n: u64 = size
        .parse()
        .map_err(|_| bad("tree size is not a decimal number"))?;
    if size != n.to_string() {
        return Err(bad("tree size is not in canonical decimal form"));
    }
    let root = Base64::decode_vec(root)
        .ok()
        .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
        .ok_or_else(|| bad("root hash is not 32 bytes of padded standard base64"))?;
    Ok((origin.to_owned(), n, root))
}

impl SignedCheckpoint {
    /// Signs a checkpoint for the tree `(size, root_hash)` with the log key; the origin is
    /// the key's name.
    #[cfg(feature = "writer")]
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
        let (origin, size, root_hash) = parse_body(&verified.text)?;
        if origin != log_key.name() {
            return Err(Error::CheckpointOriginMismatch {
                origin,
                key_name: log_key.name().to_owned(),
            });
        }
        Ok(Self {
            origin,
            size,
            root_hash,
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
