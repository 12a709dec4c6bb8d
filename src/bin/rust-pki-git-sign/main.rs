//! `rust-pki-git-sign`: the program git runs to sign and verify commits and tags with the
//! Rust PKI (`gpg.format=x509`, `gpg.x509.program=rust-pki-git-sign`).
//!
//! git runs it without a shell, as it runs gpgsm:
//! - `rust-pki-git-sign --status-fd=2 -bsau KEY`: sign the payload on stdin with the bors
//!   leaf key in its PKCS#11 token; the detached CMS (docs/signatures.md) goes to stdout,
//!   armored as `-----BEGIN SIGNED MESSAGE-----`, and `[GNUPG:] SIG_CREATED` to the status fd;
//! - `rust-pki-git-sign --status-fd=1 --verify SIGFILE -`: verify the signature in SIGFILE
//!   over the payload on stdin against the pinned root, for the bors purpose; status lines
//!   (`GOODSIG`, `VALIDSIG`, `BADSIG`, `ERRSIG`) to the status fd, a sentence on stderr.
//!
//! The key, certificates and root come from the environment or git config (`--help`).
#![forbid(unsafe_code)]

mod config;
mod status;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::Parser;
use rust_pki_ca::Signer;
use rust_pki_ca::pkcs11_uri::Pkcs11Uri;
use rust_pki_ca::signer::{KeyAlgorithm, Pkcs11Signer};
use rust_pki_sign::SigningLeaf;
use rust_pki_verify::artifact::{ArtifactVerifier, VerifiedArtifact};
use rust_pki_verify::sig_file::SigFile;
use rust_pki_verify::{Crl, Error as VerifyError, Purpose, Root};

use config::{Config, SETTINGS_HELP, required};
use status::{StatusFd, inert};

/// Largest payload signed or verified: git commits and tags are small; this bounds memory.
const MAX_PAYLOAD: u64 = 64 << 20;

/// The arguments git passes (a subset of gpg's), so the flags keep gpg's names.
#[derive(Debug, Parser)]
#[command(
    name = "rust-pki-git-sign",
    version,
    about = "Sign and verify git commits and tags with the Rust PKI: the gpg.x509.program git runs",
    after_help = const_format_help()
)]
struct Args {
    /// Where to write the [GNUPG:] status lines: 1 (stdout) or 2 (stderr), as git passes.
    #[arg(long = "status-fd", value_name = "FD", value_parser = StatusFd::parse)]
    status_fd: Option<StatusFd>,
    /// Make a detached signature (gpg's -b; always detached).
    #[arg(short = 'b', long = "detach-sign")]
    detach: bool,
    /// Sign the payload on stdin (gpg's -s).
    #[arg(short = 's', long = "sign")]
    sign: bool,
    /// Armor the output (gpg's -a; always armored).
    #[arg(short = 'a', long = "armor")]
    armor: bool,
    /// The key git names (user.signingKey, else the committer): used when it is a pkcs11: URI
    /// and no key is configured, otherwise ignored.
    #[arg(short = 'u', long = "local-user", value_name = "KEY")]
    local_user: Option<String>,
    /// Verify the detached signature in SIGFILE over the payload on stdin.
    #[arg(long, value_name = "SIGFILE", conflicts_with = "sign")]
    verify: Option<PathBuf>,
    /// `-`: the payload is read from stdin (the only source).
    #[arg(value_name = "DATA")]
    data: Vec<String>,
}

