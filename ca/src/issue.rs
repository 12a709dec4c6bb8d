//! Lint-before-sign issuance: build the TBS, sign it with a throwaway key and lint it,
//! only then ask the real signer (the HSM), then require the signed TBS to be
//! byte-identical to the linted one and the signature to verify with the issuer's key.

use std::{sync::OnceLock, time::SystemTime};

use der::{
    Decode, Encode, Sequence,
    asn1::{AnyRef, BitStringRef},
};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SubjectPublicKeyInfoOwned,
};
use x509_cert::{
    Certificate,
    builder::{Builder, CertificateBuilder, profile::BuilderProfile},
    crl::CertificateList,
    time::{Time, Validity},
};

use crate::{
    Error, KeyAlgorithm, Result, Signer,
    lint::{Finding, Severity},
    serial::random_serial,
    signature::verify_signature,
    signer::MemorySigner,
};

/// A signed object (certificate or CRL) and the lint warnings it passed with.
#[derive(Debug, Clone)]
pub struct Signed {
    /// DER of the signed certificate or CRL.
    pub der: Vec<u8>,
    /// Lint warnings (errors never get this far).
    pub warnings: Vec<Finding>,
}

/// `SEQUENCE { tbs, signatureAlgorithm, signature }`: the shape shared by certificates,
/// CRLs and CSRs.
#[derive(Sequence)]
struct SignedSequence<'a> {
    tbs: AnyRef<'a>,
    algorithm: AlgorithmIdentifierOwned,
    signature: BitStringRef<'a>,
}

/// Wrap TBS bytes and a signature value into the signed structure's DER.
///
/// # Errors
/// The TBS bytes are not one DER element.
pub fn assemble(
    tbs: &[u8],
    algorithm: &AlgorithmIdentifierOwned,
    signature: &[u8],
) -> Result<Vec<u8>> {
    let sequence = SignedSequence {
        tbs: AnyRef::from_der(tbs).map_err(der_error("TBS"))?,
        algorithm: algorithm.clone(),
        signature: BitStringRef::from_bytes(signature).map_err(der_error("signature"))?,
    };
    sequence.to_der().map_err(der_error("signed structure"))
}

fn der_error(what: &'static str) -> impl Fn(der::Error) -> Error {
    move |source| Error::Der {
        what: what.into(),
        source,
    }
}

/// A signed structure that issuance can lint and check: a certificate or a CRL.
pub trait Lintable: Sized {
    /// Parse the signed structure.
    #[doc(hidden)]
    fn parse(der: &[u8]) -> der::Result<Self>;
    #[doc(hidden)]
    fn tbs_der(&self) -> der::Result<Vec<u8>>;
    #[doc(hidden)]
    fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned;
    #[doc(hidden)]
    fn signature_value(&self) -> Option<&[u8]>;
}

impl Lintable for Certificate {
    fn parse(der: &[u8]) -> der::Result<Self> {
        Certificate::from_der(der)
    }
    fn tbs_der(&self) -> der::Result<Vec<u8>> {
        self.tbs_certificate().to_der()
    }
    fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        Certificate::signature_algorithm(self)
    }
    fn signature_value(&self) -> Option<&[u8]> {
        self.signature().as_bytes()
    }
}

impl Lintable for CertificateList {
    fn parse(der: &[u8]) -> der::Result<Self> {
        CertificateList::from_der(der)
    }
    fn tbs_der(&self) -> der::Result<Vec<u8>> {
        self.tbs_cert_list.to_der()
    }
    fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.signature_algorithm
    }
    fn signature_value(&self) -> Option<&[u8]> {
        self.signature.as_bytes()
    }
}

/// Sign `tbs` with the process's throwaway key of `algorithm` and lint the result: the
/// check that runs before any real key is asked to sign (and before quorum members are
/// asked to approve). Returns the warnings.
///
/// # Errors
/// [`Error::LintFailed`] with every error finding.
pub fn lint_tbs<T: Lintable>(
    what: &str,
    tbs: &[u8],
    algorithm: KeyAlgorithm,
    lint: impl Fn(&T) -> Vec<Finding>,
) -> Result<Vec<Finding>> {
    // The TBS (including its signature AlgorithmIdentifier) is exactly what the real key
    // will sign; only the signature value differs.
    let throwaway = throwaway_key(algorithm)?;
    let precert = assemble(tbs, &algorithm.signature_algorithm(), &throwaway.sign(tbs)?)?;
    let parsed = T::parse(&precert).map_err(der_error("signed structure"))?;
    let (errors, warnings): (Vec<_>, Vec<_>) = lint(&parsed)
        .into_iter()
        .partition(|f| f.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(Error::LintFailed {
            what: what.into(),
            findings: errors,
        });
    }
    Ok(warnings)
}

