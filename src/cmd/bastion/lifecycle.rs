//! `rust-pki bastion up`, `down` and `admit`: a ceremony day's bastion and HSMs, logged.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use rust_pki_bastion::aws::Aws;
use rust_pki_bastion::plan::{self};
use rust_pki_bastion::settings::Settings;
use rust_pki_bastion::state;
use time::OffsetDateTime;

use super::{DryRun, act, parse_time};
use crate::cmd::ca::PolicyArg;
use crate::cmd::ceremony::RosterArg;
use crate::cmd::log::staple::LogTarget;

#[derive(Debug, clap::Args)]
pub(super) struct UpArgs {
    #[command(flatten)]
    dry: DryRun,
    /// Create an HSM even when the cluster has one (adding an HSM to an active cluster
    /// makes CloudHSM take a backup: the way to get a fresh backup before `down`).
    #[arg(long)]
    add_hsm: bool,
    #[command(flatten)]
    log: LogTarget,
}

#[derive(Debug, clap::Args)]
pub(super) struct DownArgs {
    #[command(flatten)]
    dry: DryRun,
    /// Ceremony start (RFC 3339): a READY backup created after it must exist. Default: when
    /// the bastion was last started (by `up`). For a ceremony that changed the HSM (root-init,
    /// key generation), give the time of the change.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    since: Option<OffsetDateTime>,
    #[command(flatten)]
    log: LogTarget,
}

#[derive(Debug, clap::Args)]
pub(super) struct AdmitArgs {
    /// Roster member ids to admit.
    #[arg(value_name = "MEMBER", required = true)]
    members: Vec<String>,
    #[command(flatten)]
    roster: RosterArg,
    #[command(flatten)]
    policy: PolicyArg,
    #[command(flatten)]
    dry: DryRun,
    #[command(flatten)]
    log: LogTarget,
}

pub(super) fn up(aws: &Aws, settings: &Settings, args: UpArgs) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    let bastion = aws.bastion()?;
    let subnet_ids: Vec<String> = cluster
        .subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    let subnets = if subnet_ids.is_empty() {
        Vec::new()
    } else {
        aws.subnets(&subnet_ids)?
    };
    let plan = plan::up(
        settings,
        &cluster,
        &subnets,
        &backups,
        &bastion,
        args.add_hsm,
    )?;
    if act(aws, &plan, args.dry.dry_run, &args.log, "up", &[])?.is_some() {
        let since = state::rfc3339(OffsetDateTime::now_utc());
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "next: `rust-pki bastion admit MEMBER...` for the members present, then run the \
             ceremony on the bastion; afterwards `rust-pki bastion down` (default --since: the \
             bastion start; this `up` finished at {since})"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn down(aws: &Aws, args: DownArgs) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    let bastion = aws.bastion()?;
    let since = match args.since {
        Some(t) => t,
        None => bastion.launch_time.with_context(|| {
            format!(
                "bastion {} has no launch time; give the ceremony start with --since",
                bastion.id
            )
        })?,
    };
    let plan = plan::down(&cluster, &backups, &bastion, since)?;
    act(aws, &plan, args.dry.dry_run, &args.log, "down", &[])?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn admit(aws: &Aws, args: AdmitArgs) -> anyhow::Result<ExitCode> {
    let roster = crate::cmd::ceremony::load_roster(&args.roster.path, &args.policy)?;
    let mut members = Vec::with_capacity(args.members.len());
    for id in &args.members {
        let member = roster.member(id).with_context(|| {
            format!(
                "{id} is not a member of the roster {}",
                args.roster.path.display()
            )
        })?;
        let key = member
            .ssh_key
            .to_openssh()
            .with_context(|| format!("{id}: encoding the SSH key"))?;
        if members.iter().any(|(m, _)| m == id) {
            bail!("{id} is given twice");
        }
        members.push((id.clone(), key));
    }
    let bastion = aws.bastion()?;
    let plan = plan::admit(&bastion, &aws.names().bastion_os_user, &members)?;
    act(
        aws,
        &plan,
        args.dry.dry_run,
        &args.log,
        "admit",
        &args.members,
    )?;
    Ok(ExitCode::SUCCESS)
}
