//! The one error type of this crate: which input, or which certificate, broke which rule.

use std::fmt;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::oid::Oid;
use crate::times::rfc3339;

/// Where a certificate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Position {
    /// The first certificate of the chain file.
    Leaf,
    /// The n-th certificate after the leaf in the chain file, counting from 1 (file order,
    /// which is not necessarily path order).
    Intermediate(usize),
    /// The pinned root.
    Root,
    /// The first certificate of the chain file when it is a CA checked with
    /// [`crate::verify_ca`] (a delegate), not a leaf.
    Ca,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leaf => f.write_str("leaf"),
            Self::Intermediate(n) => write!(f, "intermediate {n}"),
            Self::Root => f.write_str("root"),
            Self::Ca => f.write_str("CA"),
        }
    }
}

impl Position {
    /// The certificate's index in the chain file (0: the leaf, or the CA checked with
    /// `--ca`; n: intermediate n); `None` for the pinned root, which is not in the file.
    pub fn index(self) -> Option<usize> {
        match self {
            Self::Leaf | Self::Ca => Some(0),
            Self::Intermediate(n) => Some(n),
            Self::Root => None,
        }
    }

    /// What the certificate is: `leaf`, `intermediate`, `root` or `ca`.
    pub fn role(self) -> &'static str {
        match self {
            Self::Leaf => "leaf",
            Self::Intermediate(_) => "intermediate",
            Self::Root => "root",
            Self::Ca => "ca",
        }
    }
}

/// JSON: `"position"` is the index in the chain file (a number, `null` for the root) and
/// `"role"` says what the certificate is, so scripts need not parse `intermediate 1`.
impl Serialize for CertRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("CertRef", 4)?;
        s.serialize_field("position", &self.position.index())?;
        s.serialize_field("role", self.position.role())?;
        s.serialize_field("subject", &self.subject)?;
        s.serialize_field("serial", &self.serial)?;
        s.end()
    }
}

/// Names one certificate: where it is, its subject (RFC 4514) and its serial (hex).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertRef {
    /// Leaf, intermediate n (chain-file order) or root.
    pub position: Position,
    /// Subject as an RFC 4514 string, e.g. `CN=Rust releases delegate,O=Rust Project`.
    pub subject: String,
    /// Serial number, lower-case hex without leading zero bytes.
    pub serial: String,
}

impl fmt::Display for CertRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = if self.subject.is_empty() {
            "<empty subject>"
        } else {
            &self.subject
        };
        write!(f, "{} {subject} (serial {})", self.position, self.serial)
    }
}

