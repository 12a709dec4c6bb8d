//! `FILE.sig` (docs/signatures.md): a `-----BEGIN CMS-----` PEM block holding the
//! ContentInfo DER, optionally followed by the `rust-pki-bundle/v2` stapled bundle of the
//! signature's log entry; and git's armor of the same CMS (`-----BEGIN SIGNED MESSAGE-----`).
//!
//! Strict: UTF-8, `\n` line endings, the PEM block first, then nothing or a bundle. The PEM
//! body is decoded by RFC 7468 rules (pem-rfc7468, through der); the DER itself is checked
//! later ([`crate::cms`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use rust_pki_tlog::bundle_file::{self, StapledBundle};

use crate::error::Error;

/// The extension of a signature file next to the file it signs: `FILE.sig`.
pub const SIG_EXTENSION: &str = "sig";

/// Where the signature of `file` is: `FILE.sig` next to it.
pub fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(SIG_EXTENSION);
    PathBuf::from(name)
}

/// Largest `.sig` read (a CMS with two certificates is ~2 KiB, a bundle a few KiB more).
pub const MAX_SIG_SIZE: u64 = 1 << 20;

const CMS_LABEL: &str = "CMS";
const GIT_LABEL: &str = "SIGNED MESSAGE";

/// A parsed signature file: the CMS DER and, when the signature was logged, its bundle.
#[derive(Clone, Debug)]
pub struct SigFile {
    file: String,
    cms_der: Vec<u8>,
    bundle: Option<StapledBundle>,
}

impl SigFile {
    /// Reads and parses `path`, reading at most [`MAX_SIG_SIZE`] bytes.
    ///
    /// # Errors
    /// [`Error::Read`], [`Error::SigTooLarge`], and those of [`SigFile::parse`].
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let name = path.display().to_string();
        let read = |source| Error::Read {
            file: name.clone(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(read)?
            .take(MAX_SIG_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(read)?;
        if bytes.len() as u64 > MAX_SIG_SIZE {
            return Err(Error::SigTooLarge {
                file: name,
                max: MAX_SIG_SIZE,
            });
        }
        Self::parse(&name, &bytes)
    }

    /// Parses the text of a `.sig` file; `file` names it in errors.
    ///
    /// # Errors
    /// [`Error::SigTooLarge`]; [`Error::MalformedSig`] for empty, non-UTF-8 or truncated
    /// text, a bad PEM block, or text after it that is not a bundle; the bundle's own
    /// format errors as [`Error::MalformedSig`] too.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, Error> {
        let (cms_der, rest) = pem_block(file, bytes, CMS_LABEL)?;
        let bundle = if rest.is_empty() {
            None
        } else if rest.starts_with(bundle_file::HEADER.as_bytes()) {
            Some(StapledBundle::parse(rest).map_err(|e| malformed(file, format!("bundle: {e}")))?)
        } else {
            return Err(malformed(
                file,
                format!(
                    "unexpected text after the CMS block; only a {} bundle may follow",
                    bundle_file::HEADER
                ),
            ));
        };
        Ok(Self {
            file: file.to_owned(),
            cms_der,
            bundle,
        })
    }

    /// Parses git's armored signature (`-----BEGIN SIGNED MESSAGE-----`, the same CMS), as
    /// `rust-pki-git-sign --verify` receives it; `file` names it in errors.
    ///
    /// # Errors
    /// As [`SigFile::parse`]; nothing may follow the block.
    pub fn from_git_armor(file: &str, bytes: &[u8]) -> Result<Self, Error> {
        let (cms_der, rest) = pem_block(file, bytes, GIT_LABEL)?;
        if !rest.is_empty() {
            return Err(malformed(
                file,
                "unexpected text after the signature block".into(),
            ));
        }
        Ok(Self {
            file: file.to_owned(),
            cms_der,
            bundle: None,
        })
    }

    /// The file this signature was read from (as named to the parser).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The ContentInfo DER.
    pub fn cms_der(&self) -> &[u8] {
        &self.cms_der
    }

    /// The stapled bundle, when the signature was logged.
    pub fn bundle(&self) -> Option<&StapledBundle> {
        self.bundle.as_ref()
    }
}

fn malformed(file: &str, detail: String) -> Error {
    Error::MalformedSig {
        file: file.to_owned(),
        detail,
    }
}

/// The DER of the PEM block with `label` at the start of `bytes`, and what follows its END
/// line (after its `\n`).
fn pem_block<'a>(file: &str, bytes: &'a [u8], label: &str) -> Result<(Vec<u8>, &'a [u8]), Error> {
    if bytes.len() as u64 > MAX_SIG_SIZE {
        return Err(Error::SigTooLarge {
            file: file.to_owned(),
            max: MAX_SIG_SIZE,
        });
    }
    if bytes.is_empty() {
        return Err(malformed(file, "empty file".into()));
    }
    let begin = format!("-----BEGIN {label}-----\n");
    let end = format!("-----END {label}-----");
    if !bytes.starts_with(begin.as_bytes()) {
        return Err(malformed(
            file,
            format!("does not start with the line -----BEGIN {label}-----"),
        ));
    }
    let end_at = bytes
        .windows(end.len())
        .position(|w| w == end.as_bytes())
        .ok_or_else(|| malformed(file, format!("truncated: no -----END {label}----- line")))?;
    let after = end_at + end.len();
    let rest = match bytes.get(after) {
        None => &bytes[after..],
        Some(b'\n') => &bytes[after + 1..],
        Some(_) => {
            return Err(malformed(
                file,
                format!("the -----END {label}----- line does not end with a newline"),
            ));
        }
    };
    let (found, der) = der::pem::decode_vec(&bytes[..after])
        .map_err(|e| malformed(file, format!("malformed {label} PEM block: {e}")))?;
    if found != label {
        return Err(malformed(
            file,
            format!("PEM label {found}, expected {label}"),
        ));
    }
    if der.is_empty() {
        return Err(malformed(file, format!("the {label} block is empty")));
    }
    Ok((der, rest))
}
