//! Checking a signature against a public key: after every HSM signature, and on CSRs.

use der::Decode;
use p384::ecdsa::signature::Verifier as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::{Error, KeyAlgorithm, Result};

/// Verify `signature` (X.509 encoding: DER Ecdsa-Sig-Value, or 64 Ed25519 bytes) over
/// `message` with the key in `spki`, for the given signatureAlgorithm.
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
    let bad = |reason: &str| Error::BadSignature {
        what: what.to_owned(),
        reason: reason.to_owned(),
    };
    let key_algorithm =
        KeyAlgorithm::of_spki(spki).ok_or_else(|| bad("unsupported public key algorithm"))?;
    if &key_algorithm.signature_algorithm() != algorithm {
        return Err(bad(&format!(
            "signature algorithm {} does not match the {key_algorithm} key",
            algorithm.oid
        )));
    }
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad("public key has unused bits"))?;
    match key_algorithm {
        KeyAlgorithm::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| bad("invalid P-384 public key"))?;
            let sig = p384::ecdsa::Signature::from_der(signature)
                .map_err(|_| bad("malformed ECDSA signature"))?;
            key.verify(message, &sig)
                .map_err(|_| bad("signature does not verify"))
        }
        KeyAlgorithm::Ed25519 => {
            let bytes: [u8; 32] = point
                .try_into()
                .map_err(|_| bad("invalid Ed25519 public key"))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| bad("invalid Ed25519 public key"))?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| bad("malformed Ed25519 signature"))?;
            key.verify_strict(message, &sig)
                .map_err(|_| bad("signature does not verify"))
        }
    }
}

/// Parse a DER SubjectPublicKeyInfo.
///
/// # Errors
/// Malformed DER.
pub fn spki_from_der(der: &[u8]) -> Result<SubjectPublicKeyInfoOwned> {
    SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| Error::Certificate {
        what: "public key".into(),
        reason: e.to_string(),
    })
}
