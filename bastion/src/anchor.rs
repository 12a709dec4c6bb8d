//! The one-time trust anchor of `init-cluster sign`: what InitializeCluster needs before
//! the root can exist.
//!
//! InitializeCluster takes the cluster certificate and its issuer, which "must [be] a
//! self-signed certificate. The certificate used to sign the HSM CSR must be directly
//! available, and thus must be the root certificate" (API reference, InitializeCluster,
//! https://docs.aws.amazon.com/cloudhsm/latest/APIReference/API_InitializeCluster.html).
//! The Rust root cannot be that issuer at first: on CloudHSM the root key is generated in
//! a cluster that is already initialised and activated. So [`sign_cluster_csr`] makes a
//! P-384 key in memory for this one use, self-signs the anchor, signs the cluster's CSR
//! (after checking the CSR's own signature), and drops the key: it is never written, and
//! its memory is zeroed on drop (`p384::ecdsa::SigningKey` is `ZeroizeOnDrop`). What stays
//! is public: the two certificates, logged by their SHA-256, and the anchor pinned as the
//! CloudHSM client's `customerCA.crt` on the bastion.
//!
//! Validity: the key is gone once the certificates exist, so a long validity lets nobody
//! sign anything more; a short one would risk the clients refusing the cluster when it
//! lapses. Both certificates get [`VALIDITY_DAYS`], the 10 years of AWS's own example
//! (`openssl x509 -req -days 3652`, User Guide, "Initialize the cluster",
//! https://docs.aws.amazon.com/cloudhsm/latest/userguide/initialize-cluster.html).

use der::asn1::ObjectIdentifier;
use der::{DecodePem, Encode};
use p384::ecdsa::signature::Signer as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer,
    KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};
use x509_cert::request::CertReq;

use crate::{Error, Result};

/// Validity of the anchor and of the cluster certificate, in days.
pub const VALIDITY_DAYS: i64 = 3652;

/// The anchor's subject common name, before the cluster id.
pub const SUBJECT_PREFIX: &str = "rust-pki one-time cluster trust anchor";

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";

/// What [`sign_cluster_csr`] made: both certificates (PEM) and their SHA-256 (hex, of
/// the DER), for the bastion-event entry.
#[derive(Debug, Clone)]
pub struct ClusterCertificates {
    /// The self-signed one-time anchor: InitializeCluster's TrustAnchor and the client's
    /// customerCA.crt.
    pub trust_anchor_pem: String,
    /// The cluster certificate: InitializeCluster's SignedCert.
    pub cluster_cert_pem: String,
    /// SHA-256 of the anchor's DER, hex.
    pub trust_anchor_sha256: String,
    /// SHA-256 of the cluster certificate's DER, hex.
    pub cluster_cert_sha256: String,
}

/// The one-time key. Never serialised; zeroed when dropped.
struct OneTimeKey {
    key: p384::ecdsa::SigningKey,
    point: Vec<u8>,
}

impl PublicKeyData for OneTimeKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P384_SHA384
    }
}

impl rcgen::SigningKey for OneTimeKey {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        let signature: p384::ecdsa::Signature = self.key.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

/// The cluster's public key as its CSR gives it.
struct ClusterKey {
    bits: Vec<u8>,
    algorithm: &'static SignatureAlgorithm,
}

impl PublicKeyData for ClusterKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
}

