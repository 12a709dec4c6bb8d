//! `rust-pki delegate due`: what lapses next, and when.

use std::{io::Write, path::PathBuf, time::SystemTime};

use rust_pki_delegate::{DelegateState, due::Due};
use rust_pki_verify::envelope::Envelope;

use crate::cmd::{
    ca::PolicyArg,
    common::{DueRow, parse_rfc3339_arg, write_due_table},
};
use crate::outcome::Invalid;

#[derive(Debug, clap::Args)]
pub struct DueArgs {
    /// The delegate state directory (made by `delegate init`); only read.
    #[arg(long, alias = "state-dir", value_name = "DIR")]
    state: PathBuf,
    #[command(flatten)]
    policy: PolicyArg,
    /// Exit with status 1 (`INVALID [overdue]`) when something is past its deadline,
    /// after printing the schedule: for a cron job or CI schedule that must alert.
    #[arg(long)]
    fail_if_overdue: bool,
    /// Evaluate at this time instead of now (RFC 3339, e.g. 2027-06-01T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339_arg)]
    at: Option<time::OffsetDateTime>,
    /// Print JSON for automation, in the envelope of docs/cli-json.md; its result:
    /// {"at": …, "state": …, "due": [{"kind", "subject", "due_at", "deadline", "overdue",
    /// "reason"}, …]}, sorted by due_at.
    #[arg(long)]
    json: bool,
}

impl DueArgs {
    /// Whether the schedule is asked for as JSON (the envelope of errors, too).
    pub fn json(&self) -> bool {
        self.json
    }
}

pub(super) fn run(args: DueArgs) -> anyhow::Result<()> {
    let (bytes, policy) = args.policy.load_with_bytes()?;
    let state = DelegateState::read(&args.state, &bytes)?;
    let at = args.at.map_or_else(SystemTime::now, SystemTime::from);
    let at = rust_pki_delegate::format::whole_seconds(at);
    let due = state.due(&policy, at)?;
    let at_text = rust_pki_delegate::format::format_time(at);

    let overdue = due.iter().filter(|d| d.overdue).count();
    let verdict = |result: Option<serde_json::Value>| Invalid {
        rule: "overdue",
        message: format!("{overdue} item(s) past their deadline (marked OVERDUE): act now"),
        details: None,
        result,
        checked: Vec::new(),
        skipped: Vec::new(),
    };
    let fail = args.fail_if_overdue && overdue > 0;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({
            "at": at_text,
            "state": args.state.display().to_string(),
            "due": due,
        });
        if fail {
            return Err(verdict(Some(json)).into());
        }
        Envelope::success("delegate due", json).write(&mut out)?;
        return Ok(());
    }
    let at = time::OffsetDateTime::from(at);
    let (now, upcoming): (Vec<&Due>, Vec<&Due>) = due.iter().partition(|d| d.due_at <= at);
    writeln!(
        out,
        "delegate {} as of {at_text} (state {}): {} due now ({overdue} overdue), {} upcoming",
        state.certificate().tbs_certificate().subject(),
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
                    kind: d.kind,
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
            "warning: {overdue} item(s) past their deadline (marked OVERDUE): act now"
        ));
    }
    Ok(())
}
