//! `rust-pki log publish`: verify a log directory and write its static site beside the
//! tiles: `index.html` (see `site`) and `records/<file name>` for ceremony records whose
//! bytes are too large for their log entry.
//!
//! The published directory is plain static files: any static host or CDN serves it and
//! mirrors copy it with rsync; nothing of ours runs in the read path. `index.html` and
//! `records/` are derived data, replaced atomically; the checkpoint and tiles are never
//! touched.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use der::Decode;
use rust_pki_ceremony::record::Record;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::replica::{DirSource, Replica};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::VKEY_FILE;
use super::site::{
    self, ArtifactRow, BastionEventRow, CeremonyRow, IssuedCertificate, LeafRow, LogSummary,
    RECORDS_DIR, RecordView, Row,
};

/// Name of the page written in the log directory.
pub const INDEX_FILE: &str = "index.html";

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The log directory (C2SP tlog-tiles layout). Its checkpoint and every tile are
    /// verified first; only then are DIR/index.html and DIR/records/ written.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's verifier key file (signed-note vkey text). Default: DIR/log.vkey, which
    /// only proves the directory is self-consistent; auditors and mirrors should pass a
    /// key obtained independently of DIR.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<PathBuf>,
    /// Directory of ceremony record files, looked up by the logged file name for entries
    /// that carry only a record's digest: DIR2/<name>, or, for the ceremony state
    /// directory, DIR2/<name without .toml>/record.toml (`ceremony execute` logs the
    /// record of folder 003-delegate-issue as 003-delegate-issue.toml). Each is checked
    /// against the entry's size and SHA-256 and copied to DIR/records/ to be published.
    #[arg(long, value_name = "DIR2")]
    records: Option<PathBuf>,
}

