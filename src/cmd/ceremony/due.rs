//! `rust-pki ceremony due`: the ceremonies the policy makes due, and when.

use std::{io::Write, path::PathBuf, process::ExitCode};

use rust_pki_ceremony::{Roster, schedule, state::State};
use rust_pki_verify::envelope::Envelope;

use super::RosterArg;
use crate::cmd::{
    ca::PolicyArg,
    common::{load_policy, write_table},
};

#[derive(Debug, clap::Args)]
pub struct DueArgs {
    /// The ceremony state directory whose records are read; it must exist (nothing is
    /// created or written).
    #[arg(long, value_name = "DIR", default_value = "ceremonies")]
    state: PathBuf,
    #[command(flatten)]
    policy: PolicyArg,
    #[command(flatten)]
    roster: RosterArg,
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

fn parse_rfc3339_arg(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2027-06-01T00:00:00Z): {e}"))
}

pub(super) fn due(args: DueArgs) -> anyhow::Result<ExitCode> {
    use time::format_description::well_known::Rfc3339;

    // Read-only: a mistyped --state must not look like "nothing done yet, root-init due".
    anyhow::ensure!(
        args.state.is_dir(),
        "{}: no such ceremony state directory (give it with --state DIR)",
        args.state.display()
    );
    let policy = load_policy(&args.policy.path)?;
    let roster = Roster::load(&args.roster.path, &policy.quorum)?;
    let state = State::open(&args.state)?;
    let at = args.at.unwrap_or_else(time::OffsetDateTime::now_utc);
    let at = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .to_offset(time::UtcOffset::UTC);
    let due = schedule::due(&policy, &roster, &state, at)?;

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({ "at": at.format(&Rfc3339)?, "due": due });
        Envelope::success("ceremony due", json).write(&mut out)?;
        return Ok(ExitCode::SUCCESS);
    }

    let overdue = due.iter().filter(|d| d.overdue).count();
    let now = due.iter().filter(|d| d.due_at <= at && !d.overdue).count();
    writeln!(
        out,
        "ceremonies due as of {} (state {}): {now} due, {overdue} overdue",
        at.format(&Rfc3339)?,
        args.state.display()
    )?;
    writeln!(out)?;
    let header = ["DUE", "DEADLINE", "KIND", "WHAT", "REASON"];
    let rows = due
        .iter()
        .map(|d| {
            let deadline = d.deadline.format(&Rfc3339)?;
            Ok([
                d.due_at.format(&Rfc3339)?,
                if d.overdue {
                    format!("{deadline} OVERDUE")
                } else {
                    deadline
                },
                d.kind.clone(),
                d.subject.clone(),
                d.reason.clone(),
            ])
        })
        .collect::<anyhow::Result<Vec<[String; 5]>>>()?;
    write_table(&mut out, header, &rows)?;
    Ok(ExitCode::SUCCESS)
}
