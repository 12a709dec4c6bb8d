//! `verify artifact FILE…`: each file against its `FILE.sig` (docs/signatures.md), through
//! [`crate::artifact::ArtifactVerifier`]; one line per file, a summary, exit 0 when every
//! file verified, 1 when one is invalid, 2 when an input (root, CRL, key, a file or its
//! `.sig`) cannot be read.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::signatures::{
    Failed, SetupError, TrustArgs, envelope, failed_json, finish, setup_failed, signed_by, worst,
};
use crate::artifact::ArtifactVerifier;
use crate::envelope::Exit;
use crate::sig_file::{SIG_EXTENSION, SigFile, sig_path};

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

    /// Whom the signatures must chain to, for what, and how they are proven.
    #[command(flatten)]
    trust: TrustArgs,
}

const ARTIFACT_HELP: &str = "\
Examples:
  rust-pki verify artifact rustc.tar.xz --root rust-root.pem --purpose releases \\
      --log-vkey log.vkey --witness-vkey w1.vkey --require-crl --crl-dir log/crl
  rust-pki verify artifact --all dist/ --root rust-root.pem --purpose releases \\
      --log-vkey log.vkey --witness-vkey w1.vkey --min-witnesses 1 --json
  rust-pki-verify artifact foo-1.0.0.crate --sig foo.sig --root rust-root.pem \\
      --purpose crates-io

Without --log-vkey the chain is checked now, and a signature by an expired leaf is
refused (no proof of time).

Exit status: 0 every file verified, 1 a file is invalid (INVALID [rule]: FILE: ...),
2 an input cannot be used (error: ...).";

/// Runs `verify artifact` and prints everything; returns the exit status.
pub fn run(args: &ArtifactArgs) -> Exit {
    let mut stdout = std::io::stdout().lock();
    finish(match setup(args) {
        Ok((verifier, files)) => report(&mut stdout, args, &verifier, &files),
        Err(error) => setup_failed(&mut stdout, COMMAND, args.trust.json, error),
    })
}

/// The verifier and the (file, signature) pairs; any failure is an input error.
fn setup(args: &ArtifactArgs) -> Result<(ArtifactVerifier, Vec<(PathBuf, PathBuf)>), SetupError> {
    let verifier = args.trust.verifier(None)?;
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

fn report(
    out: &mut impl Write,
    args: &ArtifactArgs,
    verifier: &ArtifactVerifier,
    files: &[(PathBuf, PathBuf)],
) -> std::io::Result<Exit> {
    let mut verified = Vec::new();
    let mut failed = Vec::new();
    for (file, sig) in files {
        let result = SigFile::from_file(sig).and_then(|s| verifier.verify_file(file, &s));
        match result {
            Ok(ok) => {
                if !args.trust.json {
                    writeln!(out, "OK: {}: {}", ok.file, signed_by(&ok))?;
                }
                verified.push(ok);
            }
            Err(error) => failed.push(Failed::report(file.display().to_string(), Some(sig), error)),
        }
    }
    if args.trust.json {
        let result = json!({
            "files": verified,
            "failed": failed_json(&failed),
            "verified": verified.len(),
            "total": files.len(),
            "chain_validations": verifier.chain_validations(),
        });
        envelope(COMMAND, result, &failed, args.trust.checks()).write(out)?;
    } else {
        writeln!(
            out,
            "{} of {} file(s) verified; the chain was validated {} time(s)",
            verified.len(),
            files.len(),
            verifier.chain_validations()
        )?;
    }
    Ok(worst(&failed))
}
