//! `Cargo.lock`, cargo-style: which crates.io crate, at which version, with which checksum.
//!
//! A mirror or a cargo-like client that downloaded the crates of a lock file checks, for
//! each crates.io package: that `NAME-VERSION.crate` has the SHA-256 the lock file pins
//! ([`LockedCrate::check_download`]), then that the crate's signature (`.crate.sig`, a
//! crates-io signature, [`crate::artifact`]) verifies and its log entry names that file
//! ([`crate::clients::verify_lockfile`] does both). Path and git dependencies, and packages
//! of other registries, are not signed by crates.io: they are listed as skipped.
//!
//! Lock file versions 3 and 4 (and 2, the same shape without `version`) are read; version 1
//! kept checksums in `[metadata]` and is refused with a message saying so.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::{parse_sha256_hex, sha256_file};
use crate::error::Error;

/// The `source` of crates.io packages (git index, then the sparse index).
const CRATES_IO_SOURCES: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The packages of a lock file, split into what crates.io signs and the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockFile {
    /// crates.io packages with a checksum, in lock-file order.
    pub crates: Vec<LockedCrate>,
    /// Other packages (path, git, other registries) as `name version (source)`.
    pub skipped: Vec<String>,
}

/// A crates.io package pinned by the lock file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedCrate {
    /// Crate name.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// The `checksum`: SHA-256 of the `.crate` file.
    pub checksum: [u8; 32],
}

#[derive(Deserialize)]
struct RawLock {
    version: Option<u32>,
    #[serde(default)]
    package: Vec<RawPackage>,
    metadata: Option<toml::Table>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

impl LockFile {
    /// Parses `Cargo.lock` bytes read from `file` (named in errors).
    ///
    /// # Errors
    /// [`Error::MalformedLockfile`]: not TOML of that shape, an unknown version, version 1
    /// (checksums in `[metadata]`), a crates.io package without a checksum or with one that
    /// is not 64 hex digits, or a name or version that could not be a crate's (they make a
    /// file name, so no path separators).
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, Error> {
        let bad = |detail: String| Error::MalformedLockfile {
            file: file.to_owned(),
            detail,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let raw: RawLock = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        match raw.version {
            None | Some(3 | 4) => {}
            Some(v) => {
                return Err(bad(format!(
                    "lock file version {v} is not supported (3 or 4)"
                )));
            }
        }
        if raw
            .metadata
            .as_ref()
            .is_some_and(|m| m.keys().any(|k| k.starts_with("checksum ")))
        {
            return Err(bad(
                "lock file version 1 (checksums in [metadata]) is not supported: \
                 regenerate it with a recent cargo"
                    .to_owned(),
            ));
        }
        let mut crates = Vec::new();
        let mut skipped = Vec::new();
        for (i, p) in raw.package.into_iter().enumerate() {
            let at = format!("package {} ({} {})", i + 1, p.name, p.version);
            let from_crates_io = p
                .source
                .as_deref()
                .is_some_and(|s| CRATES_IO_SOURCES.contains(&s));
            if !from_crates_io {
                let source = p.source.as_deref().unwrap_or("path");
                skipped.push(format!("{} {} ({source})", p.name, p.version));
                continue;
            }
            if !is_crate_name(&p.name) || !is_version(&p.version) {
                return Err(bad(format!("{at}: not a crate name and version")));
            }
            let checksum = p
                .checksum
                .as_deref()
                .ok_or_else(|| bad(format!("{at}: a crates.io package without a checksum")))?;
            let checksum = parse_sha256_hex(checksum)
                .ok_or_else(|| bad(format!("{at}: the checksum is not 64 hex digits")))?;
            crates.push(LockedCrate {
                name: p.name,
                version: p.version,
                checksum,
            });
        }
        Ok(Self { crates, skipped })
    }
}

impl LockedCrate {
    /// The file crates.io serves: `NAME-VERSION.crate`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.crate", self.name, self.version)
    }

