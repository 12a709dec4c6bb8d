//! `rust-pki ceremony due`: the ceremonies the policy makes due, and when.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use rust_pki_ceremony::{Roster, schedule, state::State};
use rust_pki_verify::envelope::Envelope;

use crate::cmd::{
    ca::PolicyArg,
    common::{DueRow, parse_rfc3339_arg, write_due_table},
};
use crate::outcome::Invalid;

/// The roster built into this binary: `due`'s default, so it runs outside the repository.
const BUILT_IN_ROSTER: &str = include_str!("../../../policy/roster.toml");

/// Environment variable naming the roster file when `--roster` is not given.
const ROSTER_ENV: &str = "RUST_PKI_ROSTER";

#[derive(Debug, clap::Args)]
pub struct DueArgs {
    /// The ceremony state directory whose records are read; it must exist (nothing is
    /// created or written).
    #[arg(
        long = "state-dir",
        alias = "state",
        value_name = "DIR",
        default_value = "ceremonies"
    )]
    state: PathBuf,
    #[command(flatten)]
    policy: PolicyArg,
    /// The quorum roster whose members' re-appointment dates are scheduled. Default: the
    /// roster built into this binary (policy/roster.toml of its source tree).
    #[arg(long, value_name = "FILE", env = ROSTER_ENV)]
    roster: Option<PathBuf>,
    /// Exit with status 1 (`INVALID [overdue]`) when a ceremony is past its deadline,
    /// after printing the schedule: for a scheduled CI job that must go red.
    #[arg(long)]
    fail_if_overdue: bool,
    /// Evaluate the schedule at this time instead of now (RFC 3339, e.g.
    /// 2027-06-01T00:00:00Z): what is due and overdue then.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339_arg)]
    at: Option<time::OffsetDateTime>,
    /// Print JSON for automation, in the envelope of docs/cli-json.md; its result:
    /// {"at": …, "due": [{"kind", "subject", "due_at", "deadline", "overdue", "reason"},
    /// …]}, sorted by due_at.
    #[arg(long)]
    json: bool,
}

impl DueArgs {
    /// Whether the schedule is asked for as JSON (the envelope of errors, too).
    pub fn json(&self) -> bool {
        self.json
    }
}

pub(super) fn due(args: DueArgs) -> anyhow::Result<ExitCode> {
    use time::format_description::well_known::Rfc3339;

    // Read-only: a mistyped --state-dir must not look like "nothing done yet, root-init due".
    anyhow::ensure!(
        args.state.is_dir(),
        "{}: no such ceremony state directory (give it with --state-dir DIR)",
        args.state.display()
    );
    let policy = args.policy.load()?;
    let roster = match &args.roster {
        Some(path) => Roster::load(path, &policy.quorum)?,
        None => Roster::parse(
            BUILT_IN_ROSTER,
            Path::new("built-in roster (policy/roster.toml)"),
            &policy.quorum,
        )?,
    };
    let state = State::open(&args.state)?;
    let at = args.at.unwrap_or_else(time::OffsetDateTime::now_utc);
    let at = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .to_offset(time::UtcOffset::UTC);
    let due = schedule::due(&policy, &roster, &state, at)?;

    let overdue = due.iter().filter(|d| d.overdue).count();
    // With --fail-if-overdue an overdue ceremony is a verdict (exit 1, `INVALID
    // [overdue]`); the schedule is printed either way.
    let verdict = |result: Option<serde_json::Value>| Invalid {
        rule: "overdue",
        message: format!(
            "{overdue} ceremony(ies) past their deadline (marked OVERDUE): hold them now"
        ),
        details: None,
        result,
        checked: Vec::new(),
        skipped: Vec::new(),
    };
    let fail = args.fail_if_overdue && overdue > 0;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({ "at": at.format(&Rfc3339)?, "due": due });
        if fail {
            return Err(verdict(Some(json)).into());
        }
        Envelope::success("ceremony due", json).write(&mut out)?;
        return Ok(ExitCode::SUCCESS);
    }

    let (now, upcoming): (Vec<_>, Vec<_>) = due.iter().partition(|d| d.due_at <= at);
    writeln!(
        out,
        "ceremonies as of {} (state {}): {} due now ({overdue} overdue), {} upcoming",
        at.format(&Rfc3339)?,
        args.state.display(),
        now.len(),
        upcoming.len()
    )?;
    for (title, list) in [("Due now", &now), ("Upcoming", &upcoming)] {
        writeln!(out)?;
        if list.is_empty() {
            writeln!(out, "{title}: none")?;
        } else {
            writeln!(out, "{title}:")?;
            write_due_table(
                &mut out,
                list.iter().map(|d| DueRow {
                    due_at: d.due_at,
                    deadline: d.deadline,
                    overdue: d.overdue,
                    kind: &d.kind,
                    subject: &d.subject,
                    reason: &d.reason,
                }),
            )?;
        }
    }
    if fail {
        return Err(verdict(None).into());
    }
    if overdue > 0 {
        crate::cmd::common::warn(format_args!(
            "warning: {overdue} ceremony(ies) past their deadline (marked OVERDUE): hold them now"
        ));
    }
    Ok(ExitCode::SUCCESS)
}
