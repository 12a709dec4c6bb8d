//! `FILE.sig` (docs/signatures.md): the CMS as a PEM block (`-----BEGIN CMS-----`, 64
//! columns, what `openssl cms -inform PEM` reads), then, when the signature was logged, the
//! stapled bundle text (`rust-pki-bundle/v2`). Also the armor git expects from a
//! `gpg.format=x509` program (`-----BEGIN SIGNED MESSAGE-----`, as gpgsm and gitsign).
//! Signature files are never overwritten.

use std::path::{Path, PathBuf};

use der::pem::LineEnding;
use rust_pki_fs::durable::{Mode, create_new, create_new_all};

use crate::batch::file_entry;
use crate::error::{Error, Result, encoding};

/// The PEM label of a `.sig` file's CMS block.
pub const CMS_LABEL: &str = "CMS";
/// The PEM label of a git signature.
pub const GIT_LABEL: &str = "SIGNED MESSAGE";

/// The text of `FILE.sig`: the CMS block, then the bundle text if there is one.
///
/// # Errors
/// [`Error::Encoding`].
pub fn sig_text(cms_der: &[u8], bundle_text: Option<&str>) -> Result<String> {
    let mut text = pem(CMS_LABEL, cms_der)?;
    if let Some(bundle) = bundle_text {
        text.push_str(bundle);
    }
    Ok(text)
}

/// The signature as git's x509 signing program prints it.
///
/// # Errors
/// [`Error::Encoding`].
pub fn git_armor(cms_der: &[u8]) -> Result<String> {
    pem(GIT_LABEL, cms_der)
}

fn pem(label: &'static str, der: &[u8]) -> Result<String> {
    der::pem::encode_string(label, LineEnding::LF, der)
        .map_err(|e| encoding("PEM block")(der::Error::from(e)))
}

/// Where the signature of `file` goes: `FILE.sig`, next to it.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The log entry in `sig_path` if it is a signature of a logged run by the leaf `leaf_der`
/// and its delegate `delegate_der` (CMS block, then a bundle with those two certificates).
fn finished_entry(sig_path: &Path, leaf_der: &[u8], delegate_der: &[u8]) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(sig_path).ok()?;
    let end = format!("-----END {CMS_LABEL}-----\n");
    let (_, bundle) = text.split_once(&end)?;
    let bundle = rust_pki_tlog::bundle_file::StapledBundle::parse(bundle.as_bytes()).ok()?;
    (bundle.certificates == [leaf_der, delegate_der]).then_some(bundle.entry)
}

/// Split `files` into those to sign and those whose `FILE.sig` an earlier run of the same
/// batch finished (signed by `leaf_der` under `delegate_der`, its entry that of the file's
/// bytes, and `logged`). Called before any key is used.
///
/// # Errors
/// [`Error::SignatureExists`] for any other existing `FILE.sig`; [`Error::Read`],
/// [`Error::FileName`], [`Error::Entry`] hashing a file whose `.sig` exists.
pub fn unfinished(
    files: &[PathBuf],
    leaf_der: &[u8],
    delegate_der: &[u8],
    logged: &dyn Fn(&[u8]) -> bool,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut to_sign = Vec::new();
    let mut finished = Vec::new();
    for file in files {
        let path = signature_path(file);
        if path.symlink_metadata().is_err() {
            to_sign.push(file.clone());
            continue;
        }
        let done = match finished_entry(&path, leaf_der, delegate_der) {
            Some(entry) => entry == file_entry(file, leaf_der)? && logged(&entry),
            None => false,
        };
        if !done {
            return Err(Error::SignatureExists { path });
        }
        finished.push(path);
    }
    Ok((to_sign, finished))
}

/// Refuse up front, before any key is used, if the signature of any of `files` exists.
///
/// # Errors
/// [`Error::SignatureExists`] naming the first one found.
pub fn refuse_existing(files: &[PathBuf]) -> Result<()> {
    for file in files {
        let path = signature_path(file);
        // symlink_metadata: a dangling symlink counts as existing (create_new refuses it).
        if path.symlink_metadata().is_ok() {
            return Err(Error::SignatureExists { path });
        }
    }
    Ok(())
}

