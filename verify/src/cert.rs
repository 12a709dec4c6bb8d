//! Loaded certificates: the pinned [`Root`], the [`Chain`] to verify, and per-certificate
//! facts (names, validity, basicConstraints, EKU) read with x509-cert.

use std::path::Path;

use der::Decode;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};
use x509_cert::name::Name;

use crate::error::{CertRef, Error, Position};
use crate::intrinsic::{self, Facts};
use crate::oid::Oid;
use crate::pem::{self, Expected};
use crate::signed::{self, Check, Signed};
use crate::times::datetime;

/// One certificate as read from a file: its DER, its x509-cert parse and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct ParsedCert {
    pub(crate) der: CertificateDer<'static>,
    pub(crate) x509: Certificate,
    pub(crate) id: CertRef,
    pub(crate) file: String,
    /// Index in its file, from 0.
    pub(crate) index: usize,
    /// Its extensions, decoded once.
    pub(crate) facts: Facts,
}

impl ParsedCert {
    fn parse(file: &str, index: usize, position: Position, der: Vec<u8>) -> Result<Self, Error> {
        let x509 = Certificate::from_der(&der).map_err(|source| Error::MalformedCert {
            file: file.to_owned(),
            index,
            source,
        })?;
        let der = CertificateDer::from(der);
        Signed::split(&der).map_err(|source| Error::MalformedCert {
            file: file.to_owned(),
            index,
            source,
        })?;
        let id = CertRef {
            position,
            subject: x509.tbs_certificate().subject().to_string(),
            serial: serial_hex(x509.tbs_certificate().serial_number().as_bytes()),
        };
        let facts = Facts::read(x509.tbs_certificate());
        let cert = Self {
            der,
            x509,
            id,
            file: file.to_owned(),
            index,
            facts,
        };
        // Fail at load time on what the path validator cannot parse, naming the profile rule
        // it breaks when there is one (version, serial, critical extensions), else the file.
        let parsed = match position {
            Position::Root => webpki::anchor_from_trusted_cert(&cert.der).map(drop),
            _ => webpki::EndEntityCert::try_from(&cert.der).map(drop),
        };
        if let Err(source) = parsed {
            intrinsic::check(&cert.x509, &cert.facts, &cert.id)?;
            return Err(Error::UnsupportedCert {
                file: file.to_owned(),
                index,
                source,
            });
        }
        Ok(cert)
    }

    pub(crate) fn subject(&self) -> &Name {
        self.x509.tbs_certificate().subject()
    }

    pub(crate) fn issuer(&self) -> &Name {
        self.x509.tbs_certificate().issuer()
    }

    pub(crate) fn serial(&self) -> &[u8] {
        self.x509.tbs_certificate().serial_number().as_bytes()
    }

    pub(crate) fn not_before(&self) -> OffsetDateTime {
        datetime(
            self.x509
                .tbs_certificate()
                .validity()
                .not_before
                .to_unix_duration(),
        )
    }

    pub(crate) fn not_after(&self) -> OffsetDateTime {
        datetime(
            self.x509
                .tbs_certificate()
                .validity()
                .not_after
                .to_unix_duration(),
        )
    }

    /// Validity at `at`, with the path validator's boundaries (both ends inclusive, seconds).
    pub(crate) fn check_validity(&self, at: OffsetDateTime) -> Result<(), Error> {
        let at = at.replace_nanosecond(0).unwrap_or(at);
        if at < self.not_before() {
            return Err(Error::NotYetValid {
                cert: self.id.clone().into(),
                at,
                not_before: self.not_before(),
            });
        }
        if at > self.not_after() {
            return Err(Error::Expired {
                cert: self.id.clone().into(),
                at,
                not_after: self.not_after(),
            });
        }
        Ok(())
    }

    /// basicConstraints, if present (decoded at load time).
    pub(crate) fn basic_constraints(&self) -> Option<&BasicConstraints> {
        self.facts.basic_constraints.as_ref().map(|ext| &ext.value)
    }

    /// Whether basicConstraints cA is true.
    pub(crate) fn is_ca(&self) -> bool {
        self.basic_constraints().is_some_and(|bc| bc.ca)
    }

    /// The EKU OIDs, or `None` without an EKU extension. Read by hand rather than with
    /// x509-cert's `ExtendedKeyUsage`, whose OID type cannot hold `2.999.…` (see [`Oid`]).
    pub(crate) fn ekus(&self) -> Option<&[Oid]> {
        self.facts.eku.as_ref().map(|ext| ext.value.as_slice())
    }

