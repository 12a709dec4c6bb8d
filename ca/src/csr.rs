//! PKCS#10 certification requests: checking an incoming CSR (its signature proves
//! possession of the key; only the key is used) and making one with any [`Signer`].

use std::path::Path;

use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::{
    name::Name,
    request::{CertReq, CertReqInfo, Version},
};

use crate::{
    Error, KeyAlgorithm, Result, Signer, issue::assemble, pem, signature::verify_any_digest,
};

/// A CSR whose self-signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedCsr {
    /// The requested subject (informational: delegate subjects come from policy).
    pub subject: Name,
    /// The key to certify.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
}

/// Read a CSR (PEM or DER) and verify its signature.
///
/// # Errors
/// Malformed input, an unsupported key, or a signature that does not verify; the error
/// names the file.
pub fn read_csr(path: &Path) -> Result<VerifiedCsr> {
    let der = pem::read_der(path, pem::label::CSR)?;
    parse_csr(&der).map_err(|reason| Error::Csr {
        path: path.to_owned(),
        reason,
    })
}

/// Parse and verify DER CSR bytes.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_csr(der: &[u8]) -> std::result::Result<VerifiedCsr, String> {
    let csr = CertReq::from_der(der).map_err(|e| format!("malformed CSR: {e}"))?;
    let algorithm = KeyAlgorithm::of_spki(&csr.info.public_key).ok_or_else(|| {
        format!(
            "unsupported key algorithm {} (P-384 or Ed25519 only)",
            csr.info.public_key.algorithm.oid
        )
    })?;
    let info = csr
        .info
        .to_der()
        .map_err(|e| format!("cannot re-encode CSR info: {e}"))?;
    let signature = csr
        .signature
        .as_bytes()
        .ok_or("CSR signature has unused bits")?;
    verify_any_digest(
        &csr.info.public_key,
        &csr.algorithm,
        &info,
        signature,
        "CSR",
    )
    .map_err(|e| {
        format!("CSR signature is invalid ({e}); the requester must prove possession of the key")
    })?;
    Ok(VerifiedCsr {
        subject: csr.info.subject,
        public_key: csr.info.public_key,
        algorithm,
    })
}

/// Make a CSR for `signer`'s key with the given subject.
///
/// # Errors
/// Signer failures.
pub fn build_csr(signer: &dyn Signer, subject: Name) -> Result<Vec<u8>> {
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key: signer.public_key().clone(),
        attributes: Default::default(),
    };
    let info_der = info.to_der().map_err(|e| Error::Certificate {
        what: "CSR".into(),
        reason: e.to_string(),
    })?;
    let signature = signer.sign(&info_der)?;
    assemble(
        &info_der,
        &signer.algorithm().signature_algorithm(),
        &signature,
    )
}
