//! `rust-pki verify --bundle`: chain, purpose and log inclusion in one go. The chain comes
//! from verify/tests/data/cli (root → releases delegate → leaf, valid on 2026-12-01); the
//! log is a real rust-pki-tlog log built here.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_pki_tlog::bundle_file::{StapledBundle, pem_certificates};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::cosign;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{KeyType, SignerKey, sign_note};
use rust_pki_tlog::writer::Log;

const AT: &str = "2026-12-01T00:00:00Z";
const ORIGIN: &str = "pki.example/test-log";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("verify/tests/data/cli")
        .join(name)
}

struct Setup {
    dir: tempfile::TempDir,
    bundle: StapledBundle,
    witness: SignerKey,
}

impl Setup {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// A log holding the fixture leaf's SHA-256 at index 2 of 4, its vkey in `log.vkey`, a
/// witness vkey in `witness.vkey`, and the bundle (not yet written).
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let chain_pem = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let certificates = pem_certificates(&chain_pem).unwrap();
    let entry = Entry::leaf_issuance(&certificates[0], &certificates[1])
        .unwrap()
        .encode()
        .unwrap();

    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    std::fs::write(dir.path().join("log.vkey"), format!("{}\n", key.verifier())).unwrap();
    let witness = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    std::fs::write(
        dir.path().join("witness.vkey"),
        witness.verifier().to_string(),
    )
    .unwrap();

    let mut log = Log::create(dir.path().join("log"), ORIGIN, move |body: &[u8]| {
        sign_note(body, &key)
    })
    .unwrap();
    log.append(&[b"a".to_vec(), b"b".to_vec(), entry.clone(), b"d".to_vec()])
        .unwrap();
    let (proof, head) = log.prove_inclusion(2).unwrap();
    Setup {
        dir,
        bundle: StapledBundle {
            certificates,
            entry,
            index: 2,
            proof,
            checkpoint: head.note,
        },
        witness,
    }
}

fn write_bundle(dir: &Path, name: &str, bundle: &StapledBundle) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bundle.to_text()).unwrap();
    path.display().to_string()
}

fn rust_pki(s: &Setup, bundle: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", bundle, "--root"])
        .arg(fixture("root.pem"))
        .args(["--log-key", &s.path("log.vkey"), "--at", AT])
        .args(["--purpose", "releases"])
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn good_bundle_exits_0() {
    let s = setup();
    let b = write_bundle(s.dir.path(), "leaf.bundle", &s.bundle);
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("OK: chain valid for purpose releases"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("logged in {ORIGIN} as entry 2 of tree size 4")),
        "{stdout}"
    );

    let out = rust_pki(&s, &b, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["log"]["index"], 2);
    assert_eq!(json["log"]["tree_size"], 4);
}

