//! CRLs: loading, the explicit checks every supplied CRL must pass, and finding the entry
//! that revokes a certificate (to name the CRL, reason and date in the error).
//!
//! Policy (see also [`crate::verify`]):
//! - every supplied CRL must be issued by the root or by a certificate of the chain file
//!   ([`Error::CrlUnknownIssuer`] otherwise: a CRL that cannot be authenticated must not make a
//!   check look stronger than it was);
//! - its signature must verify with that issuer's key ([`Error::CrlBadSignature`]), whether or
//!   not the issuer ends up on the validated path, and that issuer's keyUsage, if present, must
//!   include cRLSign;
//! - its nextUpdate must be after the verification time ([`Error::CrlExpired`]).
//!
//! CRLs read from a published `crl/` folder ([`Crl::from_dir`]) are the exception to the
//! first rule: the folder holds the CRL of every delegate, so one whose issuer name is no
//! CA of the inputs is skipped. One that names such a CA is checked like any other.
//!
//! thisUpdate is not checked against the verification time: verifying an old signature with
//! `--at` in the past and today's CRL is legitimate.

use std::path::Path;

use der::Decode;
use der::oid::AssociatedOid;
use serde::Serialize;
use time::OffsetDateTime;
use webpki::BorrowedCertRevocationList;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{CrlNumber, CrlReason};

use crate::cert::{ParsedCert, serial_hex};
use crate::error::{CertRef, Error};
use crate::pem::{self, Expected};
use crate::signed::Check;
use crate::times::datetime;

/// One CRL, read from a PEM (`X509 CRL`) or DER file.
#[derive(Clone, Debug)]
pub struct Crl {
    pub(crate) file: String,
    pub(crate) der: Vec<u8>,
    pub(crate) x509: CertificateList,
    /// Read from a folder of CRLs: skipped when its issuer is none of the inputs' CAs.
    pub(crate) from_dir: bool,
}

