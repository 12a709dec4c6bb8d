//! A delegate intermediate CA (releases, crates-io, bors), issued by the root.

use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    TbsCertificate, builder::profile::BuilderProfile, ext::Extension, ext::pkix::KeyUsages,
    name::Name,
};

use super::{
    IssuerInfo, authority_key_id, basic_constraints, crl_distribution_point, extended_key_usage,
    key_usage, subject_key_id,
};

/// Delegate profile: CA with pathLen 0 (it issues leaves only), keyCertSign + cRLSign,
/// SKI, AKI from the root, and the purpose EKU (which every certificate below repeats).
#[derive(Debug, Clone)]
pub struct DelegateProfile {
    /// Subject from policy (never from the CSR).
    pub subject: Name,
    /// The root that issues it.
    pub issuer: IssuerInfo,
    /// Where the root's CRL (`<base>root.crl`) is published (policy `publication.crl_base_url`).
    pub crl_url: String,
    /// The purpose EKU.
    pub eku: crate::oid::Oid,
}

impl BuilderProfile for DelegateProfile {
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
            basic_constraints(true, Some(0))?,
            key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
            subject_key_id(spk)?,
            authority_key_id(&self.issuer.key_id)?,
            extended_key_usage(&self.eku)?,
            crl_distribution_point(&self.crl_url)?,
        ])
    }
}
