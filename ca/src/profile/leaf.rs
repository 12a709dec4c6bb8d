//! A short-lived end-entity certificate, issued by a delegate.

use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    TbsCertificate, builder::profile::BuilderProfile, ext::Extension, ext::pkix::KeyUsages,
    name::Name,
};

use super::{
    IssuerInfo, authority_key_id, basic_constraints, crl_distribution_point, extended_key_usage,
    key_usage, subject_key_id,
};

/// Leaf profile: not a CA, digitalSignature only, SKI, AKI from the delegate, and the
/// delegate's purpose EKU.
#[derive(Debug, Clone)]
pub struct LeafProfile {
    /// Subject chosen by the delegate operator.
    pub subject: Name,
    /// The delegate that issues it.
    pub issuer: IssuerInfo,
    /// Where the delegate's CRL (`<base><purpose>.crl`) is published (policy `publication.crl_base_url`).
    pub crl_url: String,
    /// The purpose EKU (the delegate's).
    pub eku: crate::oid::Oid,
}

impl BuilderProfile for LeafProfile {
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
            basic_constraints(false, None)?,
            key_usage(KeyUsages::DigitalSignature)?,
            subject_key_id(spk)?,
            authority_key_id(&self.issuer.key_id)?,
            extended_key_usage(&self.eku)?,
            crl_distribution_point(&self.crl_url)?,
        ])
    }
}
