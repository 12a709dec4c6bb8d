//! What the CA does, driven by the policy: issue the root, a delegate, a leaf, a CRL.
//! Every operation goes through lint-before-sign ([`crate::issue`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use spki::SubjectPublicKeyInfoOwned;
use x509_cert::{Certificate, name::Name};

use crate::{
    Error, Result, Signer,
    crl::{CrlContents, Revocation, issue_crl},
    issue::{Signed, issue_certificate},
    lint::{CertLintContext, lint_certificate, lint_crl},
    policy::{Policy, Purpose},
    profile::{CertKind, DelegateProfile, IssuerInfo, LeafProfile, RootProfile},
};

/// Issue the self-signed root, valid from `now` to the policy's `root.not_after`.
///
/// # Errors
/// Lint findings (nothing signed), signer or post-signature check failures.
pub fn issue_root(policy: &Policy, signer: &dyn Signer, now: SystemTime) -> Result<Signed> {
    let profile = RootProfile {
        subject: policy.root.subject.clone(),
    };
    let kind = CertKind::Root;
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: None,
    };
    issue_certificate(
        profile,
        signer.public_key().clone(),
        whole_seconds(now),
        policy.root.not_after,
        signer,
        |c| lint_certificate(c, &ctx),
    )
}

/// Certify `key` (from a verified CSR, or an HSM key) as the delegate CA for `purpose`.
/// Subject and extensions come from policy. `not_after` defaults to the policy maximum,
/// capped at the root's notAfter.
///
/// # Errors
/// `root_signer` does not hold the root certificate's key; lint findings; signer failures.
pub fn issue_delegate(
    policy: &Policy,
    root_cert: &Certificate,
    root_signer: &dyn Signer,
    purpose: &Purpose,
    key: SubjectPublicKeyInfoOwned,
    now: SystemTime,
    not_after: Option<SystemTime>,
) -> Result<Signed> {
    check_key_matches(root_cert, root_signer)?;
    let not_before = whole_seconds(now);
    let not_after =
        not_after.unwrap_or_else(|| capped(not_before + policy.delegate.max_validity, root_cert));
    let profile = DelegateProfile {
        subject: purpose.delegate_subject.clone(),
        issuer: IssuerInfo::from_certificate(root_cert)?,
        eku: purpose.eku.clone(),
    };
    let kind = CertKind::Delegate {
        eku: purpose.eku.clone(),
    };
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(root_cert),
    };
    issue_certificate(profile, key, not_before, not_after, root_signer, |c| {
        lint_certificate(c, &ctx)
    })
}

/// Issue a short-lived leaf for `key` under a delegate; the purpose is the delegate's.
/// `not_after` defaults to the policy's leaf default validity, capped at the delegate's.
///
/// # Errors
/// The delegate's EKU is not a policy purpose, `delegate_signer` does not hold the
/// delegate's key, lint findings, signer failures.
pub fn issue_leaf(
    policy: &Policy,
    delegate_cert: &Certificate,
    delegate_signer: &dyn Signer,
    subject: Name,
    key: SubjectPublicKeyInfoOwned,
    now: SystemTime,
    not_after: Option<SystemTime>,
) -> Result<Signed> {
    check_key_matches(delegate_cert, delegate_signer)?;
    let purpose = purpose_of(policy, delegate_cert)?;
    let not_before = whole_seconds(now);
    let not_after = not_after
        .unwrap_or_else(|| capped(not_before + policy.leaf.default_validity, delegate_cert));
    let profile = LeafProfile {
        subject,
        issuer: IssuerInfo::from_certificate(delegate_cert)?,
        eku: purpose.eku.clone(),
    };
    let kind = CertKind::Leaf {
        eku: purpose.eku.clone(),
    };
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(delegate_cert),
    };
    issue_certificate(profile, key, not_before, not_after, delegate_signer, |c| {
        lint_certificate(c, &ctx)
    })
}

/// Issue a CRL for `issuer_cert` (the root or a delegate) listing `revoked`. nextUpdate is
/// thisUpdate plus the policy's CRL lifetime for that issuer; the cRLNumber defaults to
/// thisUpdate in Unix seconds, so successive CRLs number upwards without stored state.
///
/// # Errors
/// `issuer` does not hold the issuer certificate's key, lint findings, signer failures.
pub fn issue_crl_for(
    policy: &Policy,
    issuer_cert: &Certificate,
    issuer: &dyn Signer,
    revoked: Vec<Revocation>,
    now: SystemTime,
    number: Option<u64>,
) -> Result<Signed> {
    check_key_matches(issuer_cert, issuer)?;
    let tbs = issuer_cert.tbs_certificate();
    let lifetime = if tbs.issuer() == tbs.subject() {
        policy.root.crl_lifetime
    } else {
        policy.delegate.crl_lifetime
    };
    let this_update = whole_seconds(now);
    let contents = CrlContents {
        number: number.unwrap_or_else(|| unix_seconds(this_update)),
        this_update,
        next_update: this_update + lifetime,
        revoked,
    };
    issue_crl(issuer_cert, issuer, &contents, |crl| {
        lint_crl(crl, issuer_cert, lifetime)
    })
}

/// The policy purpose whose EKU a delegate certificate carries.
///
/// # Errors
/// The certificate has no EKU, or none that the policy knows.
pub fn purpose_of<'p>(policy: &'p Policy, delegate_cert: &Certificate) -> Result<&'p Purpose> {
    let subject = delegate_cert.tbs_certificate().subject();
    let ekus = crate::oid::certificate_ekus(delegate_cert)
        .map_err(|reason| Error::Certificate {
            what: subject.to_string(),
            reason,
        })?
        .unwrap_or_default();
    policy
        .purposes
        .values()
        .find(|p| ekus.contains(&p.eku))
        .ok_or_else(|| Error::Certificate {
            what: format!("delegate {subject}"),
            reason: "carries no purpose EKU of this policy".into(),
        })
}

fn check_key_matches(cert: &Certificate, signer: &dyn Signer) -> Result<()> {
    if cert.tbs_certificate().subject_public_key_info() != signer.public_key() {
        return Err(Error::KeyMismatch {
            key: signer.describe(),
            certificate: cert.tbs_certificate().subject().to_string(),
        });
    }
    Ok(())
}

fn capped(wanted: SystemTime, issuer: &Certificate) -> SystemTime {
    wanted.min(
        issuer
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time(),
    )
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds(time))
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
