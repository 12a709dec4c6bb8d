//! `rust-pki log witness`: a transparency log witness (C2SP tlog-witness, tlog-cosignature).
//!
//! The witness keeps, per log origin, the last checkpoint it cosigned (state directory of
//! `rust_pki_tlog::witness::Witness`); the request format and status codes are
//! `rust_pki_tlog::witness_protocol`'s. `serve` is the HTTP endpoint
//! `POST /add-checkpoint`; `add-checkpoint` runs one request body offline.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey};
use rust_pki_tlog::witness::Witness;
use rust_pki_tlog::witness_protocol::{self, MAX_REQUEST_BYTES, reason_phrase};

use crate::cmd::log::{read_signer_key, read_vkey, write_key_pair};

mod serve;

use serve::ServeArgs;

/// Name of the witness's verifier key file in its state directory.
pub const WITNESS_VKEY_FILE: &str = "witness.vkey";
/// Lock file in the state directory: one process at a time uses the state.
const LOCK_FILE: &str = ".lock";

#[derive(Debug, clap::Subcommand)]
pub enum WitnessCommand {
    /// Create a witness: generate its cosignature/v1 (Ed25519) key, write the secret key to
    /// --witness-skey-out (mode 0600, never overwritten) and the verifier key to DIR/witness.vkey.
    #[command(
        after_help = "Examples:\n  rust-pki log witness init --state-dir witness --name witness.example/w1 --witness-skey-out witness.skey"
    )]
    Init(InitArgs),
    /// Run one add-checkpoint request body (C2SP tlog-witness) from a file, offline, with
    /// the same checks as `serve`; prints the cosignature line. A refusal fails with the
    /// HTTP status the server would answer.
    #[command(
        after_help = "Examples:\n  rust-pki log witness add-checkpoint --state-dir witness --witness-skey witness.skey \\\n      --log-vkey demo-out/log/log.vkey --request request.txt"
    )]
    AddCheckpoint(AddCheckpointArgs),
    /// Serve C2SP tlog-witness `POST /add-checkpoint` over plain HTTP until killed. Prints
    /// `listening: http://ADDR` once bound (so --listen 127.0.0.1:0 works). Binds only
    /// loopback addresses unless --public is given: put TLS and rate limits in front of a
    /// public witness. Requests are handled one at a time (the check of the old size and
    /// the update of the state are atomic); bodies over 64 KiB are refused (413).
    #[command(
        after_help = "Examples:\n  rust-pki log witness serve --state-dir witness --witness-skey witness.skey \\\n      --log-vkey demo-out/log/log.vkey --listen 127.0.0.1:0"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The witness state directory (created if needed).
    #[arg(long = "state-dir", alias = "state", value_name = "DIR")]
    state: PathBuf,
    /// The witness name, which is also its key name (e.g. witness.example/w1).
    #[arg(long, value_name = "NAME")]
    name: String,
    /// Where to write the secret witness key (signed-note skey text). The file must not
    /// exist; it is created with mode 0600.
    #[arg(long = "witness-skey-out", alias = "key-out", value_name = "FILE")]
    key_out: PathBuf,
}

/// The state, keys and logs of a witness, shared by `add-checkpoint` and `serve`.
#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// The witness state directory: one file per log, the last checkpoint it cosigned.
    /// Only one process uses it at a time (DIR/.lock).
    #[arg(long = "state-dir", alias = "state", value_name = "DIR")]
    state: PathBuf,
    /// The witness's secret key file (written by `log witness init`).
    #[arg(long = "witness-skey", alias = "key", value_name = "SKEY_FILE")]
    key: PathBuf,
    /// The verifier key of a log to witness (its key name is the log origin). Repeatable;
    /// at least one.
    #[arg(
        long = "log-vkey",
        alias = "log-key",
        value_name = "VKEY",
        required = true
    )]
    log_keys: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AddCheckpointArgs {
    #[command(flatten)]
    witness: WitnessArgs,
    /// The request body: `old <size>`, consistency proof lines (base64), an empty line,
    /// then the signed checkpoint (C2SP tlog-witness add-checkpoint).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
}

