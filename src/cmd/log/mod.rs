//! `rust-pki log`: the transparency log on disk (C2SP tlog-tiles, signed checkpoints).
//!
//! Entries use the `rust-pki-log-entry/v1` encoding of `rust_pki_tlog::entry`.

pub mod staple;

mod audit;
mod http_source;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use der::Decode;
use rust_pki_ca::pem;
use rust_pki_ceremony::record::Record;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, sign_note};
use rust_pki_tlog::tiles::{FULL_WIDTH, entries_path};
use rust_pki_tlog::writer::{CHECKPOINT_FILE, Log};
use rust_pki_tlog::{Error as TlogError, bundle};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use zeroize::Zeroizing;

mod publish;
mod witness;
mod witness_client;

/// Name of the log's verifier key file in the log directory.
pub const VKEY_FILE: &str = "log.vkey";

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Create a new log: generate its Ed25519 key, write the secret key to --key-out (mode
    /// 0600, never overwritten) and the verifier key to DIR/log.vkey, sign the empty tree.
    Init(InitArgs),
    /// Append entries and sign a new checkpoint; prints the new size and root.
    Append(AppendArgs),
    /// Print an inclusion proof (and a consistency proof with --old-size) as base64 lines.
    Prove(ProveArgs),
    /// Verify DIR/checkpoint with a log key and check that the tree on disk matches it.
    VerifyCheckpoint(VerifyCheckpointArgs),
    /// Monitor the log (a directory or an http(s):// URL): verify every tile, check
    /// consistency with the checkpoint seen last, list every root and delegate operation,
    /// replay the quorum history from genesis, flag certificates missing from the log.
    Audit(audit::AuditArgs),
    /// Verify the log and write its static site: DIR/index.html listing every ceremony,
    /// leaf issuance and artifact, and DIR/records/ for records logged by digest only.
    Publish(publish::PublishArgs),
    /// A witness (C2SP tlog-witness): keeps the last checkpoint it cosigned per log, checks
    /// consistency proofs, returns cosignatures; `serve` is its HTTP endpoint.
    #[command(subcommand)]
    Witness(witness::WitnessCommand),
    /// Ask witnesses to cosign DIR/checkpoint (C2SP tlog-witness add-checkpoint) and add
    /// their verified cosignatures to it.
    Cosign(witness_client::CosignArgs),
}

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
    #[arg(long, value_name = "FILE")]
    key_out: PathBuf,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("entries").required(true).multiple(true)
    .args(["ceremony_records", "leaves", "artifacts"])))]
pub struct AppendArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's secret signer key file (written by `log init`); it must match
    /// DIR/log.vkey and the signature on DIR/checkpoint.
    #[arg(long, value_name = "SKEY_FILE")]
    key: PathBuf,
    /// A ceremony record file to log (its bytes when the entry fits in 65535 bytes, else
    /// its name, size and SHA-256 only). Repeatable.
    #[arg(long = "ceremony-record", value_name = "FILE")]
    ceremony_records: Vec<PathBuf>,
    /// A leaf certificate (PEM or DER) issued by a delegate, logged with the SHA-256 of
    /// its delegate's certificate. Repeatable; each needs a --delegate.
    #[arg(long = "leaf", value_name = "CERT", requires = "delegates")]
    leaves: Vec<PathBuf>,
    /// The delegate CA certificate (PEM or DER) that issued the --leaf of the same
    /// position; give it once to use it for every --leaf. Its subject must be the leaf's
    /// issuer.
    #[arg(long = "delegate", value_name = "CERT", requires = "leaves")]
    delegates: Vec<PathBuf>,
    /// A release file to log by name, size and SHA-256 (sumdb-style). Repeatable.
    /// Entries are appended in this order: ceremony records, leaves, artifacts.
    #[arg(long = "artifact", value_name = "FILE")]
    artifacts: Vec<PathBuf>,
    /// How long to wait, in seconds, for another command writing to DIR (one writer at a
    /// time: appends wait their turn); then give up naming the log and its lock file.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = parse_lock_timeout)]
    lock_timeout: Duration,
}

#[derive(Debug, clap::Args)]
pub struct ProveArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Index (0-based) of the entry whose inclusion in the current tree to prove.
    #[arg(long, value_name = "N")]
    index: u64,
    /// Also prove that the tree of this size is a prefix of the current tree.
    #[arg(long, value_name = "M")]
    old_size: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyCheckpointArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's verifier key file (signed-note vkey text: name+hexid+base64), obtained
    /// independently of DIR.
    #[arg(long, value_name = "VKEY")]
    log_key: PathBuf,
}

