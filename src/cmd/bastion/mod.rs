//! `rust-pki bastion …` (feature `aws`): the ephemeral ceremony bastion and the CloudHSM
//! cluster. Each command observes (Describe* calls), plans, and with `--dry-run` prints the
//! plan and stops; otherwise it executes the plan and, for `up`, `down` and `admit`, logs a
//! bastion-event entry to the transparency log.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use rust_pki_bastion::aws::{Aws, Options};
use rust_pki_bastion::names::Names;
use rust_pki_bastion::plan::{self, Plan};
use rust_pki_bastion::settings::{self, Settings};
use rust_pki_bastion::state;
use rust_pki_tlog::entry::Entry;
use time::OffsetDateTime;

use crate::cmd::log::staple::{Issued, LogTarget, report_stapled};
use rust_pki_tlog::writer::Log;

mod backups;
mod cluster;
mod lifecycle;
mod status;

use backups::BackupsArgs;
use cluster::InitClusterCommand;
use lifecycle::{AdmitArgs, DownArgs, UpArgs};

/// The bastion and the CloudHSM cluster of a ceremony day, in order: `up` (bastion on, an
/// HSM restored from the latest backup), `admit` (members' SSH keys, 60 s each), the
/// ceremony on the bastion, `down` (HSMs deleted once a fresh backup exists, bastion off).
/// Resources are found by the tags of terraform/names.json; settings in policy/aws.toml.
/// Region, credentials and endpoint come from the standard AWS config chain (AWS_PROFILE,
/// AWS_REGION, AWS_ENDPOINT_URL, ...).
#[derive(Debug, clap::Args)]
pub struct BastionArgs {
    #[command(flatten)]
    aws: AwsArgs,
    #[command(subcommand)]
    command: BastionCommand,
}

#[derive(Debug, clap::Args)]
struct AwsArgs {
    /// AWS settings (strict TOML): regions, HSM zones, timeouts, retries.
    #[arg(long, value_name = "FILE", default_value = settings::DEFAULT_PATH, global = true)]
    settings: PathBuf,
    /// Region override (default: the AWS config chain's, else `region` of --settings).
    #[arg(long, value_name = "REGION", global = true)]
    region: Option<String>,
    /// Endpoint override for all services (e.g. a local emulator).
    #[arg(long, value_name = "URL", global = true)]
    endpoint_url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum BastionCommand {
    /// Show the cluster (state, HSMs with zone, state and ENI IP), its latest backups and
    /// the bastion instance. Read-only.
    Status,
    /// Start the bastion and bring up an HSM: when the cluster has none, CreateHsm (AWS
    /// restores the cluster's latest backup onto it; the backup is named first); else the
    /// existing HSM is reused. Waits (progress on stderr) until every HSM is ACTIVE, up to
    /// hsm_wait_timeout_seconds. Logs a bastion-event `up` entry.
    Up(UpArgs),
    /// Delete the cluster's HSMs and stop the bastion — only when a READY backup newer than
    /// the ceremony start exists, so the cluster is never left without the ceremony's
    /// state. Logs a bastion-event `down` entry.
    Down(DownArgs),
    /// Push each member's SSH public key (from the roster) to the bastion with EC2
    /// Instance Connect SendSSHPublicKey: each key works for 60 seconds, for the OS user
    /// of terraform/names.json. Logs a bastion-event `admit` entry.
    Admit(AdmitArgs),
    /// Initialize a new cluster: `csr` writes its CSR; `sign` certifies it with a one-time
    /// trust anchor (the root cannot exist before the cluster is initialised); `upload`
    /// sends the certificate and the anchor.
    #[command(subcommand)]
    InitCluster(InitClusterCommand),
    /// Backups: list them (default), copy one to the DR region, compare retention.
    Backups(BackupsArgs),
}

#[derive(Debug, clap::Args)]
struct DryRun {
    /// Make only the read-only Describe* calls, print the calls that would change
    /// something (operation and parameters), and change nothing.
    #[arg(long)]
    dry_run: bool,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2027-06-01T09:00:00Z): {e}"))
}

pub fn run(args: BastionArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.aws.settings)?;
    let names = Names::load()?;
    let options = Options {
        region: args.aws.region.clone(),
        default_region: Some(settings.region.clone()),
        endpoint_url: args.aws.endpoint_url.clone(),
        max_attempts: settings.max_attempts,
    };
    let aws = Aws::from_environment(names, &options)?;
    match args.command {
        BastionCommand::Status => status::status(&aws),
        BastionCommand::Up(a) => lifecycle::up(&aws, &settings, a),
        BastionCommand::Down(a) => lifecycle::down(&aws, a),
        BastionCommand::Admit(a) => lifecycle::admit(&aws, a),
        BastionCommand::InitCluster(c) => cluster::init_cluster(&aws, c),
        BastionCommand::Backups(a) => backups::backups(&aws, &settings, a),
    }
}

/// Prints the plan (notes, then calls) to stdout.
fn print_plan(plan: &Plan, dry_run: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for note in &plan.notes {
        writeln!(out, "note: {note}")?;
    }
    let prefix = if dry_run { "would call" } else { "calling" };
    if plan.steps.is_empty() {
        writeln!(out, "nothing to do")?;
    }
    for step in &plan.steps {
        writeln!(out, "{prefix}: {step}")?;
    }
    Ok(())
}

/// Opens the log (required unless dry-run), runs the plan, logs the event, prints.
fn act(
    aws: &Aws,
    plan: &Plan,
    dry_run: bool,
    log: &LogTarget,
    action: &str,
    members: &[String],
) -> anyhow::Result<Option<rust_pki_bastion::aws::Executed>> {
    if dry_run {
        print_plan(plan, true)?;
        return Ok(None);
    }
    let Some(mut opened) = log.open()? else {
        bail!(
            "`bastion {action}` logs what it does to the transparency log: give --log DIR and \
             --log-skey SKEY_FILE (or --dry-run)"
        );
    };
    print_plan(plan, false)?;
    let result = aws.execute(plan, &mut std::io::stderr());
    if let Ok(done) = &result {
        let mut out = std::io::stdout().lock();
        for line in &done.lines {
            writeln!(out, "{line}")?;
        }
    }
    if plan.steps.is_empty() {
        return result.map(Some).map_err(Into::into);
    }
    // A run that fails part-way has still touched AWS: it is logged too, as `<action>-failed`.
    let mut resources = plan::resources(plan);
    let logged_action = match &result {
        Ok(done) => {
            resources.extend(done.created.iter().cloned());
            action.to_owned()
        }
        Err(_) => format!("{action}-failed"),
    };
    log_event(log, &mut opened, &logged_action, members, &resources)?;
    Ok(Some(result?))
}

/// Appends a bastion-event entry, now, to the opened log and reports it.
fn log_event(
    log: &LogTarget,
    opened: &mut Log,
    action: &str,
    members: &[String],
    resources: &[String],
) -> anyhow::Result<()> {
    let now = state::rfc3339(OffsetDateTime::now_utc());
    let entry = Entry::bastion_event(action, &now, members, resources)?.encode()?;
    let stapled = log.staple(
        opened,
        &[Issued {
            entry,
            bundles: vec![],
        }],
    )?;
    report_stapled(&stapled, opened)
}
