//! `rust-pki verify --bundle`: chain, purpose, log inclusion, the delegate's own ceremony
//! entry and the witness policy in one go. The chain comes from verify/tests/data/cli
//! (root → releases delegate → leaf, valid on 2026-12-01); the log is a real rust-pki-tlog
//! log built here, and its checkpoint is cosigned by a witness unless a test says not.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_pki_tlog::bundle_file::{DelegateProof, StapledBundle, pem_certificates};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::cosign;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, sign_note};
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

/// The ceremony record entry that issued the fixture delegate.
fn delegate_record(delegate_der: &[u8]) -> Vec<u8> {
    Entry::ceremony_record("002-delegate-issue.toml", b"record", &[delegate_der])
        .unwrap()
        .encode()
        .unwrap()
}

/// `note` with a cosignature by `witness` added.
fn cosigned(note: &[u8], log_vkey: &VerifierKey, witness: &SignerKey) -> Vec<u8> {
    let cp = SignedCheckpoint::verify(note, log_vkey).unwrap();
    let line = cosign(witness, &cp.body().unwrap(), 1_790_000_000).unwrap();
    cp.with_signature_lines(&[line]).note
}

/// A log holding the delegate's ceremony record at index 1 and the fixture leaf's issuance
/// at index 2 of 4, its vkey in `log.vkey`, a witness vkey in `witness.vkey`, and the
/// leaf's bundle (not yet written), cosigned by the witness.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let chain_pem = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let certificates = pem_certificates(&chain_pem).unwrap();
    let entry = Entry::leaf_issuance(&certificates[0], &certificates[1])
        .unwrap()
        .encode()
        .unwrap();
    let record = delegate_record(&certificates[1]);

    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let log_vkey = key.verifier();
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
    log.append(&[b"a".to_vec(), record.clone(), entry.clone(), b"d".to_vec()])
        .unwrap();
    let mut bundle = StapledBundle::from_log(&log, 2, &entry, certificates).unwrap();
    bundle.add_delegate(&log, &record).unwrap();
    bundle.checkpoint = cosigned(&bundle.checkpoint, &log_vkey, &witness);
    Setup {
        dir,
        bundle,
        witness,
    }
}

fn write_bundle(dir: &Path, name: &str, bundle: &StapledBundle) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bundle.to_text()).unwrap();
    path.display().to_string()
}

