//! `rust-pki bastion …` (feature `aws`): the ephemeral ceremony bastion and the CloudHSM
//! cluster. Each command observes (Describe* calls), plans, and with `--dry-run` prints the
//! plan and stops; otherwise it executes the plan and, for `up`, `down` and `admit`, logs a
//! bastion-event entry to the transparency log.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use rust_pki_bastion::aws::{Aws, Options};
use rust_pki_bastion::names::Names;
use rust_pki_bastion::plan::{self, Plan};
use rust_pki_bastion::settings::{self, Settings};
use rust_pki_bastion::state;
use rust_pki_tlog::entry::Entry;
use time::OffsetDateTime;

use super::ca::PolicyArg;
use super::ceremony::RosterArg;
use super::log::staple::{Issued, LogTarget, report_stapled};

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
    /// Initialize a new cluster: `csr` writes its CSR; a quorum ceremony of kind
    /// `cluster-init` signs it with the root; `upload` sends the certificate and the root.
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

#[derive(Debug, clap::Args)]
struct UpArgs {
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
struct DownArgs {
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
struct AdmitArgs {
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

#[derive(Debug, clap::Subcommand)]
enum InitClusterCommand {
    /// Step 1: write the UNINITIALIZED cluster's CSR (Certificates.ClusterCsr) to a new
    /// file, the input of the `cluster-init` ceremony.
    Csr {
        /// Where to write the CSR (PEM; must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Step 2: InitializeCluster with the certificate the ceremony issued and the root
    /// (trust anchor), after checking the certificate certifies the CSR's key and is
    /// signed by the anchor.
    Upload {
        /// The cluster certificate issued by the `cluster-init` ceremony (PEM).
        #[arg(long, value_name = "FILE")]
        cluster_cert: PathBuf,
        /// The root certificate that signed it (PEM).
        #[arg(long, value_name = "ROOT.pem")]
        trust_anchor: PathBuf,
        #[command(flatten)]
        dry: DryRun,
    },
}

#[derive(Debug, clap::Args)]
struct BackupsArgs {
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
        BastionCommand::Status => status(&aws),
        BastionCommand::Up(a) => up(&aws, &settings, a),
        BastionCommand::Down(a) => down(&aws, a),
        BastionCommand::Admit(a) => admit(&aws, a),
        BastionCommand::InitCluster(c) => init_cluster(&aws, c),
        BastionCommand::Backups(a) => backups(&aws, &settings, a),
    }
}

fn status(aws: &Aws) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    let bastion = aws.bastion()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "region   {}\ncluster  {} {}",
        aws.region().unwrap_or("-"),
        cluster.id,
        cluster.state
    )?;
    if cluster.hsms.is_empty() {
        writeln!(out, "HSMs     none")?;
    }
    for h in &cluster.hsms {
        writeln!(
            out,
            "HSM      {} {} {} {}",
            h.id,
            h.availability_zone,
            h.state,
            h.eni_ip.as_deref().unwrap_or("-")
        )?;
    }
    if backups.is_empty() {
        writeln!(out, "backups  none")?;
    }
    for b in backups.iter().take(3) {
        writeln!(out, "backup   {} {} {}", b.id, b.state, b.created_text())?;
    }
    writeln!(
        out,
        "bastion  {} {} {} {}",
        bastion.id,
        bastion.state,
        bastion.availability_zone,
        bastion.private_ip.as_deref().unwrap_or("-")
    )?;
    Ok(ExitCode::SUCCESS)
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
             --log-key SKEY_FILE (or --dry-run)"
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
    let now = state::rfc3339(OffsetDateTime::now_utc());
    let entry = Entry::bastion_event(&logged_action, &now, members, &resources)?.encode()?;
    let stapled = log.staple(
        &mut opened,
        &[Issued {
            entry,
            bundles: vec![],
        }],
    )?;
    report_stapled(&stapled, &opened)?;
    Ok(Some(result?))
}

fn up(aws: &Aws, settings: &Settings, args: UpArgs) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    let bastion = aws.bastion()?;
    let plan = plan::up(settings, &cluster, &backups, &bastion, args.add_hsm)?;
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

fn down(aws: &Aws, args: DownArgs) -> anyhow::Result<ExitCode> {
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

fn admit(aws: &Aws, args: AdmitArgs) -> anyhow::Result<ExitCode> {
    let roster = super::ceremony::load_roster(&args.roster.path, &args.policy.path)?;
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

fn init_cluster(aws: &Aws, command: InitClusterCommand) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    plan::require_uninitialized(&cluster, "init-cluster")?;
    let csr = cluster.csr.clone().with_context(|| {
        format!(
            "cluster {} has no CSR yet: it appears once the cluster's first HSM is ACTIVE \
             (`rust-pki bastion up`)",
            cluster.id
        )
    })?;
    match command {
        InitClusterCommand::Csr { out } => {
            rust_pki_ca::output::write_new(&out, csr.as_bytes())?;
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "wrote {}: CSR of cluster {}; next: a `cluster-init` ceremony signs it, then \
                 `rust-pki bastion init-cluster upload`",
                out.display(),
                cluster.id
            )?;
        }
        InitClusterCommand::Upload {
            cluster_cert,
            trust_anchor,
            dry,
        } => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))
            };
            let (cert, anchor) = (read(&cluster_cert)?, read(&trust_anchor)?);
            rust_pki_bastion::cert::check_cluster_certificate(&csr, &cert, &anchor)?;
            let plan = plan::initialize(&cluster, &cert, &anchor)?;
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

fn backups(aws: &Aws, settings: &Settings, args: BackupsArgs) -> anyhow::Result<ExitCode> {
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
            super::common::write_table(
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
