//! `rust-pki verify`: a thin alias of `rust-pki-verify`; arguments, checks, output and exit
//! statuses are `rust_pki_verify::cli`'s.
use std::process::ExitCode;

pub use rust_pki_verify::cli::VerifyArgs;

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    Ok(rust_pki_verify::cli::run(&args).into())
}
