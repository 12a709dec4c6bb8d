//! `FILE.sig` (docs/signatures.md): the CMS as a PEM block (`-----BEGIN CMS-----`, 64
//! columns, what `openssl cms -inform PEM` reads), then, when the signature was logged, the
//! stapled bundle text (`rust-pki-bundle/v2`). Also the armor git expects from a
//! `gpg.format=x509` program (`-----BEGIN SIGNED MESSAGE-----`, as gpgsm and gitsign).
//! Signature files are never overwritten.

use std::path::{Path, PathBuf};

use der::pem::LineEnding;
use rust_pki_fs::durable::{Mode, create_new};

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

/// How many signature files are written at once: each write waits for two fsyncs (the
/// file and its directory), which overlap across threads.
const WRITERS: usize = 8;

/// Write each `(path, text)` as [`write_signature`] does, several at a time. Stops handing
/// out files at the first error, which it returns (files written before it stay).
///
/// # Errors
/// As [`write_signature`].
pub fn write_signatures(signatures: &[(PathBuf, String)]) -> Result<()> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let work = || -> Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        while !failed.load(Relaxed) {
            let Some((path, text)) = signatures.get(next.fetch_add(1, Relaxed)) else {
                break;
            };
            write_signature(path, text).inspect_err(|_| failed.store(true, Relaxed))?;
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS.min(signatures.len()))
            .map(|_| scope.spawn(work))
            .collect();
        // The scope joins every writer; the first error found is returned.
        writers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
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
        write_signatures(&signatures).unwrap();
        for (path, text) in &signatures {
            assert_eq!(&std::fs::read_to_string(path).unwrap(), text);
        }
        let error = write_signatures(&signatures[..3]).unwrap_err();
        assert!(error.is_refusal(), "{error}");
    }
}