pub fn publish(args: &PublishArgs) -> anyhow::Result<()> {
    let key_path = args
        .log_key
        .clone()
        .unwrap_or_else(|| args.dir.join(VKEY_FILE));
    let vkey = super::read_vkey(&key_path)?;
    // The site and records/ are written into the log directory: one writer at a time, and
    // what is rendered is the log as it stands under the lock.
    let _lock = rust_pki_fs::DirLock::acquire(
        &args.dir,
        "transparency log",
        rust_pki_fs::DEFAULT_LOCK_TIMEOUT,
    )?;
    let replica = Replica::fetch(&DirSource(args.dir.clone()), &vkey).with_context(|| {
        format!(
            "the log in {} does not verify with {}; nothing was published",
            args.dir.display(),
            vkey.label()
        )
    })?;
    let cp = &replica.checkpoint;
    let summary = LogSummary {
        origin: cp.origin.clone(),
        size: cp.size,
        root_hash: cp.root_hash,
        vkey: vkey.to_string(),
        note: String::from_utf8_lossy(&replica.note).into_owned(),
    };

    let mut counts = Counts::default();
    // Records to copy to DIR/records/: written only once every entry has been handled, so
    // a refused publish writes nothing.
    let mut copies: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rows = Vec::with_capacity(replica.entries.len());
    for (index, bytes) in (0u64..).zip(&replica.entries) {
        let row = match Entry::parse(bytes) {
            Ok(Entry::CeremonyRecord {
                file_name,
                size,
                sha256,
                certificates,
                record,
            }) => {
                counts.ceremonies += 1;
                let (view, bytes_source) = match record {
                    Some(bytes) => (Some(bytes), None),
                    None => match find_record(args, &file_name, size, &sha256)? {
                        Some((bytes, source)) => (Some(bytes), Some(source)),
                        None => (None, None),
                    },
                };
                let published = match bytes_source {
                    Some(RecordSource::Copied) => {
                        counts.copied += 1;
                        if let Some(bytes) = &view {
                            copies.push((file_name.clone(), bytes.clone()));
                        }
                        true
                    }
                    Some(RecordSource::AlreadyPublished) => {
                        counts.already += 1;
                        true
                    }
                    None => false,
                };
                if view.is_none() {
                    counts.missing += 1;
                }
                Row::Ceremony(ceremony_row(
                    index,
                    file_name,
                    size,
                    sha256,
                    &certificates,
                    view.as_deref(),
                    published,
                ))
            }
            Ok(Entry::LeafIssuance {
                certificate,
                delegate_sha256,
            }) => {
                counts.leaves += 1;
                Row::Leaf(leaf_row(index, &certificate, delegate_sha256))
            }
            Ok(Entry::Artifact { name, size, sha256 }) => {
                counts.artifacts += 1;
                Row::Artifact(ArtifactRow {
                    index,
                    name,
                    size,
                    sha256,
                })
            }
            Ok(Entry::BastionEvent {
                action,
                time,
                members,
                resources,
            }) => Row::BastionEvent(BastionEventRow {
                index,
                action,
                time,
                members,
                resources,
            }),
            Err(e) => {
                counts.unreadable += 1;
                Row::Unreadable {
                    index,
                    reason: e.to_string(),
                }
            }
        };
        rows.push(row);
    }

    if !copies.is_empty() {
        let records_dir = args.dir.join(RECORDS_DIR);
        fs::create_dir_all(&records_dir).with_context(|| format!("{}", records_dir.display()))?;
        for (name, bytes) in &copies {
            replace_atomically(&records_dir.join(name), bytes)?;
        }
    }
    // After the records, so that the page never links to a record not yet there.
    let html = site::render(&summary, &rows);
    let index_path = args.dir.join(INDEX_FILE);
    replace_atomically(&index_path, html.as_bytes())?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "published {}: {} size {}: {} ceremonies ({} records copied to {RECORDS_DIR}/, {} \
         already there, {} not published), {} leaf issuances, {} artifacts{}",
        index_path.display(),
        cp.origin,
        cp.size,
        counts.ceremonies,
        counts.copied,
        counts.already,
        counts.missing,
        counts.leaves,
        counts.artifacts,
        if counts.unreadable > 0 {
            format!(", {} unreadable entries", counts.unreadable)
        } else {
            String::new()
        }
    )?;
    Ok(())
}

#[derive(Debug, Default)]
struct Counts {
    ceremonies: usize,
    copied: usize,
    already: usize,
    missing: usize,
    leaves: usize,
    artifacts: usize,
    unreadable: usize,
}

#[derive(Debug, Clone, Copy)]
enum RecordSource {
    /// Found in --records; DIR/records/ does not hold it yet.
    Copied,
    /// DIR/records/ already held it.
    AlreadyPublished,
}

/// The bytes of a record logged by digest only: from --records (to be copied to
/// DIR/records/), else from an earlier publish in DIR/records/. A file with the name but other bytes is
/// an error: publishing it, or a page pointing at it, would contradict the log.
fn find_record(
    args: &PublishArgs,
    file_name: &str,
    size: u64,
    sha256: &[u8; 32],
) -> anyhow::Result<Option<(Vec<u8>, RecordSource)>> {
    if !is_plain_file_name(file_name) {
        // Not a name `log append` writes; it cannot be looked up or published safely.
        return Ok(None);
    }
    let published_path = args.dir.join(RECORDS_DIR).join(file_name);
    let published = read_if_exists(&published_path)?;
    if let Some(bytes) = &published {
        check_record(&published_path, bytes, size, sha256)?;
    }
    let candidates = args.records.iter().flat_map(|dir| {
        let mut paths = vec![dir.join(file_name)];
        if let Some(folder) = file_name.strip_suffix(".toml") {
            paths.push(dir.join(folder).join(rust_pki_ceremony::state::RECORD_FILE));
        }
        paths
    });
    for path in candidates {
        if let Some(bytes) = read_if_exists(&path)? {
            check_record(&path, &bytes, size, sha256)?;
            let source = if published.is_some() {
                RecordSource::AlreadyPublished
            } else {
                RecordSource::Copied
            };
            return Ok(Some((bytes, source)));
        }
    }
    Ok(published.map(|bytes| (bytes, RecordSource::AlreadyPublished)))
}