/// Why a chain was not accepted, or why an input could not be read.
///
/// Every variant about a certificate names it ([`CertRef`]) and the rule it broke; variants
/// about a CRL or an input name the file. [`Error::rule`] is a stable kebab-case name for
/// the rule (the `rule` field of the JSON form).
#[derive(Debug, thiserror::Error, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Error {
    // ---- inputs ----
    /// A file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[serde(serialize_with = "display")]
        source: std::io::Error,
    },

    /// A PEM file is malformed (bad base64, missing END line, ...).
    #[error("{file}: malformed PEM: {detail}")]
    MalformedPem {
        /// The file.
        file: String,
        /// What the PEM parser said.
        detail: String,
    },

    /// A PEM file holds a section of another kind (e.g. a private key in a chain file).
    #[error("{file}: unexpected PEM section {label}, expected only {expected}")]
    UnexpectedPemSection {
        /// The file.
        file: String,
        /// The kind of the unexpected section.
        label: String,
        /// What the file should hold.
        expected: &'static str,
    },

    /// A file holds no certificate (or no CRL).
    #[error("{file}: no {expected} found")]
    NothingFound {
        /// The file.
        file: String,
        /// What the file should hold.
        expected: &'static str,
    },

    /// A file that must hold exactly one object (root, CRL) holds several.
    #[error("{file}: expected exactly one {expected}, found {count}")]
    NotSingle {
        /// The file.
        file: String,
        /// What the file should hold.
        expected: &'static str,
        /// How many it holds.
        count: usize,
    },

    /// A certificate is not valid DER X.509.
    #[error("{file}: certificate #{index} is not a valid DER X.509 certificate: {source}")]
    MalformedCert {
        /// The file.
        file: String,
        /// Index of the certificate in the file, from 0.
        index: usize,
        /// The DER error (kind and position).
        #[serde(serialize_with = "display")]
        source: der::Error,
    },

    /// A certificate parses as X.509 but the path validator refuses it (e.g. an unsupported
    /// critical extension).
    #[error("{file}: certificate #{index} is rejected by the path validator: {source}")]
    UnsupportedCert {
        /// The file.
        file: String,
        /// Index of the certificate in the file, from 0.
        index: usize,
        /// The validator's error.
        #[serde(serialize_with = "display")]
        source: webpki::Error,
    },

    /// A CRL is not valid DER.
    #[error("{file}: not a valid DER X.509 CRL: {source}")]
    MalformedCrl {
        /// The file.
        file: String,
        /// The DER error (kind and position).
        #[serde(serialize_with = "display")]
        source: der::Error,
    },

    /// A CRL parses but the path validator refuses it (delta or indirect CRL, no nextUpdate, ...).
    #[error("{file}: CRL rejected by the path validator: {source}")]
    UnsupportedCrl {
        /// The file.
        file: String,
        /// The validator's error.
        #[serde(serialize_with = "display")]
        source: webpki::Error,
    },

    /// A dotted OID (e.g. a requested EKU) is not a valid OID.
    #[error("invalid OID {input:?}: {reason}")]
    InvalidOid {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The verification time cannot be used (before 1970).
    #[error("verification time {} is before 1970-01-01", rfc3339(*.at))]
    TimeOutOfRange {
        /// The requested time.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },

    // ---- certificates ----
    /// The top certificate of the chain is issued by neither the pinned root nor another
    /// certificate of the chain (wrong root, or missing intermediate).
    #[error("{cert}: unknown issuer {issuer}; the pinned root is {root}")]
    UnknownIssuer {
        /// The highest certificate that could be chained by name.
        cert: Box<CertRef>,
        /// Its issuer name (RFC 4514).
        issuer: String,
        /// The pinned root's subject (RFC 4514).
        root: String,
    },

    /// A certificate's signature does not verify with its issuer's public key.
    #[error("{cert}: signature does not verify with the public key of its issuer {issuer}")]
    BadSignature {
        /// The certificate whose signature is bad.
        cert: Box<CertRef>,
        /// The issuer whose key was used.
        issuer: Box<CertRef>,
    },

    /// A certificate is signed with an algorithm this verifier does not accept (accepted:
    /// ECDSA P-384/SHA-384, Ed25519), or one that does not match the
    /// issuer's key type.
    #[error("{cert}: signature algorithm {algorithm} is not accepted for issuer {issuer}")]
    UnsupportedSignatureAlgorithm {
        /// The certificate.
        cert: Box<CertRef>,
        /// The issuer whose key was used.
        issuer: Box<CertRef>,
        /// The certificate's signatureAlgorithm OID, dotted.
        algorithm: String,
    },

    /// A certificate has expired at the verification time.
    #[error("{cert}: expired: notAfter {} is before {}", rfc3339(*.not_after), rfc3339(*.at))]
    Expired {
        /// The expired certificate.
        cert: Box<CertRef>,
        /// Verification time.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The certificate's notAfter.
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
    },

    /// A certificate is not yet valid at the verification time.
    #[error("{cert}: not yet valid: notBefore {} is after {}", rfc3339(*.not_before), rfc3339(*.at))]
    NotYetValid {
        /// The certificate.
        cert: Box<CertRef>,
        /// Verification time.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The certificate's notBefore.
        #[serde(with = "time::serde::rfc3339")]
        not_before: OffsetDateTime,
    },

    /// A non-root certificate has no extended key usage extension (or an empty one); every
    /// certificate below the root must carry the purpose's EKU.
    #[error(
        "{cert}: no extended key usage; purpose {purpose} requires EKU {expected} in every certificate below the root"
    )]
    MissingEku {
        /// The certificate without EKU.
        cert: Box<CertRef>,
        /// The purpose's name.
        purpose: String,
        /// The purpose's EKU OID.
        expected: Oid,
    },

    /// A non-root certificate has EKUs, but not the purpose's.
    #[error("{cert}: extended key usage [{}] does not include {expected} required for purpose {purpose}", join(.found))]
    WrongEku {
        /// The certificate.
        cert: Box<CertRef>,
        /// The purpose's name.
        purpose: String,
        /// The purpose's EKU OID.
        expected: Oid,
        /// The EKU OIDs the certificate has.
        found: Vec<Oid>,
    },

    /// A CA's pathLenConstraint is smaller than the number of CA certificates below it.
    #[error(
        "{cert}: pathLenConstraint {path_len} allows {path_len} CA certificate(s) below it, the path has {sub_cas}"
    )]
    PathLenViolated {
        /// The constrained CA.
        cert: Box<CertRef>,
        /// Its pathLenConstraint.
        path_len: u8,
        /// Number of CA certificates between it and the leaf.
        sub_cas: usize,
    },

    /// A certificate is used as an issuer but is not a CA (basicConstraints cA not true).
    #[error("{cert}: issues another certificate of the path but is not a CA")]
    NotACa {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// The leaf is a CA certificate.
    #[error("{cert}: the leaf is a CA certificate")]
    CaAsLeaf {
        /// The leaf.
        cert: Box<CertRef>,
    },

    /// A certificate of the path is listed on a CRL of its issuer.
    #[error("{cert}: revoked on {} (reason: {}) according to CRL {crl} issued by {crl_issuer}", rfc3339(*.revocation_date), .reason.as_deref().unwrap_or("none given"))]
    Revoked {
        /// The revoked certificate.
        cert: Box<CertRef>,
        /// The CRL file.
        crl: String,
        /// The CRL's issuer (RFC 4514).
        crl_issuer: String,
        /// RFC 5280 reason code name (e.g. `keyCompromise`), if the entry has one.
        reason: Option<String>,
        /// The entry's revocationDate.
        #[serde(with = "time::serde::rfc3339")]
        revocation_date: OffsetDateTime,
    },

    // ---- the certificate profile (every certificate of the path, the root included) ----
    /// A certificate is not X.509 version 3.
    #[error("{cert}: X.509 version {version}, only version 3 is accepted")]
    NotV3 {
        /// The certificate.
        cert: Box<CertRef>,
        /// Its version (1, 2 or 3 as written on certificates).
        version: u8,
    },

    /// A serial number is zero, negative or longer than 20 octets (RFC 5280 §4.1.2.2).
    #[error("{cert}: serial number is {reason}")]
    BadSerial {
        /// The certificate.
        cert: Box<CertRef>,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A CA certificate has an empty subject.
    #[error("{cert}: CA certificate with an empty subject")]
    EmptySubject {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A CA certificate has no basicConstraints extension.
    #[error("{cert}: CA certificate without basicConstraints")]
    MissingBasicConstraints {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A CA certificate's basicConstraints is not critical.
    #[error("{cert}: basicConstraints of a CA certificate is not critical")]
    BasicConstraintsNotCritical {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A CA certificate (basicConstraints cA true) whose keyUsage lacks keyCertSign.
    #[error("{cert}: basicConstraints cA is true but keyUsage lacks keyCertSign")]
    CaWithoutKeyCertSign {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// An end-entity certificate with keyCertSign in its keyUsage.
    #[error("{cert}: end-entity certificate with keyCertSign in its keyUsage")]
    KeyCertSignInEndEntity {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A certificate has no keyUsage extension.
    #[error("{cert}: no keyUsage extension")]
    MissingKeyUsage {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A certificate's keyUsage is not critical.
    #[error("{cert}: keyUsage is not critical")]
    KeyUsageNotCritical {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// An end-entity certificate whose keyUsage lacks digitalSignature.
    #[error("{cert}: end-entity certificate whose keyUsage lacks digitalSignature")]
    MissingDigitalSignature {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A CA certificate has no subjectKeyIdentifier.
    #[error("{cert}: CA certificate without subjectKeyIdentifier")]
    MissingSubjectKeyIdentifier {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A subjectKeyIdentifier is marked critical.
    #[error("{cert}: subjectKeyIdentifier is critical")]
    SubjectKeyIdentifierCritical {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A certificate that is not self-issued has no authorityKeyIdentifier keyIdentifier.
    #[error("{cert}: no authorityKeyIdentifier with a keyIdentifier (required unless self-issued)")]
    MissingAuthorityKeyIdentifier {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// An authorityKeyIdentifier is marked critical.
    #[error("{cert}: authorityKeyIdentifier is critical")]
    AuthorityKeyIdentifierCritical {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A certificate's authorityKeyIdentifier is not its issuer's subjectKeyIdentifier.
    #[error(
        "{cert}: authorityKeyIdentifier does not match the subjectKeyIdentifier of its issuer {issuer}"
    )]
    AuthorityKeyIdentifierMismatch {
        /// The certificate.
        cert: Box<CertRef>,
        /// Its issuer on the path.
        issuer: Box<CertRef>,
    },

    /// The root's authorityKeyIdentifier is not just a keyIdentifier equal to its own
    /// subjectKeyIdentifier.
    #[error("{cert}: the root's authorityKeyIdentifier {reason}")]
    RootAuthorityKeyIdentifier {
        /// The root.
        cert: Box<CertRef>,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The root has an extended key usage extension.
    #[error("{cert}: the root has an extended key usage extension")]
    EkuInRoot {
        /// The root.
        cert: Box<CertRef>,
    },

    /// An extended key usage extension is marked critical.
    #[error("{cert}: extended key usage is critical")]
    EkuCritical {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// An extended key usage extension contains anyExtendedKeyUsage (2.5.29.37.0).
    #[error("{cert}: extended key usage contains anyExtendedKeyUsage")]
    AnyExtendedKeyUsage {
        /// The certificate.
        cert: Box<CertRef>,
    },

    /// A critical extension this verifier does not process.
    #[error("{cert}: unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// The certificate.
        cert: Box<CertRef>,
        /// The extension's OID, dotted.
        oid: String,
    },

    /// An extension that does not decode as its type, or appears twice.
    #[error("{cert}: malformed extension {oid}: {detail}")]
    MalformedExtension {
        /// The certificate.
        cert: Box<CertRef>,
        /// The extension's OID, dotted.
        oid: String,
        /// What is wrong with it.
        detail: String,
    },

    /// A certificate's validity period is not inside its issuer's.
    #[error("{cert}: validity {}..{} is not inside that of its issuer {issuer}", rfc3339(*.not_before), rfc3339(*.not_after))]
    ValidityOutsideIssuer {
        /// The certificate.
        cert: Box<CertRef>,
        /// Its issuer on the path.
        issuer: Box<CertRef>,
        /// The certificate's notBefore.
        #[serde(with = "time::serde::rfc3339")]
        not_before: OffsetDateTime,
        /// The certificate's notAfter.
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
    },

    /// A public key of a type the policy does not allow: ECDSA P-384 and Ed25519, and RSA of
    /// at least 2048 bits in an end entity (the CloudHSM cluster certificate) only.
    #[error(
        "{cert}: public key algorithm {algorithm} is not allowed (P-384 or Ed25519; RSA of at least 2048 bits only in an end entity)"
    )]
    DisallowedKeyAlgorithm {
        /// The certificate.
        cert: Box<CertRef>,
        /// The key's algorithm (and curve), dotted OIDs.
        algorithm: String,
    },

    /// A certificate signed with an algorithm the policy does not allow (allowed:
    /// ecdsa-with-SHA384, Ed25519).
    #[error(
        "{cert}: signature algorithm {algorithm} is not allowed (ecdsa-with-SHA384 or Ed25519)"
    )]
    DisallowedSignatureAlgorithm {
        /// The certificate.
        cert: Box<CertRef>,
        /// The signatureAlgorithm OID, dotted.
        algorithm: String,
    },

    // ---- purposes ----
    /// A purpose name that the policy (built in or given) does not define.
    #[error("unknown purpose {name:?}; known: {}", .known.join(", "))]
    UnknownPurpose {
        /// The name asked for.
        name: String,
        /// The purposes the policy defines.
        known: Vec<String>,
    },

    /// A policy file whose `[purposes]` cannot be read.
    #[error("{file}: cannot read the purposes of the policy: {detail}")]
    MalformedPolicy {
        /// The policy file.
        file: String,
        /// What is wrong.
        detail: String,
    },

    // ---- CRLs ----
    /// A CRL names an issuer that is a CA of these inputs, but its signature does not verify
    /// with that CA's key (forged, or signed by the wrong key).
    #[error("CRL {crl}: signature does not verify with the key of its issuer {issuer}")]
    CrlBadSignature {
        /// The CRL file.
        crl: String,
        /// The issuer the CRL names (RFC 4514).
        issuer: String,
    },

    /// A CRL's issuer is neither the root nor a certificate of the chain, so it cannot be
    /// authenticated.
    #[error("CRL {crl}: issuer {issuer} is neither the pinned root nor a certificate of the chain")]
    CrlUnknownIssuer {
        /// The CRL file.
        crl: String,
        /// The issuer the CRL names (RFC 4514).
        issuer: String,
    },

    /// A CRL's nextUpdate is not after the verification time.
    #[error("CRL {crl} of {issuer}: expired: nextUpdate {} is not after {}", rfc3339(*.next_update), rfc3339(*.at))]
    CrlExpired {
        /// The CRL file.
        crl: String,
        /// The CRL's issuer (RFC 4514).
        issuer: String,
        /// Verification time.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The CRL's nextUpdate.
        #[serde(with = "time::serde::rfc3339")]
        next_update: OffsetDateTime,
    },

    /// `--require-crl`: no CRL was given (or found in `--crl-dir`) for a CA of the
    /// validated path, so the revocation of the certificate it issued was not checked.
    #[error(
        "no CRL of {cert} (issuer of {subject} at level {level} of the path) was given: --require-crl needs a current CRL of every CA in the path"
    )]
    CrlRequired {
        /// The CA without a CRL.
        cert: Box<CertRef>,
        /// The certificate it issued, whose revocation was not checked (RFC 4514).
        subject: String,
        /// That certificate's level in the path (0: the leaf or the CA checked with --ca).
        level: usize,
    },

    /// A CRL's issuer has a keyUsage extension without cRLSign.
    #[error("CRL {crl}: issuer {issuer} is not allowed to sign CRLs (keyUsage lacks cRLSign)")]
    CrlIssuerNotCrlSigner {
        /// The CRL file.
        crl: String,
        /// The issuer.
        issuer: Box<CertRef>,
    },

    /// Path validation failed for a reason this crate cannot attribute to one certificate.
    #[error("path validation failed: {source}")]
    Path {
        /// The validator's error.
        #[serde(serialize_with = "display")]
        source: webpki::Error,
    },

    // ---- CA chains (`verify_ca`) ----
    /// [`crate::verify_ca`] was given a chain whose first certificate is not a CA.
    #[error(
        "{cert}: not a CA certificate (basicConstraints cA is not true); verify a leaf with verify, not verify_ca"
    )]
    LeafAsCa {
        /// The first certificate of the chain.
        cert: Box<CertRef>,
    },

    /// In a CA chain (ordered, the CA first), a certificate's issuer is not the subject of the
    /// certificate after it.
    #[error(
        "{cert}: issuer {issuer} is not the subject of the next certificate of the chain, {next}"
    )]
    IssuerNotNext {
        /// The certificate.
        cert: Box<CertRef>,
        /// Its issuer name (RFC 4514).
        issuer: String,
        /// The certificate after it in the chain.
        next: Box<CertRef>,
    },

    // ---- manifests and lock files ----
    /// A channel manifest is not what rustup reads (see [`crate::manifest`]).
    #[error("{file}: malformed channel manifest: {detail}")]
    MalformedManifest {
        /// The manifest file.
        file: String,
        /// What is wrong, naming the key.
        detail: String,
    },

    /// A downloaded file's name is not listed in the signed manifest.
    #[error("{file}: not listed in the manifest {manifest}")]
    NotInManifest {
        /// The downloaded file.
        file: String,
        /// The manifest file.
        manifest: String,
    },

    /// A downloaded file does not have the SHA-256 the signed manifest lists for it.
    #[error("{file}: SHA-256 {found}, but the manifest {manifest} lists {expected}")]
    ManifestDigestMismatch {
        /// The downloaded file.
        file: String,
        /// The manifest file.
        manifest: String,
        /// The manifest's digest, hex.
        expected: String,
        /// The file's digest, hex.
        found: String,
    },

    /// A file the signed manifest lists was not downloaded (when every one is required).
    #[error("{file}: listed in the manifest {manifest} but not downloaded")]
    ManifestFileMissing {
        /// The listed file name.
        file: String,
        /// The manifest file.
        manifest: String,
    },

    /// A `Cargo.lock` could not be read as one (see [`crate::lockfile`]).
    #[error("{file}: malformed Cargo.lock: {detail}")]
    MalformedLockfile {
        /// The lock file.
        file: String,
        /// What is wrong, naming the package.
        detail: String,
    },

    /// A crate of the lock file is not in the download folder.
    #[error("{file}: missing (the lock file pins {package})")]
    CrateMissing {
        /// Where the `.crate` file was expected.
        file: String,
        /// `name version`.
        package: String,
    },

    /// A downloaded crate does not have the checksum the lock file pins.
    #[error("{file}: SHA-256 {found}, but the lock file pins {expected}")]
    CrateChecksumMismatch {
        /// The `.crate` file.
        file: String,
        /// The lock file's checksum, hex.
        expected: String,
        /// The file's digest, hex.
        found: String,
    },

    // ---- artifact signatures (docs/signatures.md) ----
    /// A signature file is larger than the verifier reads.
    #[error("{file}: larger than {max} bytes, not a signature file")]
    SigTooLarge {
        /// The signature file.
        file: String,
        /// The limit.
        max: u64,
    },

    /// A signature file's text is not a CMS PEM block (plus an optional bundle).
    #[error("{file}: malformed signature file: {detail}")]
    MalformedSig {
        /// The signature file.
        file: String,
        /// What is wrong.
        detail: String,
    },

    /// The CMS is not DER (BER, truncated, trailing data, wrong types).
    #[error("{file}: the CMS signature is not valid DER: {source}")]
    MalformedCms {
        /// The signature file.
        file: String,
        /// The DER error.
        #[serde(serialize_with = "display")]
        source: der::Error,
    },

    /// A CMS field does not have the one value docs/signatures.md allows.
    #[error("{file}: CMS {field}: {detail}")]
    CmsProfile {
        /// The signature file.
        file: String,
        /// The field, as RFC 5652 names it.
        field: &'static str,
        /// What it holds and what is required.
        detail: String,
    },

    /// The signed content is inside the CMS; signatures are detached.
    #[error("{file}: the CMS carries its content (eContent present); signatures must be detached")]
    CmsContentPresent {
        /// The signature file.
        file: String,
    },

    /// Not exactly one SignerInfo.
    #[error("{file}: {count} signers in the CMS, exactly one is allowed")]
    CmsSignerCount {
        /// The signature file.
        file: String,
        /// How many.
        count: usize,
    },

    /// The CMS certificates are not exactly the leaf and the delegate that issued it.
    #[error("{file}: CMS certificates: {detail}")]
    CmsCertificates {
        /// The signature file.
        file: String,
        /// What is wrong.
        detail: String,
    },

    /// The digest algorithm is not the one the leaf's key requires.
    #[error(
        "{file}: digest algorithm {found} does not match the {key} leaf key, which requires {expected}"
    )]
    CmsDigestAlgorithm {
        /// The signature file.
        file: String,
        /// What the CMS has.
        found: String,
        /// What the key requires.
        expected: &'static str,
        /// The key type.
        key: &'static str,
    },

    /// The signed attributes are not exactly content-type, message-digest and signing-time.
    #[error("{file}: signed attributes: {detail}")]
    CmsSignedAttributes {
        /// The signature file.
        file: String,
        /// What is wrong.
        detail: String,
    },

    /// The content's digest differs from the signed message-digest: the file was changed.
    #[error("{file}: the file ({size} bytes) does not match the signed message digest")]
    MessageDigestMismatch {
        /// The signed file.
        file: String,
        /// Its size.
        size: u64,
    },

    /// The signature over the signed attributes does not verify with the leaf's key.
    #[error("{file}: the CMS signature does not verify with the leaf's {key} key")]
    CmsBadSignature {
        /// The signature file.
        file: String,
        /// The key type.
        key: &'static str,
    },

    /// The signing-time attribute is outside the leaf's validity or after the proven time.
    #[error("{file}: signing-time {}: {detail}", rfc3339(*.signing_time))]
    SigningTime {
        /// The signature file.
        file: String,
        /// The signing-time attribute.
        #[serde(with = "time::serde::rfc3339")]
        signing_time: OffsetDateTime,
        /// Which bound it breaks.
        detail: String,
    },

    /// A certificate of the signature has expired and nothing proves the signature was made
    /// while it was valid.
    #[error(
        "{file}: {cert} expired on {} (now {}) and there is no proof of time: pass the log's \
         key (--log-vkey) and the witnesses' keys (--witness-vkey) so that the signature's \
         log bundle proves when it was made",
        rfc3339(*.not_after),
        rfc3339(*.at)
    )]
    NoProofOfTime {
        /// The signature file.
        file: String,
        /// The expired certificate.
        cert: Box<CertRef>,
        /// Its notAfter.
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
        /// The verification time (now).
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },

    /// Log trust was given but the signature file has no bundle.
    #[error(
        "{file}: no log bundle after the CMS block, but a log proof is required (log key given)"
    )]
    NoLogProof {
        /// The signature file.
        file: String,
    },

    /// The stapled bundle does not verify (checkpoint signature, witnesses, inclusion, the
    /// delegate's entry).
    #[error("{file}: log proof: [{check}] {detail}")]
    LogProof {
        /// The signature file.
        file: String,
        /// The failed check, as rust-pki-tlog names it (`inclusion`, `witnesses`, …).
        check: &'static str,
        /// The log library's message.
        detail: String,
    },

    /// The bundle's certificates are not byte-identical to the CMS's.
    #[error("{file}: the bundle's certificates differ from the CMS's: {detail}")]
    BundleCertificates {
        /// The signature file.
        file: String,
        /// Which one.
        detail: String,
    },

    /// The bundle's log entry is not the artifact entry of this file signed by this leaf.
    #[error("{file}: the log entry does not match: {field} is {logged}, expected {actual}")]
    LogEntryMismatch {
        /// The signature file.
        file: String,
        /// `kind`, `name`, `size`, `sha256` or `signer-sha256`.
        field: &'static str,
        /// What the entry says.
        logged: String,
        /// What this file and signature have.
        actual: String,
    },
}

