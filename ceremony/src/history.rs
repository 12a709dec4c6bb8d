//! A request checked against the history in the state's records, by `prepare` and again by
//! `execute` before the HSM (the request file is in the operator's hands in between):
//!
//! - `revocations-carried`: a root CRL revokes exactly what the latest root CRL revoked,
//!   plus, for a delegate-revoke, the current delegate of its purpose — never another
//!   serial, never fewer (a dropped revocation would un-revoke a delegate).
//! - `revoked-key`: a delegate-issue or -renew never certifies a key whose delegate
//!   certificate was revoked.
//! - `revocation-kept`: each revocation a root CRL carries over keeps the date and reason
//!   the latest root CRL gave it (a later date would hide when the key was compromised).
//! - `crl-number`: a root CRL's number is higher than the latest root CRL's, so that the
//!   newest CRL is always the one with the highest number.

use std::collections::BTreeSet;

use der::{Decode, Encode, oid::AssociatedOid};
use rust_pki_ca::{
    crl::{parse_crl, revocations_of},
    pem,
};
use x509_cert::{
    Certificate,
    crl::{CertificateList, TbsCertList},
    ext::pkix::CrlNumber,
};

use crate::{
    Error, Result,
    request::{Kind, OutputType, Request, rfc3339, sha256_hex},
    state::State,
    validate::{ROOT_CRL, delegate_path},
};

