//! The self-signed Rust Root CA.

use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    TbsCertificate, builder::profile::BuilderProfile, ext::Extension, ext::pkix::KeyUsages,
    name::Name,
};

use super::{authority_key_id, basic_constraints, key_identifier, key_usage, subject_key_id};

/// Root profile: CA (no path length limit), keyCertSign + cRLSign, SKI, AKI = SKI,
/// and no EKU (a root serves every purpose; purposes are bound at the delegates).
#[derive(Debug, Clone)]
pub struct RootProfile {
    /// Subject and issuer name.
    pub subject: Name,
}

impl BuilderProfile for RootProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(vec![
            basic_constraints(true, None)?,
            key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
            subject_key_id(spk.clone())?,
            // Optional for self-signed certificates (RFC 5280 §4.2.1.1); present so every
            // certificate of ours carries the same identifiers.
            authority_key_id(&key_identifier(spk))?,
        ])
    }
}