const fn const_format_help() -> &'static str {
    concat!(
        "Set up a repository:\n",
        "  git config gpg.format x509\n",
        "  git config gpg.x509.program rust-pki-git-sign\n",
        "  git config rustpki.key 'pkcs11:token=bors;object=bors-leaf?module-path=…&pin-source=file:…'\n",
        "  git config rustpki.cert bors-leaf.pem; git config rustpki.chain bors-delegate.pem\n",
        "  git config rustpki.root rust-root.pem\n",
        "Then `git commit -S` signs and `git verify-commit HEAD` verifies.\n\n",
        "Exit status: 0 signed / good signature; 1 bad or unverifiable signature; 2 error.\n\n"
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.data.iter().any(|d| d != "-") {
        eprintln!("rust-pki-git-sign: the payload is read from stdin only (pass `-`)");
        return ExitCode::from(2);
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("rust-pki-git-sign: {error:#}\n\n{SETTINGS_HELP}");
            return ExitCode::from(2);
        }
    };
    if let Some(sigfile) = &args.verify {
        return verify(&config, sigfile, args.status_fd.unwrap_or(StatusFd::Stdout));
    }
    if !args.sign {
        eprintln!(
            "rust-pki-git-sign: nothing to do: pass -bsau KEY to sign or --verify SIGFILE - (see --help)"
        );
        return ExitCode::from(2);
    }
    match sign(
        &config,
        args.local_user.as_deref(),
        args.status_fd.unwrap_or(StatusFd::Stderr),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rust-pki-git-sign: cannot sign: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn read_payload() -> anyhow::Result<Vec<u8>> {
    let mut payload = Vec::new();
    std::io::stdin()
        .take(MAX_PAYLOAD + 1)
        .read_to_end(&mut payload)
        .context("reading the payload from stdin")?;
    if payload.len() as u64 > MAX_PAYLOAD {
        bail!("the payload is larger than {MAX_PAYLOAD} bytes");
    }
    Ok(payload)
}

fn purpose(config: &Config) -> anyhow::Result<Purpose> {
    Ok(match &config.policy {
        Some(policy) => Purpose::from_policy(policy, &config.purpose)?,
        None => Purpose::built_in(&config.purpose)?,
    })
}

fn sign(config: &Config, local_user: Option<&str>, status: StatusFd) -> anyhow::Result<()> {
    let uri_text = match (&config.key, local_user) {
        (Some(key), _) => key.as_str(),
        (None, Some(user)) if user.starts_with("pkcs11:") => user,
        _ => bail!(
            "no signing key: set {} or `git config rustpki.key` to the leaf key's PKCS#11 URI",
            config::env_name("key")
        ),
    };
    let uri: Pkcs11Uri = uri_text.parse().context("the signing key's PKCS#11 URI")?;
    let leaf_path = required(&config.cert, "cert", "leaf certificate")?;
    let chain_path = required(&config.chain, "chain", "delegate certificate")?;
    let leaf_der = rust_pki_ca::pem::read_der(leaf_path, rust_pki_ca::pem::label::CERTIFICATE)?;
    let delegate_der =
        rust_pki_ca::pem::read_der(chain_path, rust_pki_ca::pem::label::CERTIFICATE)?;
    let purpose = purpose(config)?;
    let signer =
        Pkcs11Signer::open(&uri).with_context(|| format!("opening {}", signer_name(&uri)))?;
    let now = SystemTime::now();
    let leaf = SigningLeaf::check(&leaf_der, &delegate_der, signer.public_key(), &purpose, now)?;
    let payload = read_payload()?;
    let cms =
        rust_pki_sign::sign_payload(&signer, &leaf, &payload, now, Path::new("the git payload"))?;
    let armored = rust_pki_sign::sigfile::git_armor(&cms)?;
    // git looks for "\n[GNUPG:] SIG_CREATED ": a line must come before it.
    status.line("BEGIN_SIGNING", &[]);
    std::io::stdout()
        .write_all(armored.as_bytes())
        .context("writing the signature to stdout")?;
    let (algorithm, hash) = match leaf.algorithm() {
        // OpenPGP algorithm and hash ids (RFC 9580): ECDSA with SHA-384, EdDSA with SHA-512.
        KeyAlgorithm::EcdsaP384 => ("19", "9"),
        KeyAlgorithm::Ed25519 => ("22", "10"),
    };
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    let fingerprint = hex::encode_upper(sha256(leaf.leaf_der()));
    status.line(
        "SIG_CREATED",
        &["D", algorithm, hash, "00", &unix, &fingerprint],
    );
    Ok(())
}

fn signer_name(uri: &Pkcs11Uri) -> String {
    format!("the key {uri}")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

fn verify(config: &Config, sigfile: &Path, status: StatusFd) -> ExitCode {
    status.line("NEWSIG", &[]);
    match check(config, sigfile) {
        Ok(verified) => {
            let signer = &verified.signer;
            // The path runs from the leaf to the pinned root.
            let fingerprint = |c: Option<&rust_pki_verify::CertSummary>| {
                c.map(|c| c.sha256.clone()).unwrap_or_default()
            };
            let leaf_sha256 = fingerprint(verified.chain.path.first());
            let root_sha256 = fingerprint(verified.chain.path.last());
            let unix = verified.signing_time.unix_timestamp().to_string();
            let date = verified.signing_time.date().to_string();
            status.line("GOODSIG", &[&signer.serial, &signer.subject]);
            status.line(
                "VALIDSIG",
                &[
                    &leaf_sha256.to_ascii_uppercase(),
                    &date,
                    &unix,
                    "0",
                    "4",
                    "0",
                    "19",
                    "9",
                    "00",
                    &root_sha256.to_ascii_uppercase(),
                ],
            );
            status.line("TRUST_FULLY", &["0", "shell"]);
            eprintln!(
                "rust-pki-git-sign: Good signature from {} (serial {}) for {}, signed {} \
                 (chain to the pinned root {})",
                inert(&signer.subject),
                signer.serial,
                inert(&verified.purpose),
                verified
                    .signing_time
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_else(|_| verified.signing_time.to_string()),
                root_sha256
            );
            ExitCode::SUCCESS
        }
        Err(Failure::Invalid(error)) => {
            let time = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .to_string();
            if matches!(
                error,
                VerifyError::MessageDigestMismatch { .. } | VerifyError::CmsBadSignature { .. }
            ) {
                status.line("BADSIG", &["0", "rust-pki signature"]);
            } else {
                status.line("ERRSIG", &["0", "0", "0", "00", &time, "9"]);
            }
            eprintln!(
                "rust-pki-git-sign: INVALID [{}]: {}",
                error.rule(),
                inert(&error.to_string())
            );
            ExitCode::from(1)
        }
        Err(Failure::Error(error)) => {
            status.line("ERRSIG", &["0", "0", "0", "00", "0", "9"]);
            eprintln!(
                "rust-pki-git-sign: cannot verify: {}",
                inert(&format!("{error:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// Why a verification did not succeed: the signature is bad, or the check could not run.
enum Failure {
    Invalid(VerifyError),
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Error(error)
    }
}

fn check(config: &Config, sigfile: &Path) -> Result<VerifiedArtifact, Failure> {
    let root_path = required(&config.root, "root", "pinned root certificate")?;
    let root = Root::from_file(root_path).map_err(|e| Failure::Error(e.into()))?;
    let purpose = purpose(config)?;
    let crls = config
        .crls
        .iter()
        .map(|path| Crl::from_file(path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Error(e.into()))?;
    let bytes = std::fs::read(sigfile)
        .with_context(|| format!("reading the signature {}", sigfile.display()))?;
    let name = sigfile.display().to_string();
    let sig = SigFile::from_git_armor(&name, &bytes).map_err(Failure::Invalid)?;
    let payload = read_payload()?;
    // git signatures are not logged: the chain is checked now (docs/signatures.md).
    let verifier = ArtifactVerifier::new(root, purpose).with_crls(crls);
    verifier
        .verify(
            "the git payload",
            "git payload",
            &mut payload.as_slice(),
            &sig,
        )
        .map_err(Failure::Invalid)
}
