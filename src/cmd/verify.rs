//! `rust-pki verify`: check a certificate chain against the pinned root, for a purpose.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rust_pki_ca::policy::Policy;
use rust_pki_verify::{Chain, Crl, Error, Oid, Purpose, Root, VerifiedChain};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The repository's policy, built in so that a CI machine needs only the binary and the
/// pinned root; `--policy` points at another copy.
const BUILT_IN_POLICY: &str = include_str!("../../policy/rust-root.toml");

fn load_purpose(policy: Option<&Path>, name: &str) -> anyhow::Result<Purpose> {
    let policy = match policy {
        Some(path) => Policy::load(path)?,
        None => Policy::parse(BUILT_IN_POLICY, Path::new("built-in policy/rust-root.toml"))?,
    };
    let purpose = policy.purpose(name)?;
    Ok(Purpose::new(purpose.name.clone(), purpose.eku.clone()))
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("usage").required(true).args(["purpose", "eku"])))]
pub struct VerifyArgs {
    /// The pinned root certificate (PEM or DER, exactly one certificate). Only chains that
    /// end at this root are accepted.
    #[arg(long, value_name = "ROOT.pem")]
    root: PathBuf,

    /// The chain to verify: PEM with the leaf first, then its intermediates (delegate CA);
    /// a single DER certificate is also accepted.
    #[arg(long, value_name = "CHAIN.pem")]
    chain: PathBuf,

    /// Purpose the chain must be valid for, as named in the policy (releases, crates-io,
    /// bors): its EKU OID must be in the leaf and in every intermediate. Exactly one of
    /// --purpose and --eku is required.
    #[arg(long, value_name = "NAME")]
    purpose: Option<String>,

    /// Policy that maps purpose names to EKU OIDs; default: the policy built into this
    /// binary (policy/rust-root.toml of its source tree).
    #[arg(long, value_name = "FILE", requires = "purpose")]
    policy: Option<PathBuf>,

    /// Required EKU as a dotted OID (e.g. 1.3.6.1.4.1.55555.7), instead of --purpose, to
    /// verify chains of another PKI with the same rules.
    #[arg(long, value_name = "OID", value_parser = parse_oid)]
    eku: Option<Oid>,

    /// CRL to check revocation against (PEM "X509 CRL" or DER), issued by the root or by a
    /// certificate of the chain; repeat for several. Every CRL given must verify with its
    /// issuer's key and be current; levels without a CRL are not checked.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,

    /// Time at which to verify, RFC 3339 (e.g. 2026-11-26T12:00:00Z); default: now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    at: Option<OffsetDateTime>,

    /// Print one JSON object on stdout: {"valid": true, "purpose", "at", "path", "crls"} or
    /// {"valid": false, "error": {"rule", "message", "cert", ...}}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let purpose = match (&args.purpose, &args.eku) {
        (Some(name), _) => load_purpose(args.policy.as_deref(), name)?,
        (None, Some(eku)) => Purpose::new(eku.to_string(), eku.clone()),
        (None, None) => anyhow::bail!("one of --purpose or --eku is required"),
    };
    let at = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let result = verify(&args, &purpose, at);

    let mut stdout = std::io::stdout().lock();
    match result {
        Ok(verified) => {
            if args.json {
                let mut json = serde_json::to_value(&verified)?;
                if let Some(object) = json.as_object_mut() {
                    object.insert("valid".into(), true.into());
                }
                writeln!(stdout, "{json}")?;
            } else {
                write_summary(&mut stdout, &verified)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("INVALID [{}]: {error}", error.rule());
            if args.json {
                let mut details = serde_json::to_value(&error)?;
                if let Some(object) = details.as_object_mut() {
                    object.insert("message".into(), error.to_string().into());
                }
                let json = serde_json::json!({ "valid": false, "error": details });
                writeln!(stdout, "{json}")?;
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn verify(
    args: &VerifyArgs,
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    let root = Root::from_file(&args.root)?;
    let chain = Chain::from_file(&args.chain)?;
    let crls = args
        .crls
        .iter()
        .map(|path| Crl::from_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    rust_pki_verify::verify(&root, &chain, &crls, purpose, at)
}

fn write_summary(out: &mut impl Write, verified: &VerifiedChain) -> std::io::Result<()> {
    writeln!(out, "OK: {verified}")?;
    for crl in &verified.crls {
        writeln!(
            out,
            "  CRL {} of {} checked ({} entries)",
            crl.file, crl.issuer.subject, crl.revoked
        )?;
    }
    Ok(())
}

fn parse_oid(s: &str) -> Result<Oid, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

fn parse_rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not an RFC 3339 time: {e}"))
}
