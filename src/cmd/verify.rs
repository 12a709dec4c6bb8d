//! `rust-pki verify`: check a certificate chain against the pinned root, for a purpose.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rust_pki_verify::{Chain, Crl, Error, Oid, Purpose, Root, VerifiedChain};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The purposes of the Rust PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PurposeName {
    /// Rust release artifacts.
    Releases,
    /// crates.io.
    CratesIo,
    /// The bors merge bot.
    Bors,
}

impl PurposeName {
    /// The purpose's EKU OID. These come from policy/rust-root.toml [purposes] and will be
    /// read from that file once it exists; until then they are its placeholders under the
    /// ITU-T example arc 2.999 (production ceremonies refuse them until the project's IANA
    /// PEN is registered).
    fn eku(self) -> &'static str {
        match self {
            Self::Releases => "2.999.1.1",
            Self::CratesIo => "2.999.1.2",
            Self::Bors => "2.999.1.3",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Releases => "releases",
            Self::CratesIo => "crates-io",
            Self::Bors => "bors",
        }
    }
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

    /// Purpose the chain must be valid for: its EKU OID must be in the leaf and in every
    /// intermediate. Exactly one of --purpose and --eku is required.
    #[arg(long, value_enum)]
    purpose: Option<PurposeName>,

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
    let purpose = match (args.purpose, &args.eku) {
        (Some(name), _) => Purpose::new(name.label(), name.eku().parse()?),
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
