//! Ceremony requests: the one file members read, approve and the executor acts on.
//!
//! A request is TOML. Its exact bytes are what members sign, so nothing is canonicalised:
//! the executor parses the same bytes it checks the approvals against. Each planned
//! certificate or CRL whose key is known is included as its exact TBS, built from policy
//! and linted with a throwaway key before anyone is asked to approve.

use std::time::SystemTime;

use base64ct::{Base64, Encoding};
use rust_pki_ca::policy::{HsmBackend, HsmPolicy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Format tag of the request files this code writes and reads.
pub const REQUEST_FORMAT: &str = "rust-pki/ceremony-request/v1";

/// What a ceremony does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Initialise the root token (PINs as shares), generate the root key, self-sign.
    RootInit,
    /// Certify a delegate key (from a CSR) for a purpose.
    DelegateIssue,
    /// Certify the current delegate key of a purpose again, before its certificate expires.
    DelegateRenew,
    /// Revoke a delegate on a new root CRL.
    DelegateRevoke,
    /// Re-sign the root CRL before its nextUpdate.
    RootCrl,
    /// Replace the roster: new token PINs, shared to the new members only.
    RosterChange,
    /// A new root key and certificate, with cross-certificates both ways.
    RootRotate,
    /// Certify the AWS CloudHSM cluster's RSA key (from its CSR) with the root, for
    /// InitializeCluster.
    ClusterInit,
}

impl Kind {
    /// Whether the ceremony (re)shares the token PINs to the roster.
    pub fn reshares_pins(self) -> bool {
        matches!(self, Self::RootInit | Self::RosterChange)
    }

    /// The kebab-case name, as in files and directory names.
    pub fn name(self) -> &'static str {
        match self {
            Self::RootInit => "root-init",
            Self::DelegateIssue => "delegate-issue",
            Self::DelegateRenew => "delegate-renew",
            Self::DelegateRevoke => "delegate-revoke",
            Self::RootCrl => "root-crl",
            Self::RosterChange => "roster-change",
            Self::RootRotate => "root-rotate",
            Self::ClusterInit => "cluster-init",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A ceremony request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// [`REQUEST_FORMAT`].
    pub format: String,
    /// 128 random bits, hex: no request can be executed twice.
    pub id: String,
    /// What the ceremony does.
    pub kind: Kind,
    /// The HSM it runs on: the pinned policy's `[hsm]`, repeated here so that members see
    /// which HSM they approve (`ceremony show` prints it first); `execute` refuses a
    /// request whose backend is not the pinned policy's or not the one it drives.
    pub hsm: RequestHsm,
    /// One line for humans.
    pub summary: String,
    /// When it was prepared (RFC 3339).
    pub prepared_at: String,
    /// Execution window start (RFC 3339).
    pub not_before: String,
    /// Execution window end (RFC 3339): approvals for an expired request are worthless.
    pub not_after: String,
    /// SHA-256 of the policy file the request was prepared under.
    pub policy_sha256: String,
    /// SHA-256 of the roster file whose members may approve.
    pub roster_sha256: String,
    /// SHA-256 of the latest ceremony record (empty for the first ceremony): the chain.
    pub previous_record_sha256: String,
    /// SHA-256 of the `rust-pki` binary that prepared it.
    pub tool_sha256: String,
    /// One-time age X25519 recipient: members re-encrypt their PIN share to it.
    pub ceremony_recipient: String,
    /// Kind-specific parameters.
    pub parameters: Parameters,
    /// Certificates and CRLs to sign, as exact TBS bytes.
    #[serde(default, rename = "output")]
    pub outputs: Vec<PlannedOutput>,
}

/// The HSM a request runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestHsm {
    /// `softhsm2` or `cloudhsm`.
    pub backend: HsmBackend,
    /// The AWS CloudHSM cluster (CloudHSM only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

impl RequestHsm {
    /// The `[hsm]` of `policy`.
    pub fn of(policy: &HsmPolicy) -> Self {
        Self {
            backend: policy.backend,
            cluster_id: policy.cluster_id.clone(),
        }
    }

