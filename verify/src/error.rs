//! The one error type of this crate: which input, or which certificate, broke which rule.

use std::fmt;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::oid::Oid;
use crate::report::rfc3339;

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

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Names one certificate: where it is, its subject (RFC 4514) and its serial (hex).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
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
    /// ECDSA P-384/SHA-384, ECDSA P-256/SHA-256, Ed25519), or one that does not match the
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
            Self::CrlBadSignature { .. } => "crl-bad-signature",
            Self::CrlUnknownIssuer { .. } => "crl-unknown-issuer",
            Self::CrlExpired { .. } => "crl-expired",
            Self::CrlIssuerNotCrlSigner { .. } => "crl-issuer-not-crl-signer",
            Self::Path { .. } => "path",
            Self::LeafAsCa { .. } => "leaf-as-ca",
            Self::IssuerNotNext { .. } => "issuer-not-next",
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
            | Self::LeafAsCa { cert }
            | Self::IssuerNotNext { cert, .. } => Some(cert.as_ref()),
            _ => None,
        }
    }

    /// The input file the error is about (for CRL errors: the CRL file), if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Self::Read { file, .. }
            | Self::MalformedPem { file, .. }
            | Self::UnexpectedPemSection { file, .. }
            | Self::NothingFound { file, .. }
            | Self::NotSingle { file, .. }
            | Self::MalformedCert { file, .. }
            | Self::UnsupportedCert { file, .. }
            | Self::MalformedCrl { file, .. }
            | Self::UnsupportedCrl { file, .. } => Some(file),
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
                crate::report::unix_secs(*not_after) == Some(t.as_secs())
            }
            (Self::NotYetValid { not_before, .. }, W::CertNotValidYet { not_before: t, .. }) => {
                crate::report::unix_secs(*not_before) == Some(t.as_secs())
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
        ];
        for error in &errors {
            let json = serde_json::to_value(error).unwrap();
            assert_eq!(json["rule"], error.rule(), "{error:?}");
            if let Some(cert) = error.cert() {
                assert_eq!(json["cert"]["position"], cert.position.to_string());
            }
            assert!(!error.to_string().is_empty());
        }
    }
}
