//! `rust-pki ceremony prepare`: a filled-in template becomes a request.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use anyhow::Context;
use rust_pki_ceremony::{prepare, state::State, template::Template};

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
    let inputs = prepare::Inputs {
        policy: &args.policy.path,
        roster: &args.roster.path,
        state: &state,
        tool_sha256: &tool,
        now: SystemTime::now(),
    };
    let prepared = prepare::prepare(inputs, &template)?;
    for warning in &prepared.warnings {
        rust_pki_verify::envelope::warn(format_args!("{warning}"));
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
