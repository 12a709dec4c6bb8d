//! `verify lockfile Cargo.lock --crates DIR`: the check a cargo-like client or a mirror would
//! make, through [`crate::clients::verify_lockfile`]: every crates.io package of the lock
//! file downloaded as `NAME-VERSION.crate` with the lock file's checksum, and its
//! `.crate.sig` verified (purpose crates-io by default). One line per crate and a summary;
//! exit 0 when every crate verified, 1 when one is missing or invalid, 2 when an input
//! cannot be read.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::signatures::{
    Failed, SetupError, TrustArgs, envelope, failed_json, finish, setup_failed, signed_by, worst,
};
use crate::Check;
use crate::artifact::ArtifactVerifier;
use crate::clients::{LockReport, verify_lockfile};
use crate::envelope::Exit;

const COMMAND: &str = "verify lockfile";

/// The arguments of `verify lockfile`.
#[derive(Debug, clap::Args)]
#[command(after_help = LOCKFILE_HELP)]
pub struct LockfileArgs {
    /// The lock file (Cargo.lock, version 3 or 4).
    #[arg(value_name = "Cargo.lock")]
    lockfile: PathBuf,

    /// The folder holding the downloaded crates: NAME-VERSION.crate and
    /// NAME-VERSION.crate.sig for each crates.io package.
    #[arg(long, value_name = "DIR")]
    crates: PathBuf,

    /// Whom the signatures must chain to, for what, and how they are proven.
    #[command(flatten)]
    trust: TrustArgs,
}

const LOCKFILE_HELP: &str = "\
Examples:
  rust-pki verify lockfile Cargo.lock --crates vendor/ --root rust-root.pem \\
      --log-vkey log.vkey --witness-vkey w1.vkey --crl crates-io.crl
  rust-pki-verify lockfile Cargo.lock \\
      --crates ~/.cargo/registry/cache/index.crates.io-1949cf8c6b5b557f \\
      --root rust-root.pem --json

Each crates.io package must be there with the lock file's checksum (rules crate-missing,
crate-checksum-mismatch) and a signature for --purpose (default crates-io) whose log
entry names its file. Path, git and other registries' packages are skipped.

Exit status: 0 every crate verified, 1 one is missing or invalid
(INVALID [rule]: FILE: ...), 2 an input cannot be used (error: ...).";

/// Runs `verify lockfile` and prints everything; returns the exit status.
pub fn run(args: &LockfileArgs) -> Exit {
    let mut stdout = std::io::stdout().lock();
    finish(match setup(args) {
        Ok(verifier) => report(&mut stdout, args, &verifier),
        Err(error) => setup_failed(&mut stdout, COMMAND, args.trust.json, error),
    })
}

fn setup(args: &LockfileArgs) -> Result<ArtifactVerifier, SetupError> {
    let verifier = args.trust.verifier(Some("crates-io"))?;
    if !args.crates.is_dir() {
        let dir = args.crates.display();
        return Err(("read", format!("--crates {dir}: not a directory")));
    }
    Ok(verifier)
}

fn report(
    out: &mut impl Write,
    args: &LockfileArgs,
    verifier: &ArtifactVerifier,
) -> std::io::Result<Exit> {
    let (mut checked, mut skipped) = args.trust.checks();
    checked.push(Check::new("crate-checksum"));
    let report = match verify_lockfile(verifier, &args.lockfile, &args.crates) {
        Ok(report) => report,
        Err(error) => {
            let lockfile = args.lockfile.display().to_string();
            let failed = [Failed::report(lockfile, None, error)];
            if args.trust.json {
                // No result: the lock file could not be read.
                envelope(COMMAND, Value::Null, &failed, (checked, skipped)).write(out)?;
            }
            return Ok(worst(&failed));
        }
    };
    let LockReport {
        lockfile,
        total,
        crates,
        failed,
        skipped: packages,
    } = report;
    let failed: Vec<Failed> = failed
        .into_iter()
        .map(|f| Failed::report(f.file, None, f.error))
        .collect();
    skipped.extend(packages.iter().map(|package| {
        Check::new("crate-signature")
            .subject(package)
            .reason("not a crates.io package: crates.io signs only its own crates")
    }));
    if args.trust.json {
        let result = json!({
            "lockfile": lockfile,
            "crates": crates,
            "failed": failed_json(&failed),
            "skipped": packages,
            "verified": crates.len(),
            "total": total,
            "chain_validations": verifier.chain_validations(),
        });
        envelope(COMMAND, result, &failed, (checked, skipped)).write(out)?;
    } else {
        for krate in &crates {
            writeln!(
                out,
                "OK: {}: {} {} with the checksum of {lockfile}; {}",
                krate.file,
                krate.name,
                krate.version,
                signed_by(&krate.signature)
            )?;
        }
        for package in &packages {
            writeln!(out, "SKIPPED: {package}: not a crates.io package")?;
        }
        writeln!(
            out,
            "{} of {total} crate(s) verified, {} package(s) skipped (not from crates.io); the \
             chain was validated {} time(s)",
            crates.len(),
            packages.len(),
            verifier.chain_validations()
        )?;
    }
    Ok(worst(&failed))
}
