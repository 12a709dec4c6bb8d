//! The CMS signature of docs/signatures.md, checked strictly: the `SignedData` structure
//! field by field, the message digest of the content, and the signature over the signed
//! attributes with the leaf's key. No chain here: [`crate::artifact`] checks the chain.
//!
//! The DER is decoded with der 0.8, which refuses BER (indefinite lengths, non-minimal
//! encodings) and trailing data; a SET OF out of DER order is refused by re-encoding the
//! SignedData and comparing. So re-encoding a decoded part gives back its exact bytes: the
//! signed attributes are re-encoded as a SET OF (tag 0x31), as RFC 5652 §5.4 signs them.

use std::io::Read;

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ring::digest;
use ring::signature::{self, UnparsedPublicKey};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::time::Time;

use crate::error::Error;
use crate::times::datetime;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Read size when digesting content.
const CHUNK: usize = 64 * 1024;

/// The leaf's key type, which fixes the digest and signature algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-384: SHA-384, ecdsa-with-SHA384.
    P384,
    /// Ed25519: SHA-512 (RFC 8419), pure Ed25519.
    Ed25519,
}

impl KeyKind {
    /// Name for reports: `P-384` or `Ed25519`.
    pub fn name(self) -> &'static str {
        match self {
            Self::P384 => "P-384",
            Self::Ed25519 => "Ed25519",
        }
    }

    fn digest_oid(self) -> ObjectIdentifier {
        match self {
            Self::P384 => ID_SHA384,
            Self::Ed25519 => ID_SHA512,
        }
    }

    fn digest_name(self) -> &'static str {
        match self {
            Self::P384 => "SHA-384 (2.16.840.1.101.3.4.2.2)",
            Self::Ed25519 => "SHA-512 (2.16.840.1.101.3.4.2.3)",
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::P384 => &digest::SHA384,
            Self::Ed25519 => &digest::SHA512,
        }
    }

    fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Self::P384 => ECDSA_WITH_SHA384,
            Self::Ed25519 => ID_ED25519,
        }
    }

    fn verification(self) -> &'static dyn signature::VerificationAlgorithm {
        match self {
            Self::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            Self::Ed25519 => &signature::ED25519,
        }
    }
}

/// A CMS signature whose structure passed every rule of docs/signatures.md; the content
/// digest and the signature are not checked yet ([`ParsedCms::check`]).
#[derive(Clone, Debug)]
pub struct ParsedCms {
    /// DER of the signing leaf (the certificate the SignerInfo names).
    pub leaf_der: Vec<u8>,
    /// DER of the other certificate, the delegate CA that issued the leaf.
    pub delegate_der: Vec<u8>,
    /// The leaf's key type.
    pub key: KeyKind,
    /// The signing-time attribute.
    pub signing_time: OffsetDateTime,
    message_digest: Vec<u8>,
    signed_attrs_der: Vec<u8>,
    signature: Vec<u8>,
    leaf_key: Vec<u8>,
}

/// The content's size and digests, computed in one pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentDigests {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 (what the log entry names).
    pub sha256: [u8; 32],
    /// The CMS message digest (SHA-384 or SHA-512).
    pub message_digest: Vec<u8>,
}

/// Checks `cms_der` strictly (structure, the message digest of `content`, the signature with
/// the leaf's key), without the chain: what the signing side calls to re-check a signature
/// it has just made, before writing it. `file` names the signature in errors.
///
/// # Errors
/// The first broken rule ([`Error::MalformedCms`], [`Error::CmsProfile`], …,
/// [`Error::MessageDigestMismatch`], [`Error::CmsBadSignature`]); [`Error::Read`] when
/// `content` cannot be read.
pub fn check_signature(
    file: &str,
    cms_der: &[u8],
    content: &mut dyn Read,
) -> Result<(ParsedCms, ContentDigests), Error> {
    let parsed = ParsedCms::parse(file, cms_der)?;
    let digests = parsed.digest(file, content)?;
    parsed.check(file, &digests)?;
    Ok((parsed, digests))
}

