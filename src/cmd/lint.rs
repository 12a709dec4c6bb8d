//! `rust-pki lint`: check a policy, certificate or CRL against the profiles, the policy
//! and RFC 5280 — the same linter that runs before every HSM signature.

use std::{io::Write, path::PathBuf, process::ExitCode};

use rust_pki_ca::{
    crl::parse_crl,
    lint::{CertLintContext, Finding, Severity, lint_certificate, lint_crl},
    oid::certificate_ekus,
    pem,
    profile::CertKind,
};

use super::{
    ca::PolicyArg,
    common::{load_certificate, load_policy},
};

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
    let policy = load_policy(&args.policy.path)?;
    let mut findings: Vec<Finding> = policy
        .example_arc_purposes()
        .map(|p| Finding {
            severity: Severity::Warning,
            rule: "eku-example-arc",
            message: format!(
                "policy purpose `{}` uses {}, under an example arc: register a PEN arc before a real ceremony",
                p.name, p.eku
            ),
        })
        .collect();
    let issuer = args.issuer.as_deref().map(load_certificate).transpose()?;

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
    } else if let Some(cert_path) = &args.cert {
        let cert = load_certificate(cert_path)?;
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
        findings.extend(lint_certificate(&cert, &ctx));
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
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
