//! A key pair in a PKCS#11 token, named by a [`Pkcs11Uri`]: generated in the token (never
//! extractable), opened, and used to sign: secp384r1 with CKM_ECDSA over SHA-384 (the root
//! and most delegates), or Ed25519 with CKM_EDDSA (delegates and leaves the policy allows).

use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use der::asn1::{Any, BitString, OctetString};
use der::{Decode, Encode, EncodePem};
use p384::ecdsa::VerifyingKey;
use sha2::{Digest, Sha384};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use super::{EC_PUBLIC_KEY, ED25519, KeyAlgorithm, SECP384R1, Signer};
use crate::hsm::{Token, ck};
use crate::pkcs11_uri::Pkcs11Uri;
use crate::{Error, Result};
use secrecy::SecretString;

/// A private key held by a PKCS#11 token, with its public key read from the token.
#[derive(Debug)]
pub struct Pkcs11Signer {
    algorithm: KeyAlgorithm,
    token: Token,
    key: ObjectHandle,
    id: Vec<u8>,
    /// The URI without its pin-source.
    uri: Pkcs11Uri,
    spki: SubjectPublicKeyInfoOwned,
}

/// Security-relevant attributes of the private key, as the token reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyAttributes {
    /// CKA_SENSITIVE: the key value cannot be revealed in plaintext.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key can be wrapped out of the token.
    pub extractable: bool,
    /// CKA_NEVER_EXTRACTABLE: the key has never been extractable.
    pub never_extractable: bool,
    /// CKA_ALWAYS_SENSITIVE: the key has always been sensitive.
    pub always_sensitive: bool,
    /// CKA_LOCAL: the key was generated in the token (not imported).
    pub local: bool,
    /// CKA_TOKEN: the key persists in the token (not a session object).
    pub token: bool,
    /// CKA_PRIVATE: the key is visible only after login.
    pub private: bool,
}

/// CKA_ID length when the URI does not give one.
const GENERATED_ID_LEN: usize = 16;

impl Pkcs11Signer {
    /// Open the existing key named by `uri`: the private key with the URI's label (and id,
    /// if given) and the public key with the same label and id.
    ///
    /// # Errors
    /// Everything [`Token::open`] returns; [`Error::Pkcs11UriMissingAttribute`] if the URI
    /// has no pin-source; [`Error::KeyNotFound`] / [`Error::KeyAmbiguous`] if the private or
    /// public key is missing or not unique; [`Error::UnsupportedKey`] if it is not a
    /// secp384r1 EC key.
    pub fn open(uri: &Pkcs11Uri) -> Result<Self> {
        Self::open_in(open_token(uri)?, uri)
    }

    /// Like [`Pkcs11Signer::open`], logging in with a PIN already in memory instead of
    /// the URI's pin-source (which is ignored).
    ///
    /// # Errors
    /// As [`Pkcs11Signer::open`].
    pub fn open_with_pin(uri: &Pkcs11Uri, pin: &SecretString) -> Result<Self> {
        Self::open_in(
            Token::open_with_pin(&uri.module_path, &uri.token, pin)?,
            uri,
        )
    }

    /// Like [`Pkcs11Signer::generate`], logging in with a PIN already in memory.
    ///
    /// # Errors
    /// As [`Pkcs11Signer::generate`].
    pub fn generate_with_pin(
        uri: &Pkcs11Uri,
        algorithm: KeyAlgorithm,
        pin: &SecretString,
    ) -> Result<Self> {
        Self::generate_in(
            Token::open_with_pin(&uri.module_path, &uri.token, pin)?,
            uri,
            algorithm,
        )
    }

