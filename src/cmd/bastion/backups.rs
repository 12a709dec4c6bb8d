//! `rust-pki bastion backups`: list the cluster's backups and their copies in the DR
//! region, copy one there (tagged with the date it may go), delete expired copies.

use std::io::Write;
use std::process::ExitCode;

use rust_pki_bastion::aws::Aws;
use rust_pki_bastion::names::RETAIN_UNTIL_TAG;
use rust_pki_bastion::plan::{self};
use rust_pki_bastion::settings::Settings;
use time::OffsetDateTime;

use super::{DryRun, act, print_plan};
use crate::cmd::log::staple::LogTarget;

#[derive(Debug, clap::Args)]
pub(super) struct BackupsArgs {
    #[command(subcommand)]
    command: Option<BackupsCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum BackupsCommand {
    /// List the cluster's backups, newest first, the retention policy, and the copies in
    /// dr_region of --settings with the date each may be deleted.
    List,
    /// Copy a READY backup to dr_region of --settings (CopyBackupToRegion), tagged to be
    /// kept backup_retention_days (a copy has no retention policy of its own).
    Copy {
        backup_id: String,
        #[command(flatten)]
        dry: DryRun,
    },
    /// Delete the copies in dr_region whose retain-until date has passed (DeleteBackup;
    /// the newest copy is always kept). Logs a bastion-event `backups-prune` entry.
    Prune {
        #[command(flatten)]
        dry: DryRun,
        #[command(flatten)]
        log: LogTarget,
    },
}

pub(super) fn backups(
    aws: &Aws,
    settings: &Settings,
    args: BackupsArgs,
) -> anyhow::Result<ExitCode> {
    // The cluster lives in the primary region even when `--region` names the DR region
    // (to look at the copies): it is never looked up there.
    let in_primary;
    let primary = if aws.region() == Some(settings.dr_region.as_str()) {
        in_primary = aws.in_region(&settings.region)?;
        &in_primary
    } else {
        aws
    };
    let dr = primary.in_region(&settings.dr_region)?;
    let cluster = primary.cluster()?;
    let backups = primary.backups(&cluster.id)?;
    let mut out = std::io::stdout().lock();
    match args.command.unwrap_or(BackupsCommand::List) {
        BackupsCommand::List => {
            let rows: Vec<[String; 4]> = backups
                .iter()
                .map(|b| {
                    [
                        b.id.clone(),
                        b.state.clone(),
                        b.created_text(),
                        b.source_region.clone().unwrap_or_else(|| "-".to_owned()),
                    ]
                })
                .collect();
            crate::cmd::common::write_table(
                &mut out,
                ["backup", "state", "created", "copied from"],
                &rows,
            )?;
            let actual = cluster
                .backup_retention
                .as_ref()
                .map_or_else(|| "not set".to_owned(), |(t, v)| format!("{v} {t}"));
            let wanted = settings.backup_retention_days.to_string();
            let matches = cluster
                .backup_retention
                .as_ref()
                .is_some_and(|(t, v)| t == "DAYS" && *v == wanted);
            writeln!(
                out,
                "retention: cluster {actual}; policy/aws.toml {wanted} DAYS{}",
                if matches {
                    ""
                } else {
                    " — DIFFERENT: fix terraform (backup_retention_policy) and apply"
                }
            )?;
            let copies = dr.copies(&cluster.id)?;
            writeln!(out, "copies in {}:", settings.dr_region)?;
            let rows: Vec<[String; 4]> = copies
                .iter()
                .map(|b| {
                    [
                        b.id.clone(),
                        b.state.clone(),
                        b.created_text(),
                        b.tag(RETAIN_UNTIL_TAG).unwrap_or("-").to_owned(),
                    ]
                })
                .collect();
            crate::cmd::common::write_table(
                &mut out,
                ["backup", "state", "created", "retain until"],
                &rows,
            )?;
        }
        BackupsCommand::Copy { backup_id, dry } => {
            let until = OffsetDateTime::now_utc()
                + time::Duration::days(i64::from(settings.backup_retention_days));
            let plan = plan::copy_backup(
                primary.names(),
                &cluster,
                &backups,
                &backup_id,
                &settings.dr_region,
                until,
            )?;
            drop(out);
            print_plan(&plan, dry.dry_run)?;
            if !dry.dry_run {
                // CopyBackupToRegion is called in the backup's (primary) region.
                let done = primary.execute(&plan, &mut std::io::stderr())?;
                let mut out = std::io::stdout().lock();
                for line in &done.lines {
                    writeln!(out, "{line}")?;
                }
            }
        }
        BackupsCommand::Prune { dry, log } => {
            drop(out);
            let copies = dr.copies(&cluster.id)?;
            let plan = plan::prune_copies(
                primary.names(),
                &cluster.id,
                &copies,
                OffsetDateTime::now_utc(),
            );
            act(&dr, &plan, dry.dry_run, &log, "backups-prune", &[])?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
