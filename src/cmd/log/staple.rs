//! Stapling at issuance: log what was issued, get the witnesses' cosignatures on the new
//! checkpoint, and write a bundle (`rust-pki-bundle/v2`) next to each certificate.
//!
//! Used by `ca leaf`, `ceremony execute` and `bastion`. Each step is idempotent, so
//! rerunning an interrupted issuance completes it: an entry already in the log is not
//! appended again, and a bundle already written is left alone (files are never
//! overwritten). The opened log holds the log's lock until it is dropped, so one command's
//! appends, cosignatures and bundles are never interleaved with another's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use rust_pki_tlog::bundle_file::StapledBundle;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::writer::Log;

use super::{open_writable, parse_lock_timeout, read_vkey};

/// Environment variable naming a step at which stapling aborts the process (as `kill -9`
/// would), for the crash tests: `appended` (the entries are in the log, no witness asked,
/// no bundle written). Only with the `fault-injection` feature (crash tests).
#[cfg(feature = "fault-injection")]
pub const FAULT_ENV: &str = "RUST_PKI_LOG_FAULT";

/// Where issued certificates are logged (shared by the issuing commands).
#[derive(Debug, Clone, clap::Args)]
pub struct LogTarget {
    /// The transparency log directory (made by `rust-pki log init`). What is issued is
    /// appended to it, and a bundle (chain, log entry, inclusion proof and signed
    /// checkpoint) is written next to each certificate as <name>.bundle.
    #[arg(long = "log", value_name = "DIR", requires = "log_key")]
    pub dir: Option<PathBuf>,
    /// The log's secret signer key (signed-note skey file, as written by `log init`).
    #[arg(
        long = "log-skey",
        alias = "log-key",
        value_name = "SKEY_FILE",
        requires = "dir"
    )]
    pub log_key: Option<PathBuf>,
    /// A witness (C2SP tlog-witness base URL) whose cosignature the new checkpoint gets
    /// before the bundles are written. Repeatable; each needs a --witness-vkey in the same
    /// position.
    #[arg(
        long = "witness-url",
        alias = "witness",
        value_name = "URL",
        requires = "dir"
    )]
    pub witnesses: Vec<String>,
    /// The verifier key (vkey file) of the --witness-url in the same position; its
    /// cosignature is checked before it is added.
    #[arg(long = "witness-vkey", alias = "witness-key", value_name = "VKEY")]
    pub witness_keys: Vec<PathBuf>,
    /// How long to wait, in seconds, for another command writing to the --log (it is
    /// locked from opening to the last write); then give up naming the log and its lock.
    #[arg(long = "log-lock-timeout", value_name = "SECONDS", default_value = "120",
          value_parser = parse_lock_timeout)]
    pub lock_timeout: Duration,
}

/// One entry to log and the certificates it covers.
#[derive(Debug)]
pub struct Issued {
    /// The encoded log entry.
    pub entry: Vec<u8>,
    /// For each certificate: where its bundle goes and its chain (DER, leaf first, root
    /// not included).
    pub bundles: Vec<(PathBuf, Vec<Vec<u8>>)>,
}

/// What [`LogTarget::staple`] did for one entry.
#[derive(Debug)]
pub struct Stapled {
    /// Index of the entry in the log.
    pub index: u64,
    /// Bundles written now (not those found from an earlier run).
    pub written: Vec<PathBuf>,
}

impl LogTarget {
    /// Opens the log for writing, checking it before anything is issued (`None` without
    /// `--log`). The log stays locked while the returned `Log` lives: hold it until the
    /// last write of the command.
    ///
    /// # Errors
    /// Wrong key, modified or unreadable log, witness arguments not paired, the lock not
    /// obtained within --log-lock-timeout.
    pub fn open(&self) -> anyhow::Result<Option<Log>> {
        let (Some(dir), Some(key)) = (&self.dir, &self.log_key) else {
            return Ok(None);
        };
        if self.witnesses.len() != self.witness_keys.len() {
            bail!(
                "{} --witness-url but {} --witness-vkey: give one key per witness, in order",
                self.witnesses.len(),
                self.witness_keys.len()
            );
        }
        tracing::info!(log = %dir.display(), "opening and checking the log (waits for its lock)");
        Ok(Some(open_writable(dir, key, self.lock_timeout)?))
    }

