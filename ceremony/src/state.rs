//! The ceremony state directory on the bastion: one folder per ceremony
//! (`NNN-<kind>/` holding `request.toml`, `approvals/` and, once executed, `record.toml`)
//! and the PIN share set (`shares/`). The records form a hash chain.

use std::path::{Path, PathBuf};

use rust_pki_fs::{DEFAULT_LOCK_TIMEOUT, DirLock};

use crate::{
    Error, Result,
    record::Record,
    request::{Kind, sha256_hex},
};

/// File names inside a ceremony folder.
pub const REQUEST_FILE: &str = "request.toml";
/// Approvals folder inside a ceremony folder.
pub const APPROVALS_DIR: &str = "approvals";
/// The record, once the ceremony has been executed.
pub const RECORD_FILE: &str = "record.toml";
/// The one-time ceremony identity (age X25519), deleted after execution.
pub const CEREMONY_KEY_FILE: &str = "ceremony.key";
/// Where the PIN share set lives.
pub const SHARES_DIR: &str = "shares";

/// The exclusive hold on a state directory that every command changing it keeps from its
/// first check to its last write (see [`State::lock`]).
#[derive(Debug)]
pub struct StateLock {
    lock: DirLock,
}

/// A ceremony record as the transparency log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRecord {
    /// Its entry's index in the log.
    pub index: u64,
    /// The file name it was logged under (`NNN-<kind>.toml`).
    pub file_name: String,
    /// SHA-256 of the record bytes, lower-case hex.
    pub sha256: String,
}

/// An open state directory.
#[derive(Debug, Clone)]
pub struct State {
    dir: PathBuf,
}

/// One ceremony folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyDir {
    /// Sequence number from the folder name.
    pub sequence: u32,
    /// The folder.
    pub path: PathBuf,
    /// Where the approvals are read from (default: `approvals/` in the folder).
    pub approvals: PathBuf,
}

impl CeremonyDir {
    /// `request.toml` in it.
    pub fn request(&self) -> PathBuf {
        self.path.join(REQUEST_FILE)
    }
    /// `record.toml` in it.
    pub fn record(&self) -> PathBuf {
        self.path.join(RECORD_FILE)
    }
    /// The approvals folder.
    pub fn approvals(&self) -> PathBuf {
        self.approvals.clone()
    }
    /// The folder's name (`NNN-<kind>`).
    pub fn folder_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The ceremony folder holding `request`, with its default approvals folder.
    ///
    /// # Errors
    /// The request is not in a `NNN-<kind>` folder.
    pub fn of_request(request: &Path) -> Result<Self> {
        let path = request
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        let sequence = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.split_once('-'))
            .and_then(|(number, _)| number.parse::<u32>().ok())
            .ok_or_else(|| Error::RequestFile {
                path: request.to_owned(),
                reason: "a request lives in its ceremony folder (`NNN-<kind>/request.toml`, made by `ceremony prepare`)".into(),
            })?;
        Ok(Self {
            sequence,
            approvals: path.join(APPROVALS_DIR),
            path,
        })
    }
}

impl State {
    /// Open (creating if needed) a state directory.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// Take the state's exclusive lock, waiting for another command to finish (bounded):
    /// two commands interleaving their checks and writes could execute two requests built
    /// on the same record, or the same request twice.
    ///
    /// # Errors
    /// [`Error::Lock`] on timeout or when the lock file cannot be opened.
    pub fn lock(&self) -> Result<StateLock> {
        Ok(StateLock {
            lock: DirLock::acquire(&self.dir, "ceremony state", DEFAULT_LOCK_TIMEOUT)?,
        })
    }

