//! The result of a successful verification ([`VerifiedChain`], serializable for `--json`).

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cert::ParsedCert;
use crate::crl::CrlSummary;
use crate::error::CertRef;
use crate::purpose::Purpose;
use crate::times::rfc3339;

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
