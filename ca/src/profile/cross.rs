//! A cross-certificate between two generations of the root: one root's key certified by
//! the other, so that clients pinned to either accept chains under both during rotation.

use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    TbsCertificate, builder::profile::BuilderProfile, ext::Extension, ext::pkix::KeyUsages,
    name::Name,
};

use super::{
    IssuerInfo, authority_key_id, basic_constraints, extended_key_usage_list, key_usage,
    subject_key_id,
};
use crate::oid::Oid;

/// Cross profile: CA (no path length limit, like a root), keyCertSign + cRLSign, SKI, AKI
/// from the certifying root, and every policy purpose's EKU: the cross-certificate is a
/// non-root certificate of the chains it carries, and each of those must name the purpose.
#[derive(Debug, Clone)]
pub struct CrossProfile {
    /// The certified root's subject.
    pub subject: Name,
    /// The certifying root.
    pub issuer: IssuerInfo,
    /// Every purpose EKU of the policy.
    pub ekus: Vec<Oid>,
}

impl BuilderProfile for CrossProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.name.clone()
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
            subject_key_id(spk)?,
            authority_key_id(&self.issuer.key_id)?,
            extended_key_usage_list(&self.ekus)?,
        ])
    }
}