/// `verify --bundle BUNDLE` against the fixture root, the log key and the witness key.
fn rust_pki(s: &Setup, bundle: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", bundle, "--root"])
        .arg(fixture("root.pem"))
        .args(["--log-vkey", &s.path("log.vkey"), "--at", AT])
        .args(["--witness-vkey", &s.path("witness.vkey")])
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
        stdout.contains(&format!(
            "logged in {ORIGIN} as entry 2 of tree size 4, 1 witness cosignature(s)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("delegate logged as the ceremony record at entry 1 of the same tree"),
        "{stdout}"
    );

    let out = rust_pki(&s, &b, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["result"]["log"]["index"], 2);
    assert_eq!(json["result"]["log"]["tree_size"], 4);
    assert_eq!(json["result"]["log"]["delegate_index"], 1);
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
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["rule"], "inclusion");

    // Checkpoint signed by another key with the log's name.
    let mut forged = s.bundle.clone();
    let forger = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let cp = SignedCheckpoint::verify(
        &s.bundle.checkpoint,
        &VerifierKey::parse(std::fs::read_to_string(s.path("log.vkey")).unwrap().trim()).unwrap(),
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
            "--log-vkey",
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
fn witness_policy_is_required_by_default() {
    let s = setup();
    let log_vkey =
        VerifierKey::parse(std::fs::read_to_string(s.path("log.vkey")).unwrap().trim()).unwrap();
    // The same bundle with the log's signature only (the witness's line dropped).
    let mut bare = s.bundle.clone();
    let note = String::from_utf8(s.bundle.checkpoint.clone()).unwrap();
    bare.checkpoint = note
        .lines()
        .filter(|l| !l.starts_with("\u{2014} witness.example/w1 "))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes();
    assert!(bare.checkpoint.len() < s.bundle.checkpoint.len());
    let b = write_bundle(s.dir.path(), "bare.bundle", &bare);
    // No --min-witnesses: at least one is required.
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .starts_with("INVALID [witnesses]: 0 valid witness cosignature(s), 1 required"),
        "{}",
        text(&out.stderr)
    );
    // Without any --witness-vkey, the same.
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", &b, "--root"])
        .arg(fixture("root.pem"))
        .args(["--log-vkey", &s.path("log.vkey"), "--at", AT])
        .args(["--purpose", "releases", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["rule"], "witnesses");
    // --min-witnesses 0 is an explicit choice, and warned about.
    let out = rust_pki(&s, &b, &["--min-witnesses", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("warning: --min-witnesses 0: no witness cosignature is required"),
        "{}",
        text(&out.stderr)
    );
    // Cosigned by a witness the verifier does not trust: still refused.
    let stranger = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let mut foreign = bare.clone();
    foreign.checkpoint = cosigned(&bare.checkpoint, &log_vkey, &stranger);
    let b = write_bundle(s.dir.path(), "foreign.bundle", &foreign);
    let out = rust_pki(&s, &b, &[]);
    assert!(
        text(&out.stderr).starts_with("INVALID [witnesses]"),
        "{}",
        text(&out.stderr)
    );
    // The trusted witness's cosignature: accepted.
    let b = write_bundle(s.dir.path(), "cosigned.bundle", &s.bundle);
    let out = rust_pki(&s, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 witness cosignature(s) (witness.example/w1+"));
    assert!(!text(&out.stderr).contains("warning"));
}

#[test]
fn leaf_under_a_delegate_that_was_never_logged_is_refused() {
    // The fixture delegate was certified outside any ceremony: the log holds only the
    // leaf's issuance, as `log append --leaf` (or an operator's own tooling) would add it.
    let s = setup();
    let mut orphan = s.bundle.clone();
    orphan.delegate = None;
    let b = write_bundle(s.dir.path(), "orphan.bundle", &orphan);
    let out = rust_pki(&s, &b, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [delegate-entry]: the delegate certificate (SHA-256 "),
        "{stderr}"
    );
    assert!(stderr.contains("carries no delegate entry"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["rule"], "delegate-entry");
    // Written as a v1 bundle (no place for the delegate at all): the same refusal.
    let b = s.path("orphan-v1.bundle");
    std::fs::write(
        &b,
        orphan
            .to_text()
            .replacen("rust-pki-bundle/v2", "rust-pki-bundle/v1", 1),
    )
    .unwrap();
    let out = rust_pki(&s, &b, &[]);
    assert!(
        text(&out.stderr).starts_with("INVALID [delegate-entry]"),
        "{}",
        text(&out.stderr)
    );

    // The delegate logged as if it were a leaf (`log append --leaf delegate --delegate
    // root`), proven in the same tree: a leaf issuance is not a ceremony record.
    let chain_pem = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let certificates = pem_certificates(&chain_pem).unwrap();
    let root_der = pem_certificates(&std::fs::read_to_string(fixture("root.pem")).unwrap())
        .unwrap()
        .remove(0);
    let as_leaf = Entry::leaf_issuance(&certificates[1], &root_der)
        .unwrap()
        .encode()
        .unwrap();
    let leaf_entry = s.bundle.entry.clone();
    let dir = tempfile::tempdir().unwrap();
    let log_key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let log_key_vkey = log_key.verifier();
    std::fs::write(dir.path().join("log.vkey"), format!("{log_key_vkey}\n")).unwrap();
    let mut log = Log::create(dir.path().join("log"), ORIGIN, move |body: &[u8]| {
        sign_note(body, &log_key)
    })
    .unwrap();
    log.append(&[as_leaf.clone(), leaf_entry.clone()]).unwrap();
    let mut forged = StapledBundle::from_log(&log, 1, &leaf_entry, certificates).unwrap();
    let (proof, _) = log.prove_inclusion(0).unwrap();
    forged.delegate = Some(DelegateProof {
        entry: as_leaf,
        index: 0,
        proof: proof.into_iter().map(Into::into).collect(),
    });
    forged.checkpoint = cosigned(&forged.checkpoint, &log_key_vkey, &s.witness);
    let b = write_bundle(dir.path(), "forged.bundle", &forged);
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", &b, "--root"])
        .arg(fixture("root.pem"))
        .arg("--log-vkey")
        .arg(dir.path().join("log.vkey"))
        .args(["--at", AT, "--witness-vkey", &s.path("witness.vkey")])
        .args(["--purpose", "releases"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [delegate-entry]")
            && text(&out.stderr).contains("not a ceremony record naming this certificate"),
        "{}",
        text(&out.stderr)
    );
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
    let log_vkey = key.verifier();
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
    log.append(&[b"a".to_vec(), entry.clone(), b"c".to_vec()])
        .unwrap();
    let mut bundle = StapledBundle::from_log(&log, 1, &entry, vec![delegate_der]).unwrap();
    bundle.checkpoint = cosigned(&bundle.checkpoint, &log_vkey, &witness);
    Setup {
        dir,
        bundle,
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
    assert_eq!(json["ok"], true);
    assert_eq!(json["result"]["target"], "ca");
    assert_eq!(json["result"]["path"][0]["role"], "ca");
    assert_eq!(json["result"]["path"][1]["role"], "root");
    assert_eq!(json["result"]["log"]["index"], 1);
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
        .args(["--log-vkey", &s.path("log.vkey"), "--at", AT])
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
    assert_eq!(json["ok"], false);
    assert_eq!(json["error"]["rule"], "wrong-eku");
    assert_eq!(json["error"]["cert"]["role"], "ca");
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

/// The light `rust-pki-verify` binary (verify crate, feature `cli`), built with the same
/// profile into the same target directory: `cargo test` builds only this package's binaries.
fn light_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let rust_pki = PathBuf::from(env!("CARGO_BIN_EXE_rust-pki"));
            let profile_dir = rust_pki.parent().unwrap().to_path_buf();
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .args([
                    "build",
                    "--locked",
                    "-p",
                    "rust-pki-verify",
                    "--features",
                    "cli",
                ])
                .args(["--bin", "rust-pki-verify", "--manifest-path"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
            if profile_dir.ends_with("release") {
                cargo.arg("--release");
            }
            let status = cargo.status().unwrap();
            assert!(status.success(), "building rust-pki-verify: {status}");
            profile_dir.join(format!("rust-pki-verify{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

#[test]
fn light_binary_gives_the_same_verdicts_as_rust_pki_verify() {
    let s = setup();
    let good = write_bundle(s.dir.path(), "leaf.bundle", &s.bundle);
    let mut tampered = s.bundle.clone();
    tampered.proof[0].0[0] ^= 1;
    let tampered = write_bundle(s.dir.path(), "tampered.bundle", &tampered);
    let d = delegate_setup();
    let delegate = write_bundle(d.dir.path(), "releases.bundle", &d.bundle);
    let root = fixture("root.pem").display().to_string();
    let chain = fixture("chain.pem").display().to_string();
    // `verify` arguments: `base` (space-separated, no spaces in the paths) then `extra`.
    let args = |base: String, extra: &str| -> Vec<String> {
        base.split(' ')
            .chain(extra.split(' ').filter(|a| !a.is_empty()))
            .map(str::to_owned)
            .collect()
    };
    let bundle = |setup: &Setup, bundle: &str, extra: &str| {
        let base = format!(
            "--bundle {bundle} --root {root} --log-vkey {} --witness-vkey {} --at {AT}",
            setup.path("log.vkey"),
            setup.path("witness.vkey")
        );
        args(base, extra)
    };
    let chain_at =
        |at: &str, extra: &str| args(format!("--root {root} --chain {chain} --at {at}"), extra);
    let cases = [
        ("good bundle", bundle(&s, &good, "--purpose releases"), 0),
        (
            "good bundle, JSON",
            bundle(&s, &good, "--purpose releases --json"),
            0,
        ),
        (
            "tampered proof",
            bundle(&s, &tampered, "--purpose releases --json"),
            1,
        ),
        (
            "too few witnesses",
            bundle(&s, &good, "--purpose releases --min-witnesses 2"),
            1,
        ),
        (
            "no witness required",
            bundle(&s, &good, "--purpose releases --min-witnesses 0"),
            0,
        ),
        (
            "delegate bundle, --ca",
            bundle(&d, &delegate, "--purpose releases --ca"),
            0,
        ),
        (
            "delegate bundle as a leaf",
            bundle(&d, &delegate, "--purpose releases --json"),
            1,
        ),
        ("chain", chain_at(AT, "--purpose releases"), 0),
        (
            "chain, EKU, JSON",
            chain_at(AT, "--eku 1.3.6.1.4.1.32473.1.1 --json"),
            0,
        ),
        (
            "chain, other purpose",
            chain_at(AT, "--purpose bors --json"),
            1,
        ),
        (
            "chain, expired",
            chain_at("2040-01-01T00:00:00Z", "--purpose releases"),
            1,
        ),
        // A configuration error, not a verdict on the chain (exit 2).
        ("unknown purpose", chain_at(AT, "--purpose nightly"), 2),
        (
            "unknown purpose, JSON",
            chain_at(AT, "--purpose nightly --json"),
            2,
        ),
        (
            "old flag names: the same verdict and warnings",
            args(
                format!(
                    "--bundle {good} --root {root} --log-key {} --witness {} --at {AT}",
                    s.path("log.vkey"),
                    s.path("witness.vkey")
                ),
                "--purpose releases",
            ),
            0,
        ),
    ];
    let light = light_binary();
    for (what, args, code) in cases {
        let alias = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .arg("verify")
            .args(&args)
            .output()
            .unwrap();
        let own = Command::new(&light).args(&args).output().unwrap();
        assert_eq!(
            alias.status.code(),
            Some(code),
            "{what}: {}",
            text(&alias.stderr)
        );
        assert_eq!(
            own.status.code(),
            Some(code),
            "{what}: {}",
            text(&own.stderr)
        );
        // JSON is compared as values: with `--all-features` another crate turns on
        // serde_json's preserve_order, which changes the order of keys, not the verdict.
        match (
            serde_json::from_slice::<serde_json::Value>(&own.stdout),
            serde_json::from_slice::<serde_json::Value>(&alias.stdout),
        ) {
            (Ok(own_json), Ok(alias_json)) => assert_eq!(own_json, alias_json, "{what}: JSON"),
            _ => assert_eq!(text(&own.stdout), text(&alias.stdout), "{what}: stdout"),
        }
        assert_eq!(text(&own.stderr), text(&alias.stderr), "{what}: stderr");
        if what.starts_with("old flag names") {
            assert!(
                text(&own.stderr).starts_with(
                    "warning: --log-key is deprecated and will be removed: use --log-vkey\n\
                     warning: --witness is deprecated and will be removed: use --witness-vkey\n"
                ),
                "{}",
                text(&own.stderr)
            );
        }
    }
}

/// The old names (`--log-key`, `--witness`) still verify, with a warning each; a secret key
/// given as the log's or a witness's verifier key is refused by name.
#[test]
fn renamed_key_flags_warn_and_secret_keys_are_refused() {
    let s = setup();
    let b = write_bundle(s.dir.path(), "leaf.bundle", &s.bundle);
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(["--bundle", &b, "--root"])
        .arg(fixture("root.pem"))
        .args(["--log-key", &s.path("log.vkey"), "--at", AT])
        .args([
            "--witness",
            &s.path("witness.vkey"),
            "--purpose",
            "releases",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "warning: --log-key is deprecated and will be removed: use --log-vkey\n\
         warning: --witness is deprecated and will be removed: use --witness-vkey\n"
    );
    let secret = s.dir.path().join("witness.skey");
    std::fs::write(&secret, s.witness.expose_secret()).unwrap();
    let secret = secret.display().to_string();
    for flag in ["--log-vkey", "--witness-vkey"] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rust-pki"));
        command
            .arg("verify")
            .args(["--bundle", &b, "--root"])
            .arg(fixture("root.pem"))
            .args(["--at", AT, "--purpose", "releases"]);
        if flag == "--log-vkey" {
            command.args([
                "--log-vkey",
                &secret,
                "--witness-vkey",
                &s.path("witness.vkey"),
            ]);
        } else {
            command.args(["--log-vkey", &s.path("log.vkey"), "--witness-vkey", &secret]);
        }
        let out = command.output().unwrap();
        let stderr = text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{flag}: {stderr}");
        assert!(
            stderr.contains("keep the secret key out of CI") && stderr.contains("witness.skey"),
            "{flag}: {stderr}"
        );
        assert!(
            !stderr.contains(&s.witness.expose_secret()[12..]),
            "{stderr}"
        );
    }
}
