//! `verify manifest MANIFEST [FILE…] [--downloads DIR]`: the check rustup would make, through
//! [`crate::clients::verify_manifest`]: the manifest's signature (`MANIFEST.sig`, purpose
//! releases by default), then each download's SHA-256 against the manifest. One line per
//! file and a summary; exit 0 when all is well, 1 when the manifest's signature or a
//! download is invalid, 2 when an input cannot be read.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::signatures::{
    Failed, SetupError, TrustArgs, envelope, failed_json, finish, setup_failed, signed_by, worst,
};
use crate::artifact::ArtifactVerifier;
use crate::clients::{ManifestReport, verify_manifest};
use crate::envelope::Exit;
use crate::sig_file::sig_path;
use crate::{Check, Error};

const COMMAND: &str = "verify manifest";

/// The arguments of `verify manifest`.
#[derive(Debug, clap::Args)]
#[command(after_help = MANIFEST_HELP)]
pub struct ManifestArgs {
    /// The channel manifest (e.g. channel-rust-stable.toml), signed by MANIFEST.sig next to it.
    #[arg(value_name = "MANIFEST")]
    manifest: PathBuf,

    /// Downloaded files to check against the manifest: each must be listed under its file
    /// name with its SHA-256.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// A download folder: its files the manifest lists are checked, the others (signatures,
    /// the manifest itself) ignored.
    #[arg(long, value_name = "DIR")]
    downloads: Option<PathBuf>,

    /// Every file the manifest lists must be among the downloads.
    #[arg(long)]
    require_all: bool,

    /// Whom the signatures must chain to, for what, and how they are proven.
    #[command(flatten)]
    trust: TrustArgs,
}

const MANIFEST_HELP: &str = "\
Examples:
  rust-pki verify manifest dist/channel-rust-stable.toml --downloads dist/ --require-all \\
      --root rust-root.pem --log-vkey log.vkey --witness-vkey w1.vkey --crl releases.crl
  rust-pki verify manifest channel-rust-stable.toml rustc-1.95.0-x86_64-unknown-linux-gnu.tar.xz \\
      --root rust-root.pem --log-vkey log.vkey --witness-vkey w1.vkey --json
  rust-pki-verify manifest channel-rust-stable.toml --root rust-root.pem

The manifest's signature is checked for --purpose (default releases), then every download
against the manifest (rule manifest-digest-mismatch, not-in-manifest, and with
--require-all manifest-file-missing).

Exit status: 0 the manifest and every download verified, 1 one is invalid
(INVALID [rule]: FILE: ...), 2 an input cannot be used (error: ...).";

/// Runs `verify manifest` and prints everything; returns the exit status.
pub fn run(args: &ManifestArgs) -> Exit {
    let mut stdout = std::io::stdout().lock();
    finish(match setup(args) {
        Ok((verifier, downloads)) => report(&mut stdout, args, &verifier, &downloads),
        Err(error) => setup_failed(&mut stdout, COMMAND, args.trust.json, error),
    })
}

fn setup(args: &ManifestArgs) -> Result<(ArtifactVerifier, Vec<PathBuf>), SetupError> {
    let verifier = args.trust.verifier(Some("releases"))?;
    let mut downloads = args.files.clone();
    if let Some(dir) = &args.downloads {
        if !dir.is_dir() {
            return Err((
                "read",
                format!("--downloads {}: not a directory", dir.display()),
            ));
        }
        downloads.push(dir.clone());
    }
    Ok((verifier, downloads))
}

fn report(
    out: &mut impl Write,
    args: &ManifestArgs,
    verifier: &ArtifactVerifier,
    downloads: &[PathBuf],
) -> std::io::Result<Exit> {
    let manifest = args.manifest.display().to_string();
    let checks = checks(args);
    let report = match verify_manifest(verifier, &args.manifest, downloads, args.require_all) {
        Ok(report) => report,
        Err(error) => {
            let sig = sig_path(&args.manifest);
            let failed = [Failed::report(manifest, Some(&sig), error)];
            if args.trust.json {
                // No result: the manifest itself did not verify.
                envelope(COMMAND, Value::Null, &failed, checks).write(out)?;
            }
            return Ok(worst(&failed));
        }
    };
    let ManifestReport {
        manifest: signed,
        date,
        listed,
        files,
        failed,
        missing,
        ignored,
    } = report;
    let failed: Vec<Failed> = failed
        .into_iter()
        .map(|f| Failed::report(f.file, None, f.error))
        .collect();
    // With --require-all the files not downloaded are failures too, but not downloads.
    let downloads_failed = failed
        .iter()
        .filter(|f| !matches!(f.error, Error::ManifestFileMissing { .. }))
        .count();
    if args.trust.json {
        let result = json!({
            "manifest": signed,
            "date": date,
            "listed": listed,
            "files": files,
            "failed": failed_json(&failed),
            "missing": missing,
            "ignored": ignored,
            "chain_validations": verifier.chain_validations(),
        });
        envelope(COMMAND, result, &failed, checks).write(out)?;
    } else {
        writeln!(
            out,
            "OK: {manifest}: {}; manifest of {date}, {listed} file(s) listed",
            signed_by(&signed)
        )?;
        for file in &files {
            writeln!(
                out,
                "OK: {}: SHA-256 as the manifest lists ({} {})",
                file.file, file.package, file.target
            )?;
        }
        if !args.require_all {
            for name in &missing {
                writeln!(out, "not downloaded: {name}")?;
            }
        }
        writeln!(
            out,
            "{manifest} verified; {} of {} download(s) match it, {} listed file(s) not \
             downloaded; the chain was validated {} time(s)",
            files.len(),
            files.len() + downloads_failed,
            missing.len(),
            verifier.chain_validations()
        )?;
    }
    Ok(worst(&failed))
}

/// The signature's checks, the downloads' digests, and completeness with --require-all.
fn checks(args: &ManifestArgs) -> (Vec<Check>, Vec<Check>) {
    let (mut checked, mut skipped) = args.trust.checks();
    checked.push(Check::new("manifest-digest"));
    if args.require_all {
        checked.push(Check::new("manifest-complete"));
    } else {
        skipped.push(
            Check::new("manifest-complete")
                .reason("no --require-all: listed files need not all be downloaded"),
        );
    }
    (checked, skipped)
}
