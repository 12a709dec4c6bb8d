//! The `verify` command line (feature `cli`): `rust-pki-verify` (the light binary CI
//! installs) and `rust-pki verify` (a thin alias) both parse [`VerifyArgs`] and call [`run`].
//! It checks a certificate chain against the pinned root, for a purpose; with `--bundle`,
//! also the stapled log proof of the leaf (rust-pki-tlog's verifier side, no writer). A
//! delegate CA certificate (a delegate's own chain or bundle) is checked only on request,
//! with `--ca` ([`crate::verify_ca`]); without it a CA first is an error.
mod artifact;
mod lockfile;
mod manifest;
mod signatures;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::envelope::{Envelope, Exit, warn};
use crate::{Chain, Check, Crl, Error, Oid, Position, Purpose, Root, VerifiedChain};
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
             for a purpose, or signed files with `artifact`, `manifest` and `lockfile` (as \
             `rust-pki verify`)",
    long_about = None,
    after_help = crate::envelope::EXIT_STATUS_HELP
)]
pub struct Cli {
    /// The `verify` arguments.
    #[command(flatten)]
    pub args: VerifyArgs,
}

/// The arguments of `verify` (`rust-pki-verify …`, `rust-pki verify …`): the flat
/// arguments checking one chain or bundle, or a subcommand checking signed files.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(group(clap::ArgGroup::new("usage").required(true).args(["purpose", "eku"])))]
#[command(group(clap::ArgGroup::new("input").required(true).args(["chain", "bundle"])))]
pub struct VerifyArgs {
    /// Verify signed files instead of a chain.
    #[command(subcommand)]
    command: Option<VerifyCommand>,

    /// The pinned root certificate (PEM or DER, exactly one certificate). Only chains that
    /// end at this root are accepted.
    // An Option only so that the subcommands can go without it; clap requires it.
    #[arg(long, value_name = "ROOT.pem", required = true)]
    root: Option<PathBuf>,

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

    /// A folder of CRLs, such as the `crl/` folder of a published log: every `*.crl` in it
    /// (PEM or DER) is taken as if given with --crl, except that a CRL whose issuer is no CA
    /// of the inputs is skipped instead of refused; other files are ignored.
    #[arg(long = "crl-dir", value_name = "DIR")]
    crl_dir: Option<PathBuf>,

    /// Fail (INVALID [crl-required]) unless a CRL of every CA in the validated path, the root
    /// included, was given with --crl or found in --crl-dir; each must be current as always.
    /// Recommended in CI, with --crl-dir: revocation is then never skipped by accident.
    #[arg(long = "require-crl")]
    require_crl: bool,

    /// Time at which to verify, RFC 3339 (e.g. 2026-11-26T12:00:00Z); default: now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    at: Option<OffsetDateTime>,

    /// Print one JSON object on stdout, the envelope of docs/cli-json.md: {"version": 1,
    /// "ok", "command": "verify", "result": {"purpose", "at", "path", "crls", ...},
    /// "error": {"rule", "message", "exit", "cert", ...}, "checked", "skipped"}.
    #[arg(long)]
    json: bool,
}

/// The subcommands of `verify`.
#[derive(Debug, clap::Subcommand)]
pub enum VerifyCommand {
    /// Verify signed files (FILE and FILE.sig, docs/signatures.md): CMS signature, message
    /// digest, chain to the pinned root for the purpose, CRLs, and with the log's keys the
    /// stapled log proof and the proven time.
    Artifact(artifact::ArtifactArgs),
    /// Verify a signed channel manifest (MANIFEST.sig, purpose releases), then that each
    /// downloaded file has the SHA-256 it lists: the check rustup would make.
    Manifest(manifest::ManifestArgs),
    /// Verify the crates of a Cargo.lock in a download folder: each crates.io package's
    /// .crate with the lock file's checksum and a valid signature (purpose crates-io).
    Lockfile(lockfile::LockfileArgs),
}

