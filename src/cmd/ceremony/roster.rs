//! `rust-pki ceremony roster check`: the roster against the policy, as a table.

use std::{io::Write, path::PathBuf, process::ExitCode};

use rust_pki_ceremony::{Roster, approval::NAMESPACE, inert::inert};

use super::RosterArg;
use crate::cmd::{ca::PolicyArg, common::write_table};
use crate::outcome::Invalid;

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

/// The roster is what `check` checks: a roster that breaks a rule is a verdict (exit 1,
/// `INVALID [roster]`); one that cannot be read or parsed stays an input error (exit 2).
fn roster_verdict(error: rust_pki_ceremony::Error) -> anyhow::Error {
    use rust_pki_ceremony::Error as C;
    match error {
        C::RosterField { .. }
        | C::RosterName { .. }
        | C::RosterKeyType { .. }
        | C::RosterMissingAgeRecipient { .. }
        | C::RosterDuplicateId { .. }
        | C::RosterDuplicateKey { .. }
        | C::RosterDuplicateAgeRecipient { .. }
        | C::RosterMemberCount { .. }
        | C::RosterOrganisationLimit { .. }
        | C::RosterCountryLimit { .. }
        | C::RosterReappointment { .. } => Invalid {
            rule: "roster",
            message: error.to_string(),
            details: None,
            result: None,
            checked: Vec::new(),
            skipped: Vec::new(),
        }
        .into(),
        other => other.into(),
    }
}

pub(super) fn roster_check(args: RosterCheckArgs) -> anyhow::Result<ExitCode> {
    let policy = args.policy.load()?;
    let roster = Roster::load(&args.roster.path, &policy.quorum).map_err(roster_verdict)?;
    roster.check_hsm(&policy.hsm).map_err(roster_verdict)?;
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
        "cloudhsm quorum key",
    ];
    let rows: Vec<[String; 7]> = roster
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
                m.cloudhsm_quorum_key
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |k| k.fingerprint()),
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
