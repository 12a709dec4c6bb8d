//! The `verify` command line (feature `cli`): `rust-pki-verify` (the light binary CI
//! installs) and `rust-pki verify` (a thin alias) both parse [`VerifyArgs`] and call [`run`].
//! It checks a certificate chain against the pinned root, for a purpose; with `--bundle`,
//! also the stapled log proof of the leaf (rust-pki-tlog's verifier side, no writer). A
//! delegate CA certificate (a delegate's own chain or bundle) is checked only on request,
//! with `--ca` ([`crate::verify_ca`]); without it a CA first is an error.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{Chain, Crl, Error, Oid, Position, Purpose, Root, VerifiedChain};
use rust_pki_tlog::bundle_file::{self, StapledBundle, VerifiedBundle};
use rust_pki_tlog::note::VerifierKey;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The purposes are the verifier's built-in ones (the repository's policy), so that a CI
/// machine needs only the binary and the pinned root; `--policy` reads another policy file.
fn load_purpose(policy: Option<&Path>, name: &str) -> Result<Purpose, Error> {
    // As in every rust-pki command: --policy, else RUST_PKI_POLICY, else the built-in one.
    // Read here rather than by clap, so that --eku stays usable with the variable set.
    let from_env = std::env::var_os(POLICY_ENV).map(PathBuf::from);
    match policy.or(from_env.as_deref()) {
        Some(path) => Purpose::from_policy(path, name),
        None => Purpose::built_in(name),
    }
}

/// Environment variable naming the policy file when `--policy` is not given.
pub const POLICY_ENV: &str = "RUST_PKI_POLICY";

/// `rust-pki-verify`'s command line: the arguments of `rust-pki verify`, at top level.
#[derive(Debug, clap::Parser)]
#[command(
    name = "rust-pki-verify",
    version,
    about = "Verify a certificate chain or stapled bundle against the pinned root, offline, \
             for a purpose (as `rust-pki verify`)",
    long_about = None
)]
pub struct Cli {
    /// The `verify` arguments.
    #[command(flatten)]
    pub args: VerifyArgs,
}

/// Why `verify` could not run (as opposed to a verdict, which [`run`] prints).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The purpose cannot be resolved: unknown name, unreadable or malformed `--policy`.
    #[error(transparent)]
    Purpose(#[from] Error),
    /// A required argument is missing.
    #[error("{0}")]
    Usage(&'static str),
    /// The verdict cannot be encoded as JSON.
    #[error("JSON output: {0}")]
    Json(#[from] serde_json::Error),
    /// The verdict cannot be written to stdout.
    #[error("writing to stdout: {0}")]
    Output(#[from] std::io::Error),
}

/// `error: …` as both binaries print it: the error and each of its sources, `: `-separated.
pub fn error_message(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The arguments of `verify` (`rust-pki-verify …`, `rust-pki verify …`).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("usage").required(true).args(["purpose", "eku"])))]
#[command(group(clap::ArgGroup::new("input").required(true).args(["chain", "bundle"])))]
pub struct VerifyArgs {
    /// The pinned root certificate (PEM or DER, exactly one certificate). Only chains that
    /// end at this root are accepted.
    #[arg(long, value_name = "ROOT.pem")]
    root: PathBuf,

    /// The chain to verify: PEM with the leaf first, then its intermediates (delegate CA);
    /// a single DER certificate is also accepted. With --ca: the delegate CA first, then its
    /// issuers in order.
    #[arg(long, value_name = "CHAIN.pem")]
    chain: Option<PathBuf>,

    /// Verify a delegate CA certificate (the first of the chain or bundle) instead of a
    /// leaf. Without it, a CA certificate where the leaf should be is an error.
    #[arg(long)]
    ca: bool,

    /// A stapled bundle (rust-pki-bundle/v2: chain, log entry, inclusion proof, the
    /// delegate's ceremony entry and its proof, signed checkpoint) instead of --chain:
    /// checks the chain as --chain does, that its first certificate (leaf, or delegate CA)
    /// is in the log (checkpoint signed by --log-vkey, --min-witnesses cosignatures), and,
    /// for a leaf, that its delegate is in the log as the record of a ceremony.
    #[arg(long, value_name = "FILE", requires = "log_key")]
    bundle: Option<PathBuf>,

    /// The log's verifier key (signed-note vkey text, `name+hexid+base64`) for --bundle.
    #[arg(
        long = "log-vkey",
        alias = "log-key",
        value_name = "VKEY_FILE",
        requires = "bundle"
    )]
    log_key: Option<PathBuf>,

    /// A witness's verifier key (cosignature/v1 vkey text) for --bundle; repeat for several.
    #[arg(
        long = "witness-vkey",
        alias = "witness",
        value_name = "VKEY_FILE",
        requires = "bundle"
    )]
    witnesses: Vec<PathBuf>,

    /// How many of the --witness-vkey keys must have cosigned the bundle's checkpoint. At least
    /// 1 by default: without a witness, the log operator alone could show this bundle a
    /// checkpoint nobody else sees. 0 is allowed with a warning (e.g. for a log without
    /// witnesses in a test).
    #[arg(long, value_name = "K", default_value_t = 1, requires = "bundle")]
    min_witnesses: usize,

    /// Purpose the chain must be valid for, as named in the policy (releases, crates-io,
    /// bors): its EKU OID must be in the leaf and in every intermediate. Exactly one of
    /// --purpose and --eku is required.
    #[arg(long, value_name = "NAME")]
    purpose: Option<String>,

    /// Policy that maps purpose names to EKU OIDs; default: the file named by the
    /// RUST_PKI_POLICY environment variable, else the policy built into this binary
    /// (policy/rust-root.toml of its source tree).
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

