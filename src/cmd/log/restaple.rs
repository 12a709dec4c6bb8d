//! `rust-pki log restaple`: bundles stapled before the witnesses cosigned (a ceremony run
//! on the offline bastion, without --witness-url), written again with the log's current
//! checkpoint, its cosignatures and fresh inclusion proofs
//! (`rust_pki_tlog::bundle_file::StapledBundle::restaple`).
//!
//! The log is only read, without its lock, as `log audit` reads it: every file of the log
//! is replaced by an atomic rename, so the checkpoint read is one a writer completed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use rust_pki_fs::durable::{self, Mode};
use rust_pki_tlog::bundle_file::{self, StapledBundle};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::replica::{DirSource, Replica};
use rust_pki_tlog::writer::CHECKPOINT_FILE;

use super::witness::read_witness_vkey;
use super::witness_client::{already_cosigned, checkpoint_body};
use super::{VKEY_FILE, read_vkey};
use crate::outcome::{Invalid, Refused};

/// File name extension of the bundles `--all` picks up.
const BUNDLE_EXTENSION: &str = "bundle";

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("inputs").required(true).args(["bundles", "all"])),
    override_usage = "rust-pki log restaple [OPTIONS] --out <OUT> <DIR> <BUNDLE>...\n       \
                      rust-pki log restaple [OPTIONS] --out <OUT> --all <FOLDER> <DIR>"
)]
pub struct RestapleArgs {
    /// The log directory (or a copy of it). Only read: its checkpoint is verified with the
    /// log key and the whole tree is recomputed and checked against it.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// A bundle file to restaple; the new bundle is OUT/<its file name>. Repeatable.
    #[arg(value_name = "BUNDLE")]
    bundles: Vec<PathBuf>,
    /// Restaple every *.bundle file under this folder (recursively, symbolic links not
    /// followed); each new bundle keeps its path relative to the folder under OUT.
    #[arg(long, value_name = "FOLDER", conflicts_with = "bundles")]
    all: Option<PathBuf>,
    /// Where the new bundles are written (created if needed). Nothing is overwritten: if
    /// any new bundle's file exists already, nothing at all is written.
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// The log's verifier key file. Default: DIR/log.vkey.
    #[arg(long = "log-vkey", alias = "log-key", value_name = "VKEY")]
    log_key: Option<PathBuf>,
    /// A witness's verifier key file, for --min-witnesses. Repeatable.
    #[arg(long = "witness-vkey", alias = "witness-key", value_name = "VKEY")]
    witness_keys: Vec<PathBuf>,
    /// How many of the --witness-vkey keys must have cosigned the log's checkpoint; with
    /// fewer, nothing is written (run `rust-pki log cosign` first). With 0, the bundles get
    /// the checkpoint as it is.
    #[arg(long, value_name = "N", default_value_t = 0)]
    min_witnesses: usize,
}

/// One bundle to restaple: where it is read and where its new version goes.
struct Job {
    source: PathBuf,
    target: PathBuf,
}

