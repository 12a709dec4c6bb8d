//! `rust-pki ceremony approve`: a member SSH-signs a request and contributes shares.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use anyhow::Context;
use rust_pki_ceremony::{
    approval::{sign_with_ssh_keygen, verify_approval},
    contribute::{contributed_share_file, reencrypt_for_request},
    inert::inert,
    request::Request,
    validate::{check_clock, read_request},
};
use sha2::Digest;

use super::load_roster;
use crate::cmd::ca::PolicyArg;

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The ceremony request file; its exact bytes are signed.
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// Your SSH key, as for `ssh-keygen -f`: a private key file, or the public key file of
    /// a key held in ssh-agent or on a hardware token (FIDO keys ask for a touch).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Where to write the armored signature (must not exist), e.g. `alice.sig`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Before writing, check the signature as the executor will: against this roster
    /// (with the policy of --policy), printing the member it verifies as.
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArg,
    /// A PIN share of yours to contribute (repeatable; e.g. <state>/001-root-init/user-pin/
    /// shares/<you>.age): decrypted here with --identity and re-encrypted to the request's
    /// one-time ceremony key, written next to --out as <stem>.<secret>.age.
    #[arg(long, value_name = "FILE", requires = "identity")]
    share: Vec<PathBuf>,
    /// The key that decrypts your shares: an age identity file, or your unencrypted
    /// ssh-ed25519 private key.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

pub(super) fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let request = read_request(&args.request)?;
    // Sign nothing `show` would refuse to display or `execute` would refuse to run, nor a
    // request dated ahead of this machine's clock.
    let parsed = Request::parse(&request, &args.request)?;
    check_clock(&parsed, SystemTime::now(), &args.request)?;
    let roster = args
        .roster
        .as_deref()
        .map(|roster| load_roster(roster, &args.policy))
        .transpose()?;
    // Re-encrypt every share first (they name their secret), so that nothing is written
    // if one does not decrypt; then refuse existing outputs before asking for a
    // passphrase or a touch.
    let identity = args.identity.as_deref();
    let mut contributions = Vec::with_capacity(args.share.len());
    for share in &args.share {
        let identity = identity.context("--share needs --identity")?;
        let (secret, bytes) = reencrypt_for_request(&request, &args.request, share, identity)?;
        let stem = args
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .context("--out needs a file name")?;
        contributions.push((
            args.out
                .with_file_name(contributed_share_file(stem, &secret)),
            bytes,
        ));
    }
    rust_pki_ca::output::ensure_absent(
        [args.out.as_path()]
            .into_iter()
            .chain(contributions.iter().map(|(p, _)| p.as_path())),
    )?;

    let armored = sign_with_ssh_keygen(&request, &args.key)?;
    let member = roster
        .as_ref()
        .map(|roster| verify_approval(roster, &request, &armored))
        .transpose()
        .context("the new signature is not a valid approval under --roster; nothing written")?;
    rust_pki_ca::output::write_new(&args.out, armored.as_bytes())?;
    for (path, bytes) in &contributions {
        rust_pki_ca::output::write_new(path, bytes)?;
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "request {} sha256 {}",
        args.request.display(),
        hex::encode(sha2::Sha256::digest(&request))
    )?;
    if let Some(member) = member {
        writeln!(
            out,
            "verifies as member {} ({}, {})",
            inert(&member.id),
            inert(&member.name),
            member.fingerprint()
        )?;
    }
    writeln!(out, "wrote {}", args.out.display())?;
    for (path, _) in &contributions {
        writeln!(
            out,
            "wrote {} (your share, for this ceremony's key only)",
            path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
