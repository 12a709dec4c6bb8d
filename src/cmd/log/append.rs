//! `rust-pki log append`: ceremony records, leaves and artifacts appended as entries.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use der::Decode;
use rust_pki_ca::pem;
use rust_pki_ceremony::record::Record;
use rust_pki_tlog::entry::Entry;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::{open_writable, parse_lock_timeout};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("entries").required(true).multiple(true)
    .args(["ceremony_records", "leaves", "artifacts"])))]
pub struct AppendArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's secret signer key file (written by `log init`); it must match
    /// DIR/log.vkey and the signature on DIR/checkpoint.
    #[arg(long = "log-skey", alias = "key", value_name = "SKEY_FILE")]
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

pub(super) fn append(args: &AppendArgs) -> anyhow::Result<()> {
    let entries = collect_entries(args)?;
    let encoded = entries
        .iter()
        .map(Entry::encode)
        .collect::<Result<Vec<_>, _>>()?;
    tracing::info!(log = %args.dir.display(), "opening and checking the log (waits for its lock)");
    let mut log = open_writable(&args.dir, &args.key, args.lock_timeout)?;
    let first = log.head().size;
    tracing::info!(entries = encoded.len(), first, "appending");
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
