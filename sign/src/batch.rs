//! Many files over one open key (one HSM session): each file is hashed, its signed
//! attributes built, signed by the key and the signature checked against the leaf before
//! the next step. The token is the bottleneck, so it gets the calling thread to itself:
//! one thread hashes the next files ahead of it, another checks and assembles what it
//! signed, connected by bounded channels (memory stays bounded for millions of files).
//!
//! The key is used only on the calling thread, so a [`Signer`] need not be `Send`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::SystemTime;

use rust_pki_ca::Signer;
use rust_pki_tlog::entry::Entry;

use crate::check::signature_verifies;
use crate::cms::{SignedAttrs, content_info};
use crate::digest::{FileDigest, digest_file};
use crate::error::{Error, Result};
use crate::leaf::SigningLeaf;

/// How many files may wait between two stages.
const QUEUE: usize = 64;

/// One file, signed and checked.
#[derive(Clone, Debug)]
pub struct SignedFile {
    /// The file as given.
    pub path: PathBuf,
    /// Its file name (no directory), as logged.
    pub name: String,
    /// Its size and digests.
    pub digest: FileDigest,
    /// Its signed attributes.
    pub attrs: SignedAttrs,
    /// The token's signature over them, checked against the leaf.
    pub signature: Vec<u8>,
}

impl SignedFile {
    /// The DER `ContentInfo` of its signature. Built when it is written rather than kept:
    /// with the two certificates it is ten times the size of what it is made from, and a
    /// run may sign millions of files.
    ///
    /// # Errors
    /// [`Error::Encoding`].
    pub fn cms_der(&self, leaf: &SigningLeaf) -> Result<Vec<u8>> {
        content_info(leaf, &self.attrs, &self.signature)
    }

    /// The encoded `artifact` log entry of this signature: name, size, SHA-256 and the
    /// SHA-256 of the signing leaf `leaf_der`. The same file signed again by the same leaf
    /// gives the same entry (the signing time is not in it), so a rerun finds it logged.
    ///
    /// # Errors
    /// [`Error::Entry`].
    pub fn log_entry(&self, leaf_der: &[u8]) -> Result<Vec<u8>> {
        artifact_entry(&self.path, &self.name, &self.digest, leaf_der)
    }
}

/// The encoded `artifact` entry that signing `path` with the leaf `leaf_der` logs (what
/// [`SignedFile::log_entry`] returns), from the file's bytes alone.
///
/// # Errors
/// [`Error::Read`], [`Error::FileName`], [`Error::Entry`].
pub fn file_entry(path: &Path, leaf_der: &[u8]) -> Result<Vec<u8>> {
    // The algorithm only picks the CMS digest, which the entry does not hold.
    let digest = digest_file(path, rust_pki_ca::KeyAlgorithm::Ed25519)?;
    artifact_entry(path, &logged_name(path)?, &digest, leaf_der)
}

fn artifact_entry(
    path: &Path,
    name: &str,
    digest: &FileDigest,
    leaf_der: &[u8],
) -> Result<Vec<u8>> {
    Entry::signed_artifact(name, digest.size, digest.sha256, leaf_der)
        .and_then(|e| e.encode())
        .map_err(|source| Error::Entry {
            path: path.to_owned(),
            source,
        })
}

/// A file hashed, waiting for the key.
struct Hashed {
    path: PathBuf,
    name: String,
    digest: FileDigest,
    attrs: SignedAttrs,
}

/// A file signed, waiting for the check.
struct Signed {
    hashed: Hashed,
    signature: Vec<u8>,
}

