//! `rust-pki-verify`: the offline verifier for CI, mirrors and clients: `rust-pki verify`'s
//! arguments and output without the rest of rust-pki (no HSM, CA, ceremony or log writer).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use rust_pki_verify::cli::{Cli, run};
use rust_pki_verify::renamed::parse_warning_renamed;

fn main() -> ExitCode {
    let cli: Cli = parse_warning_renamed();
    run(&cli.args).into()
}
