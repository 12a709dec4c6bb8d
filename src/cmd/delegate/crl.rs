//! `rust-pki delegate crl`: the next CRL, every revocation carried forward.

use std::{io::Write, path::PathBuf, time::SystemTime};

use rust_pki_ca::{output::ensure_absent, pem};
use rust_pki_delegate::format::format_time;
use rust_pki_fs::durable;

use super::{StateArgs, log_pending, open_log};
use crate::cmd::common::{open_key, warn};
use crate::cmd::log::staple::LogTarget;

#[derive(Debug, clap::Args)]
pub struct CrlArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Where to write the CRL (PEM); must not exist. A copy stays in the state
    /// (STATE/crls/<number>.crl).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    log: LogTarget,
}

pub(super) fn run(args: CrlArgs) -> anyhow::Result<()> {
    let (policy, mut state) = args.state.open()?;
    let mut log = open_log(&args.log, &state)?;
    ensure_absent([args.out.as_path()])?;
    // Revocations (and an earlier CRL) not logged yet go into the log before this CRL.
    if let Some(log) = &mut log {
        log_pending(&mut state, &args.log, log)?;
    }
    let signer = open_key(state.key_uri(), "the state's delegate.key")?;
    let signed = state.sign_crl(&policy, &signer, SystemTime::now())?;
    for warning in &signed.warnings {
        warn(warning);
    }
    let text = pem::encode(pem::label::CRL, &signed.der)?;
    durable::create_new(&args.out, text.as_bytes(), durable::Mode::Public)?;
    writeln!(
        std::io::stdout().lock(),
        "wrote {}: CRL number {} of {}, thisUpdate {}, nextUpdate {}, {} revocation(s) \
         listed{}",
        args.out.display(),
        signed.number,
        state.certificate().tbs_certificate().subject(),
        format_time(signed.this_update),
        format_time(signed.next_update),
        signed.listed,
        if signed.expired > 0 {
            format!(" ({} of expired certificates left out)", signed.expired)
        } else {
            String::new()
        }
    )?;
    if let Some(log) = &mut log {
        log_pending(&mut state, &args.log, log)?;
    }
    Ok(())
}
