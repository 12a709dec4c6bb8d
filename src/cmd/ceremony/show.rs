//! `rust-pki ceremony show`: a request for humans, before approving it.

use std::{io::Write, path::PathBuf, process::ExitCode, time::SystemTime};

use rust_pki_ceremony::{
    inert::inert,
    request::Request,
    validate::{check_clock, read_request, window_closed},
};

use super::{RosterArg, render_with_local_files};
use crate::cmd::ca::PolicyArg;

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

pub(super) fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let bytes = read_request(&args.request)?;
    let request = Request::parse(&bytes, &args.request)?;
    let text = render_with_local_files(&request, &bytes, &args.policy, &args.roster.path)?;
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
