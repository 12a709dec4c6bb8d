//! The CMS `SignedData` of `docs/signatures.md`, assembled around a signature the token
//! made: version 1, one digest algorithm (SHA-384 for P-384, SHA-512 for Ed25519), detached
//! id-data, the leaf and its delegate as certificates, one `SignerInfo` by
//! issuerAndSerialNumber with exactly three signed attributes (content-type,
//! message-digest, signing-time) and no unsigned ones.
//!
//! `certificates` is a DER `SET OF`, so the two certificates appear in DER order (by
//! their encodings), not necessarily leaf first; the verifier finds the leaf by the `sid`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use rust_pki_ca::KeyAlgorithm;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;

use crate::error::{Result, encoding};
use crate::leaf::SigningLeaf;

/// id-signedData (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-data (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-contentType (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-sha384 (RFC 5754).
pub const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// id-sha512 (RFC 5754).
pub const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The digest algorithm a key of `algorithm` signs files with (parameters absent).
pub fn digest_algorithm(algorithm: KeyAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: match algorithm {
            KeyAlgorithm::EcdsaP384 => ID_SHA384,
            // RFC 8419 §3: SHA-512 with Ed25519.
            KeyAlgorithm::Ed25519 => ID_SHA512,
        },
        parameters: None,
    }
}

/// The signed attributes of one file, and their DER (with the SET OF tag), which is what
/// the token signs (RFC 5652 §5.4).
#[derive(Clone, Debug)]
pub struct SignedAttrs {
    attributes: SignedAttributes,
    der: Vec<u8>,
}

impl SignedAttrs {
    /// content-type id-data, message-digest `message_digest`, signing-time `time` (whole
    /// seconds; UTCTime before 2050, GeneralizedTime after), in DER SET OF order.
    ///
    /// # Errors
    /// [`crate::Error::Encoding`] (a time before 1970 or after 9999, or a digest DER cannot
    /// hold).
    pub fn new(message_digest: &[u8], time: SystemTime) -> Result<Self> {
        let what = "signed attributes";
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| encoding(what)(der::ErrorKind::DateTime.into()))?
            .as_secs();
        let time =
            Time::try_from(UNIX_EPOCH + Duration::from_secs(seconds)).map_err(encoding(what))?;
        let attribute = |oid, value: Any| -> Result<Attribute> {
            Ok(Attribute {
                oid,
                values: SetOfVec::try_from(vec![value]).map_err(encoding(what))?,
            })
        };
        let digest = OctetString::new(message_digest).map_err(encoding(what))?;
        let attributes = SetOfVec::try_from(vec![
            attribute(
                ID_CONTENT_TYPE,
                Any::encode_from(&ID_DATA).map_err(encoding(what))?,
            )?,
            attribute(
                ID_MESSAGE_DIGEST,
                Any::encode_from(&digest).map_err(encoding(what))?,
            )?,
            attribute(
                ID_SIGNING_TIME,
                Any::encode_from(&time).map_err(encoding(what))?,
            )?,
        ])
        .map_err(encoding(what))?;
        let der = attributes.to_der().map_err(encoding(what))?;
        Ok(Self { attributes, der })
    }

    /// The DER the signature covers: `SET OF Attribute` with tag 0x31.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

/// The DER `ContentInfo` holding the detached `SignedData` for one file.
///
/// # Errors
/// [`crate::Error::Encoding`].
pub fn content_info(leaf: &SigningLeaf, attrs: &SignedAttrs, signature: &[u8]) -> Result<Vec<u8>> {
    let what = "CMS SignedData";
    let algorithm = leaf.algorithm();
    let digest_alg = digest_algorithm(algorithm);
    let tbs = leaf.leaf().tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(attrs.attributes.clone()),
        signature_algorithm: algorithm.signature_algorithm(),
        signature: OctetString::new(signature).map_err(encoding(what))?,
        unsigned_attrs: None,
    };
    let certificates = [leaf.leaf_der(), leaf.delegate_der()]
        .into_iter()
        .map(|der| Certificate::from_der(der).map(CertificateChoices::Certificate))
        .collect::<der::Result<Vec<_>>>()
        .map_err(encoding(what))?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).map_err(encoding(what))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(certificates).map_err(encoding(what))?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(encoding(what))?,
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(encoding(what))?,
    }
    .to_der()
    .map_err(encoding(what))
}
