//! Download folders as a rustup-like or cargo-like client finds them: a release (files, a
//! channel manifest listing their SHA-256, a `.sig` next to each) and a crates folder (a
//! `Cargo.lock` and signed `.crate` files), signed and logged by a test PKI and log.

use std::path::{Path, PathBuf};

use rust_pki_verify::artifact::ArtifactVerifier;
use rust_pki_verify::{Crl, Purpose, Root};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::sign::{Signer, TestLog};
use super::{AT, CRATES_IO, Files, Issued, RELEASES, Spec, crl_with, delegate, root};

/// Inside the standard leaf's validity, before [`AT`].
pub const SIGNED_AT: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

/// The files of the test release.
pub const RELEASE: [(&str, &[u8]); 3] = [
    (
        "rustc-1.95.0-x86_64-unknown-linux-gnu.tar.xz",
        b"rustc tarball",
    ),
    (
        "cargo-1.95.0-x86_64-unknown-linux-gnu.tar.xz",
        b"cargo tarball",
    ),
    ("rust-src-1.95.0.tar.xz", b"rust-src tarball"),
];

pub const MANIFEST: &str = "channel-rust-stable.toml";

/// The crates of the test lock file: name, version, content.
pub const CRATES: [(&str, &str, &[u8]); 2] = [
    ("serde", "1.0.219", b"serde crate"),
    ("rand", "0.9.0", b"rand crate"),
];

pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, content))
}

/// A channel manifest (version 2) listing `files` (name, content) with their SHA-256.
pub fn manifest_text(files: &[(&str, &[u8])]) -> String {
    let mut text = String::from("manifest-version = \"2\"\ndate = \"2026-11-30\"\n");
    for (name, content) in files {
        let package = name.split("-1.").next().unwrap();
        let target = if name.contains("x86_64") {
            "x86_64-unknown-linux-gnu"
        } else {
            "*"
        };
        text.push_str(&format!(
            "[pkg.{package}.target.\"{target}\"]\navailable = true\n\
             xz_url = \"https://static.rust-lang.org/dist/2026-11-30/{name}\"\n\
             xz_hash = \"{}\"\n",
            sha256_hex(content)
        ));
    }
    text
}

/// A `Cargo.lock` (version 4) pinning `crates` (name, version, content) from crates.io, a
/// path package and a git package.
pub fn lock_text(crates: &[(&str, &str, &[u8])]) -> String {
    let mut text = String::from(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n\
         [[package]]\nname = \"tool\"\nversion = \"0.2.0\"\n\
         source = \"git+https://example.invalid/tool#0123abc\"\n",
    );
    for (name, version, content) in crates {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{}\"\n",
            sha256_hex(content)
        ));
    }
    text
}

/// A download folder with the PKI, log and CRLs that signed it, and their files.
pub struct Fixture {
    pub files: Files,
    /// The download folder.
    pub dir: PathBuf,
    pub root: Issued,
    pub delegate: Issued,
    pub leaf: Issued,
    pub log: TestLog,
    /// Signing and cosignature time.
    pub signed_at: OffsetDateTime,
    /// Verification time.
    pub at: OffsetDateTime,
    pub openssl: bool,
    pub root_pem: PathBuf,
    pub log_vkey: PathBuf,
    pub witness_vkey: PathBuf,
    /// The root's CRL and the delegate's, revoking nothing.
    pub crls: [PathBuf; 2],
}

impl Fixture {
    /// Root → delegate → leaf for the purpose `eku`, signing with [`super::sign::CmsBuilder`]
    /// at [`SIGNED_AT`], verified at [`AT`]; `dir` is the download folder's name.
    pub fn new(dir: &str, eku: &[u64]) -> Self {
        let leaf = Spec::leaf("Rust Test Leaf", 0x1001).eku(eku);
        Self::build(dir, eku, leaf, SIGNED_AT, AT, false)
    }

