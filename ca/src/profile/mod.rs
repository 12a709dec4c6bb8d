//! Certificate profiles as code: one type per profile, read in one place.
//!
//! Each profile implements x509-cert's `BuilderProfile`, which fixes subject, issuer and
//! every extension (with its criticality); [`CertKind`] tells the linter what to expect.

mod cluster;
mod cross;
mod delegate;
mod leaf;
mod root;

pub use cluster::ClusterProfile;
pub use cross::CrossProfile;
pub use delegate::DelegateProfile;
pub use leaf::LeafProfile;
pub use root::RootProfile;

use const_oid::AssociatedOid;
use der::{
    Encode,
    asn1::{Ia5String, OctetString},
};
use sha1::{Digest, Sha1};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    Certificate,
    ext::{
        Extension,
        pkix::{
            AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
            crl::CrlDistributionPoints,
            crl::dp::DistributionPoint,
            name::{DistributionPointName, GeneralName},
        },
    },
    name::Name,
};

use crate::{
    Error, Result,
    oid::{self, Oid},
};

/// What a certificate is, and so which profile rules apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertKind {
    /// The self-signed Rust root: no EKU.
    Root,
    /// A delegate intermediate CA for one purpose (pathLen 0, purpose EKU).
    Delegate {
        /// The purpose EKU.
        eku: Oid,
    },
    /// An end-entity certificate issued by a delegate (same purpose EKU).
    Leaf {
        /// The purpose EKU.
        eku: Oid,
    },
    /// One root generation's key certified by another (rotation): like a root, but
    /// issued by the other root and carrying every purpose EKU of the policy.
    Cross {
        /// Every purpose EKU of the policy.
        ekus: Vec<Oid>,
    },
    /// The AWS CloudHSM cluster's RSA key, certified by the root (`cluster-init`): not a
    /// CA, the subject of the cluster's CSR, the policy's cluster EKU.
    Cluster {
        /// The cluster EKU (`[cluster] eku` of the policy).
        eku: Oid,
    },
}

impl CertKind {
    /// Lower-case name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Delegate { .. } => "delegate",
            Self::Leaf { .. } => "leaf",
            Self::Cross { .. } => "cross",
            Self::Cluster { .. } => "cluster",
        }
    }
}

/// The parts of an issuer certificate a profile needs.
#[derive(Debug, Clone)]
pub struct IssuerInfo {
    /// The issuer's subject, which becomes the issued certificate's issuer.
    pub name: Name,
    /// The issuer's subjectKeyIdentifier, which becomes the authorityKeyIdentifier.
    pub key_id: Vec<u8>,
}

impl IssuerInfo {
    /// Take name and key identifier from an issuer certificate.
    ///
    /// # Errors
    /// The certificate has no (or a malformed) subjectKeyIdentifier.
    pub fn from_certificate(issuer: &Certificate) -> Result<Self> {
        let tbs = issuer.tbs_certificate();
        let ski = tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(|source| Error::Der {
                what: "issuer".into(),
                source,
            })?
            .ok_or_else(|| Error::Certificate {
                what: format!("issuer {}", tbs.subject()),
                reason: "has no subjectKeyIdentifier extension".into(),
            })?;
        Ok(Self {
            name: tbs.subject().clone(),
            key_id: ski.1.0.as_bytes().to_vec(),
        })
    }
}

/// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents.
pub fn key_identifier(spki: SubjectPublicKeyInfoRef<'_>) -> Vec<u8> {
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn basic_constraints(ca: bool, path_len: Option<u8>) -> der::Result<Extension> {
    extension(
        &BasicConstraints {
            ca,
            path_len_constraint: path_len,
        },
        true,
    )
}

fn key_usage(usages: impl Into<der::flagset::FlagSet<KeyUsages>>) -> der::Result<Extension> {
    extension(&KeyUsage(usages.into()), true)
}

fn subject_key_id(spk: SubjectPublicKeyInfoRef<'_>) -> der::Result<Extension> {
    extension(
        &SubjectKeyIdentifier(OctetString::new(key_identifier(spk))?),
        false,
    )
}

fn authority_key_id(key_id: &[u8]) -> der::Result<Extension> {
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(key_id)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    extension(&aki, false)
}

/// CRL distribution points (RFC 5280 §4.2.1.13), non-critical: one distribution point whose
/// full name is one URI, where the issuer's CRL is published.
fn crl_distribution_point(url: &str) -> der::Result<Extension> {
    let point = DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
        ])),
        reasons: None,
        crl_issuer: None,
    };
    extension(&CrlDistributionPoints(vec![point]), false)
}

fn extended_key_usage(eku: &Oid) -> der::Result<Extension> {
    extended_key_usage_list(std::slice::from_ref(eku))
}

// Encoded by hand: x509-cert's ExtendedKeyUsage cannot hold 2.999 OIDs (see `oid`).
fn extended_key_usage_list(ekus: &[Oid]) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: oid::EXTENDED_KEY_USAGE,
        critical: false,
        extn_value: OctetString::new(oid::encode_eku(ekus)?)?,
    })
}
