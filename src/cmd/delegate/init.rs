//! `rust-pki delegate init`: a new state for a delegate certificate and its key.

use std::{io::Write, path::PathBuf, time::SystemTime};

use anyhow::Context;
use rust_pki_ca::{Signer, authority::purpose_of, pem};
use rust_pki_delegate::DelegateState;
use rust_pki_fs::durable;

use super::StateArgs;
use crate::cmd::common::{describe_certificate, open_key};
use crate::cmd::log::staple::bundle_path;

/// The delegate's bundle (from its delegate-issue ceremony), copied into the state when
/// it is found next to `--cert`: `delegate leaf --log` proves the delegate's entry with it.
pub(super) const DELEGATE_BUNDLE: &str = "delegate.bundle";

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The delegate CA certificate (PEM or DER), as its delegate-issue ceremony published
    /// it; its bundle (same name, extension .bundle) is copied too when present.
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// The delegate key (PKCS#11 URI with pin-source); it must be the certificate's key.
    /// Recorded in the state: later commands sign with it.
    #[arg(long, value_name = "PKCS11-URI")]
    key: String,
}

pub(super) fn run(args: InitArgs) -> anyhow::Result<()> {
    let (bytes, policy) = args.state.policy.load_with_bytes()?;
    let der = pem::read_der(&args.cert, pem::label::CERTIFICATE)?;
    let cert = crate::cmd::common::load_certificate(&args.cert)?;
    let purpose = purpose_of(&policy, &cert)
        .with_context(|| format!("--cert {}", args.cert.display()))?
        .name
        .clone();
    let signer = open_key(&args.key, "--key")?;
    let state = DelegateState::init(
        &args.state.state,
        &der,
        &args.key,
        signer.public_key(),
        &bytes,
        SystemTime::now(),
        args.state.state_lock_timeout,
    )?;
    let bundle = bundle_path(&args.cert);
    let copied = match std::fs::read(&bundle) {
        Ok(contents) => {
            durable::create_new(
                &state.dir().join(DELEGATE_BUNDLE),
                &contents,
                durable::Mode::Public,
            )?;
            true
        }
        Err(_) => false,
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "initialised {} for the {purpose} delegate {}",
        state.dir().display(),
        describe_certificate(&der)?
    )?;
    if copied {
        writeln!(out, "copied {} into the state", bundle.display())?;
    } else {
        writeln!(
            out,
            "no {} found: `delegate leaf --log` will need --delegate-bundle",
            bundle.display()
        )?;
    }
    Ok(())
}