    /// Whether a keyUsage extension, if present, allows signing CRLs.
    pub(crate) fn may_sign_crls(&self) -> bool {
        self.facts
            .key_usage
            .as_ref()
            .is_none_or(|ku| ku.value.contains(KeyUsages::CRLSign))
    }

    /// Checks that `self` signed `signed` (a certificate or CRL encoding).
    pub(crate) fn signed(&self, der: &[u8]) -> Check {
        match Signed::split(der) {
            Ok(signed) => signed::check(&signed, &self.der),
            Err(_) => Check::Invalid,
        }
    }

    /// Checks that `self` was signed by `issuer`, as an attributed error.
    pub(crate) fn check_signed_by(&self, issuer: &ParsedCert) -> Result<(), Error> {
        match issuer.signed(&self.der) {
            Check::Valid => Ok(()),
            Check::Invalid => Err(Error::BadSignature {
                cert: self.id.clone().into(),
                issuer: issuer.id.clone().into(),
            }),
            Check::Unsupported => Err(Error::UnsupportedSignatureAlgorithm {
                cert: self.id.clone().into(),
                issuer: issuer.id.clone().into(),
                algorithm: self.x509.signature_algorithm().oid.to_string(),
            }),
        }
    }
}

/// Serial number bytes as lower-case hex, without the sign byte.
pub(crate) fn serial_hex(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pinned root: a file holding exactly one certificate (PEM or DER).
#[derive(Clone, Debug)]
pub struct Root {
    pub(crate) cert: ParsedCert,
}

impl Root {
    /// Reads the pinned root from a PEM or DER file with exactly one certificate.
    ///
    /// # Errors
    /// Unreadable file, malformed PEM/DER, no or several certificates; the error names the file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_bytes(&path.display().to_string(), &pem::read(path)?)
    }

    /// Like [`Root::from_file`], for bytes; `name` stands for the file in errors.
    ///
    /// # Errors
    /// As [`Root::from_file`].
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, Error> {
        let mut objects = pem::decode(name, bytes, Expected::Certificate)?;
        if objects.len() != 1 {
            return Err(Error::NotSingle {
                file: name.to_owned(),
                expected: "root certificate",
                count: objects.len(),
            });
        }
        let der = objects.remove(0);
        Ok(Self {
            cert: ParsedCert::parse(name, 0, Position::Root, der)?,
        })
    }

    /// The root's subject, RFC 4514.
    pub fn subject(&self) -> &str {
        &self.cert.id.subject
    }
}

/// The chain to verify: the leaf first, then intermediates (any order; path building picks).
#[derive(Clone, Debug)]
pub struct Chain {
    /// Never empty: `certs[0]` is the leaf.
    pub(crate) certs: Vec<ParsedCert>,
}

impl Chain {
    /// Reads a chain from PEM (one or more certificates, leaf first) or DER (one certificate).
    ///
    /// # Errors
    /// Unreadable file, malformed PEM/DER, no certificate; the error names the file and, for a
    /// bad certificate, its index in the file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_bytes(&path.display().to_string(), &pem::read(path)?)
    }

    /// Like [`Chain::from_file`], for bytes; `name` stands for the file in errors.
    ///
    /// # Errors
    /// As [`Chain::from_file`].
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, Error> {
        let certs = pem::decode(name, bytes, Expected::Certificate)?
            .into_iter()
            .enumerate()
            .map(|(index, der)| {
                let position = match index {
                    0 => Position::Leaf,
                    n => Position::Intermediate(n),
                };
                ParsedCert::parse(name, index, position, der)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { certs })
    }

    /// A chain from DER certificates (leaf first) taken from another structure, e.g. a CMS
    /// signature's `certificates`; `name` stands for the file in errors.
    pub(crate) fn from_ders(name: &str, ders: &[&[u8]]) -> Result<Self, Error> {
        let certs = ders
            .iter()
            .enumerate()
            .map(|(index, der)| {
                let position = match index {
                    0 => Position::Leaf,
                    n => Position::Intermediate(n),
                };
                ParsedCert::parse(name, index, position, der.to_vec())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { certs })
    }

    /// Number of certificates in the chain file.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Always false: a loaded chain has a leaf.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}
