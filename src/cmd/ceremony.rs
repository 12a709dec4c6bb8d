//! `rust-pki ceremony`: quorum ceremonies (docs/threat-model.md) — the roster, members' approvals.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use anyhow::Context;
use rust_pki_ceremony::{
    Roster,
    approval::{NAMESPACE, sign_with_ssh_keygen, verify_approval},
    contribute::{contributed_share_file, reencrypt_for_request},
    execute,
    gate::{QuorumGate, SoftHsmShares},
    inert::inert,
    prepare,
    publish::{create_output_dirs, publish},
    record::Record,
    request::Request,
    schedule,
    show::{LocalFiles, render},
    state::{CeremonyDir, LoggedRecord, State},
    template::Template,
    validate::{check_clock, read_request, window_closed},
};
use rust_pki_tlog::entry::{Entry, ceremony_records};
use sha2::Digest;

use super::{
    ca::PolicyArg,
    common::{load_policy, write_table},
    log::staple::{Issued, LogTarget, bundle_path, report_stapled},
};

/// Default roster path, relative to the working directory (the repository root).
pub const DEFAULT_ROSTER: &str = "policy/roster.toml";

#[derive(Debug, clap::Subcommand)]
pub enum CeremonyCommand {
    /// The quorum roster: check it against the policy, export an allowed_signers file.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Approve a request (as a member): SSH-sign its exact bytes, contribute your share.
    ///
    /// The approval is an SSH signature (ssh-keygen -Y sign, namespace
    /// ceremony@pki.rust-lang.org) over the request file's exact bytes. Run it on your own
    /// machine after reading the request (`ceremony show`); send the signature file to the
    /// operator.
    Approve(ApproveArgs),
    /// Turn a filled-in ceremony template into a request for members to approve.
    ///
    /// From a template (policy/ceremonies/<kind>.toml, filled in) to a request:
    /// every certificate/CRL is built from policy and linted now; the request pins the
    /// policy, roster, record chain and this binary, and gets a random id, an execution
    /// window and a one-time key for PIN shares. Writes <state>/NNN-<kind>/request.toml.
    Prepare(PrepareArgs),
    /// Show a request for humans: every byte that decides what it does.
    ///
    /// Prints the kind, every parameter, the execution window and its length, the pinned
    /// policy and roster (compared with your own files), every output path, each
    /// certificate and CRL field by field, and for a roster change the new roster member by
    /// member, marked against your roster (= same, ~ changed, + added, - removed). The
    /// fingerprint to read aloud is computed by this binary from the bytes you would sign.
    /// Text from the file is printed inert: control characters, escapes and invisible
    /// characters appear as \u{..}. A request that breaks a rule is refused, not shown.
    Show(ShowArgs),
    /// Execute an approved request on the bastion (checks, HSM, record, outputs).
    ///
    /// Holds the state directory's lock throughout (another execute or prepare waits). The
    /// request must be in its own folder inside --state. Before touching the HSM it checks
    /// the request's own rules (as `show` does), the approvals (threshold of distinct
    /// current members over these exact bytes), the window, the pinned policy and roster,
    /// the record chain (never executed, built on the latest record) and the lint of every
    /// TBS; then it unlocks the root key from the approvers' PIN shares, signs, verifies,
    /// writes the ceremony record atomically, appends it to the log, writes the bundles and
    /// only then publishes the outputs. Rerunning an executed request checks the record
    /// against the request (same bytes, outputs matching their digests and the approved
    /// TBS) and only republishes.
    Execute(ExecuteArgs),
    /// List the ceremonies the policy makes due, and when.
    ///
    /// Covers root CRL re-signing before its
    /// nextUpdate, delegate renewal ahead of expiry, root rotation ahead of root expiry,
    /// member re-appointments, and whatever is missing (root, root CRL, a purpose's
    /// delegate). Lead times come from [schedule] in the policy. Read-only; exits 0 even
    /// when something is overdue.
    Due(DueArgs),
}