/// The heart of issuance, shared by certificates and CRLs: lint with a throwaway key,
/// sign with `issuer`, then require the signed TBS to be byte-identical to `tbs`, the
/// signature to verify with the issuer's public key, and the result to lint again.
///
/// # Errors
/// Lint findings (then the issuer was never asked), signer failures, check failures.
pub fn sign_linted<T: Lintable>(
    what: &str,
    tbs: &[u8],
    issuer: &dyn Signer,
    lint: impl Fn(&T) -> Vec<Finding>,
) -> Result<Signed> {
    let algorithm = issuer.algorithm().signature_algorithm();
    let parse = |der: &[u8]| T::parse(der).map_err(der_error("signed structure"));
    // 1. Lint before the real key signs.
    let warnings = lint_tbs(what, tbs, issuer.algorithm(), &lint)?;

    // 2. The real signature.
    tracing::info!(signer = %issuer.describe(), %what, "requesting signature");
    let signature = issuer.sign(tbs)?;
    let der = assemble(tbs, &algorithm, &signature)?;

    // 3. Re-parse what we are about to hand out and check it end to end.
    let signed = parse(&der)?;
    if signed.tbs_der().map_err(der_error("TBS"))? != tbs {
        return Err(Error::TbsMismatch { what: what.into() });
    }
    let value = signed
        .signature_value()
        .ok_or_else(|| Error::BadSignature {
            what: what.into(),
            reason: "signature BIT STRING has unused bits".into(),
        })?;
    verify_signature(
        issuer.public_key(),
        signed.signature_algorithm(),
        tbs,
        value,
        what,
    )?;
    let after: Vec<Finding> = lint(&signed);
    if after.iter().any(|f| f.severity == Severity::Error) {
        return Err(Error::LintFailed {
            what: what.into(),
            findings: after,
        });
    }
    Ok(Signed { der, warnings })
}

/// The process's throwaway lint key for `algorithm`: generated on first use, kept in
/// memory only, never used for anything but signing what is about to be linted.
fn throwaway_key(algorithm: KeyAlgorithm) -> Result<&'static MemorySigner> {
    static P384: OnceLock<MemorySigner> = OnceLock::new();
    static ED25519: OnceLock<MemorySigner> = OnceLock::new();
    let cell = match algorithm {
        KeyAlgorithm::EcdsaP384 => &P384,
        KeyAlgorithm::Ed25519 => &ED25519,
    };
    if let Some(key) = cell.get() {
        return Ok(key);
    }
    let key = MemorySigner::generate(algorithm)?;
    Ok(cell.get_or_init(|| key))
}

/// The public half of an issuer: all that building a TBS needs (no signing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The issuer key's algorithm (fixes the TBS signature AlgorithmIdentifier).
    pub algorithm: KeyAlgorithm,
    /// The issuer's public key.
    pub spki: SubjectPublicKeyInfoOwned,
}

impl IssuerKey {
    /// The public half of a signer.
    pub fn of_signer(signer: &dyn Signer) -> Self {
        Self {
            algorithm: signer.algorithm(),
            spki: signer.public_key().clone(),
        }
    }

    /// The key certified by an issuer certificate.
    ///
    /// # Errors
    /// The key is neither P-384 nor Ed25519.
    pub fn of_certificate(cert: &Certificate) -> Result<Self> {
        let spki = cert.tbs_certificate().subject_public_key_info().clone();
        let algorithm = KeyAlgorithm::of_spki(&spki).ok_or_else(|| Error::Certificate {
            what: cert.tbs_certificate().subject().to_string(),
            reason: "issuer key is neither P-384 nor Ed25519".into(),
        })?;
        Ok(Self { algorithm, spki })
    }
}

/// The TBS bytes of a certificate of `profile` for `subject_key`, valid
/// `not_before..not_after`, to be signed by `issuer`; a fresh random serial. Also returns
/// a description ("certificate for CN=…") for messages.
///
/// # Errors
/// Encoding failures, or no randomness for the serial.
pub fn build_certificate_tbs<P: BuilderProfile>(
    profile: P,
    subject_key: SubjectPublicKeyInfoOwned,
    not_before: SystemTime,
    not_after: SystemTime,
    issuer: &IssuerKey,
) -> Result<(String, Vec<u8>)> {
    let validity = Validity::new(to_time(not_before)?, to_time(not_after)?);
    let what = format!("certificate for {}", profile.get_subject());
    let mut builder = CertificateBuilder::new(profile, random_serial()?, validity, subject_key)
        .map_err(builder_error)?;
    let tbs = builder.finalize(issuer).map_err(builder_error)?;
    Ok((what, tbs))
}

/// Issue a certificate of `profile` for `subject_key`, valid `not_before..not_after`,
/// signed by `issuer` after linting with `lint`.
///
/// # Errors
/// Lint findings (nothing was signed), signer failures, or a post-signature check failure.
pub fn issue_certificate<P: BuilderProfile>(
    profile: P,
    subject_key: SubjectPublicKeyInfoOwned,
    not_before: SystemTime,
    not_after: SystemTime,
    issuer: &dyn Signer,
    lint: impl Fn(&Certificate) -> Vec<Finding>,
) -> Result<Signed> {
    let issuer_key = IssuerKey::of_signer(issuer);
    let (what, tbs) =
        build_certificate_tbs(profile, subject_key, not_before, not_after, &issuer_key)?;
    sign_linted(&what, &tbs, issuer, lint)
}

/// Convert a time to an X.509 `Time` (UTCTime through 2049, then GeneralizedTime).
///
/// # Errors
/// Times before 1970 or after 9999.
pub fn to_time(time: SystemTime) -> Result<Time> {
    Time::try_from(time).map_err(der_error("time"))
}

fn builder_error(source: x509_cert::builder::Error) -> Error {
    Error::CertificateBuilder { source }
}

// x509-cert's builder asks for a keypair to fill in the TBS signature AlgorithmIdentifier
// and the issuer's public key; `IssuerKey` provides both and never signs.

/// A public key in the form x509-cert's builder takes (an encoded SubjectPublicKeyInfo).
#[derive(Clone, Debug)]
pub struct SpkiPublicKey(SubjectPublicKeyInfoOwned);

impl EncodePublicKey for SpkiPublicKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::encode_msg(&self.0)?)
    }
}

impl signature::Keypair for IssuerKey {
    type VerifyingKey = SpkiPublicKey;
    fn verifying_key(&self) -> SpkiPublicKey {
        SpkiPublicKey(self.spki.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for IssuerKey {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.algorithm.signature_algorithm())
    }
}
