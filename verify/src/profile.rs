//! The certificate profile: the RFC 5280 rules (and the policy's algorithms) that every
//! certificate of a path must meet, the pinned root included, each a named [`Error`].
//!
//! The profile is strict by design: it only has to accept the Rust PKI's own profiles, and
//! it refuses everything RFC 5280 forbids. Extensions are decoded once, when a certificate
//! is loaded, and the rules that do not depend on the role are checked there
//! ([`crate::intrinsic`]); the checks here then only read those facts, so they cost little
//! on top of path validation.

use x509_cert::ext::pkix::KeyUsages;

use crate::cert::ParsedCert;
use crate::error::Error;
use crate::intrinsic::{self, RSA_ENCRYPTION};

/// What a certificate is on the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The leaf: must not be a CA.
    EndEntity,
    /// A CA below the root (a delegate, a cross-certificate).
    Ca,
    /// The pinned root.
    Root,
}

/// Every rule of the profile that needs only the certificate and its role.
pub(crate) fn check(cert: &ParsedCert, role: Role) -> Result<(), Error> {
    intrinsic::check(&cert.x509, &cert.facts, &cert.id)?;
    let id = || cert.id.clone().into();
    let facts = &cert.facts;
    let is_ca = facts
        .basic_constraints
        .as_ref()
        .is_some_and(|bc| bc.value.ca);
    let key_cert_sign = facts
        .key_usage
        .as_ref()
        .is_some_and(|ku| ku.value.contains(KeyUsages::KeyCertSign));
    match role {
        Role::EndEntity => {
            if is_ca {
                return Err(Error::CaAsLeaf { cert: id() });
            }
            if key_cert_sign {
                return Err(Error::KeyCertSignInEndEntity { cert: id() });
            }
            if !facts
                .key_usage
                .as_ref()
                .is_some_and(|ku| ku.value.contains(KeyUsages::DigitalSignature))
            {
                return Err(Error::MissingDigitalSignature { cert: id() });
            }
        }
        Role::Ca | Role::Root => {
            let spki = &cert
                .x509
                .tbs_certificate()
                .subject_public_key_info()
                .algorithm;
            if spki.oid == RSA_ENCRYPTION {
                return Err(Error::DisallowedKeyAlgorithm {
                    cert: id(),
                    algorithm: spki.oid.to_string(),
                });
            }
            if cert.subject().is_empty() {
                return Err(Error::EmptySubject { cert: id() });
            }
            match &facts.basic_constraints {
                None => return Err(Error::MissingBasicConstraints { cert: id() }),
                Some(bc) if !bc.critical => {
                    return Err(Error::BasicConstraintsNotCritical { cert: id() });
                }
                Some(bc) if !bc.value.ca => return Err(Error::NotACa { cert: id() }),
                Some(_) => {}
            }
            if !key_cert_sign {
                return Err(Error::CaWithoutKeyCertSign { cert: id() });
            }
            if facts.subject_key_id.is_none() {
                return Err(Error::MissingSubjectKeyIdentifier { cert: id() });
            }
        }
    }
    if role == Role::Root {
        check_root(cert)?;
    }
    Ok(())
}

/// The root's own rules: no EKU, and an AKI, if any, that is just its own SKI.
fn check_root(root: &ParsedCert) -> Result<(), Error> {
    let id = || root.id.clone().into();
    if root.facts.eku.is_some() {
        return Err(Error::EkuInRoot { cert: id() });
    }
    if let Some(aki) = &root.facts.authority_key_id {
        let aki = &aki.value;
        if aki.authority_cert_issuer.is_some() || aki.authority_cert_serial_number.is_some() {
            return Err(Error::RootAuthorityKeyIdentifier {
                cert: id(),
                reason: "has authorityCertIssuer or authorityCertSerialNumber",
            });
        }
        let ski = root
            .facts
            .subject_key_id
            .as_ref()
            .map(|e| e.value.as_slice());
        if aki.key_identifier.as_ref().map(|k| k.as_bytes()) != ski {
            return Err(Error::RootAuthorityKeyIdentifier {
                cert: id(),
                reason: "is not its own subjectKeyIdentifier",
            });
        }
    }
    Ok(())
}

/// The rules between a certificate and its issuer on the path: the AKI names the issuer's
/// SKI (required unless self-issued), and the validity is inside the issuer's.
///
/// Nesting is not required of a CA under a CA other than the root: in this PKI (root →
/// delegate → leaf) such an issuer is a cross-certificate, which certifies a newer root's
/// key only until the older root expires, while that key's own certificates (and the
/// delegates they issue) may run longer (root rotation). Validity at the verification time
/// is still required of every certificate.
pub(crate) fn check_issued(
    cert: &ParsedCert,
    issuer: &ParsedCert,
    issuer_is_root: bool,
) -> Result<(), Error> {
    let id = || cert.id.clone().into();
    let key_id = cert
        .facts
        .authority_key_id
        .as_ref()
        .and_then(|aki| aki.value.key_identifier.as_ref())
        .map(|k| k.as_bytes());
    match key_id {
        None if cert.issuer() != cert.subject() => {
            return Err(Error::MissingAuthorityKeyIdentifier { cert: id() });
        }
        Some(key_id)
            if issuer
                .facts
                .subject_key_id
                .as_ref()
                .map(|e| e.value.as_slice())
                != Some(key_id) =>
        {
            return Err(Error::AuthorityKeyIdentifierMismatch {
                cert: id(),
                issuer: issuer.id.clone().into(),
            });
        }
        _ => {}
    }
    let cross_certified = cert.is_ca() && !issuer_is_root;
    if !cross_certified
        && (cert.not_before() < issuer.not_before() || cert.not_after() > issuer.not_after())
    {
        return Err(Error::ValidityOutsideIssuer {
            cert: id(),
            issuer: issuer.id.clone().into(),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
        });
    }
    Ok(())
}