/// Check `request` against the records of `state` (see the module documentation).
///
/// # Errors
/// [`Error::History`] naming the rule; malformed records.
pub fn check_history(state: &State, request: &Request) -> Result<()> {
    let revoked = revoked_serials(state)?;
    let stated: BTreeSet<String> = request.parameters.revoked_serials.iter().cloned().collect();
    let broken = |rule: &'static str, reason: String| Error::History { rule, reason };
    let listed = match request.kind {
        Kind::RootCrl if stated != revoked => Err(broken(
            "revocations-carried",
            format!(
                "a root CRL re-signs the latest one's revocations [{}], this one lists [{}]",
                join(&revoked),
                join(&stated)
            ),
        )),
        Kind::DelegateRevoke => {
            let purpose = request.parameters.purpose.as_deref().unwrap_or_default();
            let path = delegate_path(purpose);
            let Some(delegate) = state.latest_output(&path)? else {
                return Err(broken(
                    "revocations-carried",
                    format!("no {path} was issued by a ceremony"),
                ));
            };
            let mut expected = revoked.clone();
            expected.insert(serial_hex(&certificate(&delegate, &path)?));
            if stated != expected {
                return Err(broken(
                    "revocations-carried",
                    format!(
                        "revoking the {purpose} delegate means revoking [{}], this request \
                         lists [{}]",
                        join(&expected),
                        join(&stated)
                    ),
                ));
            }
            Ok(())
        }
        Kind::DelegateIssue | Kind::DelegateRenew => {
            let key = request
                .parameters
                .delegate_key_sha256
                .as_deref()
                .unwrap_or_default();
            for (path, cert) in delegate_certificates(state)? {
                let spki = cert
                    .tbs_certificate()
                    .subject_public_key_info()
                    .to_der()
                    .map(|d| sha256_hex(&d))
                    .unwrap_or_default();
                let serial = serial_hex(&cert);
                if spki == key && revoked.contains(&serial) {
                    return Err(broken(
                        "revoked-key",
                        format!(
                            "key sha256:{key} was certified as {path} (serial {serial}), which \
                             is revoked: a revoked key is never certified again"
                        ),
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    };
    listed?;
    // Dates, reasons and the number only once the revocations themselves are right: a CRL
    // that drops one is refused for that (`revocations-carried`), whatever its number.
    if matches!(request.kind, Kind::RootCrl | Kind::DelegateRevoke) {
        check_carried(state, request)?;
    }
    Ok(())
}

/// `revocation-kept` and `crl-number` for the CRL a request would sign, against the latest
/// root CRL a ceremony issued.
fn check_carried(state: &State, request: &Request) -> Result<()> {
    let Some(latest) = latest_root_crl(state)? else {
        return Ok(());
    };
    let broken = |rule: &'static str, reason: String| Error::History { rule, reason };
    for output in request
        .outputs
        .iter()
        .filter(|o| o.output_type == OutputType::Crl)
    {
        let tbs =
            TbsCertList::from_der(&output.tbs_der()?).map_err(|source| Error::RequestDer {
                field: format!("output {} tbs", output.path),
                source,
            })?;
        let new = revocations_of(&tbs)?;
        for old in revocations_of(&latest.tbs_cert_list)? {
            let Some(carried) = new.iter().find(|r| r.serial == old.serial) else {
                continue; // `revocations-carried` names a dropped serial.
            };
            if carried.date != old.date || carried.reason != old.reason {
                return Err(broken(
                    "revocation-kept",
                    format!(
                        "serial {} was revoked on {} (reason {:?}) on the latest root CRL; \
                         this one says {} (reason {:?})",
                        hex::encode(old.serial.as_bytes()),
                        rfc3339(old.date),
                        old.reason,
                        rfc3339(carried.date),
                        carried.reason
                    ),
                ));
            }
        }
        let (Some(latest_number), Some(number)) =
            (crl_number(&latest.tbs_cert_list), crl_number(&tbs))
        else {
            return Err(broken(
                "crl-number",
                "a root CRL without a cRLNumber".into(),
            ));
        };
        if number <= latest_number {
            return Err(broken(
                "crl-number",
                format!(
                    "CRL number {number} is not higher than {latest_number}, the latest root \
                     CRL's"
                ),
            ));
        }
    }
    Ok(())
}

/// The number a new root CRL gets: the current time in seconds, as before, unless the
/// latest root CRL's number is not below it (a clock set back): then one more than that.
///
/// # Errors
/// Malformed records.
pub fn next_root_crl_number(state: &State, now: u64) -> Result<u64> {
    let latest = latest_root_crl(state)?
        .and_then(|crl| crl_number(&crl.tbs_cert_list))
        .unwrap_or(0);
    Ok(now.max(latest.saturating_add(1)))
}

/// The cRLNumber of a CRL, if it has one that fits in 64 bits.
fn crl_number(tbs: &TbsCertList) -> Option<u64> {
    let ext = tbs
        .crl_extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == <CrlNumber as AssociatedOid>::OID)?;
    let number = CrlNumber::from_der(ext.extn_value.as_bytes()).ok()?;
    let bytes = number.0.as_bytes();
    (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// The latest root CRL a ceremony issued.
fn latest_root_crl(state: &State) -> Result<Option<CertificateList>> {
    let Some(text) = state.latest_output(ROOT_CRL)? else {
        return Ok(None);
    };
    let der =
        pem::decode_der(text.as_bytes(), pem::label::CRL).map_err(|reason| Error::Request {
            field: ROOT_CRL.into(),
            reason,
        })?;
    Ok(Some(parse_crl(&der)?))
}

/// Serials (hex) on the latest root CRL a ceremony issued.
fn revoked_serials(state: &State) -> Result<BTreeSet<String>> {
    let Some(crl) = latest_root_crl(state)? else {
        return Ok(BTreeSet::new());
    };
    Ok(revocations_of(&crl.tbs_cert_list)?
        .iter()
        .map(|r| hex::encode(r.serial.as_bytes()))
        .collect())
}

/// Every delegate certificate any record published: (output path, certificate).
fn delegate_certificates(state: &State) -> Result<Vec<(String, Certificate)>> {
    let mut out = Vec::new();
    for (_, record, _) in state.records()? {
        for output in &record.outputs {
            if output.path.starts_with("delegates/") {
                out.push((
                    output.path.clone(),
                    certificate(&output.contents, &output.path)?,
                ));
            }
        }
    }
    Ok(out)
}

fn certificate(pem_text: &str, path: &str) -> Result<Certificate> {
    let der = pem::decode_der(pem_text.as_bytes(), pem::label::CERTIFICATE).map_err(|reason| {
        Error::Request {
            field: path.into(),
            reason,
        }
    })?;
    Certificate::from_der(&der).map_err(|source| Error::RequestDer {
        field: path.into(),
        source,
    })
}

fn serial_hex(cert: &Certificate) -> String {
    hex::encode(cert.tbs_certificate().serial_number().as_bytes())
}

fn join(serials: &BTreeSet<String>) -> String {
    serials.iter().cloned().collect::<Vec<_>>().join(", ")
}
