//! The one error type of rust-pki-delegate.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong with a delegate state. Each variant names the file, and the state's
/// own rules also the field and the rule, so a message is actionable on its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or listed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not TOML of the state format (garbage, unknown or missing field).
    #[error("{}: not a delegate state file (rule state-syntax): {source}", file.display())]
    Syntax {
        /// The state file.
        file: PathBuf,
        /// The parser's error, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value or input is malformed (exit 2): an unparsable time or serial, an unknown
    /// reason.
    #[error("{}: {field}: {message} (rule {rule})", file.display())]
    Invalid {
        /// The file (or the argument) the value comes from.
        file: PathBuf,
        /// The field, e.g. `revocation[2].revoked_at`.
        field: String,
        /// The rule broken, kebab-case.
        rule: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Going on could do harm (exit 3): a state that does not tell the truth (edited,
    /// copied from another delegate, behind the log), or a request it must refuse (an
    /// unknown serial, a certificate of another delegate, revoking twice).
    #[error("{}: {field}: {message} (rule {rule})", file.display())]
    Refused {
        /// The file concerned (the state file, a copy in the state, the log).
        file: PathBuf,
        /// The field or argument concerned.
        field: String,
        /// The rule, kebab-case.
        rule: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// A durable write failed (the target is unchanged).
    #[error(transparent)]
    Write(#[from] rust_pki_fs::WriteError),
    /// The state directory's lock was not obtained.
    #[error(transparent)]
    Lock(#[from] rust_pki_fs::LockError),
    /// Issuance or parsing in the CA core failed.
    #[error(transparent)]
    Ca(#[from] rust_pki_ca::Error),
    /// A log entry could not be built.
    #[error(transparent)]
    Tlog(#[from] rust_pki_tlog::Error),
}

impl Error {
    /// Whether this error is one of the state's own refusals (see [`Error::Refused`]).
    /// Wrapped errors of other crates are classified by their own rules.
    #[must_use]
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }

    /// The rule of a state error ([`Error::Invalid`], [`Error::Refused`], `state-syntax`).
    #[must_use]
    pub fn rule(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { rule, .. } | Self::Refused { rule, .. } => Some(rule),
            Self::Syntax { .. } => Some("state-syntax"),
            _ => None,
        }
    }
}
