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
