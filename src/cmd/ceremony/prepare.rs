//! `rust-pki ceremony prepare`: a filled-in template becomes a request.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use anyhow::Context;
use rust_pki_ceremony::{policy_source::PolicySource, prepare, state::State, template::Template};

use super::{RosterArg, StateArg, render_with_local_files, tool_sha256};
use crate::cmd::ca::PolicyArg;

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

pub(super) fn prepare(args: PrepareArgs) -> anyhow::Result<ExitCode> {
    let template = Template::load(&args.template)?;
    let state = State::open(&args.state.path)?;
    let tool = tool_sha256()?;
    // The exact bytes: the request pins their digest.
    let (policy_bytes, _) = args.policy.load_with_bytes()?;
    let inputs = prepare::Inputs {
        policy: PolicySource {
            name: args.policy.name(),
            bytes: &policy_bytes,
        },
        roster: &args.roster.path,
        state: &state,
        tool_sha256: &tool,
        now: SystemTime::now(),
    };
    let prepared = prepare::prepare(inputs, &template)?;
    for warning in &prepared.warnings {
        crate::cmd::common::warn(warning);
    }
    let request = prepared.dir.request();
    let bytes =
        std::fs::read(&request).with_context(|| format!("reading {}", request.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "prepared {}", request.display())?;
    write!(
        out,
        "{}",
        render_with_local_files(&prepared.request, &bytes, &args.policy, &args.roster.path)?
    )?;
    writeln!(
        out,
        "\nmembers: read it (`rust-pki ceremony show`), then `rust-pki ceremony approve`."
    )?;
    Ok(ExitCode::SUCCESS)
}
