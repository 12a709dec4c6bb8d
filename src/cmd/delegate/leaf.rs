//! `rust-pki delegate leaf`: the existing leaf issuance (lint before signing, log entry
//! and bundle with --log), registered in the state with its log index.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::SystemTime,
};

use anyhow::Context;
use rust_pki_ca::{output::ensure_absent, pem::label};
use rust_pki_delegate::DelegateState;
use x509_cert::name::Name;

use super::{StateArgs, delegate_bundle, open_log};
use crate::cmd::ca::{SubjectKeyArgs, leaf::LeafArgs as Issue, leaf::issue_logged_leaf};
use crate::cmd::common::{describe_certificate, parse_time, write_output};
use crate::cmd::log::staple::LogTarget;

#[derive(Debug, clap::Args)]
pub struct LeafArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Leaf subject, RFC 4514, e.g. 'CN=rust 1.95.0 release,O=The Rust Project'.
    #[arg(long, value_name = "NAME")]
    subject: String,
    #[command(flatten)]
    subject_key: SubjectKeyArgs,
    #[command(flatten)]
    common: IssueArgs,
}

/// What `leaf` and `rotate` share after the subject and key.
#[derive(Debug, clap::Args)]
pub(super) struct IssueArgs {
    /// End of validity (RFC 3339). Default: policy leaf.default_validity_days, capped at
    /// the delegate's notAfter.
    #[arg(long, value_name = "RFC3339")]
    not_after: Option<String>,
    /// Where to write the certificate (PEM); must not exist. With --log, its bundle goes
    /// next to it (extension .bundle), as with `ca leaf`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// With --log: the delegate's own bundle. Default: the copy `delegate init` kept in
    /// the state (STATE/delegate.bundle).
    #[arg(long, value_name = "FILE", requires = "dir")]
    delegate_bundle: Option<PathBuf>,
    #[command(flatten)]
    log: LogTarget,
}

pub(super) fn run(args: LeafArgs) -> anyhow::Result<()> {
    let (policy, mut state) = args.state.open()?;
    let subject = Name::from_str(&args.subject)
        .with_context(|| format!("--subject `{}` is not an RFC 4514 name", args.subject))?;
    issue(
        &policy,
        &mut state,
        subject,
        &args.subject_key,
        &args.common,
    )?;
    Ok(())
}

/// Issues and registers one leaf; returns its serial.
pub(super) fn issue(
    policy: &rust_pki_ca::policy::Policy,
    state: &mut DelegateState,
    subject: Name,
    subject_key: &SubjectKeyArgs,
    args: &IssueArgs,
) -> anyhow::Result<String> {
    use std::io::Write;
    let not_after = args.not_after.as_deref().map(parse_time).transpose()?;
    let delegate = state.certificate().clone();
    let key = state.key_uri().to_owned();
    let leaf = Issue {
        policy,
        delegate: &delegate,
        issuer_key: &key,
        subject,
        subject_key,
        now: SystemTime::now(),
        not_after,
        out: &args.out,
    };
    let out: &Path = &args.out;
    // The log is opened (and checked against the state) before the key signs anything.
    let serial = match open_log(&args.log, state)? {
        Some(mut log) => {
            let bundle = delegate_bundle(state, args.delegate_bundle.as_deref());
            let mut serial = String::new();
            let logged = issue_logged_leaf(&leaf, &args.log, &mut log, &bundle, &mut |der| {
                serial = state.register_leaf(der, out)?.serial;
                Ok(())
            })?;
            state.set_leaf_log_index(&serial, logged)?;
            serial
        }
        None => {
            ensure_absent([out])?;
            let signed = leaf.issue()?;
            let serial = state.register_leaf(&signed.der, out)?.serial;
            write_output(
                out,
                label::CERTIFICATE,
                &signed,
                &describe_certificate(&signed.der)?,
            )?;
            serial
        }
    };
    writeln!(
        std::io::stdout().lock(),
        "registered serial {serial} in {}",
        state.state_path().display()
    )?;
    Ok(serial)
}