/// Write `text` as the new file `path` (complete or absent after a crash; never
/// overwriting).
///
/// # Errors
/// [`Error::Write`]; [`rust_pki_fs::WriteError::Exists`] if it appeared since.
pub fn write_signature(path: &Path, text: &str) -> Result<()> {
    Ok(create_new(path, text.as_bytes(), Mode::Public)?)
}

/// How many signature files are made durable together (one `syncfs` per batch): large
/// enough that a release's files share one flush, small enough that a crates backfill of
/// millions keeps only a few megabytes of text in memory.
const BATCH: usize = 1024;

/// Write each `(path, text)` that `signatures` yields as [`write_signature`] does, in batches
/// made durable together ([`rust_pki_fs::durable::create_new_all`]): the texts are made on
/// this thread as the batch fills. Stops at the first error, from `signatures` or a write,
/// and returns it (batches written before it stay). Returns the paths written, in order.
///
/// # Errors
/// The first error of `signatures` (of the caller's type `E`); as [`write_signature`].
pub fn write_signatures<E: From<Error>>(
    signatures: impl Iterator<Item = Result<(PathBuf, String), E>>,
) -> Result<Vec<PathBuf>, E> {
    let mut written = Vec::new();
    let mut batch: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<(PathBuf, Vec<u8>)>, written: &mut Vec<PathBuf>| -> Result<()> {
        create_new_all(batch, Mode::Public)?;
        written.extend(batch.drain(..).map(|(path, _)| path));
        Ok(())
    };
    for signature in signatures {
        let (path, text) = signature?;
        batch.push((path, text.into_bytes()));
        if batch.len() == BATCH {
            flush(&mut batch, &mut written)?;
        }
    }
    flush(&mut batch, &mut written)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cms_block_has_64_columns_and_the_bundle_follows() {
        let der = vec![0x30; 96]; // 128 base64 characters: two full lines
        let text = sig_text(&der, Some("rust-pki-bundle/v2\nrest\n")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CMS-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3], "-----END CMS-----");
        assert_eq!(lines[4], "rust-pki-bundle/v2");
        assert!(text.ends_with("rest\n"));
        let git = git_armor(&der).unwrap();
        assert!(git.starts_with("-----BEGIN SIGNED MESSAGE-----\n"));
        assert!(git.ends_with("-----END SIGNED MESSAGE-----\n"));
    }

    #[test]
    fn existing_signature_is_refused_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar.xz");
        assert_eq!(signature_path(&file), dir.path().join("a.tar.xz.sig"));
        refuse_existing(std::slice::from_ref(&file)).unwrap();
        write_signature(&signature_path(&file), "first").unwrap();
        let error = refuse_existing(std::slice::from_ref(&file)).unwrap_err();
        assert!(
            matches!(&error, Error::SignatureExists { path } if *path == signature_path(&file))
        );
        assert!(error.is_refusal());
        assert!(
            write_signature(&signature_path(&file), "second")
                .unwrap_err()
                .is_refusal()
        );
        assert_eq!(
            std::fs::read_to_string(signature_path(&file)).unwrap(),
            "first"
        );
    }

    #[test]
    fn many_signatures_are_all_written_and_an_existing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let signatures: Vec<(PathBuf, String)> = (0..50)
            .map(|i| (dir.path().join(format!("f{i}.sig")), format!("sig {i}")))
            .collect();
        let written = write_signatures::<Error>(signatures.iter().cloned().map(Ok)).unwrap();
        assert_eq!(written.len(), 50);
        for (path, text) in &signatures {
            assert_eq!(&std::fs::read_to_string(path).unwrap(), text);
        }
        let error = write_signatures::<Error>(signatures[..3].iter().cloned().map(Ok)).unwrap_err();
        assert!(error.is_refusal(), "{error}");
        // An error making a text stops the writing and is returned.
        let late = dir.path().join("late.sig");
        let error = write_signatures(
            [
                Err(Error::FileName { path: "x".into() }),
                Ok((late.clone(), "late".to_owned())),
            ]
            .into_iter(),
        )
        .unwrap_err();
        assert!(matches!(error, Error::FileName { .. }), "{error}");
        assert!(!late.exists());
    }
}
