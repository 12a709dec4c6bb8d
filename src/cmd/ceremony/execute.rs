//! `rust-pki ceremony execute`: an approved request run on the bastion, logged, published.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use anyhow::Context;
use rust_pki_ca::policy::HsmBackend;
use rust_pki_ceremony::{
    execute,
    gate::{Hsm, SoftHsm2, cloudhsm_backend::CloudHsm},
    inert::inert,
    policy_source::PolicySource,
    publish::{create_output_dirs, publish},
    record::Record,
    state::{CeremonyDir, LoggedRecord, State},
};
use rust_pki_tlog::entry::{Entry, ceremony_records};

use super::{RosterArg, StateArg, tool_sha256};
use crate::cmd::{
    ca::PolicyArg,
    log::staple::{Issued, LogTarget, bundle_path, report_stapled},
};

#[derive(Debug, clap::Args)]
pub struct ExecuteArgs {
    /// The request file, in its ceremony folder (<state>/NNN-<kind>/request.toml).
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// The approvals: <member>.sig files (and, except for root-init, the members' PIN
    /// shares <member>.<secret>.age; on CloudHSM also the tokens they sign,
    /// <member>.<token>.cloudhsm-token.json). Default: approvals/ next to the request.
    #[arg(long, value_name = "DIR")]
    approvals: Option<PathBuf>,
    /// Where to publish the certificates and CRLs (files are never overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The HSM backend to drive: `softhsm2` or `cloudhsm` (default: the policy's
    /// `[hsm] backend`). A request prepared for another backend is refused before any HSM
    /// is touched.
    #[arg(long, value_name = "BACKEND", value_parser = parse_backend)]
    hsm: Option<HsmBackend>,
    /// The PKCS#11 module of the root HSM (softhsm2).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/usr/lib/softhsm/libsofthsm2.so"
    )]
    module: PathBuf,
    /// The `cloudhsm-cli` program (cloudhsm), run as one interactive session per operation.
    #[arg(long, value_name = "PATH", default_value = "cloudhsm-cli")]
    cloudhsm_cli: PathBuf,
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

pub(super) fn execute(args: ExecuteArgs) -> anyhow::Result<ExitCode> {
    // Every root operation is logged: refuse before anything else when there is no log.
    anyhow::ensure!(
        args.log.dir.is_some(),
        "ceremony execute needs --log DIR --log-skey SKEY_FILE: every ceremony is appended \
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
    // The exact bytes: the request pins their digest.
    let (policy_bytes, policy) = args.policy.load_with_bytes()?;
    let hsm: Box<dyn Hsm> = match args.hsm.unwrap_or(policy.hsm.backend) {
        HsmBackend::SoftHsm2 => Box::new(SoftHsm2 {
            module: args.module.clone(),
        }),
        HsmBackend::CloudHsm => Box::new(CloudHsm::new(&args.cloudhsm_cli, &policy)),
    };
    let inputs = execute::Inputs {
        policy: PolicySource {
            name: args.policy.name(),
            bytes: &policy_bytes,
        },
        roster: &args.roster.path,
        state: &state,
        out: &args.out,
        hsm: hsm.as_ref(),
        tool_sha256: &tool,
        now: SystemTime::now(),
    };
    tracing::info!(
        request = %args.request.display(),
        "checking the request, approvals, history and record chain, then signing"
    );
    let (verb, record, record_bytes) = match execute::execute(inputs, &ceremony, &lock)? {
        execute::Outcome::Executed(record, bytes) => ("executed", record, bytes),
        execute::Outcome::AlreadyExecuted(record, bytes) => {
            ("was already executed; outputs republished", record, bytes)
        }
    };
    // Logged and stapled before anything is published: no certificate leaves the state
    // directory without its log entry and bundle.
    tracing::info!(ceremony = %inert(&record.ceremony_id), "executed; logging and stapling");
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
    tracing::info!(out = %args.out.display(), "publishing the outputs");
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

fn parse_backend(text: &str) -> Result<HsmBackend, String> {
    text.parse()
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
