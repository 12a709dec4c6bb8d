//! Signatures: the accepted algorithms, and checking one signed object (certificate or CRL)
//! against one issuer's key, outside path building, to say which signature is bad.

use der::asn1::BitStringRef;
use der::{Decode, Header, Reader, SliceReader};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm};
use webpki::EndEntityCert;

/// Signature algorithms accepted on certificates and CRLs: the policy's keys (P-384,
/// Ed25519).
pub(crate) const ALGS: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::ECDSA_P384_SHA384, webpki::ring::ED25519];

/// The three parts of an X.509 SIGNED{} structure (certificate or CRL), as they are in the
/// encoding: the signature covers `tbs` byte for byte, so nothing is re-encoded.
#[derive(Debug)]
pub(crate) struct Signed<'a> {
    /// The complete to-be-signed TLV.
    tbs: &'a [u8],
    /// Contents of the signatureAlgorithm AlgorithmIdentifier (webpki's form).
    algorithm: &'a [u8],
    /// The signature bits.
    signature: &'a [u8],
}

impl<'a> Signed<'a> {
    pub(crate) fn split(der: &'a [u8]) -> der::Result<Self> {
        let mut reader = SliceReader::new(der)?;
        let outer = Header::decode(&mut reader)?;
        outer.tag().assert_eq(der::Tag::Sequence)?;
        let tbs = reader.tlv_bytes()?;
        let algorithm_header = Header::decode(&mut reader)?;
        algorithm_header.tag().assert_eq(der::Tag::Sequence)?;
        let algorithm = reader.read_slice(algorithm_header.length())?;
        let signature = BitStringRef::decode(&mut reader)?;
        let signature = signature.as_bytes().ok_or_else(|| {
            der::Error::from(der::ErrorKind::Noncanonical {
                tag: der::Tag::BitString,
            })
        })?;
        reader.finish()?;
        Ok(Self {
            tbs,
            algorithm,
            signature,
        })
    }
}

/// Outcome of checking one signature with one issuer key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    Valid,
    Invalid,
    /// The algorithm is not accepted, or does not fit the issuer's key type.
    Unsupported,
}

/// Checks `signed` against the public key of `issuer`, the way the path validator does:
/// every accepted algorithm with the same AlgorithmIdentifier is tried.
pub(crate) fn check(signed: &Signed<'_>, issuer: &CertificateDer<'_>) -> Check {
    let Ok(issuer) = EndEntityCert::try_from(issuer) else {
        return Check::Unsupported;
    };
    let mut result = Check::Unsupported;
    for alg in ALGS
        .iter()
        .filter(|alg| alg.signature_alg_id().as_ref() == signed.algorithm)
    {
        match issuer.verify_signature(*alg, signed.tbs, signed.signature) {
            Ok(()) => return Check::Valid,
            Err(webpki::Error::InvalidSignatureForPublicKey) => result = Check::Invalid,
            Err(_) => {}
        }
    }
    result
}
