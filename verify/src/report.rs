//! The result of a successful verification ([`VerifiedChain`], serializable for `--json`),
//! and the time conversions it and the errors use.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::cert::ParsedCert;
use crate::crl::CrlSummary;
use crate::error::CertRef;
use crate::purpose::Purpose;

/// A chain that passed every rule: the path used, from the leaf to the root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedChain {
    /// The purpose it was verified for.
    pub purpose: Purpose,
    /// The verification time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The validated path: leaf first, root last.
    pub path: Vec<CertSummary>,
    /// The CRLs that were checked (all that were supplied).
    pub crls: Vec<CrlSummary>,
}

/// One certificate of a validated path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// Position, subject and serial.
    #[serde(flatten)]
    pub cert: CertRef,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// notBefore.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// notAfter.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Extended key usage OIDs (empty without the extension).
    pub ekus: Vec<String>,
    /// basicConstraints cA.
    pub ca: bool,
    /// basicConstraints pathLenConstraint.
    pub path_len: Option<u8>,
    /// SHA-256 of the DER certificate, hex.
    pub sha256: String,
}

impl VerifiedChain {
    pub(crate) fn new(
        purpose: &Purpose,
        at: OffsetDateTime,
        path: &[&ParsedCert],
        crls: Vec<CrlSummary>,
    ) -> Self {
        Self {
            purpose: purpose.clone(),
            at,
            path: path.iter().map(|cert| CertSummary::new(cert)).collect(),
            crls,
        }
    }
}

impl CertSummary {
    fn new(cert: &ParsedCert) -> Self {
        let bc = cert.basic_constraints();
        let digest = ring::digest::digest(&ring::digest::SHA256, cert.der.as_ref());
        Self {
            cert: cert.id.clone(),
            issuer: cert.issuer().to_string(),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            ekus: cert
                .ekus()
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
            ca: bc.as_ref().is_some_and(|bc| bc.ca),
            path_len: bc.and_then(|bc| bc.path_len_constraint),
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// One line: `chain valid for purpose P (OID) at T: leaf … ← … ← root …`.
impl fmt::Display for VerifiedChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chain valid for purpose {} ({}) at {}: ",
            self.purpose.name,
            self.purpose.eku,
            rfc3339(self.at)
        )?;
        for (i, cert) in self.path.iter().enumerate() {
            if i > 0 {
                f.write_str(" ← ")?;
            }
            write!(f, "{}", cert.cert)?;
        }
        Ok(())
    }
}

/// RFC 3339 text of a time (for messages).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// A time from seconds since the epoch. X.509 times end at 9999-12-31, within range; beyond
/// it, saturates.
pub(crate) fn datetime(since_epoch: Duration) -> OffsetDateTime {
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(PrimitiveDateTime::MAX.assume_utc())
}

/// Whole seconds since the epoch, if not before it.
pub(crate) fn unix_secs(t: OffsetDateTime) -> Option<u64> {
    u64::try_from(t.unix_timestamp()).ok()
}
