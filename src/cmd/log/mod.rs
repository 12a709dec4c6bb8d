//! `rust-pki log`: the transparency log on disk (C2SP tlog-tiles, signed checkpoints).
//!
//! Entries use the `rust-pki-log-entry/v1` encoding of `rust_pki_tlog::entry`.

pub mod staple;

mod append;
mod audit;
mod http_source;
mod init;
mod prove;
mod publish;
mod restaple;
mod verify_checkpoint;
mod witness;
mod witness_client;

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use rust_pki_fs::durable::{self, Mode};
use rust_pki_tlog::Error as TlogError;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::note::{SignerKey, VerifierKey, sign_note};
use rust_pki_tlog::writer::{CHECKPOINT_FILE, Log};
use zeroize::Zeroizing;

use append::AppendArgs;
use init::InitArgs;
use prove::ProveArgs;
use verify_checkpoint::VerifyCheckpointArgs;

/// Name of the log's verifier key file in the log directory.
pub const VKEY_FILE: &str = "log.vkey";

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Create a new log: generate its Ed25519 key, write the secret key to --log-skey-out (mode
    /// 0600, never overwritten) and the verifier key to DIR/log.vkey, sign the empty tree.
    #[command(
        after_help = "Examples:\n  rust-pki log init demo-out/log --origin pki.rust-lang.org/log --log-skey-out log.skey"
    )]
    Init(InitArgs),
    /// Append entries and sign a new checkpoint; prints the new size and root.
    #[command(
        after_help = "Examples:\n  rust-pki log append demo-out/log --log-skey log.skey --artifact rustc-1.95.0.tar.xz\n  rust-pki log append demo-out/log --log-skey log.skey --leaf demo-out/leaves/releases.pem \\\n      --delegate demo-out/delegates/releases.pem"
    )]
    Append(AppendArgs),
    /// Print an inclusion proof (and a consistency proof with --old-size) as base64 lines.
    #[command(after_help = "Examples:\n  rust-pki log prove demo-out/log --index 3 --old-size 2")]
    Prove(ProveArgs),
    /// Verify DIR/checkpoint with a log key and check that the tree on disk matches it.
    #[command(
        after_help = "Examples:\n  rust-pki log verify-checkpoint demo-out/log --log-vkey demo-out/log/log.vkey"
    )]
    VerifyCheckpoint(VerifyCheckpointArgs),
    /// Monitor the log (a directory or an http(s):// URL): verify every tile, check
    /// consistency with the checkpoint seen last, list every root and delegate operation,
    /// replay the quorum history from genesis, flag certificates missing from the log.
    #[command(
        after_help = "Examples:\n  rust-pki log audit https://pki.rust-lang.org/log --log-vkey log.vkey --state-file monitor.state \\\n      --genesis-roster roster-2026.toml --policy rust-root-2026.toml --root demo-out/root.pem --certs certs/"
    )]
    Audit(audit::AuditArgs),
    /// Verify the log and write its static site: DIR/index.html listing every ceremony,
    /// leaf issuance and artifact, and DIR/records/ for records logged by digest only.
    #[command(
        after_help = "Examples:\n  rust-pki log publish demo-out/log --log-vkey demo-out/log/log.vkey --records ceremonies"
    )]
    Publish(publish::PublishArgs),
    /// A witness (C2SP tlog-witness): keeps the last checkpoint it cosigned per log, checks
    /// consistency proofs, returns cosignatures; `serve` is its HTTP endpoint.
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// Ask witnesses to cosign DIR/checkpoint (C2SP tlog-witness add-checkpoint) and add
    /// their verified cosignatures to it.
    #[command(
        after_help = "Examples:\n  rust-pki log cosign demo-out/log --log-skey log.skey --witness-url http://127.0.0.1:PORT \\\n      --witness-vkey demo-out/witness.vkey"
    )]
    Cosign(witness_client::CosignArgs),
    /// Write bundles again with the log's current checkpoint, its cosignatures and fresh
    /// inclusion proofs. For bundles stapled before the witnesses cosigned: `ceremony
    /// execute` on the offline bastion (no --witness-url) staples the log's checkpoint
    /// alone, which `verify --min-witnesses 1` refuses; once the log is copied off and
    /// `log cosign` has run, restaple its bundles. Each bundle must be one of this log's
    /// (it verifies at its own checkpoint, which the log extends; its entry is at its index
    /// and names its certificates); otherwise nothing is written. The log is only read.
    #[command(
        after_help = "Examples:\n  rust-pki log restaple demo-out/log --all ceremonies --out restapled \\\n      --witness-vkey demo-out/witness.vkey --min-witnesses 1\n  rust-pki log restaple demo-out/log demo-out/delegates/releases.bundle --out restapled"
    )]
    Restaple(restaple::RestapleArgs),
}

