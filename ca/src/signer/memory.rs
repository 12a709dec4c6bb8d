//! An in-memory signing key: the throwaway key that signs TBS bytes for linting before
//! an HSM is asked, and the issuer in unit tests. Never used for a real certificate.

use der::{Decode, Encode};
use p384::ecdsa::signature::Signer as _;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};

use super::{KeyAlgorithm, Signer};
use crate::{Error, Result};

/// A freshly generated key that lives only in this process.
pub struct MemorySigner {
    key: MemoryKey,
    spki: SubjectPublicKeyInfoOwned,
}

enum MemoryKey {
    EcdsaP384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for MemorySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("MemorySigner")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl MemorySigner {
    /// Generate a new key from the operating system's CSPRNG.
    ///
    /// # Errors
    /// The OS random source failed, or the public key could not be encoded.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        let mut seed = zeroize::Zeroizing::new([0u8; 48]);
        getrandom::fill(seed.as_mut_slice()).map_err(|source| Error::Random { source })?;
        let key = match algorithm {
            // 384 random bits reduced mod n would bias; from_slice rejects out-of-range
            // scalars instead, which happens with probability ~2^-190.
            KeyAlgorithm::EcdsaP384 => MemoryKey::EcdsaP384(
                p384::ecdsa::SigningKey::from_slice(seed.as_slice()).map_err(|source| {
                    Error::SigningKey {
                        key: MEMORY_KEY.into(),
                        source,
                    }
                })?,
            ),
            KeyAlgorithm::Ed25519 => {
                let mut secret = zeroize::Zeroizing::new([0u8; 32]);
                secret.copy_from_slice(&seed[..32]);
                MemoryKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&secret))
            }
        };
        let spki_der = match &key {
            MemoryKey::EcdsaP384(k) => k.verifying_key().to_public_key_der(),
            MemoryKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|source| Error::Spki {
            what: MEMORY_KEY.into(),
            source,
        })?;
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(der_error)?;
        Ok(Self { key, spki })
    }
}

/// What errors call an in-memory key.
const MEMORY_KEY: &str = "in-memory key";

fn der_error(source: der::Error) -> Error {
    Error::Der {
        what: MEMORY_KEY.into(),
        source,
    }
}

impl Signer for MemorySigner {
    fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            MemoryKey::EcdsaP384(_) => KeyAlgorithm::EcdsaP384,
            MemoryKey::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn describe(&self) -> String {
        format!("in-memory {} key", self.algorithm())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.key {
            MemoryKey::EcdsaP384(k) => {
                let signature: p384::ecdsa::Signature = k.sign(message);
                signature.to_der().to_der().map_err(der_error)
            }
            MemoryKey::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
        }
    }
}
