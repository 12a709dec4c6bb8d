//! The signing seam: the CA builds TBS bytes, a [`Signer`] turns them into a signature.
//!
//! Implementations: [`pkcs11::Pkcs11Signer`] (a key in an HSM, reached through PKCS#11)
//! and [`memory::MemorySigner`] (the throwaway lint key, and tests).

pub mod memory;
pub mod pkcs11;

pub use memory::MemorySigner;
pub use pkcs11::{KeyAttributes, Pkcs11Signer};

use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::Result;

/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// id-Ed25519 (RFC 8410).
pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp384r1 (RFC 5480).
pub const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The key algorithms the Rust PKI allows anywhere (policy narrows this per profile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
pub enum KeyAlgorithm {
    /// ECDSA on secp384r1 with SHA-384.
    #[serde(rename = "P-384")]
    EcdsaP384,
    /// Ed25519 (pure EdDSA).
    #[serde(rename = "Ed25519")]
    Ed25519,
}

impl KeyAlgorithm {
    /// Recognise the algorithm of a SubjectPublicKeyInfo; `None` for anything we don't allow.
    pub fn of_spki(spki: &SubjectPublicKeyInfoOwned) -> Option<Self> {
        match spki.algorithm.oid {
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()?
                    .decode_as::<ObjectIdentifier>()
                    .ok()?;
                (curve == SECP384R1).then_some(Self::EcdsaP384)
            }
            ED25519 if spki.algorithm.parameters.is_none() => Some(Self::Ed25519),
            _ => None,
        }
    }

    /// The signatureAlgorithm this key signs certificates with.
    pub fn signature_algorithm(self) -> AlgorithmIdentifierOwned {
        // RFC 5758 §3.2 and RFC 8410 §3: parameters MUST be absent for both.
        let oid = match self {
            Self::EcdsaP384 => ECDSA_WITH_SHA384,
            Self::Ed25519 => ED25519,
        };
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    /// Human name, as used in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP384 => "P-384",
            Self::Ed25519 => "Ed25519",
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A private key that signs on the CA's behalf. The CA code sees only this trait.
pub trait Signer {
    /// The key's algorithm; fixes the signatureAlgorithm of everything it signs.
    fn algorithm(&self) -> KeyAlgorithm;

    /// The key's SubjectPublicKeyInfo.
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned;

    /// A short description for logs and errors (a PKCS#11 URI without its PIN source,
    /// or "in-memory P-384 key").
    fn describe(&self) -> String;

    /// Sign `message` and return the X.509 signature value: a DER `Ecdsa-Sig-Value` for
    /// P-384 (over SHA-384 of the message), the 64 raw bytes for Ed25519.
    ///
    /// # Errors
    /// The HSM or key refused to sign.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}