    /// Whether `lock` is this state's lock.
    pub fn is_locked_by(&self, lock: &StateLock) -> bool {
        lock.lock.dir() == self.dir
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `shares/`.
    pub fn shares_dir(&self) -> PathBuf {
        self.dir.join(SHARES_DIR)
    }

    /// The ceremony folders, by sequence.
    ///
    /// # Errors
    /// The directory cannot be read.
    pub fn ceremonies(&self) -> Result<Vec<CeremonyDir>> {
        let io = |source| Error::Io {
            path: self.dir.clone(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((number, _kind)) = name.split_once('-') else {
                continue;
            };
            let Ok(sequence) = number.parse::<u32>() else {
                continue;
            };
            if entry.path().is_dir() {
                let path = entry.path();
                out.push(CeremonyDir {
                    sequence,
                    approvals: path.join(APPROVALS_DIR),
                    path,
                });
            }
        }
        out.sort_by_key(|c| c.sequence);
        Ok(out)
    }

    /// A new folder for a ceremony of `kind`, numbered after every existing one.
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn new_ceremony(&self, kind: Kind) -> Result<CeremonyDir> {
        let sequence = self.ceremonies()?.last().map_or(1, |c| c.sequence + 1);
        let path = self.dir.join(format!("{sequence:03}-{kind}"));
        std::fs::create_dir(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        std::fs::create_dir(path.join(APPROVALS_DIR)).map_err(|source| Error::Io {
            path: path.join(APPROVALS_DIR),
            source,
        })?;
        Ok(CeremonyDir {
            sequence,
            approvals: path.join(APPROVALS_DIR),
            path,
        })
    }

    /// Every record, in sequence, with its bytes; the chain is checked: each record names
    /// the digest of the one before it, and sequences count up from 1.
    ///
    /// # Errors
    /// Unreadable or malformed records, or a broken chain.
    pub fn records(&self) -> Result<Vec<(CeremonyDir, Record, Vec<u8>)>> {
        let mut out: Vec<(CeremonyDir, Record, Vec<u8>)> = Vec::new();
        for ceremony in self.ceremonies()? {
            let path = ceremony.record();
            if !path.exists() {
                continue;
            }
            let bytes = crate::bounded::read(&path, crate::bounded::MAX_STATE_FILE_BYTES)?;
            let record = Record::parse(&bytes, &path)?;
            let expected_previous = out
                .last()
                .map(|(_, _, b)| sha256_hex(b))
                .unwrap_or_default();
            let expected_sequence = u32::try_from(out.len() + 1).unwrap_or(u32::MAX);
            if record.previous_record_sha256 != expected_previous
                || record.sequence != expected_sequence
            {
                return Err(Error::RecordChain {
                    path,
                    reason: format!(
                        "expected sequence {expected_sequence} after record {}",
                        if expected_previous.is_empty() {
                            "(none)".to_owned()
                        } else {
                            expected_previous
                        }
                    ),
                });
            }
            out.push((ceremony, record, bytes));
        }
        Ok(out)
    }

    /// Check the state against the ceremony records of the transparency log (`logged`, in
    /// log order: entry index, file name, SHA-256 of the record) before `current` executes
    /// or republishes. The log is the public history, so: every logged record is the
    /// state's record at the same position, under its folder's name; and at most one state
    /// record is not logged yet — the last one, and only when it is `current`'s (a run that
    /// stopped between its record and its log entry). A record hidden, renamed, edited after
    /// logging, or deleted so that its request could run again is refused.
    ///
    /// # Errors
    /// [`Error::StateLogMismatch`] naming the record and the log entry; as
    /// [`State::records`].
    pub fn check_logged(&self, logged: &[LoggedRecord], current: &CeremonyDir) -> Result<()> {
        let records = self.records()?;
        let mismatch = |reason: String| Error::StateLogMismatch {
            state: self.dir.clone(),
            reason,
        };
        for (position, entry) in logged.iter().enumerate() {
            let Some((dir, _, bytes)) = records.get(position) else {
                return Err(mismatch(format!(
                    "log entry {} is ceremony record #{} ({}), which the state does not hold",
                    entry.index,
                    position + 1,
                    crate::inert::inert(&entry.file_name)
                )));
            };
            let name = format!("{}.toml", dir.folder_name());
            if sha256_hex(bytes) != entry.sha256 || name != entry.file_name {
                return Err(mismatch(format!(
                    "log entry {} is ceremony record #{} ({}, sha256 {}), the state holds {} (sha256 {})",
                    entry.index,
                    position + 1,
                    crate::inert::inert(&entry.file_name),
                    entry.sha256,
                    dir.record().display(),
                    sha256_hex(bytes)
                )));
            }
        }
        let unlogged = &records[logged.len().min(records.len())..];
        match unlogged {
            [] => Ok(()),
            [(dir, _, _)] if dir.folder_name() == current.folder_name() => Ok(()),
            [(dir, _, _), ..] => Err(mismatch(format!(
                "record {} is not in the log: rerun its own execute to log it first",
                dir.record().display()
            ))),
        }
    }

    /// The latest contents of output `path` (e.g. `root.pem`, `root.crl`,
    /// `delegates/releases.pem`) across all records, after checking the chain.
    ///
    /// # Errors
    /// As [`State::records`].
    pub fn latest_output(&self, path: &str) -> Result<Option<String>> {
        Ok(self
            .records()?
            .iter()
            .rev()
            .flat_map(|(_, record, _)| record.outputs.iter())
            .find(|output| output.path == path)
            .map(|output| output.contents.clone()))
    }

    /// SHA-256 of the latest record ("" before the first ceremony), after checking the chain.
    ///
    /// # Errors
    /// As [`State::records`].
    pub fn head(&self) -> Result<(u32, String)> {
        let records = self.records()?;
        Ok(records
            .last()
            .map(|(_, record, bytes)| (record.sequence, sha256_hex(bytes)))
            .unwrap_or((0, String::new())))
    }
}
