//! The one error type of this crate: an audit or a publish that could not run to the end.
//!
//! Rules an audit checks entry by entry are [`Finding`](crate::Finding)s, not errors; the
//! errors that carry a rule (`log-verify`, `state`, `rollback`, `split-view`, the
//! genesis roster of a replay) stop the audit before anything else is checked.

use std::path::PathBuf;

use rust_pki_ceremony::replay::ReplayError;

/// Why an audit or a publish stopped. The cause, where there is one, is the
/// [`source`](std::error::Error::source), not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file.
    #[error("{}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The log's checkpoint, a tile or an entry bundle does not verify.
    #[error("rule log-verify: the log at {location} does not verify")]
    LogVerify {
        /// The log's directory or URL, as given.
        location: String,
        /// What does not verify.
        #[source]
        source: Box<rust_pki_tlog::Error>,
    },
    /// The state file is not a checkpoint signed by the log key.
    #[error("rule state: {} is not a checkpoint signed by {signer}", path.display())]
    StateSignature {
        /// The state file.
        path: PathBuf,
        /// The log key's name.
        signer: String,
        /// Why it does not verify.
        #[source]
        source: Box<rust_pki_tlog::Error>,
    },
    /// The state file is a checkpoint of another log.
    #[error("rule state: {} is a checkpoint of log {seen}, not of {origin}", state.display())]
    StateOrigin {
        /// The state file.
        state: PathBuf,
        /// The origin of the checkpoint in the state file.
        seen: String,
        /// The origin of the log audited.
        origin: String,
    },
    /// The log is smaller than the checkpoint seen last.
    #[error(
        "rule rollback: the log at {location} has {size} entries, fewer than the {seen_size} \
         of the checkpoint last seen ({}): the log was rolled back (the state file is kept \
         as evidence)",
        state.display()
    )]
    Rollback {
        /// The log's directory or URL.
        location: String,
        /// The log's size now.
        size: u64,
        /// The size of the checkpoint seen last.
        seen_size: u64,
        /// The state file.
        state: PathBuf,
    },
    /// The log's tree at the size seen last has another root.
    #[error(
        "rule split-view: the checkpoint last seen ({}) has size {seen_size} and root \
         {seen_root}, but the first {seen_size} entries of the log at {location} have root \
         {root}: the log signed two inconsistent checkpoints (both are evidence; the state \
         file is kept)",
        state.display()
    )]
    SplitView {
        /// The state file.
        state: PathBuf,
        /// The size of the checkpoint seen last.
        seen_size: u64,
        /// Its root (base64).
        seen_root: String,
        /// The log's directory or URL.
        location: String,
        /// The root of the log's first `seen_size` entries (base64).
        root: String,
    },
    /// A history replay needs a policy.
    #[error("--genesis-roster needs at least one --policy")]
    NoPolicy,
    /// A policy file is not UTF-8.
    #[error("{}: not UTF-8", path.display())]
    PolicyNotUtf8 {
        /// The policy file.
        path: PathBuf,
        /// Where the bytes stop being UTF-8.
        #[source]
        source: std::str::Utf8Error,
    },
    /// The history replay cannot start (rule `genesis-roster`).
    #[error("history replay")]
    Replay(#[source] ReplayError),
    /// A root certificate file does not hold a certificate.
    #[error("{}: malformed certificate", path.display())]
    MalformedCertificate {
        /// The certificate file.
        path: PathBuf,
        /// The DER error.
        #[source]
        source: der::Error,
    },
    /// Publishing: the log directory does not verify with the key given.
    #[error(
        "the log in {} does not verify with {key}; nothing was published",
        dir.display()
    )]
    PublishVerify {
        /// The log directory.
        dir: PathBuf,
        /// The key's label.
        key: String,
        /// What does not verify.
        #[source]
        source: Box<rust_pki_tlog::Error>,
    },
    /// Publishing: a record file is not the record its log entry commits to.
    #[error(
        "{}: {len} bytes with SHA-256 {sha256}, but the log entry for this record has \
         {size} bytes with SHA-256 {expected}",
        path.display()
    )]
    RecordMismatch {
        /// The record file.
        path: PathBuf,
        /// Its length.
        len: u64,
        /// Its SHA-256 (hex).
        sha256: String,
        /// The length the entry commits to.
        size: u64,
        /// The SHA-256 the entry commits to (hex).
        expected: String,
    },
    /// Writing the site or the monitor's state (file, step and cause in the source).
    #[error(transparent)]
    Write(#[from] rust_pki_fs::WriteError),
    /// Publishing: another command holds the log directory.
    #[error(transparent)]
    Lock(#[from] rust_pki_fs::LockError),
    /// The log's data (e.g. the tree at an older size).
    #[error(transparent)]
    Tlog(#[from] rust_pki_tlog::Error),
    /// A policy or certificate file.
    #[error(transparent)]
    Ca(#[from] rust_pki_ca::Error),
}

impl Error {
    /// The rule the error reports, for the errors that stop an audit on a rule.
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            Self::LogVerify { .. } => Some("log-verify"),
            Self::StateSignature { .. } | Self::StateOrigin { .. } => Some("state"),
            Self::Rollback { .. } => Some("rollback"),
            Self::SplitView { .. } => Some("split-view"),
            Self::Replay(e) => Some(e.rule),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;