/// Runs `verify` and prints everything: the verdict on stdout (text, or the JSON
/// [`Envelope`] with `--json`), `INVALID [rule]: …` or `error: …` on stderr. Returns the
/// exit status: [`Exit::Invalid`] for a verdict against the chain or bundle,
/// [`Exit::Error`] when an input (root, CRL, key, purpose, policy) cannot be used or the
/// file to check cannot be read. A closed stdout ends it quietly with [`Exit::Success`].
pub fn run(args: &VerifyArgs) -> Exit {
    match &args.command {
        Some(VerifyCommand::Artifact(command)) => return artifact::run(command),
        Some(VerifyCommand::Manifest(command)) => return manifest::run(command),
        Some(VerifyCommand::Lockfile(command)) => return lockfile::run(command),
        None => {}
    }
    let outcome = evaluate(args);
    let mut stdout = std::io::stdout().lock();
    match print(&mut stdout, args, outcome) {
        Ok(exit) => exit,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(error) => {
            warn(format_args!("error: writing to stdout: {error}"));
            Exit::Error
        }
    }
}

/// A verdict, or why there is none.
#[derive(Debug)]
enum Outcome {
    /// Every check passed.
    Valid {
        verified: Box<VerifiedChain>,
        logged: Option<VerifiedBundle>,
        checked: Vec<Check>,
        skipped: Vec<Check>,
    },
    /// No verdict of validity.
    Failed(Failed),
}

/// The chain or bundle breaks `rule` (exit 1), or an input is unusable (exit 2).
#[derive(Debug)]
struct Failed {
    exit: Exit,
    rule: Option<&'static str>,
    message: String,
    details: Option<serde_json::Value>,
}

impl Failed {
    /// An input that cannot be used: exit 2, `error:`.
    fn input(error: &Error) -> Self {
        Self {
            exit: Exit::Error,
            rule: Some(error.rule()),
            message: error.to_string(),
            details: serde_json::to_value(error).ok(),
        }
    }

    /// The chain breaks a rule: exit 1, `INVALID`, with the error's fields in JSON.
    fn chain(error: &Error) -> Self {
        Self {
            exit: Exit::Invalid,
            rule: Some(error.rule()),
            message: error.to_string(),
            details: serde_json::to_value(error).ok(),
        }
    }

    /// A failure outside the chain rules (bundle, log key), with its exit status.
    fn other(exit: Exit, rule: &'static str, message: String) -> Self {
        Self {
            exit,
            rule: Some(rule),
            message,
            details: None,
        }
    }
}

/// The inputs every mode needs, loaded before anything is checked: any failure here is
/// an input or configuration error (exit 2), never a verdict.
struct Inputs {
    purpose: Purpose,
    root: Root,
    crls: Vec<Crl>,
}

fn load_inputs(args: &VerifyArgs) -> Result<Inputs, Failed> {
    let purpose = match (&args.purpose, &args.eku) {
        (Some(name), _) => load_purpose(args.policy.as_deref(), name),
        (None, Some(eku)) => Ok(Purpose::new(eku.to_string(), eku.clone())),
        (None, None) => {
            return Err(Failed::other(
                Exit::Error,
                "usage",
                "one of --purpose or --eku is required".into(),
            ));
        }
    }
    .map_err(|e| Failed::input(&e))?;
    let Some(root) = &args.root else {
        return Err(Failed::other(
            Exit::Error,
            "usage",
            "--root is required".into(),
        ));
    };
    let root = Root::from_file(root).map_err(|e| Failed::input(&e))?;
    let crls = load_crls(&args.crls, args.crl_dir.as_deref()).map_err(|e| Failed::input(&e))?;
    Ok(Inputs {
        purpose,
        root,
        crls,
    })
}

/// The CRLs of `--crl` and `--crl-dir`, in that order.
fn load_crls(files: &[PathBuf], dir: Option<&Path>) -> Result<Vec<Crl>, Error> {
    let mut crls = files
        .iter()
        .map(|path| Crl::from_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dir) = dir {
        crls.extend(Crl::from_dir(dir)?);
    }
    Ok(crls)
}