impl ParsedCms {
    /// Decodes `der` and checks the structure against docs/signatures.md.
    ///
    /// # Errors
    /// [`Error::MalformedCms`] (not DER, BER, trailing data), [`Error::CmsProfile`],
    /// [`Error::CmsContentPresent`], [`Error::CmsCertificates`], [`Error::CmsSignerCount`],
    /// [`Error::CmsDigestAlgorithm`], [`Error::CmsSignedAttributes`].
    pub fn parse(file: &str, der: &[u8]) -> Result<Self, Error> {
        let malformed = |source| Error::MalformedCms {
            file: file.to_owned(),
            source,
        };
        let profile = |field: &'static str, detail: String| Error::CmsProfile {
            file: file.to_owned(),
            field,
            detail,
        };
        let info = ContentInfo::from_der(der).map_err(malformed)?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(profile(
                "contentType",
                format!("{} is not id-signedData", info.content_type),
            ));
        }
        let signed: SignedData = info.content.decode_as().map_err(malformed)?;
        // der sorts a SET OF it decodes instead of refusing one out of DER order: the
        // re-encoding must give back the bytes, or the signed attributes would not be the
        // ones that were signed.
        if signed.to_der().map_err(malformed)? != info.content.to_der().map_err(malformed)? {
            return Err(malformed(der::Error::from(der::ErrorKind::SetOrdering)));
        }
        if signed.version != CmsVersion::V1 {
            return Err(profile(
                "version",
                format!("{:?}, expected 1", signed.version as u8),
            ));
        }
        let encap = &signed.encap_content_info;
        if encap.econtent_type != ID_DATA {
            return Err(profile(
                "eContentType",
                format!("{} is not id-data", encap.econtent_type),
            ));
        }
        if encap.econtent.is_some() {
            return Err(Error::CmsContentPresent {
                file: file.to_owned(),
            });
        }
        if signed.crls.is_some() {
            return Err(profile("crls", "present, must be absent".into()));
        }
        let signers = signed.signer_infos.0.as_slice();
        let [signer] = signers else {
            return Err(Error::CmsSignerCount {
                file: file.to_owned(),
                count: signers.len(),
            });
        };
        let (leaf, delegate) = certificates(file, &signed, signer)?;
        let key = key_kind(file, &leaf)?;
        check_algorithms(file, &signed, signer, key)?;
        if signer.version != CmsVersion::V1 {
            return Err(profile(
                "SignerInfo.version",
                format!("{}, expected 1", signer.version as u8),
            ));
        }
        if signer.unsigned_attrs.is_some() {
            return Err(profile("unsignedAttrs", "present, must be absent".into()));
        }
        let attrs = signer
            .signed_attrs
            .as_ref()
            .ok_or_else(|| Error::CmsSignedAttributes {
                file: file.to_owned(),
                detail: "absent; content-type, message-digest and signing-time are required".into(),
            })?;
        let (message_digest, signing_time) = signed_attributes(file, attrs, key)?;
        Ok(Self {
            leaf_der: leaf.to_der().map_err(malformed)?,
            delegate_der: delegate.to_der().map_err(malformed)?,
            key,
            signing_time,
            message_digest,
            signed_attrs_der: attrs.to_der().map_err(malformed)?,
            signature: signer.signature.as_bytes().to_vec(),
            leaf_key: leaf
                .tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes()
                .to_vec(),
        })
    }

    /// Reads `content` to its end in 64 KiB chunks: size, SHA-256 and this signature's
    /// message digest.
    ///
    /// # Errors
    /// [`Error::Read`] naming `file`.
    pub fn digest(&self, file: &str, content: &mut dyn Read) -> Result<ContentDigests, Error> {
        let mut sha256 = digest::Context::new(&digest::SHA256);
        let mut message = digest::Context::new(self.key.digest());
        let mut size = 0u64;
        let mut buffer = vec![0; CHUNK];
        loop {
            let n = match content.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Read {
                        file: file.to_owned(),
                        source,
                    });
                }
            };
            sha256.update(&buffer[..n]);
            message.update(&buffer[..n]);
            size += n as u64;
        }
        let mut sha = [0; 32];
        sha.copy_from_slice(sha256.finish().as_ref());
        Ok(ContentDigests {
            size,
            sha256: sha,
            message_digest: message.finish().as_ref().to_vec(),
        })
    }

    /// The message-digest attribute against the content's digest, then the signature over
    /// the signed attributes with the leaf's public key.
    ///
    /// # Errors
    /// [`Error::MessageDigestMismatch`], [`Error::CmsBadSignature`].
    pub fn check(&self, file: &str, digests: &ContentDigests) -> Result<(), Error> {
        if digests.message_digest != self.message_digest {
            return Err(Error::MessageDigestMismatch {
                file: file.to_owned(),
                size: digests.size,
            });
        }
        UnparsedPublicKey::new(self.key.verification(), &self.leaf_key)
            .verify(&self.signed_attrs_der, &self.signature)
            .map_err(|_| Error::CmsBadSignature {
                file: file.to_owned(),
                key: self.key.name(),
            })
    }
}