    /// Whether this is exactly the policy's `[hsm]`.
    pub fn matches(&self, policy: &HsmPolicy) -> bool {
        self.backend == policy.backend && self.cluster_id == policy.cluster_id
    }

    /// For people: `SoftHSM2` or `AWS CloudHSM cluster cluster-…`.
    pub fn describe(&self) -> String {
        match (self.backend, &self.cluster_id) {
            (HsmBackend::CloudHsm, Some(id)) => {
                format!(
                    "cloudhsm (AWS CloudHSM cluster {})",
                    crate::inert::inert(id)
                )
            }
            (HsmBackend::CloudHsm, None) => "cloudhsm (AWS CloudHSM, no cluster named)".into(),
            (HsmBackend::SoftHsm2, _) => "softhsm2 (SoftHSM2: a test HSM, keys in files)".into(),
        }
    }
}

/// Kind-specific parameters (only those of the request's kind are set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// root-init: label of the token to initialise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// root-init: label of the root key to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// delegate-issue / delegate-revoke: the purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// delegate-issue / cluster-init: SHA-256 of the CSR (file bytes) whose key is certified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr_sha256: Option<String>,
    /// delegate-issue: SHA-256 of the delegate's SubjectPublicKeyInfo (DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate_key_sha256: Option<String>,
    /// cluster-init: the AWS CloudHSM cluster id (`cluster-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// cluster-init: SHA-256 of the cluster's SubjectPublicKeyInfo (DER, RSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_key_sha256: Option<String>,
    /// roster-change: the new roster file, base64 of its exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_roster: Option<String>,
    /// roster-change: SHA-256 of the new roster file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_roster_sha256: Option<String>,
    /// delegate-revoke / root-crl: serials (hex) on the new root CRL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_serials: Vec<String>,
}

/// One certificate or CRL the ceremony will sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOutput {
    /// Where it goes, relative to the output directory (e.g. `delegates/releases.pem`).
    pub path: String,
    /// `certificate` or `crl`.
    #[serde(rename = "type")]
    pub output_type: OutputType,
    /// For certificates: `delegate:<purpose>` or `cluster`; for CRLs: `root-crl`.
    pub profile: String,
    /// SHA-256 of the TBS, the fingerprint to read aloud.
    pub tbs_sha256: String,
    /// The exact TBS DER, base64.
    pub tbs: String,
}

/// What a planned output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputType {
    /// An X.509 certificate.
    Certificate,
    /// An X.509 CRL.
    Crl,
}

impl PlannedOutput {
    /// A planned output for `tbs`.
    pub fn new(path: &str, output_type: OutputType, profile: &str, tbs: &[u8]) -> Self {
        Self {
            path: path.to_owned(),
            output_type,
            profile: profile.to_owned(),
            tbs_sha256: sha256_hex(tbs),
            tbs: Base64::encode_string(tbs),
        }
    }

    /// The TBS bytes, checked against their stated digest.
    ///
    /// # Errors
    /// Malformed base64, or bytes that do not match `tbs_sha256`.
    pub fn tbs_der(&self) -> Result<Vec<u8>> {
        let der = Base64::decode_vec(&self.tbs).map_err(|source| Error::RequestBase64 {
            field: format!("output {} tbs", self.path),
            source,
        })?;
        if sha256_hex(&der) != self.tbs_sha256 {
            return Err(Error::Request {
                field: format!("output {} tbs_sha256", self.path),
                reason: "does not match the TBS bytes".into(),
            });
        }
        Ok(der)
    }
}

impl Request {
    /// The request as TOML text (what gets written and approved).
    ///
    /// # Errors
    /// Serialisation failure (not expected for these types).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|source| Error::TomlWrite {
            what: "request field `request`".into(),
            source,
        })
    }

    /// A short fingerprint of the request bytes to read aloud: the first 16 hex digits of
    /// their SHA-256, grouped by four.
    pub fn fingerprint(bytes: &[u8]) -> String {
        let digest = sha256_hex(bytes);
        digest.as_bytes()[..16]
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// RFC 3339 with whole seconds, UTC.
pub fn rfc3339(time: SystemTime) -> String {
    let time = time::OffsetDateTime::from(time);
    let time = time.replace_nanosecond(0).unwrap_or(time);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
