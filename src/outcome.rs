//! How a failed command ends: its exit status ([`Exit`], shared with `rust-pki-verify`),
//! its stderr prefix and, under `--json`, its envelope.
//!
//! The rule, applied from the error's type, never from its text:
//! - 1 ([`Exit::Invalid`], `INVALID [rule]: …`): the command checked something and it is
//!   not valid. Commands say so by returning an [`Invalid`].
//! - 3 ([`Exit::Refused`], `error: …`): the inputs were usable, but going on could do
//!   harm, so the command stopped: a ceremony request that breaks a request rule, without
//!   its quorum, outside its window, replayed or stale, a pinned file that changed, a broken record chain or
//!   history, an output or record or HSM object that exists already, a lock another
//!   process holds, a TBS that fails lint before signing, a log that would sign two roots
//!   for one size. See [`refused`]; the CLI's own refusals are a [`Refused`].
//! - 2 ([`Exit::Error`], `error: …`): everything else — usage, an unreadable or malformed
//!   input, configuration.
//!
//! A broken pipe on stdout ends the command quietly with status 0.

use std::error::Error as StdError;
use std::fmt;

use rust_pki_verify::Check;
pub use rust_pki_verify::envelope::Exit;
use rust_pki_verify::envelope::is_broken_pipe;

/// A verdict: the thing a command checked is invalid (exit 1, `INVALID [rule]: …`).
#[derive(Debug)]
pub struct Invalid {
    /// The rule broken, kebab-case (e.g. `audit`).
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
    /// Structured fields for the JSON envelope's `error` (e.g. the findings).
    pub details: Option<serde_json::Value>,
    /// The command's result despite the verdict (e.g. the audit report).
    pub result: Option<serde_json::Value>,
    /// What was checked before the verdict.
    pub checked: Vec<Check>,
    /// What was not checked, and why.
    pub skipped: Vec<Check>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Invalid {}

/// A refusal the CLI itself decides (exit 3, `error: …`), e.g. a key file or bundle that
/// exists already and is never overwritten.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Refused {}

/// How a command that returned `error` ends.
#[derive(Debug)]
pub enum Ending<'a> {
    /// Stdout was closed by its reader: quietly, status 0.
    BrokenPipe,
    /// A verdict (status 1).
    Invalid(&'a Invalid),
    /// An error (status 2) or a refusal (status 3).
    Error(Exit),
}

/// Classifies a command's error by the types in its chain.
pub fn classify(error: &anyhow::Error) -> Ending<'_> {
    if is_broken_pipe(error.as_ref()) {
        return Ending::BrokenPipe;
    }
    for cause in error.chain() {
        if let Some(invalid) = cause.downcast_ref::<Invalid>() {
            return Ending::Invalid(invalid);
        }
    }
    if error.chain().any(refused) {
        Ending::Error(Exit::Refused)
    } else {
        Ending::Error(Exit::Error)
    }
}

