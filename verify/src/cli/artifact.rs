//! `verify artifact FILE…`: each file against its `FILE.sig` (docs/signatures.md), through
//! [`crate::artifact::ArtifactVerifier`]; one line per file, a summary, exit 0 when every
//! file verified, 1 when one is invalid, 2 when an input (root, CRL, key, a file or its
//! `.sig`) cannot be read.

use std::io::Write;
use std::path::{Path, PathBuf};

use rust_pki_tlog::note::VerifierKey;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{load_purpose, parse_oid, parse_rfc3339};
use crate::artifact::{ArtifactVerifier, LogTrust, VerifiedArtifact};
use crate::envelope::{Envelope, Exit, warn};
use crate::sig_file::{SIG_EXTENSION, SigFile};
use crate::{Chain, Check, Crl, Error, Oid, Purpose, Root};

const COMMAND: &str = "verify artifact";

/// The arguments of `verify artifact`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("usage").required(true).args(["purpose", "eku"])))]
#[command(group(clap::ArgGroup::new("inputs").required(true).multiple(true).args(["files", "all"])))]
#[command(after_help = ARTIFACT_HELP)]
pub struct ArtifactArgs {
    /// Files to verify, each against FILE.sig next to it (or --sig).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Also verify every file of DIR (not recursive) that is not itself a .sig; each must
    /// have its FILE.sig.
    #[arg(long, value_name = "DIR")]
    all: Option<PathBuf>,

    /// The signature file, when it is not FILE.sig (only with one FILE).
    #[arg(long, value_name = "SIG")]
    sig: Option<PathBuf>,

    /// The pinned root certificate (PEM or DER, exactly one certificate).
    #[arg(long, value_name = "ROOT.pem")]
    root: PathBuf,

    /// Purpose the signature must be valid for (releases, crates-io, bors): its EKU must be
    /// in the leaf and the delegate. Exactly one of --purpose and --eku is required.
    #[arg(long, value_name = "NAME")]
    purpose: Option<String>,

    /// Policy mapping purpose names to EKU OIDs; default: RUST_PKI_POLICY, else built in.
    #[arg(long, value_name = "FILE", requires = "purpose")]
    policy: Option<PathBuf>,

    /// Required EKU as a dotted OID, instead of --purpose.
    #[arg(long, value_name = "OID", value_parser = parse_oid)]
    eku: Option<Oid>,

    /// The log's verifier key: every .sig must then carry its log bundle, which proves when
    /// the signature existed (the chain is checked at that time).
    #[arg(long = "log-vkey", value_name = "VKEY_FILE")]
    log_key: Option<PathBuf>,

    /// A witness's cosignature verifier key; repeat for several.
    #[arg(long = "witness-vkey", value_name = "VKEY_FILE", requires = "log_key")]
    witnesses: Vec<PathBuf>,

    /// How many --witness-vkey keys must have cosigned; the K-th earliest cosignature time
    /// is the proven time. 0 means no proof of time (the chain is checked now).
    #[arg(long, value_name = "K", default_value_t = 1, requires = "log_key")]
    min_witnesses: usize,

    /// Cross-certificate(s) (PEM) to reach a delegate of a new root from the pinned old root
    /// after a root rotation; the signature carries only the leaf and its delegate.
    #[arg(long = "cross-cert", value_name = "FILE")]
    cross_cert: Option<PathBuf>,

    /// CRL (PEM or DER) issued by the root or the delegate; repeat for several. Each must be
    /// current now, whatever time the chain is checked at.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,

    /// "Now", RFC 3339 (e.g. 2026-11-26T12:00:00Z); default: the current time.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    at: Option<OffsetDateTime>,

    /// Print one JSON envelope (docs/cli-json.md) with command "verify artifact".
    #[arg(long)]
    json: bool,
}

const ARTIFACT_HELP: &str = "\
Examples:
  rust-pki verify artifact rustc.tar.xz --root rust-root.pem --purpose releases \\
      --log-vkey log.vkey --witness-vkey w1.vkey --crl releases.crl
  rust-pki verify artifact --all dist/ --root rust-root.pem --purpose releases \\
      --log-vkey log.vkey --witness-vkey w1.vkey --min-witnesses 1 --json
  rust-pki-verify artifact foo-1.0.0.crate --sig foo.sig --root rust-root.pem \\
      --purpose crates-io

Without --log-vkey the chain is checked now, and a signature by an expired leaf is
refused (no proof of time).

Exit status: 0 every file verified, 1 a file is invalid (INVALID [rule]: FILE: ...),
2 an input cannot be used (error: ...).";