    /// Appends the entries not yet in `log`, has the witnesses cosign the new checkpoint,
    /// and writes the bundles that do not exist yet.
    ///
    /// # Errors
    /// Log, witness or I/O failures; a bundle path that exists with other contents is
    /// left alone and reported.
    pub fn staple(&self, log: &mut Log, issued: &[Issued]) -> anyhow::Result<Vec<Stapled>> {
        let new: Vec<Vec<u8>> = issued
            .iter()
            .filter(|i| log.find_entry(&i.entry).is_none())
            .map(|i| i.entry.clone())
            .collect();
        tracing::info!(entries = new.len(), log = %log.dir().display(), "appending");
        log.append(&new)
            .with_context(|| format!("appending to the log {}", log.dir().display()))?;
        fault_point("appended");
        self.cosign(log)?;

        let mut done = Vec::with_capacity(issued.len());
        for item in issued {
            let index = log
                .find_entry(&item.entry)
                .context("an entry just appended is missing from the log")?;
            let mut written = Vec::new();
            for (path, chain) in &item.bundles {
                let bundle = StapledBundle::from_log(log, index, &item.entry, chain.clone())?;
                tracing::info!(bundle = %path.display(), index, "writing the bundle");
                if write_bundle(path, &bundle)? {
                    written.push(path.clone());
                }
            }
            done.push(Stapled { index, written });
        }
        Ok(done)
    }

    fn cosign(&self, log: &mut Log) -> anyhow::Result<()> {
        let mut lines = Vec::with_capacity(self.witnesses.len());
        for (url, key_path) in self.witnesses.iter().zip(&self.witness_keys) {
            let key = read_vkey(key_path)?;
            tracing::info!(witness = %url, "asking for a cosignature");
            let line = super::witness_client::request_cosignature(url, log, &key)
                .with_context(|| format!("witness {url}"))?;
            lines.push(line);
        }
        log.add_cosignatures(&lines)?;
        Ok(())
    }
}

/// Prints where each entry was logged and which bundles were written.
///
/// # Errors
/// Writing to stdout.
pub fn report_stapled(stapled: &[Stapled], log: &Log) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let size = log.head().size;
    for s in stapled {
        writeln!(
            out,
            "logged as entry {} in {} (tree size {size})",
            s.index,
            log.dir().display()
        )?;
        for path in &s.written {
            writeln!(out, "wrote {}: stapled log bundle", path.display())?;
        }
    }
    Ok(())
}

/// `path` with its extension replaced by `.bundle` (delegates/releases.pem →
/// delegates/releases.bundle).
pub fn bundle_path(certificate_path: &Path) -> PathBuf {
    certificate_path.with_extension("bundle")
}

/// Abort here if the crash tests asked for it (see [`FAULT_ENV`]).
#[cfg(feature = "fault-injection")]
fn fault_point(step: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|wanted| wanted == step) {
        std::process::abort();
    }
}

/// Without `fault-injection`: no abort switch.
#[cfg(not(feature = "fault-injection"))]
fn fault_point(_step: &str) {}

/// Writes a new bundle; `false` when a bundle of the same entry and chain is there from an
/// earlier run (its older checkpoint still proves inclusion).
pub fn write_bundle(path: &Path, bundle: &StapledBundle) -> anyhow::Result<bool> {
    if path.symlink_metadata().is_ok() {
        let existing = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
        let same = StapledBundle::parse(&existing).is_ok_and(|old| {
            old.entry == bundle.entry
                && old.index == bundle.index
                && old.certificates == bundle.certificates
        });
        if same {
            return Ok(false);
        }
        return Err(crate::outcome::Refused(format!(
            "{} exists and is not the bundle of this certificate; refusing to overwrite it",
            path.display()
        ))
        .into());
    }
    rust_pki_ca::output::write_new(path, bundle.to_text().as_bytes())?;
    Ok(true)
}

/// The ceremony-record entry of the delegate, from its bundle: it must name the delegate
/// certificate (given as `delegate_flag`) and be in `log` (checked before anything is
/// signed). Shared by `ca leaf --log` and `sign --log`.
pub fn delegate_entry(
    bundle: &Path,
    delegate_der: &[u8],
    log: &Log,
    delegate_flag: &str,
) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(bundle).with_context(|| {
        format!(
            "{}: the delegate's bundle (from its delegate-issue ceremony) is needed to prove \
             the delegate is logged; give --delegate-bundle",
            bundle.display()
        )
    })?;
    let parsed = StapledBundle::parse(&bytes).with_context(|| format!("{}", bundle.display()))?;
    let named = Entry::parse(&parsed.entry).is_ok_and(|e| {
        matches!(e, Entry::CeremonyRecord { .. }) && e.names_certificate(delegate_der)
    });
    if !named {
        bail!(
            "{}: its entry is not the ceremony record of the {delegate_flag} delegate",
            bundle.display()
        );
    }
    if log.find_entry(&parsed.entry).is_none() {
        bail!(
            "{}: the delegate's ceremony record is not in the log {}",
            bundle.display(),
            log.dir().display()
        );
    }
    Ok(parsed.entry)
}
