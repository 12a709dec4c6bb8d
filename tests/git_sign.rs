//! `rust-pki-git-sign` driven by real git (`gpg.format=x509`): `git commit -S` signs with a
//! bors leaf in SoftHSM2, `git verify-commit` and `git log --show-signature` verify against
//! the pinned root for the bors purpose; a changed commit, a commit signed by a crates-io
//! leaf, garbage signatures and missing settings are refused with clear messages.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::Lab;

/// A root, bors and crates-io delegates with a leaf each (keys in SoftHSM2), and a git
/// repository configured for rust-pki-git-sign.
struct Setup {
    lab: Lab,
    repo: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
        let root_key = lab.root();
        for purpose in ["bors", "crates-io"] {
            let delegate_key = lab.keygen("delegate-owners", purpose);
            let delegate = lab.path(&format!("{purpose}-delegate.pem"));
            lab.ok([
                "ca".as_ref(),
                "delegate".as_ref(),
                "--root-cert".as_ref(),
                lab.path("root.pem").as_os_str(),
                "--root-key".as_ref(),
                root_key.as_ref(),
                "--purpose".as_ref(),
                purpose.as_ref(),
                "--subject-key".as_ref(),
                delegate_key.as_ref(),
                "--out".as_ref(),
                delegate.as_os_str(),
            ]);
            let leaf_key = lab.keygen("leaf-owners", purpose);
            lab.ok([
                "ca".as_ref(),
                "leaf".as_ref(),
                "--issuer-cert".as_ref(),
                delegate.as_os_str(),
                "--issuer-key".as_ref(),
                delegate_key.as_ref(),
                "--subject".as_ref(),
                format!("CN={purpose} leaf,O=The Rust Project").as_ref(),
                "--subject-key".as_ref(),
                leaf_key.as_ref(),
                "--out".as_ref(),
                lab.path(&format!("{purpose}-leaf.pem")).as_os_str(),
            ]);
        }
        let repo = lab.path("repo");
        std::fs::create_dir(&repo).unwrap();
        let setup = Self { lab, repo };
        setup.git(&["init", "-q", "-b", "main", "."]);
        for (key, value) in [
            ("user.name", "bors"),
            ("user.email", "bors@rust-lang.org"),
            ("gpg.format", "x509"),
            ("gpg.x509.program", "rust-pki-git-sign"),
            // Relative to the repository's top level.
            ("rustpki.root", "../root.pem"),
        ] {
            setup.git(&["config", key, value]);
        }
        setup
    }

    /// git in the repository, with rust-pki-git-sign on PATH and the signing settings of
    /// `purpose`'s leaf in the environment.
    fn git_as(&self, purpose: &str, args: &[&str]) -> Output {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_rust-pki-git-sign"))
            .parent()
            .unwrap()
            .to_owned();
        let path = std::env::join_paths(
            std::iter::once(bin_dir)
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        Command::new("git")
            .current_dir(&self.repo)
            .env("PATH", path)
            .env("SOFTHSM2_CONF", self.lab.hsm_dir().join("softhsm2.conf"))
            .env("RUST_PKI_GIT_KEY", self.lab.uri("leaf-owners", purpose))
            .env(
                "RUST_PKI_GIT_CERT",
                self.lab.path(&format!("{purpose}-leaf.pem")),
            )
            .env(
                "RUST_PKI_GIT_CHAIN",
                self.lab.path(&format!("{purpose}-delegate.pem")),
            )
            .env("RUST_PKI_GIT_PURPOSE", purpose)
            .args(args)
            .output()
            .unwrap()
    }

    /// git as a verifier: only the repository's config (root, purpose bors by default).
    fn git(&self, args: &[&str]) -> Output {
        let out = self.git_verifier(args);
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        out
    }

    fn git_verifier(&self, args: &[&str]) -> Output {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_rust-pki-git-sign"))
            .parent()
            .unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
        Command::new("git")
            .current_dir(&self.repo)
            .env("PATH", path)
            .args(args)
            .output()
            .unwrap()
    }

    fn commit(&self, purpose: &str, message: &str) -> String {
        let out = self.git_as(
            purpose,
            &["commit", "-q", "--allow-empty", "-S", "-m", message],
        );
        assert!(out.status.success(), "commit -S: {}", text(&out));
        String::from_utf8(self.git(&["rev-parse", "HEAD"]).stdout)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The program run directly, as git would, with the payload on stdin.
    fn program(&self, args: &[&str], payload: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rust-pki-git-sign"))
            .current_dir(&self.repo)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(payload).unwrap();
        child.wait_with_output().unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn git_signs_with_the_bors_leaf_and_verifies_against_the_pinned_root() {
    let s = Setup::new();
    let head = s.commit("bors", "Auto merge of #1 - demo, r=bors");
    let object = String::from_utf8(s.git(&["cat-file", "commit", &head]).stdout).unwrap();
    assert!(
        object.contains("gpgsig -----BEGIN SIGNED MESSAGE-----"),
        "{object}"
    );

    let verified = s.git(&["verify-commit", &head]);
    let says = text(&verified);
    assert!(says.contains("Good signature from CN=bors leaf"), "{says}");
    assert!(says.contains("for bors"), "{says}");

    let log = text(&s.git(&["log", "--show-signature", "-1"]));
    assert!(log.contains("Good signature from CN=bors leaf"), "{log}");
    // %G? is git's own verdict from the status lines: G (good).
    let verdict = s.git(&["log", "-1", "--format=%G?|%GS|%GF"]);
    let verdict = String::from_utf8(verdict.stdout).unwrap();
    assert!(verdict.starts_with("G|"), "{verdict}");
    assert!(verdict.contains("CN=bors leaf"), "{verdict}");
}

#[test]
fn a_changed_commit_fails_verification() {
    let s = Setup::new();
    let head = s.commit("bors", "the real message");
    let object = String::from_utf8(s.git(&["cat-file", "commit", &head]).stdout).unwrap();
    let forged = object.replace("the real message", "a forged message");
    let mut child = Command::new("git")
        .current_dir(&s.repo)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    let forged_id = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let out = s.git_verifier(&["verify-commit", forged_id.trim()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("INVALID [message-digest-mismatch]"),
        "{}",
        text(&out)
    );
    let verdict = s.git(&["log", "-1", "--format=%G?", forged_id.trim()]);
    assert_eq!(String::from_utf8(verdict.stdout).unwrap().trim(), "B");
}

#[test]
fn a_commit_signed_by_a_crates_io_leaf_is_not_a_bors_commit() {
    let s = Setup::new();
    // Signed for crates-io with the crates-io leaf (the purpose comes from the environment)...
    let out = s.git_as(
        "crates-io",
        &["commit", "-q", "--allow-empty", "-S", "-m", "x"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let head = String::from_utf8(s.git(&["rev-parse", "HEAD"]).stdout).unwrap();
    // ...so a verifier for bors (the repository's default purpose) rejects it.
    let out = s.git_verifier(&["verify-commit", head.trim()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("INVALID [wrong-eku]"), "{}", text(&out));
    let verdict = s.git(&["log", "-1", "--format=%G?", head.trim()]);
    assert_eq!(String::from_utf8(verdict.stdout).unwrap().trim(), "E");
}

#[test]
fn signing_refuses_a_leaf_of_another_purpose() {
    let s = Setup::new();
    // The crates-io leaf asked to sign for bors: refused before the token signs anything.
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki-git-sign"))
        .current_dir(&s.repo)
        .env("SOFTHSM2_CONF", s.lab.hsm_dir().join("softhsm2.conf"))
        .env("RUST_PKI_GIT_KEY", s.lab.uri("leaf-owners", "crates-io"))
        .env("RUST_PKI_GIT_CERT", s.lab.path("crates-io-leaf.pem"))
        .env("RUST_PKI_GIT_CHAIN", s.lab.path("crates-io-delegate.pem"))
        .env("RUST_PKI_GIT_PURPOSE", "bors")
        .args(["--status-fd=2", "-bsau", "bors"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot sign"), "{}", text(&out));
    assert!(out.stdout.is_empty(), "no signature is printed");
    assert!(!text(&out).contains("SIG_CREATED"));
}

#[test]
fn garbage_signatures_and_missing_settings_are_clear_errors() {
    let s = Setup::new();
    let sig = s.lab.path("garbage.sig");
    for bytes in [
        &b""[..],
        b"-----BEGIN SIGNED MESSAGE-----\nnot base64!\n-----END SIGNED MESSAGE-----\n",
        b"-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n",
        &[0xff; 4096][..],
    ] {
        std::fs::write(&sig, bytes).unwrap();
        let out = s.program(
            &["--status-fd=1", "--verify", sig.to_str().unwrap(), "-"],
            b"payload",
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("[GNUPG:] ERRSIG"), "{stdout}");
        assert!(!stdout.contains("GOODSIG"), "{stdout}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("INVALID ["));
    }
    // No pinned root: exit 2, naming the setting.
    let repo_config = s.repo.join(".git/config");
    let config = std::fs::read_to_string(&repo_config).unwrap();
    std::fs::write(&repo_config, config.replace("root = ../root.pem", "")).unwrap();
    std::fs::write(&sig, b"x").unwrap();
    let out = s.program(
        &["--status-fd=1", "--verify", sig.to_str().unwrap(), "-"],
        b"payload",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("rustpki.root"), "{}", text(&out));
    // No signing key: exit 2, naming the setting; nothing on stdout.
    let out = s.program(
        &["--status-fd=2", "-bsau", "bors <bors@rust-lang.org>"],
        b"payload",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("rustpki.key"), "{}", text(&out));
    assert!(out.stdout.is_empty());
}