/// The ceremony state directory, for subcommands that read it.
#[derive(Debug, clap::Args)]
pub struct StateArg {
    /// The ceremony state directory on the bastion: one folder per ceremony (request,
    /// approvals, record) and the PIN share sets. Created if missing.
    #[arg(
        id = "state",
        long = "state",
        value_name = "DIR",
        default_value = "ceremonies"
    )]
    pub path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct PrepareArgs {
    /// The filled-in ceremony template (TOML; see policy/ceremonies/).
    #[arg(value_name = "TEMPLATE")]
    template: PathBuf,
    #[command(flatten)]
    state: StateArg,
    #[command(flatten)]
    roster: RosterArg,
    #[command(flatten)]
    policy: PolicyArg,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The request file (request.toml).
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// Your copy of the roster in force: the request's roster pin is compared with it, and
    /// a roster change is shown member by member against it.
    #[command(flatten)]
    roster: RosterArg,
    /// Your copy of the policy: the request's policy pin is compared with it; purpose
    /// names and the roster rules come from it.
    #[command(flatten)]
    policy: PolicyArg,
}

#[derive(Debug, clap::Args)]
pub struct ExecuteArgs {
    /// The request file, in its ceremony folder (<state>/NNN-<kind>/request.toml).
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// The approvals: <member>.sig files (and, except for root-init, the members' PIN
    /// shares <member>.<secret>.age). Default: approvals/ next to the request.
    #[arg(long, value_name = "DIR")]
    approvals: Option<PathBuf>,
    /// Where to publish the certificates and CRLs (files are never overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The PKCS#11 module of the root HSM.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/usr/lib/softhsm/libsofthsm2.so"
    )]
    module: PathBuf,
    #[command(flatten)]
    state: StateArg,
    #[command(flatten)]
    roster: RosterArg,
    #[command(flatten)]
    policy: PolicyArg,
    /// Required: every ceremony is logged. The log is checked before the HSM is touched;
    /// after execution the record is appended and each certificate gets its bundle.
    #[command(flatten)]
    log: LogTarget,
}

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
    /// Print JSON for automation: {"at": …, "due": [{"kind", "subject", "due_at",
    /// "deadline", "overdue", "reason"}, …]}, sorted by due_at.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum RosterCommand {
    /// Load the roster, check every policy rule (member count, unique ids and keys, allowed
    /// key types, age recipients, per-organisation and per-country limits) and print the
    /// members. Exits non-zero, naming the member and rule, if a rule is broken.
    Check(RosterCheckArgs),
}

/// The roster file, for subcommands that read it.
#[derive(Debug, clap::Args)]
pub struct RosterArg {
    /// The quorum roster (strict TOML).
    #[arg(id = "roster", long = "roster", value_name = "FILE", default_value = DEFAULT_ROSTER)]
    pub path: PathBuf,
}

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

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The ceremony request file; its exact bytes are signed.
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// Your SSH key, as for `ssh-keygen -f`: a private key file, or the public key file of
    /// a key held in ssh-agent or on a hardware token (FIDO keys ask for a touch).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Where to write the armored signature (must not exist), e.g. `alice.sig`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Before writing, check the signature as the executor will: against this roster
    /// (with the policy of --policy), printing the member it verifies as.
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArg,
    /// A PIN share of yours to contribute (repeatable; e.g. <state>/001-root-init/user-pin/
    /// shares/<you>.age): decrypted here with --identity and re-encrypted to the request's
    /// one-time ceremony key, written next to --out as <stem>.<secret>.age.
    #[arg(long, value_name = "FILE", requires = "identity")]
    share: Vec<PathBuf>,
    /// The key that decrypts your shares: an age identity file, or your unencrypted
    /// ssh-ed25519 private key.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

pub fn run(command: CeremonyCommand) -> anyhow::Result<ExitCode> {
    match command {
        CeremonyCommand::Roster(RosterCommand::Check(args)) => roster_check(args),
        CeremonyCommand::Approve(args) => approve(args),
        CeremonyCommand::Prepare(args) => prepare(args),
        CeremonyCommand::Show(args) => show(args),
        CeremonyCommand::Execute(args) => execute(args),
        CeremonyCommand::Due(args) => due(args),
    }
}

pub fn load_roster(roster: &std::path::Path, policy: &std::path::Path) -> anyhow::Result<Roster> {
    let policy = load_policy(policy)?;
    Ok(Roster::load(roster, &policy.quorum)?)
}