impl Crl {
    /// Reads one CRL from a PEM or DER file.
    ///
    /// # Errors
    /// Unreadable file, malformed PEM/DER, not exactly one CRL, or a CRL the path validator
    /// does not support (delta, indirect, no nextUpdate); the error names the file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_bytes(&path.display().to_string(), &pem::read(path)?)
    }

    /// Like [`Crl::from_file`], for bytes; `name` stands for the file in errors.
    ///
    /// # Errors
    /// As [`Crl::from_file`].
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, Error> {
        let mut objects = pem::decode(name, bytes, Expected::Crl)?;
        if objects.len() != 1 {
            return Err(Error::NotSingle {
                file: name.to_owned(),
                expected: "CRL",
                count: objects.len(),
            });
        }
        let der = objects.remove(0);
        let x509 = CertificateList::from_der(&der).map_err(|source| Error::MalformedCrl {
            file: name.to_owned(),
            source,
        })?;
        BorrowedCertRevocationList::from_der(&der).map_err(|source| Error::UnsupportedCrl {
            file: name.to_owned(),
            source,
        })?;
        Ok(Self {
            file: name.to_owned(),
            der,
            x509,
            from_dir: false,
        })
    }

    /// Reads every `*.crl` file (PEM or DER) of a folder, such as the `crl/` folder `rust-pki
    /// log publish` writes, in file name order; other files are ignored. CRLs whose issuer is
    /// none of the CAs of a verification's inputs are skipped by it, not errors.
    ///
    /// # Errors
    /// The folder cannot be listed, or a `*.crl` file is unusable (as [`Crl::from_file`]).
    pub fn from_dir(dir: &Path) -> Result<Vec<Self>, Error> {
        let read_error = |source| Error::Read {
            file: dir.display().to_string(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_error)? {
            let path = entry.map_err(read_error)?.path();
            if path.extension().is_some_and(|ext| ext == "crl") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        paths
            .iter()
            .map(|path| {
                Self::from_file(path).map(|crl| Self {
                    from_dir: true,
                    ..crl
                })
            })
            .collect()
    }

    /// The file the CRL was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    fn issuer_string(&self) -> String {
        self.x509.tbs_cert_list.issuer.to_string()
    }

    fn next_update(&self) -> Option<OffsetDateTime> {
        self.x509
            .tbs_cert_list
            .next_update
            .map(|t| datetime(t.to_unix_duration()))
    }

    /// Runs the explicit checks against the CAs of the inputs; returns the authenticated
    /// issuer, or `None` for a CRL of a folder that no CA of the inputs issued.
    fn check<'a>(
        &self,
        cas: &[&'a ParsedCert],
        at: OffsetDateTime,
    ) -> Result<Option<&'a ParsedCert>, Error> {
        let named: Vec<&ParsedCert> = cas
            .iter()
            .copied()
            .filter(|ca| *ca.subject() == self.x509.tbs_cert_list.issuer)
            .collect();
        if named.is_empty() && self.from_dir {
            return Ok(None);
        }
        if named.is_empty() {
            return Err(Error::CrlUnknownIssuer {
                crl: self.file.clone(),
                issuer: self.issuer_string(),
            });
        }
        let issuer = named
            .into_iter()
            .find(|ca| ca.signed(&self.der) == Check::Valid)
            .ok_or_else(|| Error::CrlBadSignature {
                crl: self.file.clone(),
                issuer: self.issuer_string(),
            })?;
        if !issuer.may_sign_crls() {
            return Err(Error::CrlIssuerNotCrlSigner {
                crl: self.file.clone(),
                issuer: issuer.id.clone().into(),
            });
        }
        if let Some(next_update) = self.next_update() {
            let at = at.replace_nanosecond(0).unwrap_or(at);
            if at >= next_update {
                return Err(Error::CrlExpired {
                    crl: self.file.clone(),
                    issuer: self.issuer_string(),
                    at,
                    next_update,
                });
            }
        }
        Ok(Some(issuer))
    }

    /// If this CRL, authenticated with `issuer`'s key, lists `cert`: the attributed error.
    pub(crate) fn revocation_of(&self, cert: &ParsedCert, issuer: &ParsedCert) -> Option<Error> {
        let list = &self.x509.tbs_cert_list;
        if list.issuer != *cert.issuer() || issuer.signed(&self.der) != Check::Valid {
            return None;
        }
        let entry = list
            .revoked_certificates
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|entry| entry.serial_number.as_bytes() == cert.serial())?;
        let reason = entry
            .crl_entry_extensions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|ext| ext.extn_id == CrlReason::OID)
            .and_then(|ext| CrlReason::from_der(ext.extn_value.as_bytes()).ok())
            .map(|reason| reason_name(reason).to_owned());
        Some(Error::Revoked {
            cert: cert.id.clone().into(),
            crl: self.file.clone(),
            crl_issuer: self.issuer_string(),
            reason,
            revocation_date: datetime(entry.revocation_date.to_unix_duration()),
        })
    }

    fn summary(&self, issuer: &ParsedCert) -> CrlSummary {
        let list = &self.x509.tbs_cert_list;
        let number = list
            .crl_extensions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|ext| ext.extn_id == CrlNumber::OID)
            .and_then(|ext| CrlNumber::from_der(ext.extn_value.as_bytes()).ok())
            .map(|number| serial_hex(number.0.as_bytes()));
        CrlSummary {
            file: self.file.clone(),
            issuer: issuer.id.clone(),
            this_update: datetime(list.this_update.to_unix_duration()),
            next_update: self.next_update(),
            crl_number: number,
            revoked: list
                .revoked_certificates
                .as_deref()
                .unwrap_or_default()
                .len(),
        }
    }
}

/// RFC 5280 §5.3.1 name of a reason code.
fn reason_name(reason: CrlReason) -> &'static str {
    match reason {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "keyCompromise",
        CrlReason::CaCompromise => "cACompromise",
        CrlReason::AffiliationChanged => "affiliationChanged",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessationOfOperation",
        CrlReason::CertificateHold => "certificateHold",
        CrlReason::RemoveFromCRL => "removeFromCRL",
        CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        CrlReason::AaCompromise => "aACompromise",
    }
}

/// A CRL that passed the explicit checks, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CrlSummary {
    /// The CRL file.
    pub file: String,
    /// The CA whose key verified the CRL.
    pub issuer: CertRef,
    /// thisUpdate.
    #[serde(with = "time::serde::rfc3339")]
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber, hex, if present.
    pub crl_number: Option<String>,
    /// Number of revoked-certificate entries.
    pub revoked: usize,
}

/// Runs the explicit checks on every CRL, in order; the first failure is the error. The
/// summaries leave out the CRLs of a folder that no CA of the inputs issued.
pub(crate) fn check_all(
    crls: &[Crl],
    cas: &[&ParsedCert],
    at: OffsetDateTime,
) -> Result<Vec<CrlSummary>, Error> {
    let mut summaries = Vec::new();
    for crl in crls {
        if let Some(issuer) = crl.check(cas, at)? {
            summaries.push(crl.summary(issuer));
        }
    }
    Ok(summaries)
}
