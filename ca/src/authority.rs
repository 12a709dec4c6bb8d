//! What the CA does, driven by the policy: issue the root, a delegate, a leaf, a CRL.
//! Every operation goes through lint-before-sign ([`crate::issue`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use spki::SubjectPublicKeyInfoOwned;
use x509_cert::{Certificate, name::Name};

use x509_cert::crl::CertificateList;

use crate::{
    Error, Result, Signer,
    crl::{CrlContents, Revocation, build_crl_tbs, issue_crl},
    csr::ClusterCsr,
    issue::{IssuerKey, Signed, build_certificate_tbs, issue_certificate, lint_tbs, sign_linted},
    lint::Finding,
    lint::{CertLintContext, lint_certificate, lint_crl},
    policy::{Policy, PublicationPolicy, Purpose},
    profile::{
        CertKind, ClusterProfile, CrossProfile, DelegateProfile, IssuerInfo, LeafProfile,
        RootProfile,
    },
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

/// Certify the key and name of the root `subject_root` with the key of the root
/// `issuer_root` (root rotation: cross-certificates both ways let clients pinned to either
/// root accept chains under both). Validity: from now until the earlier notAfter of the
/// two roots.
///
/// # Errors
/// `issuer_signer` does not hold `issuer_root`'s key; lint findings; signer failures.
pub fn issue_cross(
    policy: &Policy,
    issuer_root: &Certificate,
    issuer_signer: &dyn Signer,
    subject_root: &Certificate,
    now: SystemTime,
) -> Result<Signed> {
    check_key_matches(issuer_root, issuer_signer)?;
    let ekus: Vec<crate::oid::Oid> = policy.purposes.values().map(|p| p.eku.clone()).collect();
    let subject = subject_root.tbs_certificate();
    let profile = CrossProfile {
        subject: subject.subject().clone(),
        issuer: IssuerInfo::from_certificate(issuer_root)?,
        ekus: ekus.clone(),
    };
    let not_after = capped(subject.validity().not_after.to_system_time(), issuer_root);
    let kind = CertKind::Cross { ekus };
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(issuer_root),
    };
    issue_certificate(
        profile,
        subject.subject_public_key_info().clone(),
        whole_seconds(now),
        not_after,
        issuer_signer,
        |c| lint_certificate(c, &ctx),
    )
}

/// A TBS built from policy and linted with a throwaway key, not yet signed: what a
/// ceremony request carries for members to approve.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// "certificate for CN=…" / "CRL of CN=…".
    pub what: String,
    /// The exact bytes the issuer will sign.
    pub tbs: Vec<u8>,
    /// Lint warnings (errors stop preparation).
    pub warnings: Vec<Finding>,
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
    let prepared = prepare_delegate(policy, root_cert, purpose, key, now, not_after)?;
    let kind = CertKind::Delegate {
        eku: purpose.eku.clone(),
    };
    sign_prepared_certificate(policy, root_cert, root_signer, &kind, &prepared.tbs)
}

/// Build and lint (throwaway key) the TBS of a delegate certificate; see [`issue_delegate`].
///
/// # Errors
/// Lint findings; the root certificate's key or SKI is unusable.
pub fn prepare_delegate(
    policy: &Policy,
    root_cert: &Certificate,
    purpose: &Purpose,
    key: SubjectPublicKeyInfoOwned,
    now: SystemTime,
    not_after: Option<SystemTime>,
) -> Result<Prepared> {
    let not_before = whole_seconds(now);
    let not_after =
        not_after.unwrap_or_else(|| capped(not_before + policy.delegate.max_validity, root_cert));
    let profile = DelegateProfile {
        subject: purpose.delegate_subject.clone(),
        issuer: IssuerInfo::from_certificate(root_cert)?,
        crl_url: policy.publication.crl_url(PublicationPolicy::ROOT_CRL),
        eku: purpose.eku.clone(),
    };
    let issuer = IssuerKey::of_certificate(root_cert)?;
    let (what, tbs) = build_certificate_tbs(profile, key, not_before, not_after, &issuer)?;
    let kind = CertKind::Delegate {
        eku: purpose.eku.clone(),
    };
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(root_cert),
    };
    let warnings = lint_tbs(&what, &tbs, issuer.algorithm, |c: &Certificate| {
        lint_certificate(c, &ctx)
    })?;
    Ok(Prepared {
        what,
        tbs,
        warnings,
    })
}

