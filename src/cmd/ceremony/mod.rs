//! `rust-pki ceremony`: quorum ceremonies (docs/threat-model.md) — the roster, members' approvals.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use rust_pki_ceremony::{
    Roster,
    request::Request,
    show::{LocalFiles, render},
};
use sha2::Digest;

use crate::cmd::ca::PolicyArg;

mod approve;
mod due;
mod execute;
mod prepare;
mod roster;
mod show;

use approve::ApproveArgs;
use due::DueArgs;
use execute::ExecuteArgs;
use prepare::PrepareArgs;
use roster::RosterCheckArgs;
use show::ShowArgs;

/// Default roster path, relative to the working directory (the repository root).
pub const DEFAULT_ROSTER: &str = "policy/roster.toml";

#[derive(Debug, clap::Subcommand)]
pub enum CeremonyCommand {
    /// The quorum roster: check it against the policy, export an allowed_signers file.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Approve a request (as a member): SSH-sign its exact bytes, contribute your share.
    ///
    /// The approval is an SSH signature (ssh-keygen -Y sign, namespace
    /// ceremony@pki.rust-lang.org) over the request file's exact bytes. Run it on your own
    /// machine after reading the request (`ceremony show`); send the signature file to the
    /// operator.
    #[command(
        after_help = "Examples:\n  rust-pki ceremony approve ceremonies/002-delegate-issue/request.toml --key ~/.ssh/id_ed25519 \\\n      --out m4.sig --share ceremonies/001-root-init/user-pin/shares/m4.age --identity ~/.ssh/id_ed25519"
    )]
    Approve(ApproveArgs),
    /// Turn a filled-in ceremony template into a request for members to approve.
    ///
    /// From a template (policy/ceremonies/<kind>.toml, filled in) to a request:
    /// every certificate/CRL is built from policy and linted now; the request pins the
    /// policy, roster, record chain and this binary, and gets a random id, an execution
    /// window and a one-time key for PIN shares. Writes <state>/NNN-<kind>/request.toml.
    #[command(
        after_help = "Examples:\n  cp policy/ceremonies/delegate-issue.toml . && $EDITOR delegate-issue.toml\n  rust-pki ceremony prepare delegate-issue.toml --state-dir ceremonies"
    )]
    Prepare(PrepareArgs),
    /// Show a request for humans: every byte that decides what it does.
    ///
    /// Prints the kind, every parameter, the execution window and its length, the pinned
    /// policy and roster (compared with your own files), every output path, each
    /// certificate and CRL field by field, and for a roster change the new roster member by
    /// member, marked against your roster (= same, ~ changed, + added, - removed). The
    /// fingerprint to read aloud is computed by this binary from the bytes you would sign.
    /// Text from the file is printed inert: control characters, escapes and invisible
    /// characters appear as \u{..}. A request that breaks a rule is refused, not shown.
    #[command(
        after_help = "Examples:\n  rust-pki ceremony show ceremonies/002-delegate-issue/request.toml --roster policy/roster.toml"
    )]
    Show(ShowArgs),
    /// Execute an approved request on the bastion (checks, HSM, record, outputs).
    ///
    /// Holds the state directory's lock throughout (another execute or prepare waits). The
    /// request must be in its own folder inside --state-dir. Before touching the HSM it checks
    /// the request's own rules (as `show` does), the approvals (threshold of distinct
    /// current members over these exact bytes), the window, the pinned policy and roster,
    /// the record chain (never executed, built on the latest record) and the lint of every
    /// TBS; then it unlocks the root key from the approvers' PIN shares, signs, verifies,
    /// writes the ceremony record atomically, appends it to the log, writes the bundles and
    /// only then publishes the outputs. Rerunning an executed request checks the record
    /// against the request (same bytes, outputs matching their digests and the approved
    /// TBS) and only republishes.
    #[command(
        after_help = "Examples:\n  rust-pki ceremony execute ceremonies/002-delegate-issue/request.toml --out demo-out \\\n      --log demo-out/log --log-skey log.skey --witness-url http://127.0.0.1:PORT --witness-vkey demo-out/witness.vkey"
    )]
    Execute(ExecuteArgs),
    /// List the ceremonies the policy makes due, and when.
    ///
    /// Covers root CRL re-signing before its
    /// nextUpdate, delegate renewal ahead of expiry, root rotation ahead of root expiry,
    /// member re-appointments, and whatever is missing (root, root CRL, a purpose's
    /// delegate). Lead times come from [schedule] in the policy. Read-only; something
    /// overdue is a warning (exit 0), or a verdict (exit 1) with --fail-if-overdue.
    #[command(
        after_help = "Examples:\n  rust-pki ceremony due --state-dir ceremonies\n  rust-pki ceremony due --at 2027-06-01T00:00:00Z --fail-if-overdue"
    )]
    Due(DueArgs),
}

/// The ceremony state directory, for subcommands that read it.
#[derive(Debug, clap::Args)]
pub struct StateArg {
    /// The ceremony state directory on the bastion: one folder per ceremony (request,
    /// approvals, record) and the PIN share sets. Created if missing.
    #[arg(
        id = "state",
        long = "state-dir",
        alias = "state",
        value_name = "DIR",
        default_value = "ceremonies"
    )]
    pub path: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum RosterCommand {
    /// Load the roster, check every policy rule (member count, unique ids and keys, allowed
    /// key types, age recipients, per-organisation and per-country limits) and print the
    /// members. Exits non-zero, naming the member and rule, if a rule is broken.
    #[command(
        after_help = "Examples:\n  rust-pki ceremony roster check --roster policy/roster.toml --allowed-signers-out allowed_signers"
    )]
    Check(RosterCheckArgs),
}

/// The roster file, for subcommands that read it.
#[derive(Debug, clap::Args)]
pub struct RosterArg {
    /// The quorum roster (strict TOML).
    #[arg(id = "roster", long = "roster", value_name = "FILE", default_value = DEFAULT_ROSTER)]
    pub path: PathBuf,
}

pub fn run(command: CeremonyCommand) -> anyhow::Result<ExitCode> {
    match command {
        CeremonyCommand::Roster(RosterCommand::Check(args)) => roster::roster_check(args),
        CeremonyCommand::Approve(args) => approve::approve(args),
        CeremonyCommand::Prepare(args) => prepare::prepare(args),
        CeremonyCommand::Show(args) => show::show(args),
        CeremonyCommand::Execute(args) => execute::execute(args),
        CeremonyCommand::Due(args) => due::due(args),
    }
}

pub fn load_roster(roster: &std::path::Path, policy: &PolicyArg) -> anyhow::Result<Roster> {
    let policy = policy.load()?;
    Ok(Roster::load(roster, &policy.quorum)?)
}

/// SHA-256 of this binary: what requests pin, and what `--version` shows.
pub(crate) fn tool_sha256() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("locating the rust-pki binary")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

/// `show`'s rendering, comparing the request's pins with the policy and roster files here.
fn render_with_local_files(
    request: &Request,
    bytes: &[u8],
    policy: &PolicyArg,
    roster_path: &std::path::Path,
) -> anyhow::Result<String> {
    let (policy_bytes, policy) = policy.load_with_bytes()?;
    let roster = Roster::load(roster_path, &policy.quorum)?;
    let tool = tool_sha256()?;
    let local = LocalFiles {
        policy: (&policy_bytes, &policy),
        roster: &roster,
        tool_sha256: &tool,
    };
    Ok(render(request, bytes, local)?)
}