    fn open_in(token: Token, uri: &Pkcs11Uri) -> Result<Self> {
        let key = find_one(&token, uri, uri.id.as_deref(), ObjectClass::PRIVATE_KEY)?;
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => read_id(&token, uri, key)?,
        };
        let public = find_one(&token, uri, Some(&id), ObjectClass::PUBLIC_KEY)?;
        Self::from_handles(token, uri, key, public, id)
    }

    /// Generate a new key pair (secp384r1 or Ed25519) in the token, labelled with the URI's
    /// `object` and with its `id` (or 16 random bytes). The private key is sensitive and
    /// never extractable.
    ///
    /// The label check and the generation are two PKCS#11 calls, not one atomic step:
    /// another process writing to the token in between could still add a same-named object.
    ///
    /// # Errors
    /// Everything [`Token::open`] returns; [`Error::KeyLabelExists`] if any object in the
    /// token already has this label (nothing is generated then); [`Error::KeyIdExists`]
    /// if the URI's id is already used; [`Error::Pkcs11`] naming C_GenerateKeyPair.
    pub fn generate(uri: &Pkcs11Uri, algorithm: KeyAlgorithm) -> Result<Self> {
        Self::generate_in(open_token(uri)?, uri, algorithm)
    }

    fn generate_in(token: Token, uri: &Pkcs11Uri, algorithm: KeyAlgorithm) -> Result<Self> {
        let label = uri.object.as_bytes().to_vec();
        let existing = token.count_objects_labelled(&uri.object)?;
        if existing > 0 {
            return Err(Error::KeyLabelExists {
                token: uri.token.clone(),
                label: uri.object.clone(),
                count: existing,
            });
        }
        // The id must be known before generation: it goes into both templates.
        let id = match &uri.id {
            Some(id) => {
                let existing = token.find_objects(&[Attribute::Id(id.clone())])?.len();
                if existing > 0 {
                    return Err(Error::KeyIdExists {
                        token: uri.token.clone(),
                        id: hex::encode(id),
                        count: existing,
                    });
                }
                id.clone()
            }
            None => {
                let mut id = vec![0; GENERATED_ID_LEN];
                getrandom::fill(&mut id).map_err(|source| Error::Random { source })?;
                id
            }
        };
        let (mechanism, curve) = match algorithm {
            KeyAlgorithm::EcdsaP384 => (Mechanism::EccKeyPairGen, SECP384R1),
            // PKCS#11 3.0 §2.3.5: CKA_EC_PARAMS of an Edwards key may be the curve's OID.
            KeyAlgorithm::Ed25519 => (Mechanism::EccEdwardsKeyPairGen, ED25519),
        };
        let curve = curve.to_der().map_err(|e| encoding(uri, e))?;
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(curve),
            Attribute::Label(label.clone()),
            Attribute::Id(id.clone()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            // Not in the usual template, but a signing key has no business doing ECDH.
            Attribute::Derive(false),
            Attribute::Label(label),
            Attribute::Id(id.clone()),
        ];
        let (public, key) = token
            .session()
            .generate_key_pair(&mechanism, &public_template, &private_template)
            .map_err(ck("C_GenerateKeyPair"))?;
        tracing::info!(key = %uri.without_pin_source(), id = %hex::encode(&id), %algorithm, "generated a key pair");
        Self::from_handles(token, uri, key, public, id)
    }

    fn from_handles(
        token: Token,
        uri: &Pkcs11Uri,
        key: ObjectHandle,
        public: ObjectHandle,
        id: Vec<u8>,
    ) -> Result<Self> {
        let (algorithm, spki) = match get(&token, uri, key, AttributeType::KeyType)? {
            Attribute::KeyType(KeyType::EC) => {
                let verifying_key = read_public_key(&token, uri, public)?;
                let spki = spki_of(&verifying_key).map_err(|e| encoding(uri, e))?;
                (KeyAlgorithm::EcdsaP384, spki)
            }
            Attribute::KeyType(KeyType::EC_EDWARDS) => (
                KeyAlgorithm::Ed25519,
                read_ed25519_public_key(&token, uri, public)?,
            ),
            _ => {
                return Err(unsupported(
                    uri,
                    "the private key is neither an EC (P-384) nor an Edwards (Ed25519) key",
                ));
            }
        };
        Ok(Self {
            algorithm,
            token,
            key,
            id,
            uri: uri.without_pin_source(),
            spki,
        })
    }

    /// The key's CKA_ID.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The key's CKA_LABEL.
    pub fn label(&self) -> &str {
        &self.uri.object
    }

    /// The URI of the key, without its pin-source (with the id filled in if it was absent).
    pub fn uri(&self) -> Pkcs11Uri {
        Pkcs11Uri {
            id: Some(self.id.clone()),
            ..self.uri.clone()
        }
    }

    /// The token the key lives in.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// Read back the private key's security attributes from the token.
    ///
    /// # Errors
    /// [`Error::Pkcs11`] naming C_GetAttributeValue; [`Error::UnsupportedKey`] if the
    /// token does not report one of them.
    pub fn key_attributes(&self) -> Result<KeyAttributes> {
        let flag = |kind| -> Result<bool> {
            match get(&self.token, &self.uri, self.key, kind)? {
                Attribute::Sensitive(b)
                | Attribute::Extractable(b)
                | Attribute::NeverExtractable(b)
                | Attribute::AlwaysSensitive(b)
                | Attribute::Local(b)
                | Attribute::Token(b)
                | Attribute::Private(b) => Ok(b),
                _ => Err(unsupported(
                    &self.uri,
                    &format!("unexpected value for {kind}"),
                )),
            }
        };
        Ok(KeyAttributes {
            sensitive: flag(AttributeType::Sensitive)?,
            extractable: flag(AttributeType::Extractable)?,
            never_extractable: flag(AttributeType::NeverExtractable)?,
            always_sensitive: flag(AttributeType::AlwaysSensitive)?,
            local: flag(AttributeType::Local)?,
            token: flag(AttributeType::Token)?,
            private: flag(AttributeType::Private)?,
        })
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`, RFC 7468 §13).
    ///
    /// # Errors
    /// [`Error::KeyEncoding`] if the SubjectPublicKeyInfo cannot be encoded.
    pub fn public_key_pem(&self) -> Result<String> {
        self.spki
            .to_pem(der::pem::LineEnding::LF)
            .map_err(|e| encoding(&self.uri, e))
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo (the usual SPKI fingerprint).
    ///
    /// # Errors
    /// [`Error::Spki`] if the SubjectPublicKeyInfo cannot be encoded.
    pub fn spki_sha256(&self) -> Result<[u8; 32]> {
        self.spki.fingerprint_bytes().map_err(|source| Error::Spki {
            what: format!("key `{}` in token `{}`", self.uri.object, self.uri.token),
            source,
        })
    }
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn describe(&self) -> String {
        self.uri.to_string()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        if self.algorithm == KeyAlgorithm::Ed25519 {
            let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
            let signature = self
                .token
                .session()
                .sign(&mechanism, self.key, message)
                .map_err(ck("C_Sign"))?;
            if signature.len() != 64 {
                return Err(Error::Signing {
                    key: self.describe(),
                    reason: format!(
                        "the token returned {} bytes, not an Ed25519 signature",
                        signature.len()
                    ),
                });
            }
            return Ok(signature);
        }
        let digest = Sha384::digest(message);
        let raw = self
            .token
            .session()
            .sign(&Mechanism::Ecdsa, self.key, &digest)
            .map_err(ck("C_Sign"))?;
        let signature =
            p384::ecdsa::Signature::from_slice(&raw).map_err(|source| Error::SignatureLength {
                key: self.describe(),
                len: raw.len(),
                source,
            })?;
        // Not verified here: issuance (`issue::sign_linted`) checks every signature it
        // gets against the issuer's public key, once, before anything is written.
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

fn open_token(uri: &Pkcs11Uri) -> Result<Token> {
    // No pin-source, no login: a root key is never usable without one.
    let pin_source = uri
        .pin_source
        .as_ref()
        .ok_or(Error::Pkcs11UriMissingAttribute {
            attribute: "pin-source",
        })?;
    Token::open(&uri.module_path, &uri.token, pin_source)
}

/// The one object of `class` with the URI's label (and `id`).
fn find_one(
    token: &Token,
    uri: &Pkcs11Uri,
    id: Option<&[u8]>,
    class: ObjectClass,
) -> Result<ObjectHandle> {
    let mut template = vec![
        Attribute::Class(class),
        Attribute::Label(uri.object.as_bytes().to_vec()),
    ];
    if let Some(id) = id {
        template.push(Attribute::Id(id.to_vec()));
    }
    let class = if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else {
        "public key"
    };
    match token.find_objects(&template)?.as_slice() {
        [object] => Ok(*object),
        [] => Err(Error::KeyNotFound {
            token: uri.token.clone(),
            label: uri.object.clone(),
            id: id.map(hex::encode),
            class,
        }),
        objects => Err(Error::KeyAmbiguous {
            token: uri.token.clone(),
            label: uri.object.clone(),
            id: id.map(hex::encode),
            class,
            count: objects.len(),
        }),
    }
}

/// One attribute of `object`, or an error if the token does not report it.
fn get(
    token: &Token,
    uri: &Pkcs11Uri,
    object: ObjectHandle,
    kind: AttributeType,
) -> Result<Attribute> {
    token
        .session()
        .get_attributes(object, &[kind])
        .map_err(ck("C_GetAttributeValue"))?
        .into_iter()
        .next()
        .ok_or_else(|| unsupported(uri, &format!("the token does not report {kind}")))
}

fn read_id(token: &Token, uri: &Pkcs11Uri, key: ObjectHandle) -> Result<Vec<u8>> {
    match get(token, uri, key, AttributeType::Id)? {
        Attribute::Id(id) => Ok(id),
        _ => Err(unsupported(uri, "unexpected value for CKA_ID")),
    }
}

/// The public key object's point, checked to be on secp384r1.
fn read_public_key(token: &Token, uri: &Pkcs11Uri, public: ObjectHandle) -> Result<VerifyingKey> {
    let Attribute::EcParams(params) = get(token, uri, public, AttributeType::EcParams)? else {
        return Err(unsupported(uri, "unexpected value for CKA_EC_PARAMS"));
    };
    match ObjectIdentifier::from_der(&params) {
        Ok(SECP384R1) => {}
        Ok(other) => {
            return Err(unsupported(
                uri,
                &format!("CKA_EC_PARAMS names curve {other}, not secp384r1 ({SECP384R1})"),
            ));
        }
        Err(_) => return Err(unsupported(uri, "CKA_EC_PARAMS is not a named curve")),
    }
    let Attribute::EcPoint(point) = get(token, uri, public, AttributeType::EcPoint)? else {
        return Err(unsupported(uri, "unexpected value for CKA_EC_POINT"));
    };
    parse_ec_point(&point).ok_or_else(|| unsupported(uri, "CKA_EC_POINT is not a secp384r1 point"))
}

/// An Edwards public key object's curve (the id-Ed25519 OID, or the PrintableString
/// "edwards25519" that PKCS#11 3.0 also allows) and point (32 bytes, DER-wrapped or bare).
fn read_ed25519_public_key(
    token: &Token,
    uri: &Pkcs11Uri,
    public: ObjectHandle,
) -> Result<SubjectPublicKeyInfoOwned> {
    let Attribute::EcParams(params) = get(token, uri, public, AttributeType::EcParams)? else {
        return Err(unsupported(uri, "unexpected value for CKA_EC_PARAMS"));
    };
    let named_ed25519 = ObjectIdentifier::from_der(&params).is_ok_and(|oid| oid == ED25519)
        || der::asn1::PrintableStringRef::from_der(&params)
            .is_ok_and(|name| name.as_str() == "edwards25519");
    if !named_ed25519 {
        return Err(unsupported(uri, "CKA_EC_PARAMS does not name Ed25519"));
    }
    let Attribute::EcPoint(point) = get(token, uri, public, AttributeType::EcPoint)? else {
        return Err(unsupported(uri, "unexpected value for CKA_EC_POINT"));
    };
    let point = match OctetString::from_der(&point) {
        Ok(inner) if inner.as_bytes().len() == 32 => inner.as_bytes().to_vec(),
        _ if point.len() == 32 => point,
        _ => {
            return Err(unsupported(
                uri,
                "CKA_EC_POINT is not a 32-byte Ed25519 key",
            ));
        }
    };
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ED25519,
            parameters: None,
        },
        subject_public_key: BitString::from_bytes(&point).map_err(|e| encoding(uri, e))?,
    })
}

/// CKA_EC_POINT is a DER OCTET STRING around the SEC1 point per PKCS#11 (SoftHSM2), but
/// some tokens return the bare point: accept both. Unambiguous: a DER-wrapped point is
/// never itself a valid SEC1 encoding (its length is 2 bytes off).
fn parse_ec_point(bytes: &[u8]) -> Option<VerifyingKey> {
    VerifyingKey::from_sec1_bytes(bytes).ok().or_else(|| {
        let inner = OctetString::from_der(bytes).ok()?;
        VerifyingKey::from_sec1_bytes(inner.as_bytes()).ok()
    })
}

/// id-ecPublicKey with namedCurve secp384r1 and the uncompressed point (RFC 5480).
fn spki_of(key: &VerifyingKey) -> der::Result<SubjectPublicKeyInfoOwned> {
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&SECP384R1)?),
        },
        subject_public_key: BitString::from_bytes(key.to_sec1_point(false).as_bytes())?,
    })
}

fn encoding(uri: &Pkcs11Uri, source: der::Error) -> Error {
    Error::KeyEncoding {
        token: uri.token.clone(),
        label: uri.object.clone(),
        source,
    }
}

fn unsupported(uri: &Pkcs11Uri, reason: &str) -> Error {
    Error::UnsupportedKey {
        token: uri.token.clone(),
        label: uri.object.clone(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use spki::EncodePublicKey;

    use super::*;

    fn test_key() -> VerifyingKey {
        let secret = p384::ecdsa::SigningKey::from_slice(&[7; 48]).unwrap();
        *secret.verifying_key()
    }

    #[test]
    fn accepts_bare_and_der_wrapped_points() {
        let key = test_key();
        let bare = key.to_sec1_point(false).as_bytes().to_vec();
        assert_eq!(bare.len(), 97);
        let wrapped = OctetString::new(bare.clone()).unwrap().to_der().unwrap();
        assert_eq!(wrapped[..3], [0x04, 0x61, 0x04]);
        assert_eq!(parse_ec_point(&bare), Some(key));
        assert_eq!(parse_ec_point(&wrapped), Some(key));
    }

    #[test]
    fn rejects_points_off_the_curve_or_truncated() {
        let mut bare = test_key().to_sec1_point(false).as_bytes().to_vec();
        assert_eq!(parse_ec_point(&bare[..96]), None);
        bare[96] ^= 1;
        assert_eq!(parse_ec_point(&bare), None);
        assert_eq!(parse_ec_point(&[]), None);
    }

    #[test]
    fn spki_matches_the_standard_encoding() {
        let key = test_key();
        let ours = spki_of(&key).unwrap().to_der().unwrap();
        let reference = key.to_public_key_der().unwrap();
        assert_eq!(ours, reference.as_bytes());
        let spki = SubjectPublicKeyInfoOwned::from_der(&ours).unwrap();
        assert_eq!(KeyAlgorithm::of_spki(&spki), Some(KeyAlgorithm::EcdsaP384));
    }
}
