//! A witness: per known log origin, the last checkpoint it cosigned. Given a new signed
//! checkpoint and a consistency proof from the cosigned size, it verifies both and returns
//! a tlog-cosignature/v1 line, refusing unknown origins, rollback, split views and bad
//! proofs. State is one file per origin in a directory, replaced atomically.

use std::collections::BTreeMap;

use rust_pki_fs::durable;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tlog_tiles::{Hash, check_tree};

use crate::checkpoint::SignedCheckpoint;
use crate::cosignature::cosign;
use crate::note::{KeyType, SignerKey, VerifierKey};
use crate::{Error, Result};

/// Witness state and keys.
#[derive(Debug)]
pub struct Witness {
    key: SignerKey,
    logs: BTreeMap<String, VerifierKey>,
    dir: PathBuf,
    latest: BTreeMap<String, SignedCheckpoint>,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

impl Witness {
    /// Opens (creating if needed) the state directory `dir`. `key` is the witness's
    /// cosignature/v1 (type 0x04) key; `logs` the vkeys of the logs it witnesses (key name =
    /// origin). Stored checkpoints are re-verified with their log key.
    pub fn open(dir: &Path, key: SignerKey, logs: &[VerifierKey]) -> Result<Self> {
        if key.key_type() != KeyType::CosignatureV1 {
            return Err(Error::KeyFormat {
                kind: "signer",
                reason: "a witness needs a cosignature/v1 (type 0x04) key".into(),
            });
        }
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let mut known = BTreeMap::new();
        let mut latest = BTreeMap::new();
        for log in logs {
            if log.key_type() != KeyType::Ed25519 {
                return Err(Error::KeyFormat {
                    kind: "verifier",
                    reason: format!("log key {} is not a note (type 0x01) key", log.label()),
                });
            }
            let path = state_path(dir, log.name());
            match fs::read(&path) {
                Ok(bytes) => {
                    let cp =
                        SignedCheckpoint::verify(&bytes, log).map_err(|e| Error::WitnessState {
                            path: path.clone(),
                            reason: "the stored checkpoint does not verify".into(),
                            source: Some(Box::new(e)),
                        })?;
                    latest.insert(log.name().to_owned(), cp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path, e)),
            }
            known.insert(log.name().to_owned(), log.clone());
        }
        Ok(Self {
            key,
            logs: known,
            dir: dir.to_owned(),
            latest,
        })
    }

    /// The witness's verifier key (type 0x04).
    pub fn verifier(&self) -> VerifierKey {
        self.key.verifier()
    }

    /// The last checkpoint cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<&SignedCheckpoint> {
        self.latest.get(origin)
    }

    /// [`Witness::add_checkpoint_at`] with the current time.
    pub fn add_checkpoint(
        &mut self,
        note: &[u8],
        old_size: u64,
        proof: &[[u8; 32]],
    ) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(Error::ClockBeforeEpoch)?
            .as_secs();
        self.add_checkpoint_at(note, old_size, proof, now)
    }

    /// Verifies `note` (a signed checkpoint) and the consistency `proof` from `old_size`
    /// (which must be the size this witness last cosigned for the origin, 0 if none), stores
    /// it, and returns the cosignature line at `timestamp`.
    pub fn add_checkpoint_at(
        &mut self,
        note: &[u8],
        old_size: u64,
        proof: &[[u8; 32]],
        timestamp: u64,
    ) -> Result<String> {
        let origin = note_origin(note)?;
        let log_key = self
            .logs
            .get(&origin)
            .ok_or_else(|| Error::WitnessUnknownOrigin {
                origin: origin.clone(),
            })?;
        let new = SignedCheckpoint::verify(note, log_key)?;
        let old = self.latest.get(&origin);
        let stored = old.map_or(0, |c| c.size);
        if new.size < stored {
            return Err(Error::WitnessRollback {
                origin,
                old: stored,
                new: new.size,
            });
        }
        if let Some(old) = old
            && old.size == new.size
            && old.root_hash != new.root_hash
        {
            return Err(Error::WitnessSplitView {
                origin,
                size: new.size,
                old: Hash(old.root_hash).to_string(),
                new: Hash(new.root_hash).to_string(),
            });
        }
        if old_size != stored {
            return Err(Error::WitnessOldSizeMismatch {
                origin,
                claimed: old_size,
                stored,
            });
        }
        match old {
            Some(old) if old.size > 0 && old.size < new.size => {
                let p: Vec<Hash> = proof.iter().map(|h| Hash(*h)).collect();
                check_tree(
                    &p,
                    new.size,
                    Hash(new.root_hash),
                    old.size,
                    Hash(old.root_hash),
                )
                .map_err(|e| Error::WitnessBadProof {
                    origin: origin.clone(),
                    old: old.size,
                    new: new.size,
                    reason: "the proof does not verify".into(),
                    source: Some(Box::new(e)),
                })?;
            }
            _ => {
                if !proof.is_empty() {
                    return Err(Error::WitnessBadProof {
                        origin,
                        old: stored,
                        new: new.size,
                        reason: "expected an empty proof".into(),
                        source: None,
                    });
                }
            }
        }
        let line = cosign(&self.key, &new.body()?, timestamp)?;
        if old.is_none_or(|o| o.size != new.size) {
            durable::replace(
                &state_path(&self.dir, &origin),
                &strip_to_log_signature(&new, log_key)?,
            )?;
            self.latest.insert(origin, new);
        }
        Ok(line)
    }
}

/// Keeps only the body and the log's signature line (drops other cosignatures).
fn strip_to_log_signature(cp: &SignedCheckpoint, log_key: &VerifierKey) -> Result<Vec<u8>> {
    let text = String::from_utf8_lossy(&cp.note);
    let prefix = format!("— {} ", log_key.name());
    let mut out = cp.body()?;
    out.push(b'\n');
    let sigs = text.rsplit_once("\n\n").map_or("", |(_, s)| s);
    for line in sigs.lines().filter(|l| l.starts_with(&prefix)) {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

fn note_origin(note: &[u8]) -> Result<String> {
    let text =
        std::str::from_utf8(note).map_err(|_| Error::NoteMalformed("note is not UTF-8".into()))?;
    let origin = text.split('\n').next().unwrap_or_default();
    if origin.is_empty() {
        return Err(Error::CheckpointMalformed("empty origin line".into()));
    }
    Ok(origin.to_owned())
}

/// `dir/<hex(origin)>.checkpoint`: safe file names for any origin.
fn state_path(dir: &Path, origin: &str) -> PathBuf {
    dir.join(format!("{}.checkpoint", hex::encode(origin.as_bytes())))
}
