//! `rust-pki delegate revoke`: record one revocation (and log it with --log).

use std::{io::Write, path::PathBuf, time::SystemTime};

use rust_pki_ca::pem;
use rust_pki_delegate::RevokeTarget;

use super::{StateArgs, log_pending, open_log};
use crate::cmd::common::parse_time;
use crate::cmd::log::staple::LogTarget;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["serial", "cert"])))]
pub struct RevokeArgs {
    #[command(flatten)]
    state: StateArgs,
    /// The serial number of a registered leaf, in hex (`:` separators allowed, as
    /// `openssl x509 -serial` prints it).
    #[arg(value_name = "SERIAL")]
    serial: Option<String>,
    /// The certificate to revoke (PEM or DER); this delegate must have issued it.
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Why: key-compromise, ca-compromise, affiliation-changed, superseded,
    /// cessation-of-operation, certificate-hold, privilege-withdrawn or unspecified.
    #[arg(long, value_name = "REASON")]
    reason: String,
    /// When it was revoked (RFC 3339, not in the future). Default: now. Every later CRL
    /// carries this date.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    #[command(flatten)]
    log: LogTarget,
}

pub(super) fn run(args: RevokeArgs) -> anyhow::Result<()> {
    let (_, mut state) = args.state.open()?;
    let mut log = open_log(&args.log, &state)?;
    let now = SystemTime::now();
    let at = args
        .at
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(now);
    let der;
    let target = match (&args.serial, &args.cert) {
        (Some(serial), _) => RevokeTarget::Serial(serial),
        (None, Some(file)) => {
            der = pem::read_der(file, pem::label::CERTIFICATE)?;
            RevokeTarget::Certificate { der: &der, file }
        }
        (None, None) => anyhow::bail!("give SERIAL or --cert FILE"),
    };
    let record = state.revoke(target, &args.reason, at, now)?;
    writeln!(
        std::io::stdout().lock(),
        "revoked serial {} at {} ({}) in {}; the next `delegate crl` lists it",
        record.serial,
        record.revoked_at,
        record.reason,
        state.state_path().display()
    )?;
    if let Some(log) = &mut log {
        log_pending(&mut state, &args.log, log)?;
    }
    Ok(())
}
