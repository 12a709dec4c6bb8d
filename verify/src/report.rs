//! The result of a successful verification ([`VerifiedChain`], serializable for `--json`).

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cert::ParsedCert;
use crate::crl::CrlSummary;
use crate::error::{CertRef, Error};
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
    /// What this verification checked: the path, the profile of each certificate, the
    /// purpose, and revocation at each level that had a CRL (the envelope carries it).
    #[serde(skip)]
    pub checked: Vec<Check>,
    /// What it did not check, with the reason: revocation at each level without a CRL.
    #[serde(skip)]
    pub skipped: Vec<Check>,
}

/// One check a verdict ran or skipped (the `checked` and `skipped` lists of the JSON
/// envelope), so that nothing is skipped silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, kebab-case: `path`, `profile`, `purpose`, `revocation`,
    /// `log-inclusion`, `checkpoint-signature`, `witness-cosignatures`, …
    pub check: String,
    /// The certificate or object it is about (RFC 4514 subject, log origin, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The certificate's level in the validated path: 0 for the leaf (or the CA checked
    /// with `--ca`), counting up towards the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// Why it was skipped, or a detail of what was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Check {
    /// A check about nothing in particular.
    pub fn new(check: &str) -> Self {
        Self {
            check: check.to_owned(),
            subject: None,
            level: None,
            reason: None,
        }
    }

    /// The same check, about `subject`.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The same check, at `level` of the path.
    #[must_use]
    pub fn level(mut self, level: usize) -> Self {
        self.level = Some(level);
        self
    }

    /// The same check, with a reason or detail.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// `revocation of CN=… (no CRL …)`: one line of a text verdict.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.check)?;
        if let Some(subject) = &self.subject {
            write!(f, " of {subject}")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
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
        let path: Vec<CertSummary> = path.iter().map(|cert| CertSummary::new(cert)).collect();
        let mut checked = vec![
            Check::new("path").reason("signatures and validity periods up to the pinned root"),
        ];
        checked.extend(path.iter().enumerate().map(|(level, cert)| {
            Check::new("profile")
                .subject(&cert.cert.subject)
                .level(level)
        }));
        checked.push(Check::new("purpose").subject(format!("{} ({})", purpose.name, purpose.eku)));
        let mut skipped = Vec::new();
        // Revocation of each certificate below the root, by a CRL of its issuer (the next
        // certificate of the path): a level without one is reported, not passed over.
        for (level, pair) in path.windows(2).enumerate() {
            let [cert, issuer] = pair else { continue };
            let crl = crls.iter().find(|crl| {
                crl.issuer.subject == issuer.cert.subject && crl.issuer.serial == issuer.cert.serial
            });
            let check = Check::new("revocation")
                .subject(&cert.cert.subject)
                .level(level);
            match crl {
                Some(crl) => checked.push(check.reason(format!("CRL {}", crl.file))),
                None => skipped
                    .push(check.reason(format!("no --crl issued by {}", issuer.cert.subject))),
            }
        }
        Self {
            purpose: purpose.clone(),
            at,
            path,
            crls,
            checked,
            skipped,
        }
    }
}

impl VerifiedChain {
    /// `--require-crl`: a checked CRL of every CA of the path (each certificate's issuer,
    /// the root and a cross-certificate level included). Staleness is not checked here:
    /// every CRL given was already refused if it was not current.
    ///
    /// # Errors
    /// [`Error::CrlRequired`] naming the first CA, from the leaf up, without a CRL.
    pub fn require_crls(&self) -> Result<(), Error> {
        for (level, pair) in self.path.windows(2).enumerate() {
            let [cert, issuer] = pair else { continue };
            if !self.crls.iter().any(|crl| {
                crl.issuer.subject == issuer.cert.subject && crl.issuer.serial == issuer.cert.serial
            }) {
                return Err(Error::CrlRequired {
                    cert: Box::new(issuer.cert.clone()),
                    subject: cert.cert.subject.clone(),
                    level,
                });
            }
        }
        Ok(())
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
