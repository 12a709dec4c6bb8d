//! `rust-pki hsm …` (stub until implemented).
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum HsmCommand {}

pub fn run(command: HsmCommand) -> anyhow::Result<ExitCode> {
    match command {}
}