pub fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Init(args) => init(&args),
        LogCommand::Append(args) => append(&args),
        LogCommand::Prove(args) => prove(&args),
        LogCommand::VerifyCheckpoint(args) => verify_checkpoint(&args),
        LogCommand::Witness(command) => witness::run(command),
        LogCommand::Cosign(args) => witness_client::cosign(&args),
        LogCommand::Audit(args) => audit::run(&args),
        LogCommand::Publish(args) => publish::publish(&args),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn init(args: &InitArgs) -> anyhow::Result<()> {
    let vkey_path = args.dir.join(VKEY_FILE);
    for path in [&args.key_out, &vkey_path, &args.dir.join(CHECKPOINT_FILE)] {
        if path.symlink_metadata().is_ok() {
            bail!(
                "{} already exists; refusing to overwrite it",
                path.display()
            );
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
        write_new(key_out, secret.as_bytes(), 0o600)?;
    }
    if let Some(dir) = vkey_path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let vkey = key.verifier();
    write_new(vkey_path, format!("{vkey}\n").as_bytes(), 0o644)?;
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

fn append(args: &AppendArgs) -> anyhow::Result<()> {
    let entries = collect_entries(args)?;
    let encoded = entries
        .iter()
        .map(Entry::encode)
        .collect::<Result<Vec<_>, _>>()?;
    let mut log = open_writable(&args.dir, &args.key, args.lock_timeout)?;
    let first = log.head().size;
    let head = log.append(&encoded)?;
    let mut out = std::io::stdout().lock();
    for (i, entry) in entries.iter().enumerate() {
        writeln!(out, "appended {} {}", entry.kind(), first + i as u64)?;
    }
    writeln!(out, "size: {}", head.size)?;
    writeln!(out, "root: {}", Base64::encode_string(&head.root.0))?;
    Ok(())
}

fn collect_entries(args: &AppendArgs) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for path in &args.ceremony_records {
        let bytes = fs::read(path).with_context(|| format!("{}", path.display()))?;
        let record = Record::parse(&bytes, path)?;
        let certificates: Vec<Vec<u8>> = record
            .certificates()
            .into_iter()
            .map(|(_, der)| der)
            .collect();
        entries.push(Entry::ceremony_record(
            &file_name(path)?,
            &bytes,
            &certificates,
        )?);
    }
    if !args.leaves.is_empty()
        && args.delegates.len() != 1
        && args.delegates.len() != args.leaves.len()
    {
        bail!(
            "{} --leaf but {} --delegate: give one --delegate, or one per --leaf",
            args.leaves.len(),
            args.delegates.len()
        );
    }
    for (i, leaf_path) in args.leaves.iter().enumerate() {
        let delegate_path = &args.delegates[if args.delegates.len() == 1 { 0 } else { i }];
        let leaf = pem::read_der(leaf_path, pem::label::CERTIFICATE)?;
        let delegate = pem::read_der(delegate_path, pem::label::CERTIFICATE)?;
        let leaf_cert = Certificate::from_der(&leaf)
            .with_context(|| format!("{}: malformed certificate", leaf_path.display()))?;
        let delegate_cert = Certificate::from_der(&delegate)
            .with_context(|| format!("{}: malformed certificate", delegate_path.display()))?;
        if leaf_cert.tbs_certificate().issuer() != delegate_cert.tbs_certificate().subject() {
            bail!(
                "{} was not issued by {} (issuer {}, delegate subject {})",
                leaf_path.display(),
                delegate_path.display(),
                leaf_cert.tbs_certificate().issuer(),
                delegate_cert.tbs_certificate().subject()
            );
        }
        entries.push(Entry::leaf_issuance(&leaf, &delegate)?);
    }
    for path in &args.artifacts {
        let (size, sha256) = hash_file(path)?;
        entries.push(Entry::artifact(&file_name(path)?, size, sha256)?);
    }
    Ok(entries)
}

fn prove(args: &ProveArgs) -> anyhow::Result<()> {
    let vkey = read_vkey(&args.dir.join(VKEY_FILE))?;
    let log = Log::open(&args.dir, vkey.name(), no_signer)?;
    let (proof, head) = log.prove_inclusion(args.index)?;
    let entry = read_entry(&args.dir, args.index, head.size)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "size: {}", head.size)?;
    writeln!(out, "root: {}", Base64::encode_string(&head.root.0))?;
    writeln!(out, "index: {}", args.index)?;
    writeln!(out, "entry: {}", Base64::encode_string(&entry))?;
    writeln!(out, "inclusion-proof: {}", proof.len())?;
    for hash in &proof {
        writeln!(out, "{}", Base64::encode_string(&hash.0))?;
    }
    if let Some(old_size) = args.old_size {
        let (proof, _) = log.prove_consistency(old_size)?;
        writeln!(out, "old-size: {old_size}")?;
        writeln!(out, "consistency-proof: {}", proof.len())?;
        for hash in &proof {
            writeln!(out, "{}", Base64::encode_string(&hash.0))?;
        }
    }
    Ok(())
}

fn verify_checkpoint(args: &VerifyCheckpointArgs) -> anyhow::Result<()> {
    let vkey = read_vkey(&args.log_key)?;
    let cp_path = args.dir.join(CHECKPOINT_FILE);
    let note = fs::read(&cp_path).with_context(|| format!("{}", cp_path.display()))?;
    let cp = SignedCheckpoint::verify(&note, &vkey).with_context(|| {
        format!(
            "{} does not verify with {}",
            cp_path.display(),
            vkey.label()
        )
    })?;
    // Recomputes the tree from the entry bundles and checks every tile against the root.
    let log = Log::open(&args.dir, &cp.origin, no_signer).with_context(|| {
        format!(
            "the tree in {} does not match its checkpoint",
            args.dir.display()
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

/// Entry `index` of the tree of `size`, read from its entry bundle.
fn read_entry(dir: &Path, index: u64, size: u64) -> anyhow::Result<Vec<u8>> {
    let full = u64::from(FULL_WIDTH);
    let n = index / full;
    let width = u32::try_from((size - n * full).min(full))?;
    let path = dir.join(entries_path(n, width)?);
    let data = fs::read(&path).with_context(|| format!("{}", path.display()))?;
    let mut entries = bundle::decode(&data).with_context(|| format!("{}", path.display()))?;
    let i = usize::try_from(index % full)?;
    if i >= entries.len() {
        bail!("{}: entry {index} missing", path.display());
    }
    Ok(entries.swap_remove(i))
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .with_context(|| format!("{}: no UTF-8 file name", path.display()))
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, [u8; 32])> {
    let mut file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("{}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hasher.finalize().into()))
}

/// Create `path` (O_CREAT|O_EXCL) with `mode` and write `contents`, synced.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("{}: cannot create (it must not exist)", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("{}", path.display()))
}