fn roster_check(args: RosterCheckArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(&args.policy.path)?;
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

fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let request = read_request(&args.request)?;
    // Sign nothing `show` would refuse to display or `execute` would refuse to run, nor a
    // request dated ahead of this machine's clock.
    let parsed = Request::parse(&request, &args.request)?;
    check_clock(&parsed, SystemTime::now(), &args.request)?;
    let roster = args
        .roster
        .as_deref()
        .map(|roster| load_roster(roster, &args.policy.path))
        .transpose()?;
    // Re-encrypt every share first (they name their secret), so that nothing is written
    // if one does not decrypt; then refuse existing outputs before asking for a
    // passphrase or a touch.
    let identity = args.identity.as_deref();
    let mut contributions = Vec::with_capacity(args.share.len());
    for share in &args.share {
        let identity = identity.context("--share needs --identity")?;
        let (secret, bytes) = reencrypt_for_request(&request, &args.request, share, identity)?;
        let stem = args
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .context("--out needs a file name")?;
        contributions.push((
            args.out
                .with_file_name(contributed_share_file(stem, &secret)),
            bytes,
        ));
    }
    rust_pki_ca::output::ensure_absent(
        [args.out.as_path()]
            .into_iter()
            .chain(contributions.iter().map(|(p, _)| p.as_path())),
    )?;

    let armored = sign_with_ssh_keygen(&request, &args.key)?;
    let member = roster
        .as_ref()
        .map(|roster| verify_approval(roster, &request, &armored))
        .transpose()
        .context("the new signature is not a valid approval under --roster; nothing written")?;
    rust_pki_ca::output::write_new(&args.out, armored.as_bytes())?;
    for (path, bytes) in &contributions {
        rust_pki_ca::output::write_new(path, bytes)?;
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "request {} sha256 {}",
        args.request.display(),
        hex::encode(sha2::Sha256::digest(&request))
    )?;
    if let Some(member) = member {
        writeln!(
            out,
            "verifies as member {} ({}, {})",
            inert(&member.id),
            inert(&member.name),
            member.fingerprint()
        )?;
    }
    writeln!(out, "wrote {}", args.out.display())?;
    for (path, _) in &contributions {
        writeln!(
            out,
            "wrote {} (your share, for this ceremony's key only)",
            path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn tool_sha256() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("locating the rust-pki binary")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

fn prepare(args: PrepareArgs) -> anyhow::Result<ExitCode> {
    let template = Template::load(&args.template)?;
    let state = State::open(&args.state.path)?;
    let tool = tool_sha256()?;
    let inputs = prepare::Inputs {
        policy: &args.policy.path,
        roster: &args.roster.path,
        state: &state,
        tool_sha256: &tool,
        now: SystemTime::now(),
    };
    let prepared = prepare::prepare(inputs, &template)?;
    for warning in &prepared.warnings {
        eprintln!("{warning}");
    }
    let request = prepared.dir.request();
    let bytes =
        std::fs::read(&request).with_context(|| format!("reading {}", request.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "prepared {}", request.display())?;
    write!(
        out,
        "{}",
        render_with_local_files(
            &prepared.request,
            &bytes,
            &args.policy.path,
            &args.roster.path
        )?
    )?;
    writeln!(
        out,
        "\nmembers: read it (`rust-pki ceremony show`), then `rust-pki ceremony approve`."
    )?;
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let bytes = read_request(&args.request)?;
    let request = Request::parse(&bytes, &args.request)?;
    let text = render_with_local_files(&request, &bytes, &args.policy.path, &args.roster.path)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")?;
    let now = SystemTime::now();
    if let Err(e) = check_clock(&request, now, &args.request) {
        writeln!(out, "\nWARNING: {}: do not approve", inert(&e.to_string()))?;
    }
    if window_closed(&request, now) {
        writeln!(
            out,
            "\nWARNING: the execution window has closed: this request will not run"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `show`'s rendering, comparing the request's pins with the policy and roster files here.
fn render_with_local_files(
    request: &Request,
    bytes: &[u8],
    policy_path: &std::path::Path,
    roster_path: &std::path::Path,
) -> anyhow::Result<String> {
    let policy_bytes =
        std::fs::read(policy_path).with_context(|| format!("reading {}", policy_path.display()))?;
    let policy = load_policy(policy_path)?;
    let roster = Roster::load(roster_path, &policy.quorum)?;
    let tool = tool_sha256()?;
    let local = LocalFiles {
        policy: (&policy_bytes, &policy),
        roster: &roster,
        tool_sha256: &tool,
    };
    Ok(render(request, bytes, local)?)
}

fn execute(args: ExecuteArgs) -> anyhow::Result<ExitCode> {
    // Every root operation is logged: refuse before anything else when there is no log.
    anyhow::ensure!(
        args.log.dir.is_some(),
        "ceremony execute needs --log DIR --log-key SKEY_FILE: every ceremony is appended \
         to the transparency log"
    );
    let state = State::open(&args.state.path)?;
    // Held until the outputs are logged and published: one execution at a time. The state
    // is always locked before the log, never the other way round.
    let lock = state.lock()?;
    let mut log = args.log.open()?.context("the transparency log")?;
    let mut ceremony = CeremonyDir::of_request(&args.request)?;
    if let Some(approvals) = &args.approvals {
        ceremony.approvals = approvals.clone();
    }
    // The log is the public history: the state must tell the same one, before the HSM.
    let logged: Vec<LoggedRecord> = ceremony_records(&log.read_entries()?)
        .into_iter()
        .map(|(index, file_name, sha256)| LoggedRecord {
            index,
            file_name,
            sha256: hex::encode(sha256),
        })
        .collect();
    state.check_logged(&logged, &ceremony)?;
    let file_name = format!("{}.toml", ceremony.folder_name());
    let tool = tool_sha256()?;
    // Before root-init there is no root to unlock (and root-init needs no gate).
    let gate = SoftHsmShares::from_state(&state, &args.module).ok();
    let inputs = execute::Inputs {
        policy: &args.policy.path,
        roster: &args.roster.path,
        state: &state,
        out: &args.out,
        module: &args.module,
        gate: gate.as_ref().map(|g| g as &dyn QuorumGate),
        tool_sha256: &tool,
        now: SystemTime::now(),
    };
    let (verb, record, record_bytes) = match execute::execute(inputs, &ceremony, &lock)? {
        execute::Outcome::Executed(record, bytes) => ("executed", record, bytes),
        execute::Outcome::AlreadyExecuted(record, bytes) => {
            ("was already executed; outputs republished", record, bytes)
        }
    };
    // Logged and stapled before anything is published: no certificate leaves the state
    // directory without its log entry and bundle.
    create_output_dirs(&args.out, &record, &ceremony.record())?;
    let stapled = args.log.staple(
        &mut log,
        &[logged_record(
            &file_name,
            &record,
            &record_bytes,
            &args.out,
        )?],
    )?;
    publish(&args.out, &record, &ceremony.record())?;
    // Record text came from a file: printed inert.
    let shown = |text: &str| inert(text);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ceremony {} ({}) {verb}",
        shown(&record.ceremony_id),
        record.kind
    )?;
    writeln!(
        out,
        "  record:      {}",
        shown(&ceremony.record().display().to_string())
    )?;
    writeln!(
        out,
        "  approved by: {}",
        shown(&record.approved_by.join(", "))
    )?;
    for output in &record.outputs {
        writeln!(
            out,
            "  output:      {} (sha256 {})",
            shown(&args.out.join(&output.path).display().to_string()),
            shown(&output.sha256)
        )?;
    }
    for key in &record.keys {
        writeln!(
            out,
            "  key {}:  {} spki sha256 {}",
            shown(&key.action),
            shown(&key.key),
            shown(&key.spki_sha256)
        )?;
    }
    drop(out);
    report_stapled(&stapled, &log)?;
    Ok(ExitCode::SUCCESS)
}

/// The log entry of an executed ceremony (named after its folder, e.g.
/// `003-delegate-issue.toml`) and a bundle for each certificate it published.
fn logged_record(
    file_name: &str,
    record: &Record,
    record_bytes: &[u8],
    out_dir: &std::path::Path,
) -> anyhow::Result<Issued> {
    let certificates = record.certificates();
    let ders: Vec<&[u8]> = certificates.iter().map(|(_, der)| der.as_slice()).collect();
    let entry = Entry::ceremony_record(file_name, record_bytes, &ders)?.encode()?;
    let bundles = certificates
        .iter()
        .map(|(name, der)| (bundle_path(&out_dir.join(name)), vec![der.clone()]))
        .collect();
    Ok(Issued { entry, bundles })
}

fn parse_rfc3339_arg(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2027-06-01T00:00:00Z): {e}"))
}

fn due(args: DueArgs) -> anyhow::Result<ExitCode> {
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
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
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
