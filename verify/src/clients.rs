//! The checks a client makes after a download, as library calls rustup, cargo or a mirror
//! can make (docs/signatures.md, "Clients: rustup and cargo"):
//!
//! - [`verify_manifest`], rustup-style: the channel manifest's own signature
//!   (`MANIFEST.sig`, the verifier's purpose: releases), then each downloaded file's SHA-256
//!   against the manifest ([`crate::manifest`]);
//! - [`verify_lockfile`], cargo-style: each crates.io package of a `Cargo.lock` downloaded
//!   as `NAME-VERSION.crate` with the lock file's checksum ([`crate::lockfile`]), and its
//!   `.crate.sig` verified (purpose crates-io; with log trust, the log entry names that file).
//!
//! ```no_run
//! # use std::path::{Path, PathBuf};
//! use rust_pki_verify::artifact::ArtifactVerifier;
//! use rust_pki_verify::clients::{verify_lockfile, verify_manifest};
//! use rust_pki_verify::{Purpose, Root};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = Root::from_file(Path::new("rust-root.pem"))?;
//! let releases = ArtifactVerifier::new(root.clone(), Purpose::built_in("releases")?);
//! let downloads = [PathBuf::from("dist/")];
//! let manifest = Path::new("dist/channel-rust-stable.toml");
//! let report = verify_manifest(&releases, manifest, &downloads, true)?;
//! assert!(report.failed.is_empty());
//! let crates_io = ArtifactVerifier::new(root, Purpose::built_in("crates-io")?);
//! let report = verify_lockfile(&crates_io, Path::new("Cargo.lock"), Path::new("vendor/"))?;
//! assert!(report.failed.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! A broken manifest, lock file or manifest signature is the `Err` of the call; a download
//! that fails its check is one of the report's `failed` entries, so that one call reports
//! every bad file. The chains are validated through the verifier's cache: the crates of a
//! lock file signed under one leaf cost one path validation.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::artifact::{ArtifactVerifier, VerifiedArtifact};
use crate::error::Error;
use crate::lockfile::LockFile;
use crate::manifest::{ChannelManifest, MatchedFile};
use crate::sig_file::{SigFile, sig_path};

/// Largest manifest or lock file read (rust's channel manifests are under 1 MiB).
pub const MAX_INPUT_SIZE: u64 = 64 << 20;

/// A download that failed its check.
#[derive(Debug, Serialize)]
pub struct FileFailure {
    /// The file (or, for a listed file not downloaded, its name).
    pub file: String,
    /// The rule broken ([`Error::rule`]).
    pub rule: &'static str,
    /// The error's message.
    pub message: String,
    /// The error, with its structured fields.
    #[serde(rename = "details")]
    pub error: Error,
}

impl FileFailure {
    fn new(file: String, error: Error) -> Self {
        Self {
            file,
            rule: error.rule(),
            message: error.to_string(),
            error,
        }
    }
}

/// What [`verify_manifest`] established.
#[derive(Debug, Serialize)]
pub struct ManifestReport {
    /// The manifest's own signature.
    pub manifest: VerifiedArtifact,
    /// The manifest's `date`.
    pub date: String,
    /// How many files the manifest lists.
    pub listed: usize,
    /// Downloads whose name and SHA-256 the manifest lists.
    pub files: Vec<MatchedFile>,
    /// Downloads that failed (and, with `require_all`, listed files not downloaded).
    pub failed: Vec<FileFailure>,
    /// Names the manifest lists that are not among the downloads.
    pub missing: Vec<String>,
    /// Files of a downloads directory the manifest does not list (signatures, the
    /// manifest itself): not checked.
    pub ignored: Vec<String>,
}

/// What [`verify_lockfile`] established.
#[derive(Debug, Serialize)]
pub struct LockReport {
    /// The lock file.
    pub lockfile: String,
    /// How many crates.io packages it pins.
    pub total: usize,
    /// Crates with the lock file's checksum and a valid signature.
    pub crates: Vec<VerifiedCrate>,
    /// Crates that are missing, have another checksum, or whose signature fails.
    pub failed: Vec<FileFailure>,
    /// Packages crates.io does not sign (path, git, other registries), as
    /// `name version (source)`.
    pub skipped: Vec<String>,
}

/// A crate of the lock file that checked out.
#[derive(Debug, Serialize)]
pub struct VerifiedCrate {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The `.crate` file.
    pub file: String,
    /// Its SHA-256, as the lock file pins it (hex).
    pub checksum: String,
    /// Its signature.
    pub signature: VerifiedArtifact,
}

