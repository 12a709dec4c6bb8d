//! Publishing a log directory: verify it, then write its static site beside the tiles:
//! `index.html` (see [`site`]), `records/<file name>` for ceremony
//! records whose bytes are too large for their log entry, and `crl/root.crl` and
//! `crl/<purpose>.crl`, the newest CRL of the root and of each delegate (DER).
//!
//! The published directory is plain static files: any static host or CDN serves it and
//! mirrors copy it with rsync; nothing of ours runs in the read path. `index.html` and
//! `records/` are derived data, replaced atomically; the checkpoint and tiles are never
//! touched.

use std::fs;
use std::path::{Path, PathBuf};

use der::Decode;
use rust_pki_ceremony::record::Record;
use rust_pki_fs::durable;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::replica::{DirSource, Replica};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::crls::LogCrls;
use crate::error::{Error, Result};
use crate::site::{
    self, ArtifactRow, BastionEventRow, CRL_DIR, CeremonyRow, CrlFile, IssuedCertificate, LeafRow,
    LogSummary, RECORDS_DIR, RecordView, RevocationRow, Row,
};

/// Name of the page written in the log directory.
pub const INDEX_FILE: &str = "index.html";

/// What a publish wrote.
#[derive(Debug)]
pub struct Published {
    /// The page written.
    pub index_path: PathBuf,
    /// The log's origin.
    pub origin: String,
    /// The tree size published.
    pub size: u64,
    /// The entries, by kind, and where their records came from.
    pub counts: Counts,
}

/// Entries of the published log, by kind.
#[derive(Debug, Default)]
pub struct Counts {
    /// Ceremony record entries.
    pub ceremonies: usize,
    /// Records copied to `records/` by this publish.
    pub copied: usize,
    /// Records `records/` already held.
    pub already: usize,
    /// Records logged by digest only and found nowhere.
    pub missing: usize,
    /// Leaf issuance entries.
    pub leaves: usize,
    /// Artifact entries.
    pub artifacts: usize,
    /// Entries that do not parse.
    pub unreadable: usize,
    /// CRLs written to `crl/` (the root's and one per delegate purpose).
    pub crls: usize,
}

