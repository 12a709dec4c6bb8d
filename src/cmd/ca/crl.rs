//! `rust-pki ca crl`: a CRL signed by the root or a delegate key, from the `--revoke`
//! certificates of this one call.

use std::{path::PathBuf, time::SystemTime};

use anyhow::Context;
use rust_pki_ca::{authority::issue_crl_for, crl::Revocation, output::ensure_absent, pem::label};
use x509_cert::ext::pkix::CrlReason;

use super::PolicyArg;
use crate::cmd::common::{load_certificate, open_key, write_output};

#[derive(Debug, clap::Args)]
pub struct CrlArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// The issuer's certificate (root or delegate).
    #[arg(long, value_name = "FILE")]
    issuer_cert: PathBuf,
    /// The issuer's key (PKCS#11 URI).
    #[arg(long, value_name = "PKCS11-URI")]
    issuer_key: String,
    /// A certificate to revoke (repeatable); it must have been issued by this issuer.
    #[arg(long, value_name = "CERT")]
    revoke: Vec<PathBuf>,
    /// Reason code for the revoked certificates: key-compromise, ca-compromise,
    /// affiliation-changed, superseded, cessation-of-operation, certificate-hold,
    /// privilege-withdrawn. Default: none (unspecified).
    #[arg(long, value_parser = rust_pki_ca::crl::parse_reason)]
    reason: Option<CrlReason>,
    /// cRLNumber. Default: thisUpdate in Unix seconds, which always increases.
    #[arg(long)]
    number: Option<u64>,
    /// Where to write the CRL (PEM); must not exist.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: CrlArgs, now: SystemTime) -> anyhow::Result<()> {
    let policy = args.policy.load()?;
    let issuer = load_certificate(&args.issuer_cert)?;
    let mut revoked = Vec::with_capacity(args.revoke.len());
    for path in &args.revoke {
        let cert = load_certificate(path)?;
        let revocation = Revocation::of(&cert, &issuer, now, args.reason)
            .with_context(|| format!("--revoke {}", path.display()))?;
        revoked.push(revocation);
    }
    ensure_absent([args.out.as_path()])?;
    let signer = open_key(&args.issuer_key, "--issuer-key")?;
    let signed = issue_crl_for(&policy, &issuer, &signer, revoked, now, args.number)?;
    let summary = format!(
        "CRL of {} revoking {} certificate(s)",
        issuer.tbs_certificate().subject(),
        args.revoke.len()
    );
    write_output(&args.out, label::CRL, &signed, &summary)
}
