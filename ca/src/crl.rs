//! Certificate revocation lists (RFC 5280 v2 with cRLNumber and AKI), by root or delegate.

use std::time::SystemTime;

use der::{Decode, Encode, asn1::OctetString};
use x509_cert::{
    Certificate, Version,
    crl::{CertificateList, RevokedCert, TbsCertList},
    ext::{
        Extension,
        pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason},
    },
    serial_number::SerialNumber,
};

use crate::{
    Error, KeyAlgorithm, Result, Signer,
    issue::{Signed, sign_linted, to_time},
    lint::Finding,
    profile::IssuerInfo,
};

/// One revoked certificate.
#[derive(Debug, Clone)]
pub struct Revocation {
    /// Serial of the revoked certificate.
    pub serial: SerialNumber,
    /// When it was revoked.
    pub date: SystemTime,
    /// Why; `None` for unspecified (RFC 5280 says to omit the extension then).
    pub reason: Option<CrlReason>,
}

impl Revocation {
    /// The revocation of `cert`, which must have been issued by `issuer`: same issuer
    /// name, and its authorityKeyIdentifier equal to the issuer's subjectKeyIdentifier (a
    /// name alone could belong to another key, e.g. a previous root).
    ///
    /// # Errors
    /// [`Error::Certificate`] when `issuer` did not issue `cert`.
    pub fn of(
        cert: &Certificate,
        issuer: &Certificate,
        date: SystemTime,
        reason: Option<CrlReason>,
    ) -> Result<Self> {
        let tbs = cert.tbs_certificate();
        let what = || {
            format!(
                "{} (serial {})",
                tbs.subject(),
                hex::encode(tbs.serial_number().as_bytes())
            )
        };
        let not_ours = |why: String| Error::Certificate {
            what: what(),
            reason: why,
        };
        let issuer_info = IssuerInfo::from_certificate(issuer)?;
        if tbs.issuer() != &issuer_info.name {
            return Err(not_ours(format!(
                "issued by `{}`, not by the CRL issuer `{}`",
                tbs.issuer(),
                issuer_info.name
            )));
        }
        let aki = tbs
            .get_extension::<AuthorityKeyIdentifier>()
            .map_err(|source| Error::Der {
                what: what(),
                source,
            })?
            .and_then(|(_, aki)| aki.key_identifier);
        if aki.as_ref().map(OctetString::as_bytes) != Some(issuer_info.key_id.as_slice()) {
            return Err(not_ours(
                "its authorityKeyIdentifier is not the CRL issuer's key".into(),
            ));
        }
        Ok(Self {
            serial: tbs.serial_number().clone(),
            date,
            reason,
        })
    }
}

/// Parse an RFC 5280 reason written in kebab-case (`key-compromise`, …).
///
/// # Errors
/// An unknown reason; the message lists the known ones.
pub fn parse_reason(text: &str) -> std::result::Result<CrlReason, String> {
    Ok(match text {
        "key-compromise" => CrlReason::KeyCompromise,
        "ca-compromise" => CrlReason::CaCompromise,
        "affiliation-changed" => CrlReason::AffiliationChanged,
        "superseded" => CrlReason::Superseded,
        "cessation-of-operation" => CrlReason::CessationOfOperation,
        "certificate-hold" => CrlReason::CertificateHold,
        "privilege-withdrawn" => CrlReason::PrivilegeWithdrawn,
        other => {
            return Err(format!(
                "unknown reason `{other}` (key-compromise, ca-compromise, affiliation-changed, \
                 superseded, cessation-of-operation, certificate-hold, privilege-withdrawn)"
            ));
        }
    })
}

