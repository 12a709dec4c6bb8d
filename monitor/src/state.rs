//! The monitor's state: the checkpoint it saw last, so that a rollback or a split view of
//! the log is caught on the next audit.

use std::fs;
use std::path::Path;

use base64ct::{Base64, Encoding};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::replica::Replica;

use crate::error::{Error, Result};

/// The checkpoint saved in `path`, verified with the log key; `None` if there is none yet.
pub fn load(path: &Path, vkey: &VerifierKey) -> Result<Option<SignedCheckpoint>> {
    let note = match fs::read(path) {
        Ok(note) => note,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path)(e)),
    };
    let seen = SignedCheckpoint::verify(&note, vkey).map_err(|source| Error::StateSignature {
        path: path.to_owned(),
        signer: vkey.name().to_owned(),
        source: Box::new(source),
    })?;
    Ok(Some(seen))
}

/// Checks that `replica` (fetched from `location`) extends `seen`, the checkpoint saved in
/// `state`: same origin, no fewer entries (rule `rollback`), same root at the size seen
/// (rule `split-view`).
pub fn check_consistency(
    replica: &Replica,
    seen: &SignedCheckpoint,
    location: &str,
    state: &Path,
) -> Result<()> {
    let cp = &replica.checkpoint;
    if seen.origin != cp.origin {
        return Err(Error::StateOrigin {
            state: state.to_owned(),
            seen: seen.origin.clone(),
            origin: cp.origin.clone(),
        });
    }
    if seen.size > cp.size {
        return Err(Error::Rollback {
            location: location.to_owned(),
            size: cp.size,
            seen_size: seen.size,
            state: state.to_owned(),
        });
    }
    let root = replica.root_at(seen.size)?;
    if root != seen.root_hash {
        return Err(Error::SplitView {
            state: state.to_owned(),
            seen_size: seen.size,
            seen_root: Base64::encode_string(&seen.root_hash),
            location: location.to_owned(),
            root: Base64::encode_string(&root),
        });
    }
    Ok(())
}