/// Verifies the channel manifest at `manifest` against `MANIFEST.sig` with `verifier`
/// (whose purpose should be releases), then each of `downloads` against the manifest: a file
/// must be listed under its name with its SHA-256; a directory contributes the files of it
/// that the manifest lists (others are ignored). With `require_all`, every listed file must
/// be among the downloads.
///
/// # Errors
/// The manifest's: [`Error::Read`] (the manifest, its `.sig`, a downloads directory), the
/// signature's (those of [`ArtifactVerifier::verify`]), [`Error::MalformedManifest`].
/// Failures of downloads are in [`ManifestReport::failed`].
pub fn verify_manifest(
    verifier: &ArtifactVerifier,
    manifest: &Path,
    downloads: &[PathBuf],
    require_all: bool,
) -> Result<ManifestReport, Error> {
    let name = manifest.display().to_string();
    let bytes = read_input(manifest, |detail| Error::MalformedManifest {
        file: name.clone(),
        detail,
    })?;
    // The bytes that were verified are the bytes that are parsed.
    let sig = SigFile::from_file(&sig_path(manifest))?;
    let signed = verifier.verify(&name, &file_name(manifest), &mut bytes.as_slice(), &sig)?;
    let parsed = ChannelManifest::parse(&name, &bytes)?;

    let mut candidates = Vec::new();
    let mut ignored = Vec::new();
    for path in downloads {
        if path.is_dir() {
            for entry in list_dir(path)? {
                if parsed.files.contains_key(&file_name(&entry)) {
                    candidates.push(entry);
                } else {
                    ignored.push(entry.display().to_string());
                }
            }
        } else {
            candidates.push(path.clone());
        }
    }
    let mut seen = BTreeSet::new();
    let mut present = BTreeSet::new();
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for path in candidates {
        if !seen.insert(path.clone()) {
            continue;
        }
        present.insert(file_name(&path));
        match parsed.check_file(&name, &path) {
            Ok(matched) => files.push(matched),
            Err(error) => failed.push(FileFailure::new(path.display().to_string(), error)),
        }
    }
    let missing: Vec<String> = parsed
        .files
        .keys()
        .filter(|listed| !present.contains(*listed))
        .cloned()
        .collect();
    if require_all {
        failed.extend(missing.iter().map(|listed| {
            let error = Error::ManifestFileMissing {
                file: listed.clone(),
                manifest: name.clone(),
            };
            FileFailure::new(listed.clone(), error)
        }));
    }
    Ok(ManifestReport {
        manifest: signed,
        date: parsed.date,
        listed: parsed.files.len(),
        files,
        failed,
        missing,
        ignored,
    })
}

/// Verifies every crates.io package of the lock file at `lock` against the download folder
/// `crates_dir` with `verifier` (whose purpose should be crates-io): `NAME-VERSION.crate`
/// has the lock file's checksum, and `NAME-VERSION.crate.sig` verifies for it (with log
/// trust, its log entry names that file). Other packages are listed as skipped.
///
/// # Errors
/// The lock file's: [`Error::Read`], [`Error::MalformedLockfile`] (version 1 included).
/// Failures of crates are in [`LockReport::failed`].
pub fn verify_lockfile(
    verifier: &ArtifactVerifier,
    lock: &Path,
    crates_dir: &Path,
) -> Result<LockReport, Error> {
    let name = lock.display().to_string();
    let bytes = read_input(lock, |detail| Error::MalformedLockfile {
        file: name.clone(),
        detail,
    })?;
    let parsed = LockFile::parse(&name, &bytes)?;
    let mut crates = Vec::new();
    let mut failed = Vec::new();
    for locked in &parsed.crates {
        let file = crates_dir.join(locked.file_name());
        let checked = locked.check_download(crates_dir).and_then(|path| {
            let sig = SigFile::from_file(&sig_path(&path))?;
            let signature = verifier.verify_file(&path, &sig)?;
            // The bytes whose signature verified are the bytes the lock file pins (the file
            // is read twice; it could have changed in between).
            let checksum = hex::encode(locked.checksum);
            if signature.sha256 != checksum {
                return Err(Error::CrateChecksumMismatch {
                    file: path.display().to_string(),
                    expected: checksum,
                    found: signature.sha256,
                });
            }
            Ok(signature)
        });
        match checked {
            Ok(signature) => crates.push(VerifiedCrate {
                name: locked.name.clone(),
                version: locked.version.clone(),
                file: file.display().to_string(),
                checksum: hex::encode(locked.checksum),
                signature,
            }),
            Err(error) => failed.push(FileFailure::new(file.display().to_string(), error)),
        }
    }
    Ok(LockReport {
        lockfile: name,
        total: parsed.crates.len(),
        crates,
        failed,
        skipped: parsed.skipped,
    })
}

/// The last component of `path` (what a manifest or a log entry names a file by).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The regular files of `dir`, sorted.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let read = |source| Error::Read {
        file: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        if entry.file_type().map_err(read)?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Reads at most [`MAX_INPUT_SIZE`] bytes of `path`; `too_large` says it is larger.
fn read_input(path: &Path, too_large: impl Fn(String) -> Error) -> Result<Vec<u8>, Error> {
    let read = |source| Error::Read {
        file: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(read)?
        .take(MAX_INPUT_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_INPUT_SIZE {
        return Err(too_large(format!("larger than {MAX_INPUT_SIZE} bytes")));
    }
    Ok(bytes)
}