impl Error {
    /// Stable kebab-case name of the broken rule (also the `rule` field of the JSON form).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Read { .. } => "read",
            Self::MalformedPem { .. } => "malformed-pem",
            Self::UnexpectedPemSection { .. } => "unexpected-pem-section",
            Self::NothingFound { .. } => "nothing-found",
            Self::NotSingle { .. } => "not-single",
            Self::MalformedCert { .. } => "malformed-cert",
            Self::UnsupportedCert { .. } => "unsupported-cert",
            Self::MalformedCrl { .. } => "malformed-crl",
            Self::UnsupportedCrl { .. } => "unsupported-crl",
            Self::InvalidOid { .. } => "invalid-oid",
            Self::TimeOutOfRange { .. } => "time-out-of-range",
            Self::UnknownIssuer { .. } => "unknown-issuer",
            Self::BadSignature { .. } => "bad-signature",
            Self::UnsupportedSignatureAlgorithm { .. } => "unsupported-signature-algorithm",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not-yet-valid",
            Self::MissingEku { .. } => "missing-eku",
            Self::WrongEku { .. } => "wrong-eku",
            Self::PathLenViolated { .. } => "path-len-violated",
            Self::NotACa { .. } => "not-a-ca",
            Self::CaAsLeaf { .. } => "ca-as-leaf",
            Self::Revoked { .. } => "revoked",
            Self::NotV3 { .. } => "not-v3",
            Self::BadSerial { .. } => "bad-serial",
            Self::EmptySubject { .. } => "empty-subject",
            Self::MissingBasicConstraints { .. } => "missing-basic-constraints",
            Self::BasicConstraintsNotCritical { .. } => "basic-constraints-not-critical",
            Self::CaWithoutKeyCertSign { .. } => "ca-without-key-cert-sign",
            Self::KeyCertSignInEndEntity { .. } => "key-cert-sign-in-end-entity",
            Self::MissingKeyUsage { .. } => "missing-key-usage",
            Self::KeyUsageNotCritical { .. } => "key-usage-not-critical",
            Self::MissingDigitalSignature { .. } => "missing-digital-signature",
            Self::MissingSubjectKeyIdentifier { .. } => "missing-subject-key-identifier",
            Self::SubjectKeyIdentifierCritical { .. } => "subject-key-identifier-critical",
            Self::MissingAuthorityKeyIdentifier { .. } => "missing-authority-key-identifier",
            Self::AuthorityKeyIdentifierCritical { .. } => "authority-key-identifier-critical",
            Self::AuthorityKeyIdentifierMismatch { .. } => "authority-key-identifier-mismatch",
            Self::RootAuthorityKeyIdentifier { .. } => "root-authority-key-identifier",
            Self::EkuInRoot { .. } => "eku-in-root",
            Self::EkuCritical { .. } => "eku-critical",
            Self::AnyExtendedKeyUsage { .. } => "any-extended-key-usage",
            Self::UnknownCriticalExtension { .. } => "unknown-critical-extension",
            Self::MalformedExtension { .. } => "malformed-extension",
            Self::ValidityOutsideIssuer { .. } => "validity-outside-issuer",
            Self::DisallowedKeyAlgorithm { .. } => "disallowed-key-algorithm",
            Self::DisallowedSignatureAlgorithm { .. } => "disallowed-signature-algorithm",
            Self::UnknownPurpose { .. } => "unknown-purpose",
            Self::MalformedPolicy { .. } => "malformed-policy",
            Self::CrlBadSignature { .. } => "crl-bad-signature",
            Self::CrlUnknownIssuer { .. } => "crl-unknown-issuer",
            Self::CrlExpired { .. } => "crl-expired",
            Self::CrlRequired { .. } => "crl-required",
            Self::CrlIssuerNotCrlSigner { .. } => "crl-issuer-not-crl-signer",
            Self::Path { .. } => "path",
            Self::LeafAsCa { .. } => "leaf-as-ca",
            Self::IssuerNotNext { .. } => "issuer-not-next",
            Self::MalformedManifest { .. } => "malformed-manifest",
            Self::NotInManifest { .. } => "not-in-manifest",
            Self::ManifestDigestMismatch { .. } => "manifest-digest-mismatch",
            Self::ManifestFileMissing { .. } => "manifest-file-missing",
            Self::MalformedLockfile { .. } => "malformed-lockfile",
            Self::CrateMissing { .. } => "crate-missing",
            Self::CrateChecksumMismatch { .. } => "crate-checksum-mismatch",
            Self::SigTooLarge { .. } => "sig-too-large",
            Self::MalformedSig { .. } => "malformed-sig",
            Self::MalformedCms { .. } => "malformed-cms",
            Self::CmsProfile { .. } => "cms-profile",
            Self::CmsContentPresent { .. } => "cms-content-present",
            Self::CmsSignerCount { .. } => "cms-signer-count",
            Self::CmsCertificates { .. } => "cms-certificates",
            Self::CmsDigestAlgorithm { .. } => "cms-digest-algorithm",
            Self::CmsSignedAttributes { .. } => "cms-signed-attributes",
            Self::MessageDigestMismatch { .. } => "message-digest-mismatch",
            Self::CmsBadSignature { .. } => "cms-bad-signature",
            Self::SigningTime { .. } => "signing-time",
            Self::NoProofOfTime { .. } => "no-proof-of-time",
            Self::NoLogProof { .. } => "no-log-proof",
            Self::LogProof { .. } => "log-proof",
            Self::BundleCertificates { .. } => "bundle-certificates",
            Self::LogEntryMismatch { .. } => "log-entry-mismatch",
        }
    }

    /// The certificate that broke the rule, if the error is about one.
    pub fn cert(&self) -> Option<&CertRef> {
        match self {
            Self::UnknownIssuer { cert, .. }
            | Self::BadSignature { cert, .. }
            | Self::UnsupportedSignatureAlgorithm { cert, .. }
            | Self::Expired { cert, .. }
            | Self::NotYetValid { cert, .. }
            | Self::MissingEku { cert, .. }
            | Self::WrongEku { cert, .. }
            | Self::PathLenViolated { cert, .. }
            | Self::NotACa { cert }
            | Self::CaAsLeaf { cert }
            | Self::Revoked { cert, .. }
            | Self::CrlRequired { cert, .. }
            | Self::LeafAsCa { cert }
            | Self::NotV3 { cert, .. }
            | Self::BadSerial { cert, .. }
            | Self::EmptySubject { cert }
            | Self::MissingBasicConstraints { cert }
            | Self::BasicConstraintsNotCritical { cert }
            | Self::CaWithoutKeyCertSign { cert }
            | Self::KeyCertSignInEndEntity { cert }
            | Self::MissingKeyUsage { cert }
            | Self::KeyUsageNotCritical { cert }
            | Self::MissingDigitalSignature { cert }
            | Self::MissingSubjectKeyIdentifier { cert }
            | Self::SubjectKeyIdentifierCritical { cert }
            | Self::MissingAuthorityKeyIdentifier { cert }
            | Self::AuthorityKeyIdentifierCritical { cert }
            | Self::AuthorityKeyIdentifierMismatch { cert, .. }
            | Self::RootAuthorityKeyIdentifier { cert, .. }
            | Self::EkuInRoot { cert }
            | Self::EkuCritical { cert }
            | Self::AnyExtendedKeyUsage { cert }
            | Self::UnknownCriticalExtension { cert, .. }
            | Self::MalformedExtension { cert, .. }
            | Self::ValidityOutsideIssuer { cert, .. }
            | Self::DisallowedKeyAlgorithm { cert, .. }
            | Self::DisallowedSignatureAlgorithm { cert, .. }
            | Self::IssuerNotNext { cert, .. }
            | Self::NoProofOfTime { cert, .. } => Some(cert.as_ref()),
            _ => None,
        }
    }

    /// The input file the error is about (for CRL errors: the CRL file), if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Self::Read { file, .. }
            | Self::MalformedManifest { file, .. }
            | Self::NotInManifest { file, .. }
            | Self::ManifestDigestMismatch { file, .. }
            | Self::ManifestFileMissing { file, .. }
            | Self::MalformedLockfile { file, .. }
            | Self::CrateMissing { file, .. }
            | Self::CrateChecksumMismatch { file, .. }
            | Self::MalformedPem { file, .. }
            | Self::UnexpectedPemSection { file, .. }
            | Self::NothingFound { file, .. }
            | Self::NotSingle { file, .. }
            | Self::MalformedCert { file, .. }
            | Self::UnsupportedCert { file, .. }
            | Self::MalformedCrl { file, .. }
            | Self::UnsupportedCrl { file, .. }
            | Self::MalformedPolicy { file, .. }
            | Self::SigTooLarge { file, .. }
            | Self::MalformedSig { file, .. }
            | Self::MalformedCms { file, .. }
            | Self::CmsProfile { file, .. }
            | Self::CmsContentPresent { file }
            | Self::CmsSignerCount { file, .. }
            | Self::CmsCertificates { file, .. }
            | Self::CmsDigestAlgorithm { file, .. }
            | Self::CmsSignedAttributes { file, .. }
            | Self::MessageDigestMismatch { file, .. }
            | Self::CmsBadSignature { file, .. }
            | Self::SigningTime { file, .. }
            | Self::NoProofOfTime { file, .. }
            | Self::NoLogProof { file }
            | Self::LogProof { file, .. }
            | Self::BundleCertificates { file, .. }
            | Self::LogEntryMismatch { file, .. } => Some(file),
            Self::Revoked { crl, .. }
            | Self::CrlBadSignature { crl, .. }
            | Self::CrlUnknownIssuer { crl, .. }
            | Self::CrlExpired { crl, .. }
            | Self::CrlIssuerNotCrlSigner { crl, .. } => Some(crl),
            _ => None,
        }
    }

    /// Whether this attributed error explains the path validator's error `theirs`: same
    /// rule, and for validity errors the same date, so the right certificate is named.
    pub(crate) fn explains(&self, theirs: &webpki::Error) -> bool {
        use webpki::Error as W;
        #[allow(deprecated)] // matched only to recognise it; see `purpose::RequiredEku`
        match (self, theirs) {
            (Self::Expired { not_after, .. }, W::CertExpired { not_after: t, .. }) => {
                crate::times::unix_secs(*not_after) == Some(t.as_secs())
            }
            (Self::NotYetValid { not_before, .. }, W::CertNotValidYet { not_before: t, .. }) => {
                crate::times::unix_secs(*not_before) == Some(t.as_secs())
            }
            (
                Self::MissingEku { .. } | Self::WrongEku { .. },
                W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) | W::EmptyEkuExtension,
            ) => true,
            (Self::PathLenViolated { .. }, W::PathLenConstraintViolated)
            | (Self::NotACa { .. }, W::EndEntityUsedAsCa)
            | (Self::CaAsLeaf { .. }, W::CaUsedAsEndEntity)
            | (Self::BadSignature { .. }, W::InvalidSignatureForPublicKey)
            | (Self::Revoked { .. }, W::CertRevoked)
            | (Self::UnknownIssuer { .. }, W::UnknownIssuer) => true,
            (
                Self::UnsupportedSignatureAlgorithm { .. },
                W::UnsupportedSignatureAlgorithm
                | W::UnsupportedSignatureAlgorithmContext(_)
                | W::UnsupportedSignatureAlgorithmForPublicKey
                | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_),
            ) => true,
            _ => false,
        }
    }
}