#[test]
fn tampered_bundle_exits_1_naming_the_rule() {
    let s = setup();
    let mut tampered = s.bundle.clone();
    tampered.proof[0].0[0] ^= 1;
    let b = write_bundle(s.dir.path(), "tampered.bundle", &tampered);
    let out = rust_pki(&s, &b, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [inclusion]"),
        "{}",
        text(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["rule"], "inclusion");

    // Checkpoint signed by another key with the log's name.
    let mut forged = s.bundle.clone();
    let forger = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let cp = SignedCheckpoint::verify(
        &s.bundle.checkpoint,
        &rust_pki_tlog::note::VerifierKey::parse(
            std::fs::read_to_string(s.path("log.vkey")).unwrap().trim(),
        )
        .unwrap(),
    )
    .unwrap();
    forged.checkpoint = SignedCheckpoint::sign(&forger, cp.size, cp.root_hash)
        .unwrap()
        .note;
    let b = write_bundle(s.dir.path(), "forged.bundle", &forged);
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [log-signature]"),
        "{}",
        text(&out.stderr)
    );

    // Malformed file.
    let b = s.path("garbage.bundle");
    std::fs::write(&b, "rust-pki-bundle/v1\nentry: AAAA\n").unwrap();
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [bundle-format]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn chain_rules_still_apply_to_bundles() {
    let s = setup();
    let b = write_bundle(s.dir.path(), "leaf.bundle", &s.bundle);
    // Other root: the chain check fails even though the log proof is good.
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", &b, "--root"])
        .arg(fixture("other-root.pem"))
        .args([
            "--log-key",
            &s.path("log.vkey"),
            "--at",
            AT,
            "--purpose",
            "releases",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [unknown-issuer]"),
        "{}",
        text(&out.stderr)
    );
    // Revoked leaf: the CRL applies to the bundle's chain.
    let crl = fixture("revoked-leaf.crl.pem").display().to_string();
    let out = rust_pki(&s, &b, &["--crl", &crl]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [revoked]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn witness_policy() {
    let s = setup();
    let b = write_bundle(s.dir.path(), "leaf.bundle", &s.bundle);
    let w = s.path("witness.vkey");
    let out = rust_pki(&s, &b, &["--witness", &w, "--min-witnesses", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [witnesses]"),
        "{}",
        text(&out.stderr)
    );

    let log_key = rust_pki_tlog::note::VerifierKey::parse(
        std::fs::read_to_string(s.path("log.vkey")).unwrap().trim(),
    )
    .unwrap();
    let cp = SignedCheckpoint::verify(&s.bundle.checkpoint, &log_key).unwrap();
    let line = cosign(&s.witness, &cp.body().unwrap(), 1_790_000_000).unwrap();
    let mut cosigned = s.bundle.clone();
    cosigned.checkpoint = cp.with_signature_lines(&[line]).note;
    let b = write_bundle(s.dir.path(), "cosigned.bundle", &cosigned);
    let out = rust_pki(&s, &b, &["--witness", &w, "--min-witnesses", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 witness cosignature(s) (witness.example/w1+"));
}

/// A delegate CA's own bundle: chain = [releases delegate of the fixtures], logged as the
/// ceremony record that issued it (index 1 of 3); log vkey in `log.vkey`.
fn delegate_setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let chain_pem = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let delegate_der = pem_certificates(&chain_pem).unwrap().remove(1);
    let entry = Entry::ceremony_record("001-delegate-issue.toml", b"record", &[&delegate_der])
        .unwrap()
        .encode()
        .unwrap();

    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    std::fs::write(dir.path().join("log.vkey"), format!("{}\n", key.verifier())).unwrap();
    let witness = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let mut log = Log::create(dir.path().join("log"), ORIGIN, move |body: &[u8]| {
        sign_note(body, &key)
    })
    .unwrap();
    log.append(&[b"a".to_vec(), entry.clone(), b"c".to_vec()])
        .unwrap();
    let (proof, head) = log.prove_inclusion(1).unwrap();
    Setup {
        dir,
        bundle: StapledBundle {
            certificates: vec![delegate_der],
            entry,
            index: 1,
            proof,
            checkpoint: head.note,
        },
        witness,
    }
}

#[test]
fn delegate_bundle_verifies_as_a_ca() {
    let s = delegate_setup();
    let b = write_bundle(s.dir.path(), "releases.bundle", &s.bundle);
    // No implicit CA mode: without --ca the delegate is a CA where a leaf should be.
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("INVALID [ca-as-leaf]: leaf CN=Rust Test Delegate"),
        "{}",
        text(&out.stderr)
    );

    let out = rust_pki(&s, &b, &["--ca"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .starts_with("OK: delegate CA certificate verified: chain valid for purpose releases"),
        "{stdout}"
    );
    assert!(stdout.contains(": CA CN=Rust Test Delegate"), "{stdout}");
    assert!(
        stdout.contains(&format!("logged in {ORIGIN} as entry 1 of tree size 3")),
        "{stdout}"
    );

    let out = rust_pki(&s, &b, &["--ca", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["target"], "ca");
    assert_eq!(json["path"][0]["position"], "CA");
    assert_eq!(json["path"][1]["position"], "root");
    assert_eq!(json["log"]["index"], 1);
}

#[test]
fn delegate_bundle_for_other_purpose_exits_1_naming_the_rule() {
    let s = delegate_setup();
    let b = write_bundle(s.dir.path(), "releases.bundle", &s.bundle);
    // `rust_pki` passes --purpose releases; the later --purpose bors would clash, so build
    // the command here.
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", &b, "--root"])
        .arg(fixture("root.pem"))
        .args(["--log-key", &s.path("log.vkey"), "--at", AT])
        .args(["--purpose", "bors", "--ca", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [wrong-eku]: CA CN=Rust Test Delegate"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["rule"], "wrong-eku");
    assert_eq!(json["error"]["cert"]["position"], "CA");
    assert_eq!(json["error"]["purpose"], "bors");
}

#[test]
fn delegate_chain_file_verifies_as_a_ca() {
    let s = delegate_setup();
    let chain = s.path("delegate.pem");
    std::fs::write(&chain, s.bundle.chain_pem()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--chain", &chain, "--root"])
        .arg(fixture("root.pem"))
        .args(["--at", AT, "--purpose", "releases", "--ca"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("OK: delegate CA certificate verified: "),
        "{}",
        text(&out.stdout)
    );
}
