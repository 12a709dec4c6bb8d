//! `rust-pki lint`: check a policy, certificate or CRL against the profiles, the policy
//! and RFC 5280 — the same linter that runs before every HSM signature.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use rust_pki_ca::{
    crl::parse_crl,
    lint::{CertLintContext, Finding, Severity, lint_certificate, lint_crl},
    oid::{Oid, certificate_ekus},
    pem,
    policy::Policy,
    profile::CertKind,
};
use x509_cert::Certificate;

use super::{ca::PolicyArg, common::load_certificate};
use crate::outcome::Invalid;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// Certificate to lint (PEM or DER). Without --issuer it must be the self-signed root.
    /// With neither a certificate nor --crl, only the policy is checked.
    #[arg(value_name = "CERT", conflicts_with = "crl")]
    cert: Option<PathBuf>,
    /// A CRL to lint instead of a certificate (needs --issuer).
    #[arg(long, value_name = "FILE", requires = "issuer")]
    crl: Option<PathBuf>,
    /// The issuer's certificate (the root for a delegate, the delegate for a leaf).
    #[arg(long, value_name = "FILE")]
    issuer: Option<PathBuf>,
    /// Purpose to check the EKU against (default: the purpose whose EKU the certificate,
    /// or its issuer, carries; a certificate with the policy's cluster EKU is linted as
    /// the CloudHSM cluster certificate).
    #[arg(long)]
    purpose: Option<String>,
}

pub fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    let policy = args.policy.load()?;
    // One warning for all the policy's example-arc purposes, not one per purpose and
    // again for the certificate's EKU.
    let example_arcs: Vec<String> = policy
        .example_arc_purposes()
        .map(|p| format!("{} ({})", p.name, p.eku))
        .collect();
    let mut findings: Vec<Finding> = Vec::new();
    if !example_arcs.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            rule: "eku-example-arc",
            message: format!(
                "the policy's purposes {} use EKUs under an example arc: register a PEN arc before a real ceremony",
                example_arcs.join(", ")
            ),
        });
    }
    let issuer = args
        .issuer
        .as_deref()
        .map(load_one_certificate)
        .transpose()?;
    let mut linted = "the policy".to_owned();

    if let Some(crl_path) = &args.crl {
        let crl = parse_crl(&pem::read_der(crl_path, pem::label::CRL)?)?;
        let Some(issuer) = &issuer else {
            anyhow::bail!("--crl needs --issuer")
        };
        let tbs = issuer.tbs_certificate();
        let lifetime = if tbs.issuer() == tbs.subject() {
            policy.root.crl_lifetime
        } else {
            policy.delegate.crl_lifetime
        };
        findings.extend(lint_crl(&crl, issuer, lifetime));
        linted = format!("{} (CRL)", crl_path.display());
    } else if let Some(cert_path) = &args.cert {
        let cert = load_one_certificate(cert_path)?;
        let tbs = cert.tbs_certificate();
        if issuer.is_none() && tbs.issuer() != tbs.subject() {
            // Linting it as a root would only list the ways it is not one.
            anyhow::bail!(
                "{} is not a root certificate (it is issued by {}): give the certificate \
                 that issued it with --issuer FILE",
                cert_path.display(),
                tbs.issuer()
            );
        }
        let cert_ekus = certificate_ekus(&cert)
            .map_err(anyhow::Error::msg)?
            .unwrap_or_default();
        let cluster_eku = policy
            .cluster
            .as_ref()
            .map(|c| c.eku.clone())
            .filter(|eku| args.purpose.is_none() && cert_ekus.contains(eku));
        let kind = match (&issuer, cluster_eku) {
            (None, _) => CertKind::Root,
            // A CloudHSM cluster certificate (cluster-init): the policy's cluster EKU.
            (Some(_), Some(eku)) => CertKind::Cluster { eku },
            (Some(issuer), None) => {
                let eku = match &args.purpose {
                    Some(name) => policy.purpose(name)?.eku.clone(),
                    None => {
                        let mut ekus = cert_ekus.clone();
                        ekus.extend(
                            certificate_ekus(issuer)
                                .map_err(anyhow::Error::msg)?
                                .unwrap_or_default(),
                        );
                        policy
                            .purposes
                            .values()
                            .find(|p| ekus.contains(&p.eku))
                            .map(|p| p.eku.clone())
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "{}: carries no purpose EKU of the policy; pass --purpose",
                                    cert_path.display()
                                )
                            })?
                    }
                };
                let is_ca = cert
                    .tbs_certificate()
                    .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
                    .ok()
                    .flatten()
                    .is_some_and(|(_, bc)| bc.ca);
                if is_ca {
                    CertKind::Delegate { eku }
                } else {
                    CertKind::Leaf { eku }
                }
            }
        };
        let ctx = CertLintContext {
            policy: &policy,
            kind: &kind,
            issuer: issuer.as_ref(),
        };
        let covered = |f: &Finding| {
            f.rule == "eku-example-arc"
                && policy
                    .example_arc_purposes()
                    .any(|p| f.message.contains(&p.eku.to_string()))
        };
        findings.extend(
            lint_certificate(&cert, &ctx)
                .into_iter()
                .filter(|f| !covered(f)),
        );
        linted = format!(
            "{} ({})",
            cert_path.display(),
            describe_kind(&kind, &policy)
        );
    }

    let mut out = std::io::stdout().lock();
    for finding in &findings {
        writeln!(out, "{finding}")?;
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    writeln!(
        out,
        "{errors} error(s), {} warning(s)",
        findings.len() - errors
    )?;
    if errors > 0 {
        // A verdict (exit 1): the findings above say which rules, this line says so once.
        return Err(Invalid {
            rule: "lint",
            message: format!("{linted} breaks {errors} lint rule(s), listed above"),
            details: None,
            result: None,
            checked: Vec::new(),
            skipped: Vec::new(),
        }
        .into());
    }
    writeln!(out, "OK: {linted} passes every lint rule")?;
    Ok(ExitCode::SUCCESS)
}

/// What a certificate was linted as, in words.
fn describe_kind(kind: &CertKind, policy: &Policy) -> String {
    let purpose = |eku: &Oid| {
        policy
            .purposes
            .values()
            .find(|p| &p.eku == eku)
            .map_or_else(|| eku.to_string(), |p| p.name.clone())
    };
    match kind {
        CertKind::Root => "the root".to_owned(),
        CertKind::Delegate { eku } => format!("a delegate CA for {}", purpose(eku)),
        CertKind::Leaf { eku } => format!("a leaf for {}", purpose(eku)),
        CertKind::Cluster { .. } => "the CloudHSM cluster certificate".to_owned(),
        CertKind::Cross { .. } => "a cross-certificate".to_owned(),
    }
}

/// A file holding exactly one certificate. A chain or bundle file would otherwise fail
/// on its second block with a Base64 error that does not say what to do.
fn load_one_certificate(path: &Path) -> anyhow::Result<Certificate> {
    let count = std::fs::read(path)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .matches("-----BEGIN CERTIFICATE-----")
                .count()
        })
        .unwrap_or(0);
    if count > 1 {
        anyhow::bail!(
            "{} holds {count} certificates (a chain): lint takes one; split the file and \
             give the first as CERT and the one after it as --issuer",
            path.display()
        );
    }
    load_certificate(path)
}
