//! The AWS CloudHSM cluster certificate (`cluster-init`), issued by the root: it certifies
//! the RSA key that the cluster's HSMs generated, so that the cluster trusts our root as
//! its trust anchor (AWS InitializeCluster).

use spki::SubjectPublicKeyInfoRef;
use x509_cert::{
    TbsCertificate, builder::profile::BuilderProfile, ext::Extension, ext::pkix::KeyUsages,
    name::Name,
};

use super::{
    IssuerInfo, authority_key_id, basic_constraints, extended_key_usage, key_usage, subject_key_id,
};

/// Cluster profile: not a CA, digitalSignature + keyEncipherment (an RSA key that signs
/// and wraps keys for the HSMs' TLS), SKI, AKI from the root, and the policy's cluster
/// EKU (our rule: every non-root certificate names its purpose; the cluster EKU is no
/// purpose's, so the certificate is good for nothing else).
///
/// The one profile whose subject comes from a CSR: the subject is the HSM cluster's own
/// identity (`CN=HSM:<serial>:PARTN:<n>, for FIPS mode` and the like), which AWS's
/// procedure copies into the certificate (`openssl x509 -req` keeps the CSR's subject)
/// and which the cluster expects to find there. Nothing else is taken from the CSR: no
/// extension, no validity.
#[derive(Debug, Clone)]
pub struct ClusterProfile {
    /// The CSR's subject (see above).
    pub subject: Name,
    /// The root that issues it.
    pub issuer: IssuerInfo,
    /// The cluster EKU from policy.
    pub eku: crate::oid::Oid,
}

impl BuilderProfile for ClusterProfile {
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
            key_usage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment)?,
            subject_key_id(spk)?,
            authority_key_id(&self.issuer.key_id)?,
            extended_key_usage(&self.eku)?,
        ])
    }
}