fn check_record(path: &Path, bytes: &[u8], size: u64, sha256: &[u8; 32]) -> anyhow::Result<()> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    if bytes.len() as u64 != size || &digest != sha256 {
        bail!(
            "{}: {} bytes with SHA-256 {}, but the log entry for this record has {} bytes \
             with SHA-256 {}",
            path.display(),
            bytes.len(),
            hex::encode(digest),
            size,
            hex::encode(sha256)
        );
    }
    Ok(())
}

fn read_if_exists(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}", path.display())),
    }
}

/// One path component that names a file inside its directory.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\\')
        && !name.contains('\0')
}

fn ceremony_row(
    index: u64,
    file_name: String,
    size: u64,
    sha256: [u8; 32],
    logged: &[[u8; 32]],
    bytes: Option<&[u8]>,
    published: bool,
) -> CeremonyRow {
    let mut warnings = Vec::new();
    let mut certificates: Vec<IssuedCertificate> = logged
        .iter()
        .map(|digest| IssuedCertificate {
            sha256: *digest,
            path: None,
            subject: None,
        })
        .collect();
    let record = match bytes.map(|b| Record::parse(b, Path::new(&file_name))) {
        None => RecordView::NotPublished,
        Some(Err(e)) => RecordView::Unparseable {
            reason: e.to_string(),
            published,
        },
        Some(Ok(record)) => {
            let in_record: Vec<([u8; 32], String, Vec<u8>)> = record
                .certificates()
                .into_iter()
                .map(|(path, der)| (Sha256::digest(&der).into(), path.to_owned(), der))
                .collect();
            for cert in &mut certificates {
                if let Some((_, path, der)) = in_record.iter().find(|(d, ..)| *d == cert.sha256) {
                    cert.path = Some(path.clone());
                    cert.subject = Certificate::from_der(der)
                        .ok()
                        .map(|c| c.tbs_certificate().subject().to_string());
                }
            }
            let from_record: Vec<[u8; 32]> = in_record.iter().map(|(d, ..)| *d).collect();
            if from_record != logged {
                warnings.push(
                    "the certificates in the record differ from those the entry names".to_owned(),
                );
            }
            RecordView::Parsed {
                record: Box::new(record),
                published,
            }
        }
    };
    CeremonyRow {
        index,
        file_name,
        size,
        sha256,
        certificates,
        record,
        warnings,
    }
}

fn leaf_row(index: u64, der: &[u8], delegate_sha256: [u8; 32]) -> LeafRow {
    let sha256 = Sha256::digest(der).into();
    let (subject, serial) = match Certificate::from_der(der) {
        Ok(cert) => {
            let tbs = cert.tbs_certificate();
            let subject = match tbs.subject().common_name() {
                Ok(Some(cn)) => cn.value().into_owned(),
                _ => tbs.subject().to_string(),
            };
            (subject, hex::encode(tbs.serial_number().as_bytes()))
        }
        Err(e) => (format!("(certificate does not parse: {e})"), String::new()),
    };
    LeafRow {
        index,
        subject,
        serial,
        sha256,
        delegate_sha256,
    }
}

/// Replace `path` with `contents`: a temporary file in the same directory, fsync, rename,
/// fsync of the directory. Readers see the old file or the new one, never a part.
fn replace_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("{}: no parent directory", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: no UTF-8 file name", path.display()))?;
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temporary, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        // Best effort: the error below is what matters.
        let _ = fs::remove_file(&temporary);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_file_names() {
        assert!(is_plain_file_name("0001-root-init.toml"));
        assert!(is_plain_file_name("..toml"));
        for bad in ["", ".", "..", "a/b", "../x", "a\\b"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }
}
