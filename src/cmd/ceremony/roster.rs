//! `rust-pki ceremony roster check`: the roster against the policy, as a table.

use std::{io::Write, path::PathBuf, process::ExitCode};

use rust_pki_ceremony::{Roster, approval::NAMESPACE, inert::inert};

use super::RosterArg;
use crate::cmd::{ca::PolicyArg, common::write_table};

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

pub(super) fn roster_check(args: RosterCheckArgs) -> anyhow::Result<ExitCode> {
    let policy = args.policy.load()?;
    let roster = Roster::load(&args.roster.path, &policy.quorum)?;
    if let Some(path) = &args.allowed_signers_out {
        rust_pki_ca::output::ensure_absent([path.as_path()])?;
    }
    let genesis = if hex::encode(roster.sha256()) == policy.quorum.genesis_roster_sha256 {
        "the genesis roster the policy pins".to_owned()
    } else {
        format!(
            "NOT the genesis roster the policy pins ({}): in force only if a roster-change \
             ceremony installed it",
            policy.quorum.genesis_roster_sha256
        )
    };

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
                inert(&m.id),
                inert(&m.organisation),
                inert(&m.country),
                m.key_type(),
                m.fingerprint(),
                m.reappoint_by.to_string(),
            ]
        })
        .collect();

    let mut out = std::io::stdout().lock();
    writeln!(out, "roster {}", roster.path().display())?;
    writeln!(out, "sha256 {} ({genesis})", hex::encode(roster.sha256()))?;
    writeln!(out)?;
    write_table(&mut out, header, &rows)?;
    writeln!(out)?;
    for rule in roster.rule_results() {
        writeln!(out, "ok  {:<22}{}", rule.rule, inert(&rule.detail))?;
    }

    if let Some(path) = &args.allowed_signers_out {
        rust_pki_ca::output::write_new(path, roster.allowed_signers().as_bytes())?;
        writeln!(out, "wrote {} (namespace {NAMESPACE})", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