pub fn run(command: WitnessCommand) -> anyhow::Result<()> {
    match command {
        WitnessCommand::Init(args) => init(&args),
        WitnessCommand::AddCheckpoint(args) => add_checkpoint(&args),
        WitnessCommand::Serve(args) => serve::serve(&args),
    }
}

fn init(args: &InitArgs) -> anyhow::Result<()> {
    let vkey_path = args.state.join(WITNESS_VKEY_FILE);
    for path in [&args.key_out, &vkey_path] {
        if path.symlink_metadata().is_ok() {
            return Err(crate::outcome::Refused(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            ))
            .into());
        }
    }
    let key = SignerKey::generate(&args.name, KeyType::CosignatureV1)?;
    let vkey = write_key_pair(&key, &args.key_out, &vkey_path)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "created witness {} in {}",
        args.name,
        args.state.display()
    )?;
    writeln!(out, "vkey: {vkey}")?;
    writeln!(out, "wrote {} (secret, mode 0600)", args.key_out.display())?;
    Ok(())
}

/// An open witness: the state (locked for this process) and the log keys.
struct Opened {
    witness: Witness,
    logs: Vec<VerifierKey>,
    /// Holds the exclusive lock on DIR/.lock while the witness is open.
    _lock: File,
}

fn open(args: &WitnessArgs) -> anyhow::Result<Opened> {
    let key = read_signer_key(&args.key)?;
    if key.key_type() != KeyType::CosignatureV1 {
        bail!(
            "{} is not a witness (cosignature/v1) key; create one with `log witness init`",
            args.key.display()
        );
    }
    let vkey_path = args.state.join(WITNESS_VKEY_FILE);
    if vkey_path.exists() {
        let vkey = read_vkey(&vkey_path)?;
        if vkey != key.verifier() {
            bail!(
                "{} is not the key of this witness ({} is {})",
                args.key.display(),
                vkey_path.display(),
                vkey.label()
            );
        }
    }
    let mut logs = Vec::new();
    let mut origins = BTreeSet::new();
    for path in &args.log_keys {
        let log = read_vkey(path)?;
        if log.key_type() != KeyType::Ed25519 {
            bail!(
                "{}: {} is not a log (Ed25519 note) key",
                path.display(),
                log.label()
            );
        }
        if !origins.insert(log.name().to_owned()) {
            bail!(
                "{}: a second --log-vkey for the origin {:?}",
                path.display(),
                log.name()
            );
        }
        logs.push(log);
    }
    fs::create_dir_all(&args.state).with_context(|| format!("{}", args.state.display()))?;
    let lock_path = args.state.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("{}", lock_path.display()))?;
    lock.try_lock().map_err(|e| {
        anyhow::anyhow!(
            "{}: the witness state is in use by another process ({e})",
            lock_path.display()
        )
    })?;
    let witness = Witness::open(&args.state, key, &logs)
        .with_context(|| format!("witness state {}", args.state.display()))?;
    Ok(Opened {
        witness,
        logs,
        _lock: lock,
    })
}

fn add_checkpoint(args: &AddCheckpointArgs) -> anyhow::Result<()> {
    let mut opened = open(&args.witness)?;
    let path = &args.request;
    let mut body = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_REQUEST_BYTES as u64 + 1).read_to_end(&mut body))
        .with_context(|| format!("{}", path.display()))?;
    match witness_protocol::add_checkpoint(&mut opened.witness, &opened.logs, &body) {
        Ok(line) => {
            let mut out = std::io::stdout().lock();
            write!(out, "{line}")?;
            Ok(())
        }
        Err(refusal) => {
            let status = refusal.response.status;
            Err(anyhow::Error::new(refusal.error).context(format!(
                "{}: refused, HTTP {status} {}{}",
                path.display(),
                reason_phrase(status),
                if status == 409 {
                    format!(" (cosigned size {})", refusal.response.body.trim_end())
                } else {
                    String::new()
                }
            )))
        }
    }
}

/// Reads a witness verifier key file (for `log cosign`).
pub(super) fn read_witness_vkey(path: &Path) -> anyhow::Result<VerifierKey> {
    let key = read_vkey(path)?;
    if key.key_type() != KeyType::CosignatureV1 {
        bail!(
            "{}: {} is not a witness (cosignature/v1) key",
            path.display(),
            key.label()
        );
    }
    Ok(key)
}
