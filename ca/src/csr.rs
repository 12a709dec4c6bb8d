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
    Error, KeyAlgorithm, Result, Signer,
    issue::assemble,
    pem,
    signature::{rsa_public_key, verify_any_digest, verify_rsa_sha256},
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

/// An AWS CloudHSM cluster CSR whose self-signature verified: an RSA key generated in
/// the cluster's HSMs (`cluster-init`).
#[derive(Debug, Clone)]
pub struct ClusterCsr {
    /// The cluster's identity; the cluster certificate carries it (see
    /// [`crate::profile::ClusterProfile`]).
    pub subject: Name,
    /// The RSA key to certify.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// Its modulus size.
    pub rsa_bits: u32,
}

/// Read a CloudHSM cluster CSR (PEM or DER): an RSA key of at least `min_rsa_bits` (the
/// policy's `cluster.min_rsa_bits`) that signed the request with sha256WithRSAEncryption.
///
/// # Errors
/// Malformed input, a key that is not RSA or is too small, another signature algorithm,
/// or a signature that does not verify; the error names the file and the lint rule.
pub fn read_cluster_csr(path: &Path, min_rsa_bits: u32) -> Result<ClusterCsr> {
    let der = pem::read_der(path, pem::label::CSR)?;
    parse_cluster_csr(&der, min_rsa_bits).map_err(|reason| Error::Csr {
        path: path.to_owned(),
        reason,
    })
}

/// Parse and verify DER cluster CSR bytes; see [`read_cluster_csr`].
///
/// # Errors
/// A message saying what is wrong, with the lint rule it breaks.
pub fn parse_cluster_csr(der: &[u8], min_rsa_bits: u32) -> std::result::Result<ClusterCsr, String> {
    use crate::lint::rule;
    let csr = CertReq::from_der(der).map_err(|e| format!("malformed CSR: {e}"))?;
    let (_, rsa_bits) = rsa_public_key(&csr.info.public_key).map_err(|e| {
        format!(
            "{}: the CloudHSM cluster key must be RSA: {e}",
            rule::CLUSTER_KEY_RSA
        )
    })?;
    if rsa_bits < min_rsa_bits {
        return Err(format!(
            "{}: the cluster key is RSA {rsa_bits}; policy cluster.min_rsa_bits asks for at \
             least {min_rsa_bits}",
            rule::CLUSTER_RSA_BITS
        ));
    }
    let info = csr
        .info
        .to_der()
        .map_err(|e| format!("cannot re-encode CSR info: {e}"))?;
    let signature = csr
        .signature
        .as_bytes()
        .ok_or("CSR signature has unused bits")?;
    verify_rsa_sha256(
        &csr.info.public_key,
        &csr.algorithm,
        &info,
        signature,
        "cluster CSR",
    )
    .map_err(|e| {
        format!(
            "{}: CSR signature is invalid ({e}); the cluster must prove possession of the key",
            rule::CLUSTER_CSR_SIGNATURE
        )
    })?;
    Ok(ClusterCsr {
        subject: csr.info.subject,
        public_key: csr.info.public_key,
        rsa_bits,
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
    let info_der = info.to_der().map_err(|source| Error::Der {
        what: "CSR".into(),
        source,
    })?;
    let signature = signer.sign(&info_der)?;
    assemble(
        &info_der,
        &signer.algorithm().signature_algorithm(),
        &signature,
    )
}