pub fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Init(args) => init::init(&args),
        LogCommand::Append(args) => append::append(&args),
        LogCommand::Prove(args) => prove::prove(&args),
        LogCommand::VerifyCheckpoint(args) => verify_checkpoint::verify_checkpoint(&args),
        LogCommand::Witness(command) => witness::run(command),
        LogCommand::Cosign(args) => witness_client::cosign(&args),
        LogCommand::Audit(args) => audit::run(&args),
        LogCommand::Publish(args) => publish::publish(&args),
        LogCommand::Restaple(args) => restaple::restaple(&args),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a new key pair: the secret key to `key_out` (mode 0600) and the verifier key to
/// `vkey_path` (its directory is created), neither overwriting anything. Returns the
/// verifier key.
pub(crate) fn write_key_pair(
    key: &SignerKey,
    key_out: &Path,
    vkey_path: &Path,
) -> anyhow::Result<VerifierKey> {
    {
        let secret = Zeroizing::new(key.expose_secret() + "\n");
        durable::create_new(key_out, secret.as_bytes(), Mode::Private)?;
    }
    if let Some(dir) = vkey_path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let vkey = key.verifier();
    durable::create_new(vkey_path, format!("{vkey}\n").as_bytes(), Mode::Public)?;
    Ok(vkey)
}

/// Opens the log in `dir` for appending with the secret key in `key_path`: the key must be
/// the one in DIR/log.vkey and must have signed DIR/checkpoint; the tree on disk is
/// checked against the checkpoint. The log is locked (waiting up to `lock_timeout` for
/// another writer) until the returned `Log` is dropped.
pub(crate) fn open_writable(
    dir: &Path,
    key_path: &Path,
    lock_timeout: Duration,
) -> anyhow::Result<Log> {
    let key = read_signer_key(key_path)?;
    let vkey = read_vkey(&dir.join(VKEY_FILE))?;
    if key.verifier().to_string() != vkey.to_string() {
        bail!(
            "{} is not the key of this log ({} is {})",
            key_path.display(),
            VKEY_FILE,
            vkey.label()
        );
    }
    // Checked before opening too: opening may re-sign an interrupted checkpoint, which
    // must not happen on a log this key did not sign.
    let cp_path = dir.join(CHECKPOINT_FILE);
    let note = fs::read(&cp_path).with_context(|| format!("{}", cp_path.display()))?;
    SignedCheckpoint::verify(&note, &vkey).with_context(|| format!("{}", cp_path.display()))?;
    let origin = key.name().to_owned();
    let log = Log::open_with_timeout(dir, &origin, note_signer(key), lock_timeout)
        .with_context(|| format!("log {}", dir.display()))?;
    // And the checkpoint in force now, read under the lock.
    SignedCheckpoint::verify(&log.head().note, &vkey)
        .with_context(|| format!("{}", cp_path.display()))?;
    Ok(log)
}

/// `--lock-timeout SECONDS` (decimal).
pub(crate) fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a number of seconds"))
}

/// The checkpoint signer of a note key.
fn note_signer(key: SignerKey) -> impl Fn(&[u8]) -> rust_pki_tlog::Result<Vec<u8>> + 'static {
    move |body: &[u8]| sign_note(body, &key)
}

/// Signer for read-only commands: fails if opening the log would need a signature.
fn no_signer(_body: &[u8]) -> rust_pki_tlog::Result<Vec<u8>> {
    Err(TlogError::EntryNoSigner)
}

fn read_signer_key(path: &Path) -> anyhow::Result<SignerKey> {
    let mut text = Zeroizing::new(String::new());
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("{}", path.display()))?;
    // The error of `SignerKey::parse` never contains key material.
    SignerKey::parse(text.trim_end()).with_context(|| format!("{}", path.display()))
}

pub(crate) fn read_vkey(path: &Path) -> anyhow::Result<VerifierKey> {
    let text = fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    VerifierKey::parse(text.trim_end()).with_context(|| format!("{}", path.display()))
}
