//! `rust-pki delegate …`: a delegate CA's day-to-day commands on its state directory
//! (crate rust-pki-delegate): issue and register leaves, revoke, re-sign the CRL with
//! every revocation carried forward, see what lapses next, rotate a leaf.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use rust_pki_ca::policy::Policy;
use rust_pki_delegate::DelegateState;
use rust_pki_tlog::writer::Log;

use crate::cmd::ca::PolicyArg;
use crate::cmd::log::parse_lock_timeout;
use crate::cmd::log::staple::{Issued, LogTarget, report_stapled};

mod crl;
mod due;
mod init;
mod leaf;
mod revoke;
mod rotate;

#[derive(Debug, clap::Subcommand)]
pub enum DelegateCommand {
    /// Create a delegate state directory for a delegate certificate and its key.
    ///
    /// Refuses a directory that holds a state already, and a key that is not the
    /// certificate's. The policy in use is recorded: later commands refuse another one.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate init --state releases-state --cert demo-out/delegates/releases.pem \\\n      --key \"$DELEGATE_KEY\"\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Init(init::InitArgs),
    /// Issue a leaf (linted before the delegate key signs) and register it.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate leaf --state releases-state --subject 'CN=rust 1.95.0,O=The Rust Project' \\\n      --subject-key \"$LEAF_KEY\" --out leaves/releases.pem \\\n      --log demo-out/log --log-skey log.skey --witness-url http://127.0.0.1:7380 --witness-vkey demo-out/witness.vkey\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Leaf(leaf::LeafArgs),
    /// Record a revocation once, with its date and reason (logged with --log).
    ///
    /// Refuses a serial the register does not hold, a certificate another delegate
    /// issued, and a second revocation of one serial. The next `delegate crl` lists it.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate revoke --state releases-state 5d0f6ed65a6ecafd68543f03ebf0e436 --reason key-compromise\n",
        "  rust-pki delegate revoke --state releases-state --cert leaves/old.pem --reason superseded \\\n      --at 2026-12-01T09:30:00Z --log demo-out/log --log-skey log.skey\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Revoke(revoke::RevokeArgs),
    /// Sign the next CRL: every revocation whose certificate has not expired, each with
    /// its original date and reason, under a number higher than any before.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate crl --state releases-state --out crl/releases-0007.crl \\\n      --log demo-out/log --log-skey log.skey --witness-url http://127.0.0.1:7380 --witness-vkey demo-out/witness.vkey\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Crl(crl::CrlArgs),
    /// What lapses next: the CRL to re-sign, leaves to replace, the delegate to renew.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate due --state releases-state\n",
        "  rust-pki delegate due --state releases-state --at 2027-01-01T00:00:00Z --json --fail-if-overdue\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Due(due::DueArgs),
    /// Issue the successor of a leaf in one step: the same subject, a new key, registered.
    #[command(after_help = concat!(
        "Examples:\n  rust-pki delegate rotate --state releases-state --subject 'CN=rust 1.95.0,O=The Rust Project' \\\n      --subject-key \"$NEW_LEAF_KEY\" --out leaves/releases-next.pem\n",
        "  rust-pki delegate rotate --state releases-state --purpose-leaf 5d0f6ed65a6ecafd68543f03ebf0e436 \\\n      --csr next.csr --out leaves/releases-next.pem --log demo-out/log --log-skey log.skey\n\n",
        "The state directory is specified in delegate/src/lib.rs."
    ))]
    Rotate(rotate::RotateArgs),
}

/// The state directory, the policy and the lock wait, shared by every subcommand.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The delegate state directory (made by `delegate init`).
    #[arg(long, alias = "state-dir", value_name = "DIR")]
    state: PathBuf,
    #[command(flatten)]
    policy: PolicyArg,
    /// How long to wait, in seconds, for another `rust-pki delegate` command on the same
    /// state; then give up naming the state's lock.
    #[arg(long = "lock-timeout", value_name = "SECONDS", default_value = "120",
          value_parser = parse_lock_timeout)]
    state_lock_timeout: Duration,
}

impl StateArgs {
    /// The policy and the state, locked and validated.
    fn open(&self) -> anyhow::Result<(Policy, DelegateState)> {
        let (bytes, policy) = self.policy.load_with_bytes()?;
        let state = DelegateState::open(&self.state, &bytes, self.state_lock_timeout)?;
        Ok((policy, state))
    }
}

pub fn run(command: DelegateCommand) -> anyhow::Result<ExitCode> {
    match command {
        DelegateCommand::Init(args) => init::run(args),
        DelegateCommand::Leaf(args) => leaf::run(args),
        DelegateCommand::Revoke(args) => revoke::run(args),
        DelegateCommand::Crl(args) => crl::run(args),
        DelegateCommand::Due(args) => due::run(args),
        DelegateCommand::Rotate(args) => rotate::run(args),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the log of `target` (after the state: always in this order, so two commands
/// never wait for each other) and checks the state against it.
fn open_log(target: &LogTarget, state: &DelegateState) -> anyhow::Result<Option<Log>> {
    let Some(log) = target.open()? else {
        return Ok(None);
    };
    state.check_log(log.dir(), &log.read_entries()?)?;
    Ok(Some(log))
}

/// Logs what the state holds unlogged, in order: revocations, then the last CRL (a run
/// without --log, or one interrupted before its append).
fn log_pending(state: &mut DelegateState, target: &LogTarget, log: &mut Log) -> anyhow::Result<()> {
    let revocations = state.unlogged_revocations();
    let mut issued = Vec::new();
    for record in &revocations {
        issued.push(Issued {
            entry: state.revocation_entry(record)?.encode()?,
            bundles: Vec::new(),
        });
    }
    let crl = state.unlogged_crl()?;
    if let Some((_, entry)) = &crl {
        issued.push(Issued {
            entry: entry.encode()?,
            bundles: Vec::new(),
        });
    }
    if issued.is_empty() {
        return Ok(());
    }
    let stapled = target.staple(log, &issued)?;
    for (record, done) in revocations.iter().zip(&stapled) {
        state.set_revocation_log_index(&record.serial, done.index)?;
    }
    if let (Some((last, _)), Some(done)) = (crl, stapled.get(revocations.len())) {
        state.set_crl_log_index(last.number, done.index)?;
    }
    report_stapled(&stapled, log)
}

/// The delegate's own bundle, for a leaf's bundle: `--delegate-bundle`, else the copy
/// `init` kept in the state.
fn delegate_bundle(state: &DelegateState, given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| state.dir().join(init::DELEGATE_BUNDLE), Path::to_owned)
}
