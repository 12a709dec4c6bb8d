//! What an audit finds: a broken rule, with the log entry and the file it is about.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

/// Stable names of the monitor's own rules (the `rule` field of a [`Finding`] and of the
/// JSON form). History-replay findings carry the rule of `rust_pki_ceremony::replay`
/// instead (e.g. `quorum`, `sequence`, `policy-pin`).
pub mod rule {
    /// An entry is not a valid `rust-pki-log-entry/v1` entry.
    pub const ENTRY_FORMAT: &str = "entry-format";
    /// A ceremony record's bytes are not a record this version can read.
    pub const RECORD_FORMAT: &str = "record-format";
    /// The entry names other certificates than its record issued.
    pub const RECORD_CERTIFICATES: &str = "record-certificates";
    /// A record logged by digest only is not published beside the log.
    pub const RECORD_PUBLISHED: &str = "record-published";
    /// The published copy of a record is not the one the log commits to.
    pub const RECORD_DIGEST: &str = "record-digest";
    /// A root given with `--root` is named by no log entry.
    pub const ROOT_LOGGED: &str = "root-logged";
    /// A certificate chaining to the root is named by no log entry.
    pub const UNLOGGED_CERTIFICATE: &str = "unlogged-certificate";
    /// A signed artifact names a signer that no earlier leaf-issuance entry issued: a
    /// delegate certified a leaf outside the log, and it signed something.
    pub const ARTIFACT_SIGNER: &str = "artifact-signer";
    /// A CRL's number is not higher than that of an earlier CRL of the same issuer (the
    /// root's in ceremony records, or one delegate's `crl` entries): numbers only grow, or
    /// an older CRL could pass for the newest.
    pub const CRL_NUMBER: &str = "crl-number";
}

/// One broken rule. Serialised for `--json` as
/// `{"rule": …, "entry": N or null, "file": "…" or null, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case name of the rule (see [`rule`]).
    pub rule: &'static str,
    /// Index of the log entry concerned, if the finding is about one.
    pub entry: Option<u64>,
    /// The file concerned: a record's logged file name or published copy, a root or
    /// certificate file. Serialised as text (lossy for a path that is not UTF-8), so that
    /// serialising a finding cannot fail.
    #[serde(serialize_with = "display_path")]
    pub file: Option<PathBuf>,
    /// What is wrong, naming the entry and file as the text output does.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.rule, self.message)
    }
}

fn display_path<S: Serializer>(path: &Option<PathBuf>, serializer: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => serializer.serialize_some(&Path::display(path).to_string()),
        None => serializer.serialize_none(),
    }
}
