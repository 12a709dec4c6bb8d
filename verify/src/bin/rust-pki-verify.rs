//! `rust-pki-verify`: the offline verifier for CI, mirrors and clients: `rust-pki verify`'s
//! arguments and output without the rest of rust-pki (no HSM, CA, ceremony or log writer).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use rust_pki_verify::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    run(&cli.args).into()
}
