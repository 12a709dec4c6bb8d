//! `rust-pki log init`: a new log, its key pair and the signed empty tree.

use std::io::Write;
use std::path::PathBuf;

use rust_pki_tlog::note::{KeyType, SignerKey};
use rust_pki_tlog::writer::{CHECKPOINT_FILE, Log};

use super::{VKEY_FILE, note_signer, write_key_pair};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The log directory (created if needed; must not hold a log).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log origin, which is also the key name (e.g. pki.rust-lang.org/log).
    #[arg(long, value_name = "NAME")]
    origin: String,
    /// Where to write the secret signer key (signed-note skey text). The file must not
    /// exist; it is created with mode 0600. Keep it offline: it signs every checkpoint.
    #[arg(long = "log-skey-out", alias = "key-out", value_name = "FILE")]
    key_out: PathBuf,
}

pub(super) fn init(args: &InitArgs) -> anyhow::Result<()> {
    let vkey_path = args.dir.join(VKEY_FILE);
    for path in [&args.key_out, &vkey_path, &args.dir.join(CHECKPOINT_FILE)] {
        if path.symlink_metadata().is_ok() {
            return Err(crate::outcome::Refused(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            ))
            .into());
        }
    }
    let key = SignerKey::generate(&args.origin, KeyType::Ed25519)?;
    let vkey = write_key_pair(&key, &args.key_out, &vkey_path)?;
    let log = Log::create(&args.dir, &args.origin, note_signer(key))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "created log {} in {}", args.origin, args.dir.display())?;
    writeln!(out, "vkey: {vkey}")?;
    writeln!(out, "wrote {} (secret, mode 0600)", args.key_out.display())?;
    writeln!(out, "size: {}", log.head().size)?;
    Ok(())
}