/// The profile rules of the AWS CloudHSM cluster certificate under `policy`.
///
/// # Errors
/// The policy has no `[cluster]` section: it allows no cluster certificate.
pub fn cluster_kind(policy: &Policy) -> Result<CertKind> {
    let cluster = policy.cluster.as_ref().ok_or_else(|| Error::Policy {
        path: policy.path.clone(),
        field: "cluster".into(),
        message: "no [cluster] section: this policy allows no CloudHSM cluster certificate \
                  (add [cluster] with eku, max_validity_days and min_rsa_bits)"
            .into(),
    })?;
    Ok(CertKind::Cluster {
        eku: cluster.eku.clone(),
    })
}

/// Build and lint (throwaway key) the TBS of the AWS CloudHSM cluster certificate: the
/// root certifies the cluster's RSA key under the CSR's subject (see
/// [`ClusterProfile`]), with the policy's cluster EKU, valid from `now` for
/// `cluster.max_validity_days`, capped at the root's notAfter.
///
/// # Errors
/// No `[cluster]` section in the policy; lint findings (e.g. an RSA key below
/// `cluster.min_rsa_bits`); the root certificate's key or SKI is unusable.
pub fn prepare_cluster(
    policy: &Policy,
    root_cert: &Certificate,
    csr: &ClusterCsr,
    now: SystemTime,
) -> Result<Prepared> {
    let kind = cluster_kind(policy)?;
    let (CertKind::Cluster { eku }, Some(cluster)) = (&kind, &policy.cluster) else {
        return Err(Error::Certificate {
            what: "cluster certificate".into(),
            reason: "no cluster policy".into(),
        });
    };
    let not_before = whole_seconds(now);
    let not_after = capped(not_before + cluster.max_validity, root_cert);
    let profile = ClusterProfile {
        subject: csr.subject.clone(),
        issuer: IssuerInfo::from_certificate(root_cert)?,
        eku: eku.clone(),
    };
    let issuer = IssuerKey::of_certificate(root_cert)?;
    let (what, tbs) = build_certificate_tbs(
        profile,
        csr.public_key.clone(),
        not_before,
        not_after,
        &issuer,
    )?;
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(root_cert),
    };
    let warnings = lint_tbs(&what, &tbs, issuer.algorithm, |c: &Certificate| {
        lint_certificate(c, &ctx)
    })?;
    Ok(Prepared {
        what,
        tbs,
        warnings,
    })
}

/// Lint a prepared certificate TBS again (throwaway key), e.g. when a ceremony is executed
/// days after it was prepared. Returns the warnings.
///
/// # Errors
/// Lint findings.
pub fn lint_prepared_certificate(
    policy: &Policy,
    issuer_cert: &Certificate,
    kind: &CertKind,
    tbs: &[u8],
) -> Result<Vec<Finding>> {
    let issuer = IssuerKey::of_certificate(issuer_cert)?;
    let ctx = CertLintContext {
        policy,
        kind,
        issuer: Some(issuer_cert),
    };
    let what = format!(
        "{} certificate issued by {}",
        kind.name(),
        issuer_cert.tbs_certificate().subject()
    );
    lint_tbs(&what, tbs, issuer.algorithm, |c: &Certificate| {
        lint_certificate(c, &ctx)
    })
}

/// Lint a prepared CRL TBS again (throwaway key). Returns the warnings.
///
/// # Errors
/// Lint findings.
pub fn lint_prepared_crl(
    policy: &Policy,
    issuer_cert: &Certificate,
    tbs: &[u8],
) -> Result<Vec<Finding>> {
    let issuer = IssuerKey::of_certificate(issuer_cert)?;
    let lifetime = crl_lifetime(policy, issuer_cert);
    let what = format!("CRL of {}", issuer_cert.tbs_certificate().subject());
    lint_tbs(&what, tbs, issuer.algorithm, |crl: &CertificateList| {
        lint_crl(crl, issuer_cert, lifetime)
    })
}