/// Checks `csr_pem` (its self-signature included), makes the one-time anchor and the
/// cluster certificate for `cluster_id` valid from `now`, drops the key, and checks the
/// result as `init-cluster upload` will. Nothing is written.
///
/// # Errors
/// [`Error::Certificate`] for a bad cluster id, a CSR that does not parse or whose
/// signature does not verify, a key type CloudHSM does not make, or a failure to sign.
pub fn sign_cluster_csr(
    csr_pem: &str,
    cluster_id: &str,
    now: OffsetDateTime,
) -> Result<ClusterCertificates> {
    let bad = |m: String| Error::Certificate(m);
    if !is_cluster_id(cluster_id) {
        return Err(bad(format!(
            "{cluster_id:?} is not a cluster id (cluster-[2-7a-zA-Z]{{11,16}})"
        )));
    }
    let csr = CertReq::from_pem(csr_pem.trim())
        .map_err(|e| bad(format!("the cluster CSR does not parse: {e}")))?;
    let info = csr
        .info
        .to_der()
        .map_err(|e| bad(format!("the cluster CSR: {e}")))?;
    let signature = csr
        .signature
        .as_bytes()
        .ok_or_else(|| bad("the cluster CSR: signature is not whole bytes".to_owned()))?;
    crate::cert::verify(
        &csr.info.public_key,
        &csr.algorithm.oid.to_string(),
        &info,
        signature,
    )
    .map_err(|m| {
        bad(format!(
            "the cluster CSR's own signature does not verify: {m}"
        ))
    })?;
    let cluster_key = cluster_key(&csr)?;
    let subject = subject(&csr)?;

    let key = one_time_key()?;
    let sign_err = |e: rcgen::Error| bad(format!("signing with the one-time key: {e}"));
    let mut anchor = CertificateParams::default();
    anchor
        .distinguished_name
        .push(DnType::CommonName, format!("{SUBJECT_PREFIX} {cluster_id}"));
    anchor.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    anchor.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut anchor, now)?;
    let anchor_cert = anchor.self_signed(&key).map_err(sign_err)?;

    let mut cluster = CertificateParams::default();
    cluster.distinguished_name = subject;
    // RFC 5280 4.2.1.1 (and `openssl verify -x509_strict`) want the issuer's key id.
    cluster.use_authority_key_identifier_extension = true;
    set_validity(&mut cluster, now)?;
    let issuer = Issuer::new(anchor, &key);
    let cluster_cert = cluster.signed_by(&cluster_key, &issuer).map_err(sign_err)?;
    drop(issuer);
    drop(key);

    let out = ClusterCertificates {
        trust_anchor_pem: anchor_cert.pem(),
        cluster_cert_pem: cluster_cert.pem(),
        trust_anchor_sha256: sha256_hex(anchor_cert.der()),
        cluster_cert_sha256: sha256_hex(cluster_cert.der()),
    };
    // The same check `upload` makes before InitializeCluster.
    crate::cert::check_cluster_certificate(csr_pem, &out.cluster_cert_pem, &out.trust_anchor_pem)?;
    Ok(out)
}

/// `cluster-` and 11 to 16 of `[2-7a-zA-Z]` (the API's ClusterId pattern).
fn is_cluster_id(id: &str) -> bool {
    id.strip_prefix("cluster-").is_some_and(|rest| {
        (11..=16).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b))
    })
}

fn one_time_key() -> Result<OneTimeKey> {
    let mut seed = zeroize::Zeroizing::new([0u8; 48]);
    getrandom::fill(seed.as_mut_slice())
        .map_err(|e| Error::Certificate(format!("the OS random source failed: {e}")))?;
    // from_slice refuses a seed outside the scalar range (probability ~2^-190).
    let key = p384::ecdsa::SigningKey::from_slice(seed.as_slice())
        .map_err(|e| Error::Certificate(format!("the one-time key: {e}")))?;
    let point = key.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    Ok(OneTimeKey { key, point })
}

fn cluster_key(csr: &CertReq) -> Result<ClusterKey> {
    let spki = &csr.info.public_key;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .map(|oid| oid.to_string());
    let algorithm = match (spki.algorithm.oid.to_string().as_str(), curve.as_deref()) {
        (RSA_ENCRYPTION, _) => &rcgen::PKCS_RSA_SHA256,
        (EC_PUBLIC_KEY, Some(P256)) => &rcgen::PKCS_ECDSA_P256_SHA256,
        (EC_PUBLIC_KEY, Some(P384)) => &rcgen::PKCS_ECDSA_P384_SHA384,
        (other, _) => {
            return Err(Error::Certificate(format!(
                "the cluster CSR's key algorithm {other} is not one CloudHSM makes"
            )));
        }
    };
    Ok(ClusterKey {
        bits: spki.subject_public_key.raw_bytes().to_vec(),
        algorithm,
    })
}

