//! The leaf that signs, checked before the token is asked for anything: it certifies the
//! token's key, it and its delegate carry the purpose's EKU (a releases leaf cannot sign
//! for crates-io), the delegate issued it, and it is valid at the time of signing.

use std::time::SystemTime;

use der::{Decode, Encode};
use rust_pki_ca::KeyAlgorithm;
use rust_pki_ca::oid::{EXTENDED_KEY_USAGE, decode_eku};
use rust_pki_verify::Purpose;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use crate::error::{Error, Result};

/// A leaf certificate and its delegate, checked fit to sign for one purpose.
#[derive(Clone, Debug)]
pub struct SigningLeaf {
    leaf: Certificate,
    leaf_der: Vec<u8>,
    delegate_der: Vec<u8>,
    algorithm: KeyAlgorithm,
}

impl SigningLeaf {
    /// Check that `leaf_der` certifies `key`, carries `purpose`'s EKU (as does
    /// `delegate_der`), was issued (name and signature) by `delegate_der`, and is valid at
    /// `now`.
    ///
    /// # Errors
    /// [`Error::Certificate`] for a malformed certificate or an unsupported key;
    /// [`Error::KeyMismatch`], [`Error::WrongPurpose`], [`Error::NotIssuedByDelegate`],
    /// [`Error::LeafNotValid`] (refusals).
    pub fn check(
        leaf_der: &[u8],
        delegate_der: &[u8],
        key: &SubjectPublicKeyInfoOwned,
        purpose: &Purpose,
        now: SystemTime,
    ) -> Result<Self> {
        let leaf = parse("leaf", leaf_der)?;
        let delegate = parse("delegate", delegate_der)?;
        let tbs = leaf.tbs_certificate();
        let subject = tbs.subject().to_string();
        let algorithm = KeyAlgorithm::of_spki(tbs.subject_public_key_info()).ok_or_else(|| {
            Error::Certificate {
                what: "leaf",
                reason: "its key is neither P-384 nor Ed25519".into(),
            }
        })?;
        if tbs.subject_public_key_info() != key {
            return Err(Error::KeyMismatch {
                leaf: subject,
                key: describe_key(key),
            });
        }
        check_purpose("leaf", &leaf, purpose)?;
        check_purpose("delegate", &delegate, purpose)?;
        let issuer = delegate.tbs_certificate();
        let not_issued = |reason: String| Error::NotIssuedByDelegate {
            leaf: subject.clone(),
            delegate: issuer.subject().to_string(),
            reason,
        };
        if tbs.issuer() != issuer.subject() {
            return Err(not_issued(format!("its issuer is {}", tbs.issuer())));
        }
        let signature = leaf
            .signature()
            .as_bytes()
            .ok_or_else(|| not_issued("its signature has unused bits".into()))?;
        let tbs_der = tbs.to_der().map_err(|e| Error::Certificate {
            what: "leaf",
            reason: e.to_string(),
        })?;
        rust_pki_ca::signature::verify_signature(
            issuer.subject_public_key_info(),
            leaf.signature_algorithm(),
            &tbs_der,
            signature,
            "the leaf certificate",
        )
        .map_err(|e| not_issued(e.to_string()))?;
        let validity = tbs.validity();
        let not_before = validity.not_before.to_system_time();
        let not_after = validity.not_after.to_system_time();
        if now < not_before || now > not_after {
            return Err(Error::LeafNotValid {
                leaf: subject,
                now: rfc3339(now),
                not_before: rfc3339(not_before),
                not_after: rfc3339(not_after),
            });
        }
        Ok(Self {
            leaf,
            leaf_der: leaf_der.to_vec(),
            delegate_der: delegate_der.to_vec(),
            algorithm,
        })
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.leaf
    }

    /// The leaf certificate's DER.
    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// The delegate certificate's DER.
    pub fn delegate_der(&self) -> &[u8] {
        &self.delegate_der
    }

    /// The leaf key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The leaf's public key.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.leaf.tbs_certificate().subject_public_key_info()
    }
}

fn parse(what: &'static str, der: &[u8]) -> Result<Certificate> {
    Certificate::from_der(der).map_err(|e| Error::Certificate {
        what,
        reason: format!("malformed: {e}"),
    })
}

/// The certificate's extendedKeyUsage must list the purpose's EKU.
fn check_purpose(what: &'static str, cert: &Certificate, purpose: &Purpose) -> Result<()> {
    let tbs = cert.tbs_certificate();
    let mut found = Vec::new();
    for extension in tbs.extensions().into_iter().flatten() {
        if extension.extn_id == EXTENDED_KEY_USAGE {
            found =
                decode_eku(extension.extn_value.as_bytes()).map_err(|e| Error::Certificate {
                    what,
                    reason: format!("malformed extendedKeyUsage: {e}"),
                })?;
        }
    }
    if found.contains(&purpose.eku) {
        return Ok(());
    }
    Err(Error::WrongPurpose {
        what,
        subject: tbs.subject().to_string(),
        purpose: purpose.name.clone(),
        eku: purpose.eku.to_string(),
        found: found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn describe_key(key: &SubjectPublicKeyInfoOwned) -> String {
    match key.fingerprint_bytes() {
        Ok(fingerprint) => {
            let hex: String = fingerprint.iter().map(|b| format!("{b:02x}")).collect();
            format!("with SPKI SHA-256 {hex}")
        }
        Err(_) => "given".into(),
    }
}

fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(seconds))
        .map_or_else(|_| format!("{seconds} s after 1970"), |t| t.to_string())
}