/// Verifies the log in `dir` with `vkey` and writes `dir/index.html` and `dir/records/`.
/// `records`: a directory of ceremony record files, looked up by the logged file name for
/// entries that carry only a record's digest: `records/<name>`, or, for the ceremony state
/// directory, `records/<name without .toml>/record.toml`. Each is checked against the
/// entry's size and SHA-256.
///
/// # Errors
/// The log does not verify (nothing is written), a record file differs from its entry,
/// another command holds the log directory, or a file cannot be read or written.
pub fn publish(dir: &Path, vkey: &VerifierKey, records: Option<&Path>) -> Result<Published> {
    // The site and records/ are written into the log directory: one writer at a time, and
    // what is rendered is the log as it stands under the lock.
    let _lock =
        rust_pki_fs::DirLock::acquire(dir, "transparency log", rust_pki_fs::DEFAULT_LOCK_TIMEOUT)?;
    let replica = Replica::fetch(&DirSource(dir.to_owned()), vkey).map_err(|source| {
        Error::PublishVerify {
            dir: dir.to_owned(),
            key: vkey.label(),
            source: Box::new(source),
        }
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
    let mut log_crls = LogCrls::default();
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
                    None => match find_record(dir, records, &file_name, size, &sha256)? {
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
                let row = ceremony_row(
                    index,
                    file_name,
                    size,
                    sha256,
                    &certificates,
                    view.as_deref(),
                    published,
                );
                if let RecordView::Parsed { record, .. } = &row.record {
                    log_crls.record(index, record);
                }
                Row::Ceremony(row)
            }
            Ok(Entry::LeafIssuance {
                certificate,
                delegate_sha256,
            }) => {
                counts.leaves += 1;
                Row::Leaf(leaf_row(index, &certificate, delegate_sha256))
            }
            Ok(Entry::Artifact {
                name,
                size,
                sha256,
                signer_sha256,
            }) => {
                counts.artifacts += 1;
                Row::Artifact(ArtifactRow {
                    index,
                    name,
                    size,
                    sha256,
                    signer_sha256,
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
            Ok(Entry::Revocation {
                issuer_sha256,
                serial,
                reason,
                revoked_at,
                ..
            }) => Row::Revocation(RevocationRow {
                index,
                kind: "revocation",
                issuer_sha256,
                what: hex::encode(serial),
                when: revoked_at,
                detail: reason,
            }),
            Ok(Entry::Crl {
                issuer_sha256,
                number,
                crl,
            }) => {
                log_crls.entry(index, issuer_sha256, number, &crl);
                Row::Revocation(crl_row(index, issuer_sha256, number, &crl))
            }
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
        let records_dir = dir.join(RECORDS_DIR);
        fs::create_dir_all(&records_dir).map_err(Error::io(&records_dir))?;
        for (name, bytes) in &copies {
            durable::replace(&records_dir.join(name), bytes)?;
        }
    }
    let crls = write_crls(dir, &log_crls)?;
    counts.crls = crls.len();
    // After the records and CRLs, so that the page never links to a file not yet there.
    let html = site::render(&summary, &rows, &crls);
    let index_path = dir.join(INDEX_FILE);
    durable::replace(&index_path, html.as_bytes())?;
    Ok(Published {
        index_path,
        origin: cp.origin.clone(),
        size: cp.size,
        counts,
    })
}

/// Writes the newest CRL of the root and of each delegate purpose to `dir/crl/<name>.crl`
/// (DER), replacing the previous one: these names are meant to move forward.
fn write_crls(dir: &Path, log_crls: &LogCrls) -> Result<Vec<CrlFile>> {
    let newest = log_crls.newest();
    if newest.is_empty() {
        return Ok(Vec::new());
    }
    let crl_dir = dir.join(CRL_DIR);
    fs::create_dir_all(&crl_dir).map_err(Error::io(&crl_dir))?;
    let mut files = Vec::with_capacity(newest.len());
    for (name, crl) in newest {
        durable::replace(&crl_dir.join(format!("{name}.crl")), &crl.der)?;
        let (issuer, this_update, next_update) =
            match <x509_cert::crl::CertificateList>::from_der(&crl.der) {
                Ok(parsed) => {
                    let tbs = parsed.tbs_cert_list;
                    (
                        tbs.issuer.to_string(),
                        tbs.this_update.to_string(),
                        tbs.next_update
                            .map_or_else(|| "none".to_owned(), |t| t.to_string()),
                    )
                }
                // Not reached: a CRL is collected only once its number was read from it.
                Err(e) => (format!("malformed CRL: {e}"), String::new(), String::new()),
            };
        files.push(CrlFile {
            name,
            index: crl.index,
            number: crl.number,
            issuer,
            this_update,
            next_update,
            sha256: Sha256::digest(&crl.der).into(),
        });
    }
    Ok(files)
}

/// The row of a `crl` entry: its number, and its update times and size from its DER.
fn crl_row(index: u64, issuer_sha256: [u8; 32], number: u64, crl: &[u8]) -> RevocationRow {
    let (when, detail) = match <x509_cert::crl::CertificateList>::from_der(crl) {
        Ok(parsed) => {
            let tbs = parsed.tbs_cert_list;
            let next = tbs
                .next_update
                .map_or_else(|| "none".to_owned(), |t| t.to_string());
            let entries = tbs.revoked_certificates.map_or(0, |list| list.len());
            (
                format!("{} to {next}", tbs.this_update),
                format!("{entries} revoked"),
            )
        }
        Err(e) => (String::new(), format!("malformed CRL: {e}")),
    };
    RevocationRow {
        index,
        kind: "crl",
        issuer_sha256,
        what: format!("number {number}"),
        when,
        detail,
    }
}

#[derive(Debug, Clone, Copy)]
enum RecordSource {
    /// Found in the records directory; DIR/records/ does not hold it yet.
    Copied,
    /// DIR/records/ already held it.
    AlreadyPublished,
}

/// The bytes of a record logged by digest only: from `records` (to be copied to
/// DIR/records/), else from an earlier publish in DIR/records/. A file with the name but
/// other bytes is an error: publishing it, or a page pointing at it, would contradict the
/// log.
fn find_record(
    dir: &Path,
    records: Option<&Path>,
    file_name: &str,
    size: u64,
    sha256: &[u8; 32],
) -> Result<Option<(Vec<u8>, RecordSource)>> {
    if !is_plain_file_name(file_name) {
        // Not a name `log append` writes; it cannot be looked up or published safely.
        return Ok(None);
    }
    let published_path = dir.join(RECORDS_DIR).join(file_name);
    let published = read_if_exists(&published_path)?;
    if let Some(bytes) = &published {
        check_record(&published_path, bytes, size, sha256)?;
    }
    let candidates = records.iter().flat_map(|dir| {
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

fn check_record(path: &Path, bytes: &[u8], size: u64, sha256: &[u8; 32]) -> Result<()> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    if bytes.len() as u64 != size || &digest != sha256 {
        return Err(Error::RecordMismatch {
            path: path.to_owned(),
            len: bytes.len() as u64,
            sha256: hex::encode(digest),
            size,
            expected: hex::encode(sha256),
        });
    }
    Ok(())
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path)(e)),
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
