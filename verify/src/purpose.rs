//! Purposes: a name and the EKU OID that every certificate below the root must carry.
//!
//! The one source of purposes for verification: the Rust PKI's purposes are built in
//! ([`Purpose::built_in`], the values of `policy/rust-root.toml`), and a policy file can be
//! read instead ([`Purpose::from_policy`], only its `[purposes.NAME] eku` entries).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
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

// Here rather than in `oid`, which the error type uses: parsing text names the error.
impl FromStr for Oid {
    type Err = Error;

    /// Parses dotted decimal, e.g. `2.999.1.1` or `1.3.6.1.4.1.55555.7`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_dotted(s).map_err(|reason| Error::InvalidOid {
            input: s.to_owned(),
            reason,
        })
    }
}

/// The purposes of the Rust PKI, as in `policy/rust-root.toml` (a test checks they agree).
const BUILT_IN: [(&str, &str); 3] = [
    ("releases", "1.3.6.1.4.1.32473.1.1"),
    ("crates-io", "1.3.6.1.4.1.32473.1.2"),
    ("bors", "1.3.6.1.4.1.32473.1.3"),
];

/// The part of a policy file the verifier reads; the CA crate checks the rest.
#[derive(Deserialize)]
struct PolicyPurposes {
    #[serde(default)]
    purposes: BTreeMap<String, PurposeEntry>,
}

#[derive(Deserialize)]
struct PurposeEntry {
    eku: String,
}

impl Purpose {
    /// A purpose named `name` requiring EKU `eku`.
    pub fn new(name: impl Into<String>, eku: Oid) -> Self {
        Self {
            name: name.into(),
            eku,
        }
    }

    /// The Rust PKI's purposes, built in: `releases`, `crates-io`, `bors`.
    pub fn built_ins() -> Vec<Self> {
        BUILT_IN
            .iter()
            .filter_map(|(name, eku)| Some(Self::new(*name, eku.parse().ok()?)))
            .collect()
    }

    /// The built-in purpose named `name`.
    ///
    /// # Errors
    /// [`Error::UnknownPurpose`], listing the built-in names.
    pub fn built_in(name: &str) -> Result<Self, Error> {
        find(Self::built_ins(), name)
    }

    /// Every purpose of a policy file (`[purposes.NAME]` tables with an `eku`), by name.
    ///
    /// # Errors
    /// [`Error::Read`], or [`Error::MalformedPolicy`] for TOML errors, a purpose without
    /// `eku`, or an invalid OID.
    pub fn all_from_policy(path: &Path) -> Result<Vec<Self>, Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            file: file.clone(),
            source,
        })?;
        let malformed = |detail: String| Error::MalformedPolicy {
            file: file.clone(),
            detail,
        };
        let policy: PolicyPurposes = toml::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        policy
            .purposes
            .into_iter()
            .map(|(name, entry)| {
                let eku = entry
                    .eku
                    .parse()
                    .map_err(|e: Error| malformed(format!("purposes.{name}.eku: {e}")))?;
                Ok(Self::new(name, eku))
            })
            .collect()
    }

    /// The purpose named `name` in a policy file (see [`Purpose::all_from_policy`]).
    ///
    /// # Errors
    /// As [`Purpose::all_from_policy`], and [`Error::UnknownPurpose`].
    pub fn from_policy(path: &Path, name: &str) -> Result<Self, Error> {
        find(Self::all_from_policy(path)?, name)
    }

    /// The path validator's EKU check for this purpose.
    pub(crate) fn validator(&self) -> RequiredEku<'_> {
        RequiredEku(KeyPurposeId::new(self.eku.as_bytes()))
    }

    /// The policy rule, checked with x509-cert: `cert` has an EKU extension containing this
    /// purpose's OID. Applies to every certificate except the root.
    pub(crate) fn check(&self, cert: &ParsedCert) -> Result<(), Error> {
        match cert.ekus() {
            Some(found) if found.contains(&self.eku) => Ok(()),
            Some(found) if !found.is_empty() => Err(Error::WrongEku {
                cert: cert.id.clone().into(),
                purpose: self.name.clone(),
                expected: self.eku.clone(),
                found: found.to_vec(),
            }),
            _ => Err(Error::MissingEku {
                cert: cert.id.clone().into(),
                purpose: self.name.clone(),
                expected: self.eku.clone(),
            }),
        }
    }
}

fn find(purposes: Vec<Purpose>, name: &str) -> Result<Purpose, Error> {
    let known = purposes.iter().map(|p| p.name.clone()).collect();
    purposes
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| Error::UnknownPurpose {
            name: name.to_owned(),
            known,
        })
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
