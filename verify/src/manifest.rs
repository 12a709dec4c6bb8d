//! Channel manifests, rustup-style: which file of a release has which SHA-256.
//!
//! A channel manifest (`channel-rust-stable.toml`, format `manifest-version = "2"`) lists, per
//! package and target, the URL of each downloadable file and its SHA-256:
//!
//! ```toml
//! manifest-version = "2"
//! date = "2026-12-05"
//! [pkg.rustc]
//! version = "1.95.0 (abcdef012 2026-12-04)"
//! [pkg.rustc.target.x86_64-unknown-linux-gnu]
//! available = true
//! url = "https://static.rust-lang.org/dist/2026-12-05/rustc-1.95.0-x86_64-unknown-linux-gnu.tar.gz"
//! hash = "…64 hex digits…"
//! xz_url = "https://static.rust-lang.org/dist/2026-12-05/rustc-1.95.0-x86_64-unknown-linux-gnu.tar.xz"
//! xz_hash = "…64 hex digits…"
//! ```
//!
//! The check rustup would do: verify the manifest's own signature (a releases signature,
//! [`crate::artifact`]), then that each downloaded file has the digest the manifest lists
//! for its file name ([`ChannelManifest::check_file`]); [`crate::clients::verify_manifest`]
//! does both. Other keys of the manifest (`renames`, `profiles`, `components` and
//! `extensions` of a target) are not needed for that and are ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::digest::{parse_sha256_hex, sha256_file};
use crate::error::Error;

/// The file names and digests a signed channel manifest commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelManifest {
    /// The manifest's `date`.
    pub date: String,
    /// Every downloadable file, by file name (the last segment of its URL).
    pub files: BTreeMap<String, ManifestFile>,
}

/// One downloadable file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestFile {
    /// Package name (`rustc`, `cargo`, `rust-std`, …).
    pub package: String,
    /// Target triple (or `*` for target-independent packages).
    pub target: String,
    /// The URL the manifest gives.
    pub url: String,
    /// SHA-256 the manifest gives.
    pub sha256: [u8; 32],
}

/// A downloaded file that matches the manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MatchedFile {
    /// The file as given.
    pub file: String,
    /// Its package in the manifest.
    pub package: String,
    /// Its target in the manifest.
    pub target: String,
    /// Its length in bytes.
    pub size: u64,
    /// Its SHA-256 (equal to the manifest's), hex.
    pub sha256: String,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "manifest-version")]
    manifest_version: String,
    date: String,
    pkg: BTreeMap<String, RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    target: BTreeMap<String, RawTarget>,
}

#[derive(Deserialize)]
struct RawTarget {
    available: bool,
    url: Option<String>,
    hash: Option<String>,
    xz_url: Option<String>,
    xz_hash: Option<String>,
}

impl ChannelManifest {
    /// Parses a manifest (`manifest-version = "2"`) read from `file` (named in errors).
    ///
    /// # Errors
    /// [`Error::MalformedManifest`]: not UTF-8 TOML of that shape, another manifest version,
    /// a URL without a hash (or the reverse), a hash that is not 64 hex digits, a URL whose
    /// last segment is not a plain file name, or one file name listed with two digests.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, Error> {
        let bad = |detail: String| Error::MalformedManifest {
            file: file.to_owned(),
            detail,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let raw: RawManifest = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if raw.manifest_version != "2" {
            return Err(bad(format!(
                "manifest-version {:?}, expected \"2\"",
                raw.manifest_version
            )));
        }
        let mut files: BTreeMap<String, ManifestFile> = BTreeMap::new();
        for (package, pkg) in &raw.pkg {
            for (target, t) in &pkg.target {
                if !t.available {
                    continue;
                }
                for (url_key, url, hash) in
                    [("url", &t.url, &t.hash), ("xz_url", &t.xz_url, &t.xz_hash)]
                {
                    let at = format!("pkg.{package}.target.{target}.{url_key}");
                    let (url, hash) = match (url, hash) {
                        (None, None) => continue,
                        (Some(url), Some(hash)) => (url, hash),
                        _ => return Err(bad(format!("{at}: a URL and its hash go together"))),
                    };
                    let sha256 = parse_sha256_hex(hash)
                        .ok_or_else(|| bad(format!("{at}: the hash is not 64 hex digits")))?;
                    let name = file_name_of_url(url).ok_or_else(|| {
                        bad(format!("{at}: no plain file name at the end of {url:?}"))
                    })?;
                    let entry = ManifestFile {
                        package: package.clone(),
                        target: target.clone(),
                        url: url.clone(),
                        sha256,
                    };
                    match files.get(name) {
                        Some(seen) if seen.sha256 != sha256 => {
                            return Err(bad(format!(
                                "{at}: {name} is listed twice with different hashes"
                            )));
                        }
                        Some(_) => {}
                        None => {
                            files.insert(name.to_owned(), entry);
                        }
                    }
                }
            }
        }
        if files.is_empty() {
            return Err(bad("no available file is listed".to_owned()));
        }
        Ok(Self {
            date: raw.date,
            files,
        })
    }

