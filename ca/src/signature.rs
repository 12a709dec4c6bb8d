//! Checking a signature against a public key: after every HSM signature, and on CSRs.

use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::Digest as _;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::{Error, KeyAlgorithm, Result, signer};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Verify a signature we made: `algorithm` must be exactly the one our profiles use for
/// the key (ecdsa-with-SHA384 for P-384, Ed25519).
///
/// # Errors
/// [`Error::BadSignature`] naming `what` when the algorithm does not match the key or the
/// signature does not verify.
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<()> {
    let key_algorithm =
        KeyAlgorithm::of_spki(spki).ok_or_else(|| bad(what, "unsupported public key algorithm"))?;
    if &key_algorithm.signature_algorithm() != algorithm {
        let reason = format!(
            "signature algorithm {} does not match the {key_algorithm} key",
            algorithm.oid
        );
        return Err(bad(what, &reason));
    }
    verify_any_digest(spki, algorithm, message, signature, what)
}

/// Like [`verify_signature`], but a P-384 key may have signed with SHA-256, -384 or -512,
/// as CSR tools do (OpenSSL defaults to SHA-256). For proofs of possession only: what we
/// sign ourselves is always ecdsa-with-SHA384.
///
/// # Errors
/// As [`verify_signature`].
pub fn verify_any_digest(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<()> {
    let key_algorithm =
        KeyAlgorithm::of_spki(spki).ok_or_else(|| bad(what, "unsupported public key algorithm"))?;
    if algorithm.parameters.is_some() {
        return Err(bad(what, "signature algorithm parameters must be absent"));
    }
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad(what, "public key has unused bits"))?;
    match key_algorithm {
        KeyAlgorithm::EcdsaP384 => {
            let digest = match algorithm.oid {
                signer::ECDSA_WITH_SHA384 => sha2::Sha384::digest(message).to_vec(),
                ECDSA_WITH_SHA256 => sha2::Sha256::digest(message).to_vec(),
                ECDSA_WITH_SHA512 => sha2::Sha512::digest(message).to_vec(),
                other => {
                    return Err(bad(
                        what,
                        &format!("signature algorithm {other} does not fit a P-384 key"),
                    ));
                }
            };
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| bad(what, "invalid P-384 public key"))?;
            let sig = p384::ecdsa::Signature::from_der(signature)
                .map_err(|_| bad(what, "malformed ECDSA signature"))?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| bad(what, "signature does not verify"))
        }
        KeyAlgorithm::Ed25519 => {
            if algorithm.oid != signer::ED25519 {
                return Err(bad(
                    what,
                    &format!(
                        "signature algorithm {} does not fit an Ed25519 key",
                        algorithm.oid
                    ),
                ));
            }
            let bytes: [u8; 32] = point
                .try_into()
                .map_err(|_| bad(what, "invalid Ed25519 public key"))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| bad(what, "invalid Ed25519 public key"))?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| bad(what, "malformed Ed25519 signature"))?;
            key.verify_strict(message, &sig)
                .map_err(|_| bad(what, "signature does not verify"))
        }
    }
}

fn bad(what: &str, reason: &str) -> Error {
    Error::BadSignature {
        what: what.to_owned(),
        reason: reason.to_owned(),
    }
}

/// rsaEncryption (RFC 8017 A.1): the SubjectPublicKeyInfo algorithm of an RSA key.
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// sha256WithRSAEncryption (RFC 8017 A.2.4): PKCS#1 v1.5 over SHA-256.
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// DigestInfo prefix of a SHA-256 hash (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The RSA key of a SubjectPublicKeyInfo and its modulus size in bits. Only for the AWS
/// CloudHSM cluster key (`cluster-init`): our own keys are P-384 or Ed25519.
///
/// # Errors
/// A message saying what is wrong: not rsaEncryption, parameters other than NULL (RFC
/// 3279 §2.3.1), a malformed RSAPublicKey, or a modulus above 4096 bits.
pub fn rsa_public_key(
    spki: &SubjectPublicKeyInfoOwned,
) -> std::result::Result<(rsa::RsaPublicKey, u32), String> {
    use rsa::{pkcs1::DecodeRsaPublicKey as _, traits::PublicKeyParts as _};
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(format!(
            "key algorithm {} is not rsaEncryption ({RSA_ENCRYPTION})",
            spki.algorithm.oid
        ));
    }
    if !is_null(spki.algorithm.parameters.as_ref()) {
        return Err("rsaEncryption parameters must be NULL (RFC 3279 §2.3.1)".into());
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or("public key has unused bits")?;
    let key = rsa::RsaPublicKey::from_pkcs1_der(bits)
        .map_err(|e| format!("malformed or unusable RSA public key: {e}"))?;
    let size = u32::try_from(key.n().bits()).map_err(|_| "RSA modulus is absurdly large")?;
    Ok((key, size))
}

/// Verify a sha256WithRSAEncryption (PKCS#1 v1.5) signature, as on a CloudHSM cluster CSR.
///
/// # Errors
/// [`Error::BadSignature`] naming `what`: another algorithm, parameters other than NULL or
/// absent, an unusable key, or a signature that does not verify.
pub fn verify_rsa_sha256(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<()> {
    if algorithm.oid != SHA256_WITH_RSA {
        return Err(bad(
            what,
            &format!(
                "signature algorithm {} is not sha256WithRSAEncryption ({SHA256_WITH_RSA})",
                algorithm.oid
            ),
        ));
    }
    // RFC 4055 §5 asks for NULL; some encoders omit it. Either way no real parameters.
    if algorithm.parameters.is_some() && !is_null(algorithm.parameters.as_ref()) {
        return Err(bad(what, "sha256WithRSAEncryption parameters must be NULL"));
    }
    let (key, _) = rsa_public_key(spki).map_err(|reason| bad(what, &reason))?;
    let scheme = rsa::Pkcs1v15Sign {
        hash_len: Some(32),
        prefix: Box::new(SHA256_DIGEST_INFO),
    };
    key.verify(scheme, &sha2::Sha256::digest(message), signature)
        .map_err(|_| bad(what, "signature does not verify"))
}

fn is_null(parameters: Option<&der::Any>) -> bool {
    use der::Tagged as _;
    parameters.is_some_and(|p| p.tag() == der::Tag::Null && p.value().is_empty())
}