    /// As [`Fixture::new`], signing with `openssl cms -sign` now (its signing time is the
    /// clock's), with a leaf and CRLs valid around now, verified now.
    pub fn openssl(dir: &str, eku: &[u64]) -> Self {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
            .eku(eku)
            .valid(now - Duration::days(1), now + Duration::days(30));
        Self::build(dir, eku, leaf, now, now + Duration::minutes(1), true)
    }

    fn build(
        dir: &str,
        eku: &[u64],
        leaf: Spec,
        signed_at: OffsetDateTime,
        at: OffsetDateTime,
        openssl: bool,
    ) -> Self {
        let root = root();
        let delegate = delegate(&root, Some(eku));
        let leaf = leaf.signed_by(&delegate);
        let log = TestLog::new(&delegate);
        let files = Files::new();
        let folder = files.dir_path().join(dir);
        std::fs::create_dir(&folder).unwrap();
        let crl = |issuer: &Issued| {
            crl_with(
                issuer,
                &[],
                at - Duration::days(30),
                at + Duration::days(30),
            )
        };
        Self {
            dir: folder,
            root_pem: files.write("root.pem", root.pem()),
            log_vkey: files.write("log.vkey", log.log_key.to_string()),
            witness_vkey: files.write("w1.vkey", log.witness.verifier().to_string()),
            crls: [
                files.write("root.crl", crl(&root)),
                files.write("delegate.crl", crl(&delegate)),
            ],
            files,
            root,
            delegate,
            leaf,
            log,
            signed_at,
            at,
            openssl,
        }
    }

    /// Signs and logs `files` into the download folder.
    pub fn sign(&mut self, files: &[(&str, &[u8])]) {
        let signer = Signer {
            leaf: &self.leaf,
            delegate: &self.delegate,
            time: self.signed_at,
            openssl: self.openssl,
        };
        signer.write(&self.dir, Some(&mut self.log), files);
    }

    /// A file of the download folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A verifier for `purpose` at the fixture's time, with the CRLs and the log's trust.
    pub fn verifier(&self, purpose: &str) -> ArtifactVerifier {
        let root = Root::from_file(&self.root_pem).unwrap();
        let crls = self
            .crls
            .iter()
            .map(|path| Crl::from_file(path).unwrap())
            .collect();
        ArtifactVerifier::new(root, Purpose::built_in(purpose).unwrap())
            .at(self.at)
            .with_crls(crls)
            .with_log(self.log.trust(1))
    }

    /// The trust arguments of the CLI: root, log and witness keys, both CRLs, time.
    pub fn trust_args(&self) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        vec![
            "--root".into(),
            path(&self.root_pem),
            "--log-vkey".into(),
            path(&self.log_vkey),
            "--witness-vkey".into(),
            path(&self.witness_vkey),
            "--min-witnesses".into(),
            "1".into(),
            "--crl".into(),
            path(&self.crls[0]),
            "--crl".into(),
            path(&self.crls[1]),
            "--at".into(),
            rfc3339(self.at),
        ]
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A signed release: the [`RELEASE`] files and their manifest, each with its `.sig`.
pub fn release() -> Fixture {
    signed_release(Fixture::new("release", RELEASES))
}

/// As [`release`], with the signatures and log entries made by `fixture`.
pub fn signed_release(mut fixture: Fixture) -> Fixture {
    fixture.sign(&RELEASE);
    let manifest = manifest_text(&RELEASE);
    fixture.sign(&[(MANIFEST, manifest.as_bytes())]);
    fixture
}

/// A crates folder: the signed [`CRATES`] and a `Cargo.lock` pinning them.
pub fn crates() -> Fixture {
    signed_crates(Fixture::new("crates", CRATES_IO))
}

/// As [`crates`], with the signatures and log entries made by `fixture`.
pub fn signed_crates(mut fixture: Fixture) -> Fixture {
    let files: Vec<(String, &[u8])> = CRATES
        .iter()
        .map(|(name, version, content)| (format!("{name}-{version}.crate"), *content))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    fixture.sign(&files);
    std::fs::write(fixture.path("Cargo.lock"), lock_text(&CRATES)).unwrap();
    fixture
}
