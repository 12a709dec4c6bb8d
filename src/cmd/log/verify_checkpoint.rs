//! `rust-pki log verify-checkpoint`: the checkpoint and the tree on disk, checked; a
//! signature or tree that does not verify is `INVALID [log-signature]` or `INVALID [tree]`.

use std::fs::{self};
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::writer::{CHECKPOINT_FILE, Log};

use super::{no_signer, read_vkey};
use crate::outcome::Invalid;

#[derive(Debug, clap::Args)]
pub struct VerifyCheckpointArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's verifier key file (signed-note vkey text: name+hexid+base64), obtained
    /// independently of DIR.
    #[arg(long = "log-vkey", alias = "log-key", value_name = "VKEY")]
    log_key: PathBuf,
}

pub(super) fn verify_checkpoint(args: &VerifyCheckpointArgs) -> anyhow::Result<()> {
    let vkey = read_vkey(&args.log_key)?;
    let cp_path = args.dir.join(CHECKPOINT_FILE);
    let note = fs::read(&cp_path).with_context(|| format!("{}", cp_path.display()))?;
    // A checkpoint or tree that does not verify is a verdict on the log (exit 1); an
    // unreadable checkpoint or key above is an input error (exit 2).
    let invalid = |rule: &'static str, message: String| Invalid {
        rule,
        message,
        details: None,
        result: None,
        checked: Vec::new(),
        skipped: Vec::new(),
    };
    let cp = SignedCheckpoint::verify(&note, &vkey).map_err(|e| {
        invalid(
            "log-signature",
            format!(
                "{} does not verify with {}: {e}",
                cp_path.display(),
                vkey.label()
            ),
        )
    })?;
    // Recomputes the tree from the entry bundles and checks every tile against the root.
    let log = Log::open(&args.dir, &cp.origin, no_signer).map_err(|e| {
        invalid(
            "tree",
            format!(
                "the tree in {} does not match its checkpoint: {:#}",
                args.dir.display(),
                anyhow::Error::from(e)
            ),
        )
    })?;
    if log.head().size != cp.size || log.head().root.0 != cp.root_hash {
        bail!("the checkpoint changed while it was being checked");
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "checkpoint OK: {} size {} root {}",
        cp.origin,
        cp.size,
        Base64::encode_string(&cp.root_hash)
    )?;
    Ok(())
}