/// Whether `cause` is a refusal for safety (exit 3). Transparent variants wrap another
/// crate's error without exposing it as a source, so each is unwrapped here.
fn refused(cause: &(dyn StdError + 'static)) -> bool {
    use rust_pki_ceremony::Error as C;
    if cause.is::<Refused>() {
        return true;
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_fs::LockError>() {
        return lock_refused(e);
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_fs::WriteError>() {
        return write_refused(e);
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_ca::Error>() {
        return ca_refused(e);
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_tlog::Error>() {
        return tlog_refused(e);
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_delegate::Error>() {
        use rust_pki_delegate::Error as D;
        return match e {
            D::Write(e) => write_refused(e),
            D::Lock(e) => lock_refused(e),
            D::Ca(e) => ca_refused(e),
            D::Tlog(e) => tlog_refused(e),
            other => other.is_refusal(),
        };
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_sign::Error>() {
        return e.is_refusal();
    }
    if let Some(e) = cause.downcast_ref::<rust_pki_monitor::Error>() {
        return match e {
            rust_pki_monitor::Error::Write(e) => write_refused(e),
            rust_pki_monitor::Error::Lock(e) => lock_refused(e),
            rust_pki_monitor::Error::Tlog(e) => tlog_refused(e),
            rust_pki_monitor::Error::Ca(e) => ca_refused(e),
            _ => false,
        };
    }
    if let Some(e) = cause.downcast_ref::<C>() {
        return match e {
            C::Ca(e) => ca_refused(e),
            C::Write(e) => write_refused(e),
            C::Lock(e) => lock_refused(e),
            C::QuorumNotMet { .. }
            | C::DuplicateApproval { .. }
            | C::OutsideWindow { .. }
            | C::Replay { .. }
            | C::StaleRequest { .. }
            | C::PinnedFileChanged { .. }
            | C::ExampleArcInProduction { .. }
            | C::InterruptedRootInit { .. }
            | C::RosterNotInForce { .. }
            | C::OutputConflict { .. }
            | C::OutputPathUnsafe { .. }
            | C::RecordExists { .. }
            | C::RecordChain { .. }
            | C::RecordMismatch { .. }
            | C::History { .. }
            | C::StateLogMismatch { .. }
            | C::RequestOutsideState { .. }
            | C::RequestRule { .. }
            | C::FileRefused { .. } => true,
            _ => false,
        };
    }
    false
}

fn lock_refused(error: &rust_pki_fs::LockError) -> bool {
    matches!(error, rust_pki_fs::LockError::Timeout { .. })
}

fn write_refused(error: &rust_pki_fs::WriteError) -> bool {
    matches!(error, rust_pki_fs::WriteError::Exists { .. })
}

fn ca_refused(error: &rust_pki_ca::Error) -> bool {
    use rust_pki_ca::Error as A;
    match error {
        A::Write(e) => write_refused(e),
        A::OutputExists { .. }
        | A::LintFailed { .. }
        | A::TbsMismatch { .. }
        | A::TokenLabelExists { .. }
        | A::KeyLabelExists { .. }
        | A::KeyIdExists { .. } => true,
        _ => false,
    }
}

fn tlog_refused(error: &rust_pki_tlog::Error) -> bool {
    use rust_pki_tlog::Error as T;
    match error {
        T::LogLocked(e) => lock_refused(e),
        T::Write(e) => write_refused(e),
        T::LogExists { .. } | T::LogConflictingCheckpoint { .. } => true,
        // A witness refusing to cosign what would make it vouch for a rollback or a fork.
        T::WitnessUnknownOrigin { .. }
        | T::WitnessRollback { .. }
        | T::WitnessSplitView { .. }
        | T::WitnessBadProof { .. }
        | T::WitnessOldSizeMismatch { .. }
        | T::WitnessOldSizeTooLarge { .. }
        | T::WitnessEmptyTreeRoot { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use anyhow::Context;

    use super::{Ending, Exit, Invalid, Refused, classify};

    fn exit(error: &anyhow::Error) -> Option<Exit> {
        match classify(error) {
            Ending::BrokenPipe => None,
            Ending::Invalid(_) => Some(Exit::Invalid),
            Ending::Error(exit) => Some(exit),
        }
    }

    fn lock_timeout() -> rust_pki_fs::LockError {
        rust_pki_fs::LockError::Timeout {
            what: "ceremony state",
            dir: PathBuf::from("state"),
            lock: PathBuf::from("state/.lock"),
            waited: Duration::from_secs(1),
        }
    }

    fn exists() -> rust_pki_fs::WriteError {
        rust_pki_fs::WriteError::Exists {
            path: PathBuf::from("out/root.pem"),
        }
    }

    /// Refusals are found by type, also inside another crate's transparent variant and
    /// under context; other errors are exit 2.
    #[test]
    fn errors_are_classified_by_type() {
        let refused = [
            anyhow::Error::from(lock_timeout()),
            anyhow::Error::from(exists()).context("writing out/root.pem"),
            anyhow::Error::from(rust_pki_ceremony::Error::Lock(lock_timeout())),
            anyhow::Error::from(rust_pki_ceremony::Error::Write(exists())),
            anyhow::Error::from(rust_pki_tlog::Error::LogLocked(lock_timeout())),
            anyhow::Error::from(rust_pki_monitor::Error::Write(exists())),
            anyhow::Error::from(Refused("key exists".into())),
        ];
        for error in &refused {
            assert_eq!(exit(error), Some(Exit::Refused), "{error:#}");
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let errors = [
            anyhow::Error::from(io).context("reading policy/rust-root.toml"),
            anyhow::anyhow!("unknown purpose"),
            anyhow::Error::from(rust_pki_fs::LockError::Io {
                what: "log",
                dir: PathBuf::from("log"),
                lock: PathBuf::from("log/.lock"),
                source: std::io::Error::other("permission denied"),
            }),
        ];
        for error in &errors {
            assert_eq!(exit(error), Some(Exit::Error), "{error:#}");
        }
        let invalid = anyhow::Error::from(Invalid {
            rule: "audit",
            message: "the audit found 1 problem(s)".into(),
            details: None,
            result: None,
            checked: Vec::new(),
            skipped: Vec::new(),
        });
        assert_eq!(exit(&invalid), Some(Exit::Invalid));
    }

    /// A write to a closed stdout, however wrapped, ends quietly.
    #[test]
    fn broken_pipe_is_recognised_under_context() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let error = Err::<(), _>(pipe)
            .context("writing the report")
            .unwrap_err();
        assert!(matches!(classify(&error), Ending::BrokenPipe));
    }
}
