//! `rust-pki bastion backups`: list the cluster's backups, delete expired ones.

use std::io::Write;
use std::process::ExitCode;

use rust_pki_bastion::aws::Aws;
use rust_pki_bastion::plan::{self};
use rust_pki_bastion::settings::Settings;

use super::{DryRun, print_plan};

#[derive(Debug, clap::Args)]
pub(super) struct BackupsArgs {
    #[command(subcommand)]
    command: Option<BackupsCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum BackupsCommand {
    /// List the cluster's backups, newest first, and the retention policy.
    List,
    /// Copy a READY backup to dr_region of --settings (CopyBackupToRegion).
    Copy {
        backup_id: String,
        #[command(flatten)]
        dry: DryRun,
    },
}

pub(super) fn backups(
    aws: &Aws,
    settings: &Settings,
    args: BackupsArgs,
) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    match args.command.unwrap_or(BackupsCommand::List) {
        BackupsCommand::List => {
            let mut out = std::io::stdout().lock();
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
        }
        BackupsCommand::Copy { backup_id, dry } => {
            let plan = plan::copy_backup(&cluster, &backups, &backup_id, &settings.dr_region)?;
            print_plan(&plan, dry.dry_run)?;
            if !dry.dry_run {
                let done = aws.execute(&plan, &mut std::io::stderr())?;
                let mut out = std::io::stdout().lock();
                for line in &done.lines {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
