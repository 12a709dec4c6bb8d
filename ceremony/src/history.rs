//! A request checked against the history in the state's records, by `prepare` and again by
//! `execute` before the HSM (the request file is in the operator's hands in between):
//!
//! - `revocations-carried`: a root CRL revokes exactly what the latest root CRL revoked,
//!   plus, for a delegate-revoke, the current delegate of its purpose — never another
//!   serial, never fewer (a dropped revocation would un-revoke a delegate).
//! - `revoked-key`: a delegate-issue or -renew never certifies a key whose delegate
//!   certificate was revoked.

use std::collections::BTreeSet;

use der::{Decode, Encode};
use rust_pki_ca::{
    crl::{parse_crl, revocations_of},
    pem,
};
use x509_cert::Certificate;

use crate::{
    Error, Result,
    request::{Kind, Request, sha256_hex},
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
    match request.kind {
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
    }
}

/// Serials (hex) on the latest root CRL a ceremony issued.
fn revoked_serials(state: &State) -> Result<BTreeSet<String>> {
    let Some(text) = state.latest_output(ROOT_CRL)? else {
        return Ok(BTreeSet::new());
    };
    let der =
        pem::decode_der(text.as_bytes(), pem::label::CRL).map_err(|reason| Error::Request {
            field: ROOT_CRL.into(),
            reason,
        })?;
    Ok(revocations_of(&parse_crl(&der)?.tbs_cert_list)?
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
