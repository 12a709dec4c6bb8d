//! `rust-pki ceremony`: quorum ceremonies (DESIGN §4) — the roster, members' approvals.

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::Context;
use rust_pki_ceremony::{
    Roster,
    approval::{NAMESPACE, sign_with_ssh_keygen, verify_approval},
};
use sha2::Digest;

use super::{ca::PolicyArg, common::load_policy};

/// Default roster path, relative to the working directory (the repository root).
pub const DEFAULT_ROSTER: &str = "policy/roster.toml";

#[derive(Debug, clap::Subcommand)]
pub enum CeremonyCommand {
    /// The quorum roster: check it against the policy, export an allowed_signers file.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Approve a ceremony request: an SSH signature (ssh-keygen -Y sign, namespace
    /// ceremony@pki.rust-lang.org) over the request file's exact bytes. Run it on your own
    /// machine after reading the request (`ceremony show`); send the signature file to the
    /// operator.
    Approve(ApproveArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum RosterCommand {
    /// Load the roster, check every policy rule (member count, unique ids and keys, allowed
    /// key types, age recipients, per-organisation and per-country limits) and print the
    /// members. Exits non-zero, naming the member and rule, if a rule is broken.
    Check(RosterCheckArgs),
}

/// The roster file, for subcommands that read it.
#[derive(Debug, clap::Args)]
pub struct RosterArg {
    /// The quorum roster (strict TOML).
    #[arg(id = "roster", long = "roster", value_name = "FILE", default_value = DEFAULT_ROSTER)]
    pub path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RosterCheckArgs {
    #[command(flatten)]
    roster: RosterArg,
    #[command(flatten)]
    policy: PolicyArg,
    /// Also write an OpenSSH allowed_signers file for the members (must not exist), so
    /// anyone can check an approval with
    /// `ssh-keygen -Y verify -f FILE -I MEMBER -n ceremony@pki.rust-lang.org -s SIG < REQUEST`.
    #[arg(long, value_name = "FILE")]
    allowed_signers_out: Option<PathBuf>,
}

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
}

pub fn run(command: CeremonyCommand) -> anyhow::Result<ExitCode> {
    match command {
        CeremonyCommand::Roster(RosterCommand::Check(args)) => roster_check(args),
        CeremonyCommand::Approve(args) => approve(args),
    }
}

pub fn load_roster(roster: &std::path::Path, policy: &std::path::Path) -> anyhow::Result<Roster> {
    let policy = load_policy(policy)?;
    Ok(Roster::load(roster, &policy.quorum)?)
}

fn roster_check(args: RosterCheckArgs) -> anyhow::Result<ExitCode> {
    let roster = load_roster(&args.roster.path, &args.policy.path)?;
    if let Some(path) = &args.allowed_signers_out {
        rust_pki_ca::output::ensure_absent([path.as_path()])?;
    }

    let header = [
        "id",
        "organisation",
        "country",
        "key type",
        "fingerprint",
        "reappoint_by",
    ];
    let rows: Vec<[String; 6]> = roster
        .members()
        .iter()
        .map(|m| {
            [
                m.id.clone(),
                m.organisation.clone(),
                m.country.clone(),
                m.key_type(),
                m.fingerprint(),
                m.reappoint_by.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = std::io::stdout().lock();
    writeln!(out, "roster {}", roster.path().display())?;
    writeln!(out, "sha256 {}", hex::encode(roster.sha256()))?;
    writeln!(out)?;
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        writeln!(out, "{}", line(&row.each_ref().map(String::as_str)))?;
    }
    writeln!(out)?;
    for rule in roster.rule_results() {
        writeln!(out, "ok  {:<22}{}", rule.rule, rule.detail)?;
    }

    if let Some(path) = &args.allowed_signers_out {
        rust_pki_ca::output::write_new(path, roster.allowed_signers().as_bytes())?;
        writeln!(out, "wrote {} (namespace {NAMESPACE})", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let request = std::fs::read(&args.request)
        .with_context(|| format!("reading {}", args.request.display()))?;
    let roster = args
        .roster
        .as_deref()
        .map(|roster| load_roster(roster, &args.policy.path))
        .transpose()?;
    // Refuse before asking for a passphrase or a touch.
    rust_pki_ca::output::ensure_absent([args.out.as_path()])?;

    let armored = sign_with_ssh_keygen(&request, &args.key)?;
    let member = roster
        .as_ref()
        .map(|roster| verify_approval(roster, &request, &armored))
        .transpose()
        .context("the new signature is not a valid approval under --roster; nothing written")?;
    rust_pki_ca::output::write_new(&args.out, armored.as_bytes())?;

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
            member.id,
            member.name,
            member.fingerprint()
        )?;
    }
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(ExitCode::SUCCESS)
}