pub(super) fn restaple(args: &RestapleArgs) -> anyhow::Result<()> {
    let key_path = args
        .log_key
        .clone()
        .unwrap_or_else(|| args.dir.join(VKEY_FILE));
    let log_key = read_vkey(&key_path)?;
    let witness_keys = args
        .witness_keys
        .iter()
        .map(|p| read_witness_vkey(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.min_witnesses > witness_keys.len() {
        bail!(
            "--min-witnesses {} but {} --witness-vkey: give the key of every witness that must \
             have cosigned",
            args.min_witnesses,
            witness_keys.len()
        );
    }

    let jobs = jobs(args)?;
    let existing: Vec<String> = jobs
        .iter()
        .filter(|j| j.target.symlink_metadata().is_ok())
        .map(|j| j.target.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Refused(format!(
            "{} exist(s) already; refusing to overwrite: nothing written",
            existing.join(", ")
        ))
        .into());
    }

    tracing::info!(log = %args.dir.display(), "reading and verifying the log");
    let log = Replica::fetch(&DirSource(args.dir.clone()), &log_key)
        .with_context(|| format!("log {} (key {})", args.dir.display(), log_key.label()))?;
    let cp_path = args.dir.join(CHECKPOINT_FILE);
    let body = checkpoint_body(&log.note)?;
    let mut cosigned: Vec<String> = Vec::new();
    for key in &witness_keys {
        if already_cosigned(&log.note, &body, key) && !cosigned.contains(&key.label()) {
            cosigned.push(key.label());
        }
    }
    if cosigned.len() < args.min_witnesses {
        return Err(Refused(format!(
            "{} (size {}) has {} valid cosignature(s) by the --witness-vkey keys, {} required \
             by --min-witnesses: run `rust-pki log cosign` on the log first; nothing written",
            cp_path.display(),
            log.checkpoint.size,
            cosigned.len(),
            args.min_witnesses
        ))
        .into());
    }

    // Every bundle is checked and rebuilt before the first one is written.
    let mut files = Vec::with_capacity(jobs.len());
    let mut done = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let invalid = |rule: &'static str, e: &dyn std::fmt::Display| Invalid {
            rule,
            message: format!("{}: {e}; nothing written", job.source.display()),
            details: None,
            result: None,
            checked: Vec::new(),
            skipped: Vec::new(),
        };
        let bytes = fs::read(&job.source).with_context(|| format!("{}", job.source.display()))?;
        let old = StapledBundle::parse(&bytes).map_err(|e| invalid("bundle-format", &e))?;
        let new = old
            .restaple(&log, &log_key)
            .map_err(|e| invalid(bundle_file::rule(&e), &e))?;
        // Verified by `restaple` already; read again for the report.
        let old_size = SignedCheckpoint::verify(&old.checkpoint, &log_key)?.size;
        files.push((job.target.clone(), new.to_text().into_bytes()));
        done.push((new.index, old_size));
    }

    for (target, _) in &files {
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
    }
    durable::create_new_all(&files, Mode::Public)?;

    let mut out = std::io::stdout().lock();
    let size = log.checkpoint.size;
    for (job, (index, old_size)) in jobs.iter().zip(&done) {
        writeln!(
            out,
            "restapled {} -> {}: entry {index}, tree size {old_size} -> {size}",
            job.source.display(),
            job.target.display(),
        )?;
    }
    let witnesses = if witness_keys.is_empty() {
        "witness cosignatures not checked (no --witness-vkey)".to_owned()
    } else if cosigned.is_empty() {
        "cosigned by none of the --witness-vkey keys".to_owned()
    } else {
        format!("cosigned by {}", cosigned.join(", "))
    };
    writeln!(
        out,
        "restapled {} bundle(s) into {} with the checkpoint of {} size {} root {}, {witnesses}",
        jobs.len(),
        args.out.display(),
        log.checkpoint.origin,
        size,
        Base64::encode_string(&log.checkpoint.root_hash)
    )?;
    Ok(())
}

/// The bundles to restaple and their new paths; two bundles with one new path are refused.
fn jobs(args: &RestapleArgs) -> anyhow::Result<Vec<Job>> {
    let mut sources: Vec<(PathBuf, PathBuf)> = Vec::new();
    if let Some(folder) = &args.all {
        // A bundle folder holding OUT would otherwise pick up the bundles of an earlier run.
        let skip = fs::canonicalize(&args.out).ok();
        find_bundles(folder, Path::new(""), skip.as_deref(), &mut sources)?;
        if sources.is_empty() {
            bail!("no *.{BUNDLE_EXTENSION} file under {}", folder.display());
        }
    } else {
        for path in &args.bundles {
            let Some(name) = path.file_name() else {
                bail!("{}: not a file name", path.display());
            };
            sources.push((path.clone(), PathBuf::from(name)));
        }
    }
    let mut by_target: BTreeMap<PathBuf, &Path> = BTreeMap::new();
    let mut jobs = Vec::with_capacity(sources.len());
    for (source, relative) in &sources {
        let target = args.out.join(relative);
        if let Some(other) = by_target.insert(target.clone(), source) {
            bail!(
                "{} and {} would both be written to {}: restaple them into separate --out \
                 folders",
                other.display(),
                source.display(),
                target.display()
            );
        }
        jobs.push(Job {
            source: source.clone(),
            target,
        });
    }
    Ok(jobs)
}

/// Appends every `*.bundle` regular file under `dir` (in name order), with its path
/// relative to the folder `--all` names (`relative` is `dir`'s), skipping the folder `skip`.
fn find_bundles(
    dir: &Path,
    relative: &Path,
    skip: Option<&Path>,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> anyhow::Result<()> {
    let mut entries = fs::read_dir(dir)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("{}", dir.display()))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("{}", path.display()))?;
        let name = relative.join(entry.file_name());
        if kind.is_dir() {
            if skip.is_some() && fs::canonicalize(&path).ok().as_deref() == skip {
                continue;
            }
            find_bundles(&path, &name, skip, found)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == BUNDLE_EXTENSION) {
            found.push((path, name));
        }
    }
    Ok(())
}