/// One file's outcome.
enum FileOutcome {
    Verified(Box<VerifiedArtifact>),
    Failed { exit: Exit, error: Error },
}

/// Runs `verify artifact` and prints everything; returns the exit status.
pub fn run(args: &ArtifactArgs) -> Exit {
    let mut stdout = std::io::stdout().lock();
    let result = match setup(args) {
        Ok((verifier, files)) => report(&mut stdout, args, &verifier, &files),
        Err((rule, message)) => {
            warn(format_args!("error: {message}"));
            if args.json {
                Envelope::failure(COMMAND, Exit::Error, Some(rule), message, None)
                    .write(&mut stdout)
                    .map(|()| Exit::Error)
            } else {
                Ok(Exit::Error)
            }
        }
    };
    match result {
        Ok(exit) => exit,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(error) => {
            warn(format_args!("error: writing to stdout: {error}"));
            Exit::Error
        }
    }
}

type SetupError = (&'static str, String);

fn input(error: &Error) -> SetupError {
    (error.rule(), error.to_string())
}

/// The verifier and the (file, signature) pairs; any failure is an input error.
fn setup(args: &ArtifactArgs) -> Result<(ArtifactVerifier, Vec<(PathBuf, PathBuf)>), SetupError> {
    let purpose = match (&args.purpose, &args.eku) {
        (Some(name), _) => load_purpose(args.policy.as_deref(), name).map_err(|e| input(&e))?,
        (None, Some(eku)) => Purpose::new(eku.to_string(), eku.clone()),
        (None, None) => return Err(("usage", "one of --purpose or --eku is required".into())),
    };
    let root = Root::from_file(&args.root).map_err(|e| input(&e))?;
    let crls = args
        .crls
        .iter()
        .map(|path| Crl::from_file(path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input(&e))?;
    let now = args.at.unwrap_or_else(|| {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    });
    let mut verifier = ArtifactVerifier::new(root, purpose).with_crls(crls).at(now);
    if let Some(path) = &args.cross_cert {
        let cross = Chain::from_file(path).map_err(|e| input(&e))?;
        verifier = verifier.with_cross_certificates(&cross);
    }
    if let Some(log_key) = &args.log_key {
        let witness_keys = args
            .witnesses
            .iter()
            .map(|p| read_vkey(p, "witness key"))
            .collect::<Result<Vec<_>, _>>()?;
        if args.min_witnesses == 0 {
            warn(format_args!(
                "warning: --min-witnesses 0: no witness cosignature is required and nothing \
                 proves when a signature was made"
            ));
        }
        verifier = verifier.with_log(LogTrust {
            log_key: read_vkey(log_key, "log key")?,
            witness_keys,
            min_witnesses: args.min_witnesses,
        });
    }
    let mut files = args.files.clone();
    if let Some(dir) = &args.all {
        files.extend(dir_files(dir)?);
    }
    if args.sig.is_some() && files.len() != 1 {
        return Err(("usage", "--sig applies to exactly one FILE".into()));
    }
    let pairs = files
        .into_iter()
        .map(|file| {
            let sig = args.sig.clone().unwrap_or_else(|| sig_path(&file));
            (file, sig)
        })
        .collect();
    Ok((verifier, pairs))
}

/// `FILE.sig`.
fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(SIG_EXTENSION);
    PathBuf::from(name)
}

/// The regular files of `dir` that are not signatures, sorted.
fn dir_files(dir: &Path) -> Result<Vec<PathBuf>, SetupError> {
    let fail = |e: std::io::Error| ("read", format!("cannot read {}: {e}", dir.display()));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let path = entry.path();
        let is_sig = path.extension().is_some_and(|e| e == SIG_EXTENSION);
        if entry.file_type().map_err(fail)?.is_file() && !is_sig {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_vkey(path: &Path, what: &str) -> Result<VerifierKey, SetupError> {
    let fail = |message: String| ("log-key", format!("{what} {}: {message}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    VerifierKey::parse(text.trim()).map_err(|e| fail(e.to_string()))
}

fn verify_one(verifier: &ArtifactVerifier, file: &Path, sig: &Path) -> FileOutcome {
    let result = SigFile::from_file(sig).and_then(|sig| verifier.verify_file(file, &sig));
    match result {
        Ok(verified) => FileOutcome::Verified(Box::new(verified)),
        // A file or signature that cannot be read is an input error, not a verdict.
        Err(error @ Error::Read { .. }) => FileOutcome::Failed {
            exit: Exit::Error,
            error,
        },
        Err(error) => FileOutcome::Failed {
            exit: Exit::Invalid,
            error,
        },
    }
}

fn report(
    out: &mut impl Write,
    args: &ArtifactArgs,
    verifier: &ArtifactVerifier,
    files: &[(PathBuf, PathBuf)],
) -> std::io::Result<Exit> {
    let mut verified = Vec::new();
    let mut failed = Vec::new();
    let mut exit = Exit::Success;
    for (file, sig) in files {
        let name = file.display().to_string();
        match verify_one(verifier, file, sig) {
            FileOutcome::Verified(ok) => {
                if !args.json {
                    write_ok(out, &ok)?;
                }
                verified.push(ok);
            }
            FileOutcome::Failed { exit: this, error } => {
                // The message names the file already when the error is about it or its .sig.
                let message = if error
                    .file()
                    .is_some_and(|f| f == name || Path::new(f) == sig)
                {
                    error.to_string()
                } else {
                    format!("{name}: {error}")
                };
                match this {
                    Exit::Invalid => warn(format_args!("INVALID [{}]: {message}", error.rule())),
                    _ => warn(format_args!("error: {message}")),
                }
                if this == Exit::Error || exit == Exit::Success {
                    exit = this;
                }
                failed.push((name, this, error, message));
            }
        }
    }
    let summary = format!(
        "{} of {} file(s) verified; the chain was validated {} time(s)",
        verified.len(),
        files.len(),
        verifier.chain_validations()
    );
    if args.json {
        let result = json!({
            "files": verified,
            "failed": failed.iter().map(|(file, exit, error, message)| json!({
                "file": file,
                "rule": error.rule(),
                "message": message,
                "exit": exit.code(),
                "details": serde_json::to_value(error).unwrap_or(Value::Null),
            })).collect::<Vec<_>>(),
            "verified": verified.len(),
            "total": files.len(),
            "chain_validations": verifier.chain_validations(),
        });
        let (checked, skipped) = checks(args);
        let envelope = match failed.first() {
            None => Envelope::success(COMMAND, result),
            Some((_, _, error, message)) => Envelope::failure(
                COMMAND,
                exit,
                Some(error.rule()),
                if failed.len() == 1 {
                    message.clone()
                } else {
                    format!("{message} (and {} more failures)", failed.len() - 1)
                },
                serde_json::to_value(error).ok(),
            )
            .with_result(result),
        };
        envelope.with_checks(checked, skipped).write(out)?;
    } else {
        writeln!(out, "{summary}")?;
    }
    Ok(exit)
}

/// What every file's verification checks, and what it did not.
fn checks(args: &ArtifactArgs) -> (Vec<Check>, Vec<Check>) {
    let mut checked = vec![
        Check::new("cms-structure"),
        Check::new("message-digest"),
        Check::new("signature"),
        Check::new("path"),
        Check::new("purpose"),
        Check::new("signing-time"),
    ];
    let mut skipped = Vec::new();
    if args.crls.is_empty() {
        skipped.push(Check::new("revocation").reason("no --crl given"));
    } else {
        checked.push(Check::new("revocation"));
    }
    if args.log_key.is_some() {
        checked.push(Check::new("log-inclusion"));
        checked.push(Check::new("log-entry"));
        if args.min_witnesses > 0 {
            checked.push(Check::new("witness-cosignatures"));
            checked.push(Check::new("proven-time"));
        } else {
            skipped.push(Check::new("proven-time").reason("--min-witnesses 0"));
        }
    } else {
        let reason = "no --log-vkey: the signatures' log bundles are not checked, and the \
                      chain is checked now";
        skipped.push(Check::new("log-inclusion").reason(reason));
        skipped.push(Check::new("proven-time").reason(reason));
    }
    (checked, skipped)
}

fn write_ok(out: &mut impl Write, ok: &VerifiedArtifact) -> std::io::Result<()> {
    let time = |t: OffsetDateTime| crate::times::rfc3339(t);
    let logged = match (ok.proven_time, ok.log_index) {
        (Some(proven), Some(index)) => format!(
            "; existed by {} ({} witness(es), log entry {index})",
            time(proven),
            ok.witnesses.len()
        ),
        (None, Some(index)) => format!("; log entry {index}, no proof of time"),
        _ => "; not checked against the log".into(),
    };
    writeln!(
        out,
        "OK: {}: signed by {} (serial {}) for {} at {}{logged}",
        ok.file,
        ok.signer.subject,
        ok.signer.serial,
        ok.purpose,
        time(ok.signing_time)
    )
}