/// Runs `verify`: prints the verdict (text, or JSON with `--json`) on stdout and, when
/// invalid, `INVALID [rule]: message` on stderr; exit code 0 when valid, 1 when not.
///
/// # Errors
/// [`CliError`] when the command cannot run: unknown purpose or unreadable `--policy`,
/// missing argument, or stdout cannot be written.
pub fn run(args: &VerifyArgs) -> Result<ExitCode, CliError> {
    let purpose = match (&args.purpose, &args.eku) {
        (Some(name), _) => load_purpose(args.policy.as_deref(), name)?,
        (None, Some(eku)) => Purpose::new(eku.to_string(), eku.clone()),
        (None, None) => return Err(CliError::Usage("one of --purpose or --eku is required")),
    };
    // Whole seconds: the time is printed, and its nanoseconds only add noise.
    let at = args.at.unwrap_or_else(|| {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    });
    if args.bundle.is_some() {
        return run_bundle(args, &purpose, at);
    }
    let result = verify(args, &purpose, at);

    let mut stdout = std::io::stdout().lock();
    match result {
        Ok(verified) => {
            if args.json {
                let mut json = serde_json::to_value(&verified)?;
                if let Some(object) = json.as_object_mut() {
                    object.insert("valid".into(), true.into());
                    object.insert("target".into(), target(&verified).into());
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
    let Some(chain) = &args.chain else {
        return Err(Error::Read {
            file: "--chain".into(),
            source: std::io::Error::other("one of --chain and --bundle is required"),
        });
    };
    let chain = Chain::from_file(chain)?;
    verify_parsed(args, &chain, purpose, at)
}

fn verify_parsed(
    args: &VerifyArgs,
    chain: &Chain,
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    let root = Root::from_file(&args.root)?;
    let crls = args
        .crls
        .iter()
        .map(|path| Crl::from_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    if args.ca {
        crate::verify_ca(&root, chain, &crls, purpose, at)
    } else {
        crate::verify(&root, chain, &crls, purpose, at)
    }
}

/// What was verified, for the JSON form: `"ca"` (a delegate CA certificate) or `"leaf"`.
fn target(verified: &VerifiedChain) -> &'static str {
    if verified
        .path
        .first()
        .is_some_and(|cert| cert.cert.position == Position::Ca)
    {
        "ca"
    } else {
        "leaf"
    }
}

/// Why a `--bundle` verification failed: the chain (rules of rust-pki-verify) or the log
/// proof (rules of [`bundle_file::rule`]: bundle-format, log-signature, witnesses,
/// inclusion, entry, delegate-entry).
#[derive(Debug)]
enum BundleFailure {
    Chain(Error),
    Log { rule: &'static str, message: String },
}

fn log_failure(error: &rust_pki_tlog::Error) -> BundleFailure {
    BundleFailure::Log {
        rule: bundle_file::rule(error),
        message: error.to_string(),
    }
}

fn read_vkey(path: &Path, what: &str) -> Result<VerifierKey, BundleFailure> {
    let fail = |message: String| BundleFailure::Log {
        rule: "log-key",
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("{what} {}: {e}", path.display())))?;
    VerifierKey::parse(text.trim()).map_err(|e| fail(format!("{what} {}: {e}", path.display())))
}

fn verify_bundle(
    args: &VerifyArgs,
    path: &Path,
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<(VerifiedChain, VerifiedBundle), BundleFailure> {
    let bytes = std::fs::read(path).map_err(|e| BundleFailure::Log {
        rule: "read",
        message: format!("{}: {e}", path.display()),
    })?;
    let bundle = StapledBundle::parse(&bytes).map_err(|e| BundleFailure::Log {
        rule: "bundle-format",
        message: format!("{}: {e}", path.display()),
    })?;
    let log_key = match &args.log_key {
        Some(p) => read_vkey(p, "log key")?,
        None => {
            return Err(BundleFailure::Log {
                rule: "log-key",
                message: "--bundle needs --log-vkey".into(),
            });
        }
    };
    let witnesses = args
        .witnesses
        .iter()
        .map(|p| read_vkey(p, "witness key"))
        .collect::<Result<Vec<_>, _>>()?;
    if args.min_witnesses == 0 {
        eprintln!(
            "warning: --min-witnesses 0: no witness cosignature is required, so this bundle's \
             checkpoint may be one the log showed to nobody else (a split view)"
        );
    }

    let chain = Chain::from_bytes(&path.display().to_string(), bundle.chain_pem().as_bytes())
        .map_err(BundleFailure::Chain)?;
    let verified = verify_parsed(args, &chain, purpose, at).map_err(BundleFailure::Chain)?;
    let logged = bundle_file::verify_bundle(&bundle, &log_key, &witnesses, args.min_witnesses)
        .map_err(|e| log_failure(&e))?;
    Ok((verified, logged))
}

fn run_bundle(
    args: &VerifyArgs,
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<ExitCode, CliError> {
    let Some(path) = &args.bundle else {
        return Err(CliError::Usage("--bundle is required here"));
    };
    let result = verify_bundle(args, path, purpose, at);
    let mut stdout = std::io::stdout().lock();
    match result {
        Ok((verified, logged)) => {
            if args.json {
                let mut json = serde_json::to_value(&verified)?;
                if let Some(object) = json.as_object_mut() {
                    object.insert("valid".into(), true.into());
                    object.insert("target".into(), target(&verified).into());
                    object.insert(
                        "log".into(),
                        serde_json::json!({
                            "origin": logged.origin,
                            "index": logged.index,
                            "tree_size": logged.tree_size,
                            "root_hash": hex::encode(logged.root_hash),
                            "witnesses": logged.witnesses,
                            "delegate_index": logged.delegate_index,
                        }),
                    );
                }
                writeln!(stdout, "{json}")?;
            } else {
                write_summary(&mut stdout, &verified)?;
                writeln!(
                    stdout,
                    "  logged in {} as entry {} of tree size {}, {} witness cosignature(s){}",
                    logged.origin,
                    logged.index,
                    logged.tree_size,
                    logged.witnesses.len(),
                    if logged.witnesses.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", logged.witnesses.join(", "))
                    }
                )?;
                if let Some(index) = logged.delegate_index {
                    writeln!(
                        stdout,
                        "  delegate logged as the ceremony record at entry {index} of the same tree"
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(BundleFailure::Chain(error)) => {
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
        Err(BundleFailure::Log { rule, message }) => {
            eprintln!("INVALID [{rule}]: {message}");
            if args.json {
                let json = serde_json::json!({
                    "valid": false,
                    "error": { "rule": rule, "message": message },
                });
                writeln!(stdout, "{json}")?;
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn write_summary(out: &mut impl Write, verified: &VerifiedChain) -> std::io::Result<()> {
    if target(verified) == "ca" {
        writeln!(out, "OK: delegate CA certificate verified: {verified}")?;
    } else {
        writeln!(out, "OK: {verified}")?;
    }
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