/// Exactly two certificates: the one the SignerInfo names (issuerAndSerialNumber) is the
/// leaf, the other must be its issuer. Either order is accepted (OpenSSL writes them in its
/// own order); the SignerInfo decides.
fn certificates(
    file: &str,
    signed: &SignedData,
    signer: &SignerInfo,
) -> Result<(Certificate, Certificate), Error> {
    let fail = |detail: String| Error::CmsCertificates {
        file: file.to_owned(),
        detail,
    };
    let set = signed
        .certificates
        .as_ref()
        .map(|set| set.0.as_slice())
        .unwrap_or_default();
    let certs = set
        .iter()
        .map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Ok(cert),
            CertificateChoices::Other(_) => Err(fail("a certificate of another format".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let [a, b] = certs.as_slice() else {
        return Err(fail(format!(
            "{} certificates; exactly two are required: the signing leaf and its delegate",
            certs.len()
        )));
    };
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        return Err(Error::CmsProfile {
            file: file.to_owned(),
            field: "SignerInfo.sid",
            detail: "subjectKeyIdentifier; issuerAndSerialNumber of the leaf is required".into(),
        });
    };
    let names = |cert: &Certificate| {
        *cert.tbs_certificate().issuer() == sid.issuer
            && *cert.tbs_certificate().serial_number() == sid.serial_number
    };
    let (leaf, delegate) = match (names(a), names(b)) {
        (true, false) => (*a, *b),
        (false, true) => (*b, *a),
        _ => {
            return Err(fail(format!(
                "the SignerInfo names issuer {} serial {}, which is not exactly one of the \
                 certificates",
                sid.issuer,
                crate::cert::serial_hex(sid.serial_number.as_bytes())
            )));
        }
    };
    if leaf.tbs_certificate().issuer() != delegate.tbs_certificate().subject() {
        return Err(fail(format!(
            "the second certificate ({}) is not the issuer of the leaf (issued by {})",
            delegate.tbs_certificate().subject(),
            leaf.tbs_certificate().issuer()
        )));
    }
    Ok((leaf.clone(), delegate.clone()))
}

/// The leaf's key: P-384 (id-ecPublicKey, secp384r1) or Ed25519; anything else is refused.
fn key_kind(file: &str, leaf: &Certificate) -> Result<KeyKind, Error> {
    let spki = &leaf.tbs_certificate().subject_public_key_info().algorithm;
    let curve = spki
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match (spki.oid, curve) {
        (ID_EC_PUBLIC_KEY, Some(SECP384R1)) => Ok(KeyKind::P384),
        (ID_ED25519, None) if spki.parameters.is_none() => Ok(KeyKind::Ed25519),
        (oid, _) => Err(Error::CmsProfile {
            file: file.to_owned(),
            field: "leaf key",
            detail: format!("{oid} is neither a P-384 nor an Ed25519 key"),
        }),
    }
}

/// One digest algorithm, the key's, in `digestAlgorithms` and the SignerInfo, parameters
/// absent; the signature algorithm the key's, parameters absent.
fn check_algorithms(
    file: &str,
    signed: &SignedData,
    signer: &SignerInfo,
    key: KeyKind,
) -> Result<(), Error> {
    let digest_error = |found: String| Error::CmsDigestAlgorithm {
        file: file.to_owned(),
        found,
        expected: key.digest_name(),
        key: key.name(),
    };
    let algorithms = signed.digest_algorithms.as_slice();
    let [algorithm] = algorithms else {
        return Err(digest_error(format!(
            "{} digest algorithms",
            algorithms.len()
        )));
    };
    for alg in [algorithm, &signer.digest_alg] {
        if alg.oid != key.digest_oid() {
            return Err(digest_error(alg.oid.to_string()));
        }
        if alg.parameters.is_some() {
            return Err(digest_error(format!("{} with parameters", alg.oid)));
        }
    }
    let sig = &signer.signature_algorithm;
    if sig.oid != key.signature_oid() || sig.parameters.is_some() {
        return Err(Error::CmsProfile {
            file: file.to_owned(),
            field: "signatureAlgorithm",
            detail: format!(
                "{}{} does not match the {} leaf key (expected {}, parameters absent)",
                sig.oid,
                if sig.parameters.is_some() {
                    " with parameters"
                } else {
                    ""
                },
                key.name(),
                key.signature_oid()
            ),
        });
    }
    Ok(())
}

/// Exactly content-type = id-data, message-digest and signing-time, each once with one
/// value. Returns the message digest and the signing time.
fn signed_attributes(
    file: &str,
    attrs: &x509_cert::attr::Attributes,
    key: KeyKind,
) -> Result<(Vec<u8>, OffsetDateTime), Error> {
    let fail = |detail: String| Error::CmsSignedAttributes {
        file: file.to_owned(),
        detail,
    };
    let mut content_type = None;
    let mut message_digest = None;
    let mut signing_time = None;
    for attr in attrs.iter() {
        let values = attr.values.as_slice();
        let [value] = values else {
            return Err(fail(format!(
                "attribute {} has {} values, exactly one is required",
                attr.oid,
                values.len()
            )));
        };
        let slot = match attr.oid {
            ID_CONTENT_TYPE => &mut content_type,
            ID_MESSAGE_DIGEST => &mut message_digest,
            ID_SIGNING_TIME => &mut signing_time,
            other => {
                return Err(fail(format!(
                    "unexpected attribute {other}; only content-type, message-digest and \
                     signing-time are allowed"
                )));
            }
        };
        if slot.replace(value).is_some() {
            return Err(fail(format!("attribute {} appears twice", attr.oid)));
        }
    }
    let missing = |name: &str| fail(format!("no {name} attribute"));
    let bad = |name: &str, e: der::Error| fail(format!("malformed {name} attribute: {e}"));
    let content_type: ObjectIdentifier = content_type
        .ok_or_else(|| missing("content-type"))?
        .decode_as()
        .map_err(|e| bad("content-type", e))?;
    if content_type != ID_DATA {
        return Err(fail(format!("content-type is {content_type}, not id-data")));
    }
    let digest: OctetString = message_digest
        .ok_or_else(|| missing("message-digest"))?
        .decode_as()
        .map_err(|e| bad("message-digest", e))?;
    if digest.as_bytes().len() != key.digest().output_len() {
        return Err(fail(format!(
            "message-digest is {} bytes, not a {} digest",
            digest.as_bytes().len(),
            key.digest_name()
        )));
    }
    let time: Time = signing_time
        .ok_or_else(|| missing("signing-time"))?
        .decode_as()
        .map_err(|e| bad("signing-time", e))?;
    let signing_time = datetime(time.to_unix_duration());
    if matches!(time, Time::UtcTime(_)) != (signing_time.year() < 2050) {
        return Err(fail(format!(
            "signing-time {} is not encoded as RFC 5652 §11.3 requires (UTCTime before 2050, \
             GeneralizedTime from 2050)",
            crate::times::rfc3339(signing_time)
        )));
    }
    Ok((digest.as_bytes().to_vec(), signing_time))
}