fn evaluate(args: &VerifyArgs) -> Outcome {
    // Log flags without a bundle would be ignored: refused, so that nobody believes a log
    // proof was checked.
    if args.bundle.is_none() && (args.log_key.is_some() || !args.witnesses.is_empty()) {
        return Outcome::Failed(Failed::other(
            Exit::Error,
            "usage",
            "--log-vkey and --witness-vkey apply only to --bundle: a chain file carries no log \
             proof to check them against"
                .into(),
        ));
    }
    let inputs = match load_inputs(args) {
        Ok(inputs) => inputs,
        Err(failed) => return Outcome::Failed(failed),
    };
    // Whole seconds: the time is printed, and its nanoseconds only add noise.
    let at = args.at.unwrap_or_else(|| {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    });
    let result = match (&args.bundle, &args.chain) {
        (Some(bundle), _) => verify_bundle(args, &inputs, bundle, at),
        (None, Some(chain)) => verify_chain(args, &inputs, chain, at),
        (None, None) => Err(Failed::other(
            Exit::Error,
            "usage",
            "one of --chain and --bundle is required".into(),
        )),
    };
    result.unwrap_or_else(Outcome::Failed)
}

/// Reads the file to check: unreadable is an input error; a stapled bundle given as
/// `--chain` is refused (only --bundle checks its log proof), not checked as a chain.
fn read_checked_file(path: &Path, flag: &str) -> Result<Vec<u8>, Failed> {
    let bytes = std::fs::read(path).map_err(|source| {
        Failed::input(&Error::Read {
            file: path.display().to_string(),
            source,
        })
    })?;
    if flag == "--chain" && bytes.starts_with(b"rust-pki-bundle/") {
        return Err(Failed::other(
            Exit::Error,
            "usage",
            format!(
                "{}: a stapled bundle given as --chain; give it with --bundle (and --log-key) \
                 so that its log proof is checked too",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

fn verify_chain(
    args: &VerifyArgs,
    inputs: &Inputs,
    path: &Path,
    at: OffsetDateTime,
) -> Result<Outcome, Failed> {
    let bytes = read_checked_file(path, "--chain")?;
    let chain =
        Chain::from_bytes(&path.display().to_string(), &bytes).map_err(|e| Failed::chain(&e))?;
    let verified = verify_parsed(args, inputs, &chain, at).map_err(|e| Failed::chain(&e))?;
    let checked = verified.checked.clone();
    let mut skipped = verified.skipped.clone();
    let no_bundle = "a chain file carries no log proof: give a stapled bundle with --bundle";
    for check in [
        "log-inclusion",
        "checkpoint-signature",
        "witness-cosignatures",
    ] {
        skipped.push(Check::new(check).reason(no_bundle));
    }
    if target(&verified) == "leaf" {
        skipped.push(Check::new("delegate-entry").reason(no_bundle));
    }
    skipped.push(history_not_applicable());
    Ok(Outcome::Valid {
        verified: Box::new(verified),
        logged: None,
        checked,
        skipped,
    })
}

/// `verify` checks one chain, never the ceremony history: said, not left implicit.
fn history_not_applicable() -> Check {
    Check::new("history-replay").reason(
        "not applicable to one chain: `rust-pki log audit --genesis-roster` replays the \
         ceremony history",
    )
}

fn verify_parsed(
    args: &VerifyArgs,
    inputs: &Inputs,
    chain: &Chain,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    let verified = if args.ca {
        crate::verify_ca(&inputs.root, chain, &inputs.crls, &inputs.purpose, at)
    } else {
        crate::verify(&inputs.root, chain, &inputs.crls, &inputs.purpose, at)
    }?;
    if args.require_crl {
        verified.require_crls()?;
    }
    Ok(verified)
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

fn log_failure(error: &rust_pki_tlog::Error) -> Failed {
    Failed::other(Exit::Invalid, bundle_file::rule(error), error.to_string())
}

/// A verifier key given on the command line: unreadable or malformed is a configuration
/// error (exit 2), not a verdict on the bundle.
fn read_vkey(path: &Path, what: &str) -> Result<VerifierKey, Failed> {
    let fail = |message: String| Failed::other(Exit::Error, "log-key", message);
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("{what} {}: {e}", path.display())))?;
    VerifierKey::parse(text.trim()).map_err(|e| fail(format!("{what} {}: {e}", path.display())))
}

fn verify_bundle(
    args: &VerifyArgs,
    inputs: &Inputs,
    path: &Path,
    at: OffsetDateTime,
) -> Result<Outcome, Failed> {
    let log_key = match &args.log_key {
        Some(p) => read_vkey(p, "log key")?,
        None => {
            return Err(Failed::other(
                Exit::Error,
                "usage",
                "--bundle needs --log-vkey".into(),
            ));
        }
    };
    let witnesses = args
        .witnesses
        .iter()
        .map(|p| read_vkey(p, "witness key"))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_checked_file(path, "--bundle")?;
    let bundle = StapledBundle::parse(&bytes).map_err(|e| {
        Failed::other(
            Exit::Invalid,
            "bundle-format",
            format!("{}: {e}", path.display()),
        )
    })?;
    if args.min_witnesses == 0 {
        warn(format_args!(
            "warning: --min-witnesses 0: no witness cosignature is required, so this bundle's \
             checkpoint may be one the log showed to nobody else (a split view)"
        ));
    }

    let chain = Chain::from_bytes(&path.display().to_string(), bundle.chain_pem().as_bytes())
        .map_err(|e| Failed::chain(&e))?;
    let verified = verify_parsed(args, inputs, &chain, at).map_err(|e| Failed::chain(&e))?;
    let logged = bundle_file::verify_bundle(&bundle, &log_key, &witnesses, args.min_witnesses)
        .map_err(|e| log_failure(&e))?;

    let mut checked = verified.checked.clone();
    let mut skipped = verified.skipped.clone();
    let first = verified
        .path
        .first()
        .map(|cert| cert.cert.subject.clone())
        .unwrap_or_default();
    checked.push(
        Check::new("log-inclusion")
            .subject(first)
            .level(0)
            .reason(format!(
                "entry {} of tree size {}",
                logged.index, logged.tree_size
            )),
    );
    checked.push(Check::new("checkpoint-signature").subject(&logged.origin));
    let witness_check = Check::new("witness-cosignatures").subject(&logged.origin);
    if args.min_witnesses == 0 && logged.witnesses.is_empty() {
        skipped.push(witness_check.reason("--min-witnesses 0"));
    } else {
        checked.push(witness_check.reason(format!(
            "{} of {} given, {} required",
            logged.witnesses.len(),
            args.witnesses.len(),
            args.min_witnesses
        )));
    }
    if let Some(index) = logged.delegate_index {
        checked.push(
            Check::new("delegate-entry")
                .level(1)
                .reason(format!("ceremony record at entry {index}")),
        );
    }
    skipped.push(history_not_applicable());
    Ok(Outcome::Valid {
        verified: Box::new(verified),
        logged: Some(logged),
        checked,
        skipped,
    })
}

/// Prints the outcome and returns the exit status.
fn print(out: &mut impl Write, args: &VerifyArgs, outcome: Outcome) -> std::io::Result<Exit> {
    match outcome {
        Outcome::Valid {
            verified,
            logged,
            checked,
            skipped,
        } => {
            if args.json {
                let mut json = serde_json::to_value(&verified).map_err(std::io::Error::other)?;
                if let Some(object) = json.as_object_mut() {
                    object.insert("target".into(), target(&verified).into());
                    if let Some(logged) = &logged {
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
                }
                Envelope::success(COMMAND, json)
                    .with_checks(checked, skipped)
                    .write(out)?;
            } else {
                write_summary(out, &verified)?;
                if let Some(logged) = &logged {
                    write_logged(out, logged)?;
                }
                for check in &checked {
                    writeln!(out, "  checked: {check}")?;
                }
                for check in &skipped {
                    writeln!(out, "  not checked: {check}")?;
                }
            }
            Ok(Exit::Success)
        }
        Outcome::Failed(Failed {
            exit,
            rule,
            message,
            details,
        }) => {
            match (exit, rule) {
                (Exit::Invalid, Some(rule)) => warn(format_args!("INVALID [{rule}]: {message}")),
                _ => warn(format_args!("error: {message}")),
            }
            if args.json {
                Envelope::failure(COMMAND, exit, rule, message, details).write(out)?;
            }
            Ok(exit)
        }
    }
}

/// The `command` of the envelope.
const COMMAND: &str = "verify";

fn write_logged(out: &mut impl Write, logged: &VerifiedBundle) -> std::io::Result<()> {
    writeln!(
        out,
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
            out,
            "  delegate logged as the ceremony record at entry {index} of the same tree"
        )?;
    }
    Ok(())
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
