//! `init-cluster upload` checks, before InitializeCluster: the signed cluster certificate
//! certifies the key of the cluster's CSR and is signed by the trust anchor.

use der::{DecodePem, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::request::CertReq;

use crate::{Error, Result};

const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// Checks `signed_cert_pem` against the cluster CSR and `trust_anchor_pem`:
/// the certificate's public key is the CSR's, its issuer is the anchor's subject, and the
/// anchor's key verifies its signature.
///
/// # Errors
/// [`Error::Certificate`] saying which check failed.
pub fn check_cluster_certificate(
    csr_pem: &str,
    signed_cert_pem: &str,
    trust_anchor_pem: &str,
) -> Result<()> {
    let bad = |m: String| Error::Certificate(m);
    let csr = CertReq::from_pem(csr_pem.trim())
        .map_err(|e| bad(format!("the cluster CSR does not parse: {e}")))?;
    let cert = Certificate::from_pem(signed_cert_pem.trim())
        .map_err(|e| bad(format!("--cluster-cert is not a PEM certificate: {e}")))?;
    let anchor = Certificate::from_pem(trust_anchor_pem.trim())
        .map_err(|e| bad(format!("--trust-anchor is not a PEM certificate: {e}")))?;

    let tbs = cert.tbs_certificate();
    if tbs.subject_public_key_info() != &csr.info.public_key {
        return Err(bad(
            "--cluster-cert certifies another key than the cluster's CSR (public keys differ): \
             was it made from this cluster's current CSR?"
                .to_owned(),
        ));
    }
    if tbs.issuer() != anchor.tbs_certificate().subject() {
        return Err(bad(format!(
            "--cluster-cert was issued by {} but --trust-anchor is {}",
            tbs.issuer(),
            anchor.tbs_certificate().subject()
        )));
    }
    let tbs_der = tbs
        .to_der()
        .map_err(|e| bad(format!("--cluster-cert: {e}")))?;
    let signature = cert
        .signature()
        .as_bytes()
        .ok_or_else(|| bad("--cluster-cert: signature is not whole bytes".to_owned()))?;
    verify(
        anchor.tbs_certificate().subject_public_key_info(),
        &cert.signature_algorithm().oid.to_string(),
        &tbs_der,
        signature,
    )
    .map_err(|m| {
        bad(format!(
            "--cluster-cert does not chain to --trust-anchor: {m}"
        ))
    })
}

pub(crate) fn verify(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &str,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<(), String> {
    use ring::signature as sig;
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .map(|oid| oid.to_string());
    let alg: &dyn sig::VerificationAlgorithm = match (algorithm, curve.as_deref()) {
        (ECDSA_SHA384, Some(P384)) => &sig::ECDSA_P384_SHA384_ASN1,
        (ECDSA_SHA256, Some(P256)) => &sig::ECDSA_P256_SHA256_ASN1,
        (ECDSA_SHA384, Some(P256)) => &sig::ECDSA_P256_SHA384_ASN1,
        (ECDSA_SHA256, Some(P384)) => &sig::ECDSA_P384_SHA256_ASN1,
        (RSA_SHA256, _) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (RSA_SHA384, _) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (other, _) => return Err(format!("unsupported signature algorithm {other}")),
    };
    let key_bytes = key.subject_public_key.raw_bytes();
    sig::UnparsedPublicKey::new(alg, key_bytes)
        .verify(message, signature)
        .map_err(|_| "the trust anchor's key does not verify the signature".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, IsCa, Issuer, KeyPair, PKCS_ECDSA_P384_SHA384};

    struct Fixture {
        csr: String,
        cert: String,
        anchor: String,
        other_anchor: String,
        other_key_cert: String,
    }

    fn fixture() -> Fixture {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        root_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root = root_params.clone().self_signed(&root_key).unwrap();
        let issuer = Issuer::new(root_params.clone(), &root_key);

        let other_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let other_root = root_params.clone().self_signed(&other_key).unwrap();

        let hsm_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .or_else(|_| KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384))
            .unwrap();
        let csr = CertificateParams::new(vec!["cluster".to_owned()])
            .unwrap()
            .serialize_request(&hsm_key)
            .unwrap();
        let cert = CertificateParams::new(vec!["cluster".to_owned()])
            .unwrap()
            .signed_by(&hsm_key, &issuer)
            .unwrap();
        let stranger = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let other_key_cert = CertificateParams::new(vec!["cluster".to_owned()])
            .unwrap()
            .signed_by(&stranger, &issuer)
            .unwrap();
        Fixture {
            csr: csr.pem().unwrap(),
            cert: cert.pem(),
            anchor: root.pem(),
            other_anchor: other_root.pem(),
            other_key_cert: other_key_cert.pem(),
        }
    }

    #[test]
    fn accepts_certificate_of_the_csr_key_signed_by_the_anchor() {
        let f = fixture();
        check_cluster_certificate(&f.csr, &f.cert, &f.anchor).unwrap();
    }

    #[test]
    fn rejects_certificate_of_another_key() {
        let f = fixture();
        let err = check_cluster_certificate(&f.csr, &f.other_key_cert, &f.anchor).unwrap_err();
        assert!(err.to_string().contains("public keys differ"), "{err}");
    }

    #[test]
    fn rejects_certificate_not_signed_by_the_anchor() {
        let f = fixture();
        // Same subject name, other key: only the signature check can tell.
        let err = check_cluster_certificate(&f.csr, &f.cert, &f.other_anchor).unwrap_err();
        assert!(err.to_string().contains("does not chain"), "{err}");
    }
}
