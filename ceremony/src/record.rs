//! Ceremony records: the "Quorum Event record" of each executed ceremony — the request,
//! every approval, the outputs and the keys touched — chained by digest. A record is
//! written with `rust_pki_fs::durable::create_new`, so after a crash there is either no
//! record or a complete one, and an existing record is never replaced.

use std::path::Path;

use rust_pki_fs::{
    WriteError,
    durable::{self, Mode},
};
use serde::{Deserialize, Serialize};

use rust_pki_ca::policy::HsmBackend;

use crate::{
    Error, Result,
    request::{Kind, RequestHsm},
};

/// Format tag of the records this code writes and reads.
pub const RECORD_FORMAT: &str = "rust-pki/ceremony-record/v1";

/// An executed ceremony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// [`RECORD_FORMAT`].
    pub format: String,
    /// Position in the chain, from 1.
    pub sequence: u32,
    /// The request's id.
    pub ceremony_id: String,
    /// The request's kind.
    pub kind: Kind,
    /// The HSM the ceremony ran on (the request's) and what enforced the quorum there.
    pub hsm: RecordHsm,
    /// SHA-256 of the request bytes.
    pub request_sha256: String,
    /// SHA-256 of the previous record (empty for the first).
    pub previous_record_sha256: String,
    /// SHA-256 of the `rust-pki` binary that executed it.
    pub tool_sha256: String,
    /// Execution start and end (RFC 3339).
    pub started_at: String,
    /// See `started_at`.
    pub finished_at: String,
    /// Members whose approvals were verified, in roster order.
    pub approved_by: Vec<String>,
    /// The exact request bytes, base64.
    pub request: String,
    /// Every verified approval, as the member signed it.
    #[serde(default, rename = "approval")]
    pub approvals: Vec<RecordApproval>,
    /// What the ceremony produced.
    #[serde(default, rename = "output")]
    pub outputs: Vec<RecordOutput>,
    /// Keys created, used or revoked.
    #[serde(default, rename = "key")]
    pub keys: Vec<KeyEvent>,
}

/// The HSM a ceremony ran on, and the layers that enforced its quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordHsm {
    /// `softhsm2` or `cloudhsm`.
    pub backend: HsmBackend,
    /// The AWS CloudHSM cluster (CloudHSM only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// What enforced the quorum, as [`enforcement`] names it for the backend.
    pub quorum_enforced_by: Vec<String>,
}

impl RecordHsm {
    /// The record's `hsm` for a request's.
    pub fn of(hsm: &RequestHsm) -> Self {
        Self {
            backend: hsm.backend,
            cluster_id: hsm.cluster_id.clone(),
            quorum_enforced_by: enforcement(hsm.backend)
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// The layers that enforce a ceremony's quorum on `backend`. Our SSHSIG approvals are
/// the accountable record everywhere; on SoftHSM2 the token PIN exists only as the
/// members' Shamir shares, on CloudHSM the HSM itself checks the approvers' signatures
/// over its quorum tokens (and the shares open the logins).
pub fn enforcement(backend: HsmBackend) -> &'static [&'static str] {
    match backend {
        HsmBackend::SoftHsm2 => &["sshsig-approvals", "pin-shares"],
        HsmBackend::CloudHsm => &["sshsig-approvals", "password-shares", "cloudhsm-quorum"],
    }
}

/// One member's approval (an SSHSIG over the request bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordApproval {
    /// Roster member id.
    pub member: String,
    /// The armored SSH signature.
    pub signature: String,
}

/// One produced file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOutput {
    /// Path relative to the output directory.
    pub path: String,
    /// SHA-256 of the file contents.
    pub sha256: String,
    /// The file contents (PEM or TOML text).
    pub contents: String,
}

/// A key the ceremony created, used or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEvent {
    /// `created`, `used`, `revoked` or `pin-changed`; on CloudHSM also `shared` (the root
    /// key shared with a member's crypto user) and `quorum-set` (a quorum value).
    pub action: String,
    /// What the key is (e.g. `root rust-root-2026`, `delegate releases`, `CloudHSM crypto
    /// user c_m1 of m1`).
    pub key: String,
    /// SHA-256 of its SubjectPublicKeyInfo (DER).
    pub spki_sha256: String,
}

impl Record {
    /// Parse record bytes.
    ///
    /// # Errors
    /// Not TOML, unknown/missing fields, or another format.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let error = |reason: String| Error::RecordFile {
            path: path.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| error("not UTF-8".into()))?;
        let record: Self = toml::from_str(text).map_err(|source| Error::RecordSyntax {
            path: path.to_owned(),
            source,
        })?;
        if record.format != RECORD_FORMAT {
            return Err(error(format!(
                "format `{}` is not `{RECORD_FORMAT}`",
                record.format
            )));
        }
        Ok(record)
    }

    /// The certificates among the outputs, in order: (output path, DER).
    pub fn certificates(&self) -> Vec<(&str, Vec<u8>)> {
        self.outputs
            .iter()
            .filter_map(|o| {
                let der = rust_pki_ca::pem::decode_der(
                    o.contents.as_bytes(),
                    rust_pki_ca::pem::label::CERTIFICATE,
                )
                .ok()?;
                Some((o.path.as_str(), der))
            })
            .collect()
    }

    /// Write the record to `path`, complete or not at all (`durable::create_new`).
    /// Refuses to replace an existing record, even one a racing process just wrote.
    ///
    /// Returns the bytes written (what the log entry and the next record's chain name).
    ///
    /// # Errors
    /// The record exists already, or I/O failure.
    pub fn write_atomically(&self, path: &Path) -> Result<Vec<u8>> {
        if path.exists() {
            return Err(Error::RecordExists {
                path: path.to_owned(),
            });
        }
        let text = toml::to_string(self).map_err(|source| Error::TomlWrite {
            what: path.display().to_string(),
            source,
        })?;
        durable::create_new(path, text.as_bytes(), Mode::Public).map_err(|error| match error {
            WriteError::Exists { path } => Error::RecordExists { path },
            other => Error::Write(other),
        })?;
        Ok(text.into_bytes())
    }
}
