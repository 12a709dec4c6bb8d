//! What every rust-pki command returns to a script: its exit status ([`Exit`]) and, with
//! `--json`, one JSON object of a single shape ([`Envelope`], schema
//! `docs/cli-json.schema.json`). It lives here, with feature `cli`, because both binaries
//! use it: `rust-pki-verify` (which depends on nothing else of ours) and `rust-pki`.
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;

use crate::Check;

/// The version of the envelope's shape (its `version` field).
pub const VERSION: u32 = 1;

/// The exit statuses, as every command's `--help` shows them.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success: done, or the thing checked is valid
  1  invalid: the thing checked is not (bad chain, audit findings, lint errors);
     printed as INVALID [rule]: …
  2  usage, input or configuration error (missing or unreadable file, unknown
     purpose, malformed policy or key, wrong flags); printed as error: …
  3  refused for safety: the command could run but will not (a request without
     its quorum or outside its window, an output that exists, a lock held by
     another process, a certificate that fails lint before signing); error: …
A closed stdout (e.g. `| head`) ends the command quietly with status 0.";

/// A command's exit status; see [`EXIT_STATUS_HELP`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "u8")]
pub enum Exit {
    /// 0: done, or valid.
    Success,
    /// 1: the thing checked is invalid (a verdict).
    Invalid,
    /// 2: usage, input or configuration error.
    Error,
    /// 3: refused for safety.
    Refused,
}

impl Exit {
    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Invalid => 1,
            Self::Error => 2,
            Self::Refused => 3,
        }
    }
}

impl From<Exit> for u8 {
    fn from(exit: Exit) -> u8 {
        exit.code()
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The `error` member of an [`Envelope`].
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The rule broken (kebab-case), or `None` for an error that is not a verdict on a
    /// rule (e.g. a missing file).
    pub rule: Option<String>,
    /// The message, as printed on stderr after `INVALID [rule]:` or `error:`.
    pub message: String,
    /// The exit status of the command.
    pub exit: Exit,
    /// Further structured fields (the certificate, the findings, …), merged into `error`.
    #[serde(flatten)]
    pub details: serde_json::Map<String, Value>,
}

/// The one JSON object a command prints on stdout under `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Envelope {
    /// [`VERSION`].
    pub version: u32,
    /// Whether the command succeeded (exit status 0).
    pub ok: bool,
    /// The command, e.g. `verify` or `log audit`.
    pub command: String,
    /// The command's result when it ran to a verdict or output; `null` otherwise.
    pub result: Option<Value>,
    /// Why it did not succeed; `null` on success.
    pub error: Option<Failure>,
    /// What was checked.
    pub checked: Vec<Check>,
    /// What was not checked, and why.
    pub skipped: Vec<Check>,
}

impl Envelope {
    /// A successful command's envelope.
    pub fn success(command: &str, result: Value) -> Self {
        Self {
            version: VERSION,
            ok: true,
            command: command.to_owned(),
            result: Some(result),
            error: None,
            checked: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// A failed command's envelope; `details` (a JSON object) is merged into `error`.
    pub fn failure(
        command: &str,
        exit: Exit,
        rule: Option<&str>,
        message: String,
        details: Option<Value>,
    ) -> Self {
        let mut details = match details {
            Some(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        // The envelope's own fields win over a serialised error's.
        for key in ["rule", "message", "exit"] {
            details.remove(key);
        }
        Self {
            version: VERSION,
            ok: false,
            command: command.to_owned(),
            result: None,
            error: Some(Failure {
                rule: rule.map(str::to_owned),
                message,
                exit,
                details,
            }),
            checked: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The same envelope with the lists of what was checked and skipped.
    #[must_use]
    pub fn with_checks(mut self, checked: Vec<Check>, skipped: Vec<Check>) -> Self {
        self.checked = checked;
        self.skipped = skipped;
        self
    }

    /// The same envelope with a result (e.g. the report of an audit with findings).
    #[must_use]
    pub fn with_result(mut self, result: Value) -> Self {
        self.result = Some(result);
        self
    }

    /// Prints the envelope as one line of JSON (serde_json escapes control characters).
    ///
    /// # Errors
    /// When `out` cannot be written.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")
    }
}

/// Whether `error` or one of its sources is a broken pipe (the reader of stdout went
/// away, e.g. `| head -1`): the command then ends quietly, with status 0.
pub fn is_broken_pipe(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes one line to stderr, ignoring failure: a closed stderr must not turn a message
/// into a panic (`eprintln!` panics when it cannot write).
pub fn warn(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