    /// Checks that `dir` holds this crate's file with the lock file's checksum; returns its
    /// path.
    ///
    /// # Errors
    /// [`Error::CrateMissing`] when the file is not there; [`Error::CrateChecksumMismatch`];
    /// [`Error::Read`].
    pub fn check_download(&self, dir: &Path) -> Result<PathBuf, Error> {
        let path = dir.join(self.file_name());
        if !path.is_file() {
            return Err(Error::CrateMissing {
                file: path.display().to_string(),
                package: format!("{} {}", self.name, self.version),
            });
        }
        let (sha256, _) = sha256_file(&path)?;
        if sha256 != self.checksum {
            return Err(Error::CrateChecksumMismatch {
                file: path.display().to_string(),
                expected: hex::encode(self.checksum),
                found: hex::encode(sha256),
            });
        }
        Ok(path)
    }
}

/// crates.io names: ASCII letters, digits, `-` and `_`, at most 64 characters.
fn is_crate_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// SemVer text: ASCII letters, digits, `.`, `-` and `+`, starting with a digit.
fn is_version(version: &str) -> bool {
    version.len() <= 128
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b))
        && !version.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(checksum: &str) -> String {
        format!(
            r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "demo"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.219"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{checksum}"

[[package]]
name = "tool"
version = "0.2.0"
source = "git+https://example.invalid/tool#0123abc"
"#
        )
    }

    #[test]
    fn reads_crates_io_packages_and_skips_the_rest() {
        let l = LockFile::parse("Cargo.lock", lock(&"ab".repeat(32)).as_bytes()).unwrap();
        assert_eq!(l.crates.len(), 1);
        assert_eq!(l.crates[0].file_name(), "serde-1.0.219.crate");
        assert_eq!(l.crates[0].checksum, [0xab; 32]);
        assert_eq!(
            l.skipped,
            [
                "demo 0.1.0 (path)",
                "tool 0.2.0 (git+https://example.invalid/tool#0123abc)"
            ]
        );
    }

    #[test]
    fn refuses_malformed_lock_files() {
        let good = lock(&"ab".repeat(32));
        let cases = [
            (good.replace("version = 4", "version = 9"), "version 9"),
            (
                good.replace("checksum = ", "checksum_ = "),
                "without a checksum",
            ),
            (lock("abc"), "64 hex digits"),
            (
                good.replace("\"serde\"\nversion", "\"../serde\"\nversion"),
                "not a crate name",
            ),
            (good.replace("1.0.219", "1.0/../../x"), "not a crate name"),
            (
                "[metadata]\n\"checksum serde 1.0.0 (registry+x)\" = \"ab\"\n".to_owned(),
                "version 1",
            ),
            ("[[package]]\nname = 3\n".to_owned(), "invalid type"),
        ];
        for (text, expected) in cases {
            let err = LockFile::parse("Cargo.lock", text.as_bytes()).unwrap_err();
            assert_eq!(err.rule(), "malformed-lockfile");
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn checks_downloads_against_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"crate bytes";
        let digest = ring::digest::digest(&ring::digest::SHA256, content);
        let l =
            LockFile::parse("Cargo.lock", lock(&hex::encode(digest.as_ref())).as_bytes()).unwrap();
        let krate = &l.crates[0];
        assert_eq!(
            krate.check_download(dir.path()).unwrap_err().rule(),
            "crate-missing"
        );
        std::fs::write(dir.path().join("serde-1.0.219.crate"), content).unwrap();
        assert!(krate.check_download(dir.path()).is_ok());
        std::fs::write(dir.path().join("serde-1.0.219.crate"), b"crate bytez").unwrap();
        let err = krate.check_download(dir.path()).unwrap_err();
        assert_eq!(err.rule(), "crate-checksum-mismatch");
        assert!(err.to_string().contains("serde-1.0.219.crate"), "{err}");
    }
}