/// Sign `files` with `signer` (checked to be `leaf`'s key by [`SigningLeaf::check`]), all
/// with signing-time `time`, in order. `progress` is called on this thread with the
/// number of files signed so far. Stops at the first error: then nothing is returned, so
/// nothing can be written.
///
/// # Errors
/// [`Error::Read`], [`Error::FileName`], [`Error::Signing`], [`Error::BadSignature`],
/// [`Error::Encoding`].
pub fn sign_files<S: Signer + ?Sized>(
    signer: &S,
    leaf: &SigningLeaf,
    files: &[PathBuf],
    time: SystemTime,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<SignedFile>> {
    std::thread::scope(|scope| {
        let (hashed_tx, hashed_rx) = sync_channel::<Result<Hashed>>(QUEUE);
        let (signed_tx, signed_rx) = sync_channel::<Signed>(QUEUE);
        scope.spawn(move || hash_all(files, leaf, time, &hashed_tx));
        let key = signer.describe();
        let checker = scope.spawn(move || check_all(leaf, &key, &signed_rx));
        let signing = sign_all(signer, hashed_rx, signed_tx, progress);
        // The checker ends when the signing side drops its sender; a checker error is the
        // first error (the signing side stopped because the checker went away).
        let checked = checker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let checked = checked?;
        signing?;
        Ok(checked)
    })
}

/// Sign one payload held in memory (a git commit, `rust-pki-git-sign`): the same CMS and
/// the same check as for a file, on this thread.
///
/// # Errors
/// [`Error::Signing`] (with `what` as its path), [`Error::BadSignature`],
/// [`Error::Encoding`].
pub fn sign_payload<S: Signer + ?Sized>(
    signer: &S,
    leaf: &SigningLeaf,
    payload: &[u8],
    time: SystemTime,
    what: &Path,
) -> Result<Vec<u8>> {
    let digest =
        crate::digest::digest_reader(&mut &payload[..], leaf.algorithm()).map_err(|source| {
            Error::Read {
                path: what.to_owned(),
                source,
            }
        })?;
    let attrs = SignedAttrs::new(&digest.message_digest, time)?;
    let signature = signer.sign(attrs.der()).map_err(|source| Error::Signing {
        path: what.to_owned(),
        source: Box::new(source),
    })?;
    if !signature_verifies(leaf.public_key(), leaf.algorithm(), attrs.der(), &signature) {
        return Err(Error::BadSignature {
            path: what.to_owned(),
            key: signer.describe(),
        });
    }
    content_info(leaf, &attrs, &signature)
}

/// The hashing stage: stops when the signing side hangs up.
fn hash_all(
    files: &[PathBuf],
    leaf: &SigningLeaf,
    time: SystemTime,
    out: &SyncSender<Result<Hashed>>,
) {
    for path in files {
        let hashed = hash_one(path, leaf, time);
        let failed = hashed.is_err();
        if out.send(hashed).is_err() || failed {
            return;
        }
    }
}

/// Check, before any key is used, that every file can be signed and logged: a regular
/// file (or a symlink to one) whose name a log entry can hold, given once.
///
/// # Errors
/// [`Error::Duplicate`], [`Error::Read`], [`Error::NotAFile`], [`Error::FileName`],
/// [`Error::Entry`].
pub fn check_files(files: &[PathBuf]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for path in files {
        if !seen.insert(path) {
            return Err(Error::Duplicate { path: path.clone() });
        }
        let metadata = std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if !metadata.is_file() {
            return Err(Error::NotAFile { path: path.clone() });
        }
        let name = logged_name(path)?;
        Entry::artifact(&name, 0, [0; 32]).map_err(|source| Error::Entry {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The name a file is logged under: its file name, without the directory.
fn logged_name(path: &Path) -> Result<String> {
    Ok(path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::FileName {
            path: path.to_owned(),
        })?
        .to_owned())
}

fn hash_one(path: &Path, leaf: &SigningLeaf, time: SystemTime) -> Result<Hashed> {
    let name = logged_name(path)?;
    let digest = digest_file(path, leaf.algorithm())?;
    let attrs = SignedAttrs::new(&digest.message_digest, time)?;
    Ok(Hashed {
        path: path.to_owned(),
        name,
        digest,
        attrs,
    })
}

/// The signing stage, on the calling thread: the only one that uses the key.
fn sign_all<S: Signer + ?Sized>(
    signer: &S,
    input: Receiver<Result<Hashed>>,
    out: SyncSender<Signed>,
    progress: &mut dyn FnMut(usize),
) -> Result<()> {
    for (done, hashed) in input.into_iter().enumerate() {
        let hashed = hashed?;
        let signature = signer
            .sign(hashed.attrs.der())
            .map_err(|source| Error::Signing {
                path: hashed.path.clone(),
                source: Box::new(source),
            })?;
        if out.send(Signed { hashed, signature }).is_err() {
            // The checker stopped on an error, which it reports.
            return Ok(());
        }
        progress(done + 1);
    }
    Ok(())
}

/// The checking stage: every signature against the leaf's key.
fn check_all(leaf: &SigningLeaf, key: &str, input: &Receiver<Signed>) -> Result<Vec<SignedFile>> {
    let mut checked = Vec::new();
    for Signed { hashed, signature } in input {
        if !signature_verifies(
            leaf.public_key(),
            leaf.algorithm(),
            hashed.attrs.der(),
            &signature,
        ) {
            return Err(Error::BadSignature {
                path: hashed.path,
                key: key.to_owned(),
            });
        }
        checked.push(SignedFile {
            path: hashed.path,
            name: hashed.name,
            digest: hashed.digest,
            attrs: hashed.attrs,
            signature,
        });
    }
    Ok(checked)
}