/// The CSR's subject, attribute by attribute (as `openssl x509 -req` copies it).
fn subject(csr: &CertReq) -> Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    for rdn in csr.info.subject.iter_rdn() {
        for atv in rdn.iter() {
            let arcs: Vec<u64> = atv.oid.arcs().map(u64::from).collect();
            let text = |e: &dyn std::fmt::Display| {
                Error::Certificate(format!(
                    "the cluster CSR's subject attribute {}: {e}",
                    atv.oid
                ))
            };
            let value = match der::Tagged::tag(&atv.value) {
                der::Tag::PrintableString => DnValue::PrintableString(
                    atv.value
                        .decode_as::<der::asn1::PrintableStringRef<'_>>()
                        .map_err(|e| text(&e))?
                        .as_str()
                        .try_into()
                        .map_err(|e: rcgen::Error| text(&e))?,
                ),
                _ => DnValue::Utf8String(
                    atv.value
                        .decode_as::<der::asn1::Utf8StringRef<'_>>()
                        .map_err(|e| text(&e))?
                        .as_str()
                        .to_owned(),
                ),
            };
            dn.push(DnType::from_oid(&arcs), value);
        }
    }
    Ok(dn)
}

fn set_validity(params: &mut CertificateParams, now: OffsetDateTime) -> Result<()> {
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial)
        .map_err(|e| Error::Certificate(format!("the OS random source failed: {e}")))?;
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let now = now.replace_nanosecond(0).unwrap_or(now);
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(VALIDITY_DAYS);
    Ok(())
}

fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{KeyPair, PKCS_ECDSA_P384_SHA384};

    const CLUSTER: &str = "cluster-2tkysmfzvw5";

    fn fixture_csr() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/cloudhsm/initialize-cluster/cluster-csr.pem"),
        )
        .unwrap()
    }

    #[test]
    fn signs_the_cluster_csr_with_a_self_signed_one_time_anchor() {
        let csr = fixture_csr();
        let out = sign_cluster_csr(&csr, CLUSTER, OffsetDateTime::now_utc()).unwrap();
        crate::cert::check_cluster_certificate(&csr, &out.cluster_cert_pem, &out.trust_anchor_pem)
            .unwrap();
        let anchor = x509_cert::Certificate::from_pem(out.trust_anchor_pem.as_bytes()).unwrap();
        let tbs = anchor.tbs_certificate();
        assert_eq!(tbs.issuer(), tbs.subject(), "self-signed");
        assert_eq!(
            tbs.subject().to_string(),
            format!("CN={SUBJECT_PREFIX} {CLUSTER}")
        );
        let cert = x509_cert::Certificate::from_pem(out.cluster_cert_pem.as_bytes()).unwrap();
        let req = CertReq::from_pem(csr.trim()).unwrap();
        assert_eq!(cert.tbs_certificate().subject(), &req.info.subject);
        assert_eq!(out.trust_anchor_sha256.len(), 64);
        // Two runs, two keys.
        let again = sign_cluster_csr(&csr, CLUSTER, OffsetDateTime::now_utc()).unwrap();
        assert_ne!(again.trust_anchor_sha256, out.trust_anchor_sha256);
    }

    #[test]
    fn rejects_a_csr_whose_signature_does_not_verify() {
        // The key of one CSR with the signature of another.
        let a = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let b = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let params = CertificateParams::new(vec!["cluster".to_owned()]).unwrap();
        let csr_a = CertReq::from_pem(
            params
                .serialize_request(&a)
                .unwrap()
                .pem()
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        let mut forged = CertReq::from_pem(
            params
                .serialize_request(&b)
                .unwrap()
                .pem()
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        forged.info.public_key = csr_a.info.public_key;
        let pem = der::EncodePem::to_pem(&forged, der::pem::LineEnding::LF).unwrap();
        let err = sign_cluster_csr(&pem, CLUSTER, OffsetDateTime::now_utc()).unwrap_err();
        assert!(
            err.to_string().contains("own signature does not verify"),
            "{err}"
        );
    }

    #[test]
    fn rejects_a_bad_cluster_id() {
        let err =
            sign_cluster_csr(&fixture_csr(), "cluster-1", OffsetDateTime::now_utc()).unwrap_err();
        assert!(err.to_string().contains("is not a cluster id"), "{err}");
    }
}