/// Sign a prepared certificate TBS with `signer`, the key of `issuer_cert`, linting it
/// again as a `kind` certificate before and after (see [`crate::issue::sign_linted`]).
///
/// # Errors
/// `signer` does not hold the issuer certificate's key; lint findings; signer failures;
/// post-signature check failures.
pub fn sign_prepared_certificate(
    policy: &Policy,
    issuer_cert: &Certificate,
    signer: &dyn Signer,
    kind: &CertKind,
    tbs: &[u8],
) -> Result<Signed> {
    check_key_matches(issuer_cert, signer)?;
    let ctx = CertLintContext {
        policy,
        kind,
        issuer: Some(issuer_cert),
    };
    let what = format!(
        "{} certificate issued by {}",
        kind.name(),
        issuer_cert.tbs_certificate().subject()
    );
    sign_linted(&what, tbs, signer, |c: &Certificate| {
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
        crl_url: policy.publication.crl_url(&purpose.name),
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
    let contents = crl_contents(policy, issuer_cert, revoked, now, number);
    let lifetime = crl_lifetime(policy, issuer_cert);
    issue_crl(issuer_cert, issuer, &contents, |crl| {
        lint_crl(crl, issuer_cert, lifetime)
    })
}

/// Build and lint (throwaway key) the TBS of a CRL; see [`issue_crl_for`].
///
/// # Errors
/// Lint findings; the issuer certificate's key or SKI is unusable.
pub fn prepare_crl(
    policy: &Policy,
    issuer_cert: &Certificate,
    revoked: Vec<Revocation>,
    now: SystemTime,
    number: Option<u64>,
) -> Result<Prepared> {
    let contents = crl_contents(policy, issuer_cert, revoked, now, number);
    let issuer = IssuerKey::of_certificate(issuer_cert)?;
    let (what, tbs) = build_crl_tbs(issuer_cert, issuer.algorithm, &contents)?;
    let lifetime = crl_lifetime(policy, issuer_cert);
    let warnings = lint_tbs(&what, &tbs, issuer.algorithm, |crl: &CertificateList| {
        lint_crl(crl, issuer_cert, lifetime)
    })?;
    Ok(Prepared {
        what,
        tbs,
        warnings,
    })
}

/// Sign a prepared CRL TBS with `signer`, the key of `issuer_cert`, linting it again.
///
/// # Errors
/// As [`sign_prepared_certificate`].
pub fn sign_prepared_crl(
    policy: &Policy,
    issuer_cert: &Certificate,
    signer: &dyn Signer,
    tbs: &[u8],
) -> Result<Signed> {
    check_key_matches(issuer_cert, signer)?;
    let lifetime = crl_lifetime(policy, issuer_cert);
    let what = format!("CRL of {}", issuer_cert.tbs_certificate().subject());
    sign_linted(&what, tbs, signer, |crl: &CertificateList| {
        lint_crl(crl, issuer_cert, lifetime)
    })
}

fn crl_lifetime(policy: &Policy, issuer_cert: &Certificate) -> Duration {
    let tbs = issuer_cert.tbs_certificate();
    if tbs.issuer() == tbs.subject() {
        policy.root.crl_lifetime
    } else {
        policy.delegate.crl_lifetime
    }
}

fn crl_contents(
    policy: &Policy,
    issuer_cert: &Certificate,
    revoked: Vec<Revocation>,
    now: SystemTime,
    number: Option<u64>,
) -> CrlContents {
    let this_update = whole_seconds(now);
    CrlContents {
        number: number.unwrap_or_else(|| unix_seconds(this_update)),
        this_update,
        next_update: this_update + crl_lifetime(policy, issuer_cert),
        revoked,
    }
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