/// The entries of an existing CRL, to carry over into the next one.
///
/// # Errors
/// A malformed reason code extension.
pub fn revocations_of(crl: &TbsCertList) -> Result<Vec<Revocation>> {
    let entries = crl.revoked_certificates.as_deref().unwrap_or_default();
    entries
        .iter()
        .map(|entry| {
            let reason = entry
                .crl_entry_extensions
                .as_deref()
                .unwrap_or_default()
                .iter()
                .find(|ext| ext.extn_id == <CrlReason as const_oid::AssociatedOid>::OID)
                .map(|ext| CrlReason::from_der(ext.extn_value.as_bytes()))
                .transpose()
                .map_err(|source| Error::Der {
                    what: "CRL entry".into(),
                    source,
                })?;
            Ok(Revocation {
                serial: entry.serial_number.clone(),
                date: entry.revocation_date.to_system_time(),
                reason,
            })
        })
        .collect()
}

/// What goes into a CRL.
#[derive(Debug, Clone)]
pub struct CrlContents {
    /// Monotonically increasing cRLNumber.
    pub number: u64,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate.
    pub next_update: SystemTime,
    /// Revoked certificates (may be empty).
    pub revoked: Vec<Revocation>,
}

/// Build, lint and sign a CRL for `issuer_cert`, whose key `issuer` holds.
///
/// # Errors
/// Lint findings (nothing was signed), signer failures, post-signature check failures.
pub fn issue_crl(
    issuer_cert: &Certificate,
    issuer: &dyn Signer,
    contents: &CrlContents,
    lint: impl Fn(&CertificateList) -> Vec<Finding>,
) -> Result<Signed> {
    let (what, tbs) = build_crl_tbs(issuer_cert, issuer.algorithm(), contents)?;
    sign_linted::<CertificateList>(&what, &tbs, issuer, lint)
}

/// The TBSCertList bytes of a CRL for `issuer_cert` signed with an `algorithm` key, and a
/// description for messages.
///
/// # Errors
/// The issuer certificate has no subjectKeyIdentifier; encoding failures.
pub fn build_crl_tbs(
    issuer_cert: &Certificate,
    algorithm: KeyAlgorithm,
    contents: &CrlContents,
) -> Result<(String, Vec<u8>)> {
    let info = IssuerInfo::from_certificate(issuer_cert)?;
    let der_err = |source: der::Error| Error::Der {
        what: "CRL".into(),
        source,
    };
    let extension = |extn_id, value: Vec<u8>| -> Result<Extension> {
        Ok(Extension {
            extn_id,
            critical: false,
            extn_value: OctetString::new(value).map_err(der_err)?,
        })
    };
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(info.key_id).map_err(der_err)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number = CrlNumber(der::asn1::Uint::new(&contents.number.to_be_bytes()).map_err(der_err)?);

    let mut revoked = Vec::with_capacity(contents.revoked.len());
    for entry in &contents.revoked {
        let extensions = match entry.reason {
            None | Some(CrlReason::Unspecified) => None,
            Some(reason) => Some(vec![extension(
                <CrlReason as const_oid::AssociatedOid>::OID,
                reason.to_der().map_err(der_err)?,
            )?]),
        };
        revoked.push(RevokedCert {
            serial_number: entry.serial.clone(),
            revocation_date: to_time(entry.date)?,
            crl_entry_extensions: extensions,
        });
    }

    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.signature_algorithm(),
        issuer: info.name,
        this_update: to_time(contents.this_update)?,
        next_update: Some(to_time(contents.next_update)?),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(vec![
            extension(
                <CrlNumber as const_oid::AssociatedOid>::OID,
                number.to_der().map_err(der_err)?,
            )?,
            extension(
                <AuthorityKeyIdentifier as const_oid::AssociatedOid>::OID,
                aki.to_der().map_err(der_err)?,
            )?,
        ]),
    };
    let tbs_der = tbs.to_der().map_err(der_err)?;
    let what = format!("CRL of {}", issuer_cert.tbs_certificate().subject());
    Ok((what, tbs_der))
}

/// Parse DER CRL bytes.
///
/// # Errors
/// Malformed DER.
pub fn parse_crl(der: &[u8]) -> Result<CertificateList> {
    CertificateList::from_der(der).map_err(|source| Error::Der {
        what: "CRL".into(),
        source,
    })
}
