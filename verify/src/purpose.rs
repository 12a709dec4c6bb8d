//! Purposes: a name and the EKU OID that every certificate below the root must carry.
//!
//! The OIDs belong to policy (`policy/rust-root.toml`), not to this crate: callers build a
//! [`Purpose`] from whatever their policy says.

use serde::Serialize;
use webpki::{ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};

use crate::cert::ParsedCert;
use crate::error::Error;
use crate::oid::Oid;

/// What a chain must be valid for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Purpose {
    /// Human name for messages, e.g. `releases`.
    pub name: String,
    /// The EKU OID required in the leaf and in every intermediate.
    pub eku: Oid,
}

impl Purpose {
    /// A purpose named `name` requiring EKU `eku`.
    pub fn new(name: impl Into<String>, eku: Oid) -> Self {
        Self {
            name: name.into(),
            eku,
        }
    }

    /// The path validator's EKU check for this purpose.
    pub(crate) fn validator(&self) -> RequiredEku<'_> {
        RequiredEku(KeyPurposeId::new(self.eku.as_bytes()))
    }

    /// The policy rule, checked with x509-cert: `cert` has an EKU extension containing this
    /// purpose's OID. Applies to every certificate except the root.
    pub(crate) fn check(&self, cert: &ParsedCert) -> Result<(), Error> {
        match cert.ekus()? {
            Some(found) if found.contains(&self.eku) => Ok(()),
            Some(found) if !found.is_empty() => Err(Error::WrongEku {
                cert: cert.id.clone().into(),
                purpose: self.name.clone(),
                expected: self.eku.clone(),
                found,
            }),
            _ => Err(Error::MissingEku {
                cert: cert.id.clone().into(),
                purpose: self.name.clone(),
                expected: self.eku.clone(),
            }),
        }
    }
}

/// Requires the EKU in every certificate the validator applies it to (the leaf and every
/// intermediate; never the anchor). Same rule as `webpki::KeyUsage::required`, which only
/// takes a `&'static` OID, while ours come from policy at run time.
#[derive(Debug)]
pub(crate) struct RequiredEku<'a>(KeyPurposeId<'a>);

impl ExtendedKeyUsageValidator for RequiredEku<'_> {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for id in iter {
            if id? == self.0 {
                return Ok(());
            }
        }
        // `RequiredEkuNotFoundContext` would need a `KeyUsage`, which needs a `&'static` OID;
        // the context is not used anyway: `Purpose::check` names the certificate and its EKUs.
        #[allow(deprecated)]
        Err(webpki::Error::RequiredEkuNotFound)
    }
}