    /// Checks that the downloaded file at `path` is listed under its file name with its
    /// SHA-256.
    ///
    /// # Errors
    /// [`Error::NotInManifest`] for a file name the manifest does not list;
    /// [`Error::ManifestDigestMismatch`] when the digest differs; [`Error::Read`].
    pub fn check_file(&self, manifest: &str, path: &Path) -> Result<MatchedFile, Error> {
        let file = path.display().to_string();
        let listed = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|name| self.files.get(name))
            .ok_or_else(|| Error::NotInManifest {
                file: file.clone(),
                manifest: manifest.to_owned(),
            })?;
        let (sha256, size) = sha256_file(path)?;
        if sha256 != listed.sha256 {
            return Err(Error::ManifestDigestMismatch {
                file,
                manifest: manifest.to_owned(),
                expected: hex::encode(listed.sha256),
                found: hex::encode(sha256),
            });
        }
        Ok(MatchedFile {
            file,
            package: listed.package.clone(),
            target: listed.target.clone(),
            size,
            sha256: hex::encode(sha256),
        })
    }
}

/// The last path segment of `url` when it is a plain file name (no query, fragment, `.`
/// or `..`, no backslash or control character): what the downloaded file is called.
fn file_name_of_url(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '\\' || c.is_control());
    (plain && url.len() > name.len()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"manifest-version = "2"
date = "2026-12-05"
[pkg.rustc]
version = "1.95.0"
[pkg.rustc.target.x86_64-unknown-linux-gnu]
available = true
url = "https://static.rust-lang.org/dist/2026-12-05/rustc-1.95.0-x86_64-unknown-linux-gnu.tar.gz"
hash = "0000000000000000000000000000000000000000000000000000000000000001"
[pkg.rustc.target.aarch64-apple-darwin]
available = false
[pkg.rust-src.target."*"]
available = true
xz_url = "https://static.rust-lang.org/dist/2026-12-05/rust-src-1.95.0.tar.xz"
xz_hash = "00000000000000000000000000000000000000000000000000000000000000AB"
"#;

    #[test]
    fn lists_available_files_by_name() {
        let m = ChannelManifest::parse("m.toml", GOOD.as_bytes()).unwrap();
        assert_eq!(m.date, "2026-12-05");
        let names: Vec<&str> = m.files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "rust-src-1.95.0.tar.xz",
                "rustc-1.95.0-x86_64-unknown-linux-gnu.tar.gz"
            ]
        );
        assert_eq!(m.files["rust-src-1.95.0.tar.xz"].sha256[31], 0xab);
        assert_eq!(m.files["rust-src-1.95.0.tar.xz"].target, "*");
    }

    #[test]
    fn refuses_malformed_manifests() {
        let cases = [
            (GOOD.replace("\"2\"", "\"1\""), "manifest-version"),
            (GOOD.replace("hash = \"00", "hash = \"zz"), "64 hex digits"),
            (GOOD.replace("xz_hash", "other"), "go together"),
            (GOOD.replace(".tar.xz\"", "/\""), "plain file name"),
            (
                GOOD.replace("rust-src-1.95.0.tar.xz\"", "..\""),
                "plain file name",
            ),
            (
                GOOD.replace("available = true", "available = false"),
                "no available",
            ),
            (
                GOOD.replace(
                    "rust-src-1.95.0.tar.xz",
                    "rustc-1.95.0-x86_64-unknown-linux-gnu.tar.gz",
                ),
                "different hashes",
            ),
            ("date = 1".to_owned(), "invalid type"),
        ];
        for (text, expected) in cases {
            let err = ChannelManifest::parse("m.toml", text.as_bytes()).unwrap_err();
            assert_eq!(err.rule(), "malformed-manifest");
            assert!(err.to_string().contains(expected), "{expected}: {err}");
            assert!(err.to_string().starts_with("m.toml: "), "{err}");
        }
        let err = ChannelManifest::parse("m.toml", &[0xff, 0xfe]).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn checks_downloads_by_name_and_digest() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"the rustc tarball";
        let digest = ring::digest::digest(&ring::digest::SHA256, content);
        let text = GOOD.replace(
            "0000000000000000000000000000000000000000000000000000000000000001",
            &hex::encode(digest.as_ref()),
        );
        let m = ChannelManifest::parse("m.toml", text.as_bytes()).unwrap();
        let good = dir
            .path()
            .join("rustc-1.95.0-x86_64-unknown-linux-gnu.tar.gz");
        std::fs::write(&good, content).unwrap();
        let matched = m.check_file("m.toml", &good).unwrap();
        assert_eq!((matched.package.as_str(), matched.size), ("rustc", 17));

        std::fs::write(&good, b"the rustc tarbalL").unwrap();
        let err = m.check_file("m.toml", &good).unwrap_err();
        assert_eq!(err.rule(), "manifest-digest-mismatch");
        assert!(
            err.to_string().contains(&hex::encode(digest.as_ref())),
            "{err}"
        );

        let other = dir.path().join("cargo-1.95.0.tar.gz");
        std::fs::write(&other, content).unwrap();
        assert_eq!(
            m.check_file("m.toml", &other).unwrap_err().rule(),
            "not-in-manifest"
        );
    }
}