fn display<T: fmt::Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn join(oids: &[Oid]) -> String {
    oids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rule()` and the serde tag are written separately; they must agree for every variant.
    #[test]
    fn rule_matches_json_tag_for_every_variant() {
        let cert = || {
            Box::new(CertRef {
                position: Position::Intermediate(1),
                subject: "CN=x".into(),
                serial: "01".into(),
            })
        };
        let file = || String::from("f.pem");
        let t = OffsetDateTime::UNIX_EPOCH;
        let oid = || "2.999.1.1".parse::<Oid>().unwrap();
        let der = || der::Error::from(der::ErrorKind::Failed);
        let errors = [
            Error::Read {
                file: file(),
                source: std::io::Error::other("x"),
            },
            Error::MalformedPem {
                file: file(),
                detail: "x".into(),
            },
            Error::UnexpectedPemSection {
                file: file(),
                label: "PrivateKey".into(),
                expected: "certificate",
            },
            Error::NothingFound {
                file: file(),
                expected: "CRL",
            },
            Error::NotSingle {
                file: file(),
                expected: "CRL",
                count: 2,
            },
            Error::MalformedCert {
                file: file(),
                index: 1,
                source: der(),
            },
            Error::UnsupportedCert {
                file: file(),
                index: 1,
                source: webpki::Error::BadDer,
            },
            Error::MalformedCrl {
                file: file(),
                source: der(),
            },
            Error::UnsupportedCrl {
                file: file(),
                source: webpki::Error::BadDer,
            },
            Error::InvalidOid {
                input: "1.40".into(),
                reason: "x",
            },
            Error::TimeOutOfRange { at: t },
            Error::UnknownIssuer {
                cert: cert(),
                issuer: "CN=y".into(),
                root: "CN=r".into(),
            },
            Error::BadSignature {
                cert: cert(),
                issuer: cert(),
            },
            Error::UnsupportedSignatureAlgorithm {
                cert: cert(),
                issuer: cert(),
                algorithm: "1.2.3".into(),
            },
            Error::Expired {
                cert: cert(),
                at: t,
                not_after: t,
            },
            Error::NotYetValid {
                cert: cert(),
                at: t,
                not_before: t,
            },
            Error::MissingEku {
                cert: cert(),
                purpose: "releases".into(),
                expected: oid(),
            },
            Error::WrongEku {
                cert: cert(),
                purpose: "releases".into(),
                expected: oid(),
                found: vec![oid()],
            },
            Error::PathLenViolated {
                cert: cert(),
                path_len: 0,
                sub_cas: 1,
            },
            Error::NotACa { cert: cert() },
            Error::CaAsLeaf { cert: cert() },
            Error::Revoked {
                cert: cert(),
                crl: file(),
                crl_issuer: "CN=y".into(),
                reason: None,
                revocation_date: t,
            },
            Error::NotV3 {
                cert: cert(),
                version: 2,
            },
            Error::BadSerial {
                cert: cert(),
                reason: "zero",
            },
            Error::EmptySubject { cert: cert() },
            Error::MissingBasicConstraints { cert: cert() },
            Error::BasicConstraintsNotCritical { cert: cert() },
            Error::CaWithoutKeyCertSign { cert: cert() },
            Error::KeyCertSignInEndEntity { cert: cert() },
            Error::MissingKeyUsage { cert: cert() },
            Error::KeyUsageNotCritical { cert: cert() },
            Error::MissingDigitalSignature { cert: cert() },
            Error::MissingSubjectKeyIdentifier { cert: cert() },
            Error::SubjectKeyIdentifierCritical { cert: cert() },
            Error::MissingAuthorityKeyIdentifier { cert: cert() },
            Error::AuthorityKeyIdentifierCritical { cert: cert() },
            Error::AuthorityKeyIdentifierMismatch {
                cert: cert(),
                issuer: cert(),
            },
            Error::RootAuthorityKeyIdentifier {
                cert: cert(),
                reason: "x",
            },
            Error::EkuInRoot { cert: cert() },
            Error::EkuCritical { cert: cert() },
            Error::AnyExtendedKeyUsage { cert: cert() },
            Error::UnknownCriticalExtension {
                cert: cert(),
                oid: "1.2.3".into(),
            },
            Error::MalformedExtension {
                cert: cert(),
                oid: "1.2.3".into(),
                detail: "x".into(),
            },
            Error::ValidityOutsideIssuer {
                cert: cert(),
                issuer: cert(),
                not_before: t,
                not_after: t,
            },
            Error::DisallowedKeyAlgorithm {
                cert: cert(),
                algorithm: "1.2.3".into(),
            },
            Error::DisallowedSignatureAlgorithm {
                cert: cert(),
                algorithm: "1.2.3".into(),
            },
            Error::UnknownPurpose {
                name: "x".into(),
                known: vec!["releases".into()],
            },
            Error::MalformedPolicy {
                file: file(),
                detail: "x".into(),
            },
            Error::CrlBadSignature {
                crl: file(),
                issuer: "CN=y".into(),
            },
            Error::CrlUnknownIssuer {
                crl: file(),
                issuer: "CN=y".into(),
            },
            Error::CrlExpired {
                crl: file(),
                issuer: "CN=y".into(),
                at: t,
                next_update: t,
            },
            Error::CrlRequired {
                cert: cert(),
                subject: "CN=x".into(),
                level: 0,
            },
            Error::CrlIssuerNotCrlSigner {
                crl: file(),
                issuer: cert(),
            },
            Error::Path {
                source: webpki::Error::BadDer,
            },
            Error::LeafAsCa { cert: cert() },
            Error::IssuerNotNext {
                cert: cert(),
                issuer: "CN=y".into(),
                next: cert(),
            },
            Error::MalformedManifest {
                file: file(),
                detail: "x".into(),
            },
            Error::NotInManifest {
                file: file(),
                manifest: file(),
            },
            Error::ManifestDigestMismatch {
                file: file(),
                manifest: file(),
                expected: "00".into(),
                found: "11".into(),
            },
            Error::ManifestFileMissing {
                file: file(),
                manifest: file(),
            },
            Error::MalformedLockfile {
                file: file(),
                detail: "x".into(),
            },
            Error::CrateMissing {
                file: file(),
                package: "serde 1.0.0".into(),
            },
            Error::CrateChecksumMismatch {
                file: file(),
                expected: "00".into(),
                found: "11".into(),
            },
            Error::SigTooLarge {
                file: file(),
                max: 1,
            },
            Error::MalformedSig {
                file: file(),
                detail: "x".into(),
            },
            Error::MalformedCms {
                file: file(),
                source: der(),
            },
            Error::CmsProfile {
                file: file(),
                field: "version",
                detail: "x".into(),
            },
            Error::CmsContentPresent { file: file() },
            Error::CmsSignerCount {
                file: file(),
                count: 2,
            },
            Error::CmsCertificates {
                file: file(),
                detail: "x".into(),
            },
            Error::CmsDigestAlgorithm {
                file: file(),
                found: "x".into(),
                expected: "y",
                key: "P-384",
            },
            Error::CmsSignedAttributes {
                file: file(),
                detail: "x".into(),
            },
            Error::MessageDigestMismatch {
                file: file(),
                size: 1,
            },
            Error::CmsBadSignature {
                file: file(),
                key: "P-384",
            },
            Error::SigningTime {
                file: file(),
                signing_time: t,
                detail: "x".into(),
            },
            Error::NoProofOfTime {
                file: file(),
                cert: cert(),
                not_after: t,
                at: t,
            },
            Error::NoLogProof { file: file() },
            Error::LogProof {
                file: file(),
                check: "inclusion",
                detail: "x".into(),
            },
            Error::BundleCertificates {
                file: file(),
                detail: "x".into(),
            },
            Error::LogEntryMismatch {
                file: file(),
                field: "name",
                logged: "a".into(),
                actual: "b".into(),
            },
        ];
        for error in &errors {
            let json = serde_json::to_value(error).unwrap();
            assert_eq!(json["rule"], error.rule(), "{error:?}");
            if let Some(cert) = error.cert() {
                assert_eq!(
                    json["cert"]["position"],
                    serde_json::json!(cert.position.index())
                );
                assert_eq!(json["cert"]["role"], cert.position.role());
            }
            assert!(!error.to_string().is_empty());
        }
    }
}
