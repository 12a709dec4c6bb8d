//! The check after the token signed: the signature must verify with the leaf
//! certificate's public key (with ring, independently of the token and of the RustCrypto
//! code that checks certificates), or nothing is written: a faulty HSM never publishes a
//! bad signature.

use ring::signature::{ECDSA_P384_SHA384_ASN1, ED25519, UnparsedPublicKey};
use rust_pki_ca::KeyAlgorithm;
use spki::SubjectPublicKeyInfoOwned;

/// Whether `signature` (a DER `Ecdsa-Sig-Value` over SHA-384 of `message` for P-384, the
/// 64 bytes of pure Ed25519 over `message`) verifies with `leaf_key`.
pub fn signature_verifies(
    leaf_key: &SubjectPublicKeyInfoOwned,
    algorithm: KeyAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(point) = leaf_key.subject_public_key.as_bytes() else {
        return false;
    };
    let verification: &dyn ring::signature::VerificationAlgorithm = match algorithm {
        KeyAlgorithm::EcdsaP384 => &ECDSA_P384_SHA384_ASN1,
        KeyAlgorithm::Ed25519 => &ED25519,
    };
    UnparsedPublicKey::new(verification, point)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use rust_pki_ca::signer::{MemorySigner, Signer};

    use super::*;

    #[test]
    fn accepts_the_keys_signature_and_rejects_a_changed_one() {
        for algorithm in [KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
            let signer = MemorySigner::generate(algorithm).unwrap();
            let other = MemorySigner::generate(algorithm).unwrap();
            let mut signature = signer.sign(b"attributes").unwrap();
            let key = signer.public_key();
            assert!(signature_verifies(
                key,
                algorithm,
                b"attributes",
                &signature
            ));
            assert!(!signature_verifies(
                key,
                algorithm,
                b"attributez",
                &signature
            ));
            assert!(!signature_verifies(
                other.public_key(),
                algorithm,
                b"attributes",
                &signature
            ));
            let last = signature.len() - 1;
            signature[last] ^= 1;
            assert!(!signature_verifies(
                key,
                algorithm,
                b"attributes",
                &signature
            ));
        }
    }
}
