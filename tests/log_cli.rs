//! `rust-pki log`: init, append (all three entry kinds), prove, verify-checkpoint, run as
//! the binary in temporary directories.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64ct::{Base64, Encoding};
use rust_pki_tlog::entry::Entry;
use tlog_tiles::{Hash, check_record, check_tree, record_hash};

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stdout.contains("PRIVATE+KEY") && !stderr.contains("PRIVATE+KEY"));
    stdout
}

fn fails(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "unexpected success: {stderr}");
    assert!(!stderr.contains("PRIVATE+KEY"));
    stderr
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
}

fn hash(b64: &str) -> Hash {
    Hash(Base64::decode_vec(b64).unwrap().try_into().unwrap())
}

fn init(dir: &Path, log: &str, origin: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{log}.skey"));
    let log_dir = dir.join(log);
    ok(&[
        &"log",
        &"init",
        &log_dir,
        &"--origin",
        &origin,
        &"--log-skey-out",
        &key,
    ]);
    (log_dir, key)
}

/// Leaf and delegate certificates as separate PEM files, from the verifier's fixture chain.
fn leaf_and_delegate(dir: &Path) -> (PathBuf, PathBuf) {
    let chain = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/verify/tests/data/cli/chain.pem"
    ))
    .unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let cut = chain.find(end).unwrap() + end.len();
    let (leaf, delegate) = (dir.join("leaf.pem"), dir.join("delegate.pem"));
    std::fs::write(&leaf, &chain[..cut]).unwrap();
    std::fs::write(&delegate, chain[cut..].trim_start()).unwrap();
    (leaf, delegate)
}

/// A delegate-issue ceremony record whose one output is the certificate in `delegate`.
fn sample_record(delegate: &Path) -> String {
    use rust_pki_ceremony::record::{Record, RecordOutput};
    let contents = std::fs::read_to_string(delegate).unwrap();
    let record = Record {
        format: rust_pki_ceremony::record::RECORD_FORMAT.into(),
        sequence: 2,
        ceremony_id: "00".repeat(16),
        kind: rust_pki_ceremony::request::Kind::DelegateIssue,
        hsm: rust_pki_ceremony::record::RecordHsm::of(&rust_pki_ceremony::request::RequestHsm {
            backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
            cluster_id: None,
        }),
        request_sha256: "11".repeat(32),
        previous_record_sha256: "22".repeat(32),
        tool_sha256: "33".repeat(32),
        started_at: "2026-11-26T10:00:00Z".into(),
        finished_at: "2026-11-26T10:00:01Z".into(),
        approved_by: vec!["m1".into()],
        request: "cmVxdWVzdA==".into(),
        approvals: Vec::new(),
        outputs: vec![RecordOutput {
            path: "delegates/releases.pem".into(),
            sha256: "44".repeat(32),
            contents,
        }],
        keys: Vec::new(),
    };
    toml::to_string(&record).unwrap()
}

#[test]
fn init_append_prove_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, key) = init(tmp.path(), "log", "example.com/log");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .starts_with("PRIVATE+KEY+example.com/log+")
    );
    let vkey = log.join("log.vkey");
    assert!(
        std::fs::read_to_string(&vkey)
            .unwrap()
            .starts_with("example.com/log+")
    );

    let (leaf, delegate) = leaf_and_delegate(tmp.path());
    let record = tmp.path().join("0002-delegate-issue.toml");
    std::fs::write(&record, sample_record(&delegate)).unwrap();
    // A file that is not a ceremony record is refused, and nothing is appended.
    let not_a_record = tmp.path().join("notes.toml");
    std::fs::write(&not_a_record, "kind = \"root-key\"\n").unwrap();
    let err = fails(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &key,
        &"--ceremony-record",
        &not_a_record,
    ]);
    assert!(err.contains("notes.toml"), "{err}");
    let first = ok(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &key,
        &"--ceremony-record",
        &record,
    ]);
    assert_eq!(field(&first, "size"), "1");
    let root1 = hash(field(&first, "root"));
    let artifact = tmp.path().join("rustc.tar.xz");
    std::fs::write(&artifact, b"release bytes").unwrap();
    let second = ok(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &key,
        &"--leaf",
        &leaf,
        &"--delegate",
        &delegate,
        &"--artifact",
        &artifact,
    ]);
    assert_eq!(field(&second, "size"), "3");
    let root3 = hash(field(&second, "root"));

    // The checkpoint verifies with the log's vkey (a copy held elsewhere)...
    let trusted = tmp.path().join("trusted.vkey");
    std::fs::copy(&vkey, &trusted).unwrap();
    let out = ok(&[&"log", &"verify-checkpoint", &log, &"--log-vkey", &trusted]);
    assert!(
        out.contains("checkpoint OK: example.com/log size 3"),
        "{out}"
    );
    // ...and not with another log's key, even one with the same name.
    let (other, _) = init(tmp.path(), "other", "example.com/log");
    let err = fails(&[
        &"log",
        &"verify-checkpoint",
        &log,
        &"--log-vkey",
        &other.join("log.vkey"),
    ]);
    assert!(
        err.contains(&format!(
            "{} does not verify with example.com/log+",
            log.join("checkpoint").display()
        )) && err.contains("no signature by a known key"),
        "{err}"
    );
    let (third, _) = init(tmp.path(), "third", "example.org/log");
    let err = fails(&[
        &"log",
        &"verify-checkpoint",
        &log,
        &"--log-vkey",
        &third.join("log.vkey"),
    ]);
    assert!(
        err.contains("does not verify with example.org/log+")
            && err.contains("no signature by a known key"),
        "{err}"
    );

    // Inclusion of the leaf issuance (index 1) and consistency of size 1 with size 3.
    let proof = ok(&[
        &"log",
        &"prove",
        &log,
        &"--index",
        &"1",
        &"--old-size",
        &"1",
    ]);
    assert_eq!(field(&proof, "size"), "3");
    assert_eq!(hash(field(&proof, "root")), root3);
    let entry = Base64::decode_vec(field(&proof, "entry")).unwrap();
    match Entry::parse(&entry).unwrap() {
        Entry::LeafIssuance { certificate, .. } => {
            assert_eq!(certificate[0], 0x30);
        }
        other => panic!("{other:?}"),
    }
    let lines: Vec<&str> = proof.lines().collect();
    let section = |key: &str| -> Vec<Hash> {
        let at = lines.iter().position(|l| l.starts_with(key)).unwrap();
        let n: usize = lines[at][key.len() + 2..].parse().unwrap();
        lines[at + 1..at + 1 + n].iter().map(|l| hash(l)).collect()
    };
    let inclusion = section("inclusion-proof");
    check_record(&inclusion, 3, root3, 1, record_hash(&entry)).unwrap();
    assert!(check_record(&inclusion, 3, root3, 0, record_hash(&entry)).is_err());
    let consistency = section("consistency-proof");
    check_tree(&consistency, 3, root3, 1, root1).unwrap();
    assert!(check_tree(&consistency, 3, root3, 1, root3).is_err());

    // Out of range.
    let err = fails(&[&"log", &"prove", &log, &"--index", &"3"]);
    assert!(
        err.contains("entry index 3 is out of range for tree size 3"),
        "{err}"
    );
    let err = fails(&[
        &"log",
        &"prove",
        &log,
        &"--index",
        &"0",
        &"--old-size",
        &"4",
    ]);
    assert!(
        err.contains("old tree size 4 is out of range for tree size 3"),
        "{err}"
    );

    // A modified entry bundle is detected.
    let bundle = log.join("tile/entries/000.p/3");
    let mut data = std::fs::read(&bundle).unwrap();
    let last = data.len() - 2;
    data[last] ^= 1;
    std::fs::write(&bundle, data).unwrap();
    let err = fails(&[&"log", &"verify-checkpoint", &log, &"--log-vkey", &trusted]);
    assert!(
        err.contains("does not match its checkpoint")
            && err.contains("is damaged or was modified")
            && err.contains("tile/entries/000.p/3"),
        "{err}"
    );
}

#[test]
fn init_refuses_an_existing_key_file() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("log.skey");
    std::fs::write(&key, "keep me").unwrap();
    let log = tmp.path().join("log");
    let err = fails(&[
        &"log",
        &"init",
        &log,
        &"--origin",
        &"example.com/log",
        &"--log-skey-out",
        &key,
    ]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), "keep me");
    assert!(!log.exists());

    // A second init of the same log directory is refused too, without touching the key.
    let (log, _) = init(tmp.path(), "log2", "example.com/log");
    let key2 = tmp.path().join("new.skey");
    let err = fails(&[
        &"log",
        &"init",
        &log,
        &"--origin",
        &"example.com/log",
        &"--log-skey-out",
        &key2,
    ]);
    assert!(
        err.contains(&format!(
            "{} already exists",
            log.join("log.vkey").display()
        )),
        "{err}"
    );
    assert!(!key2.exists());
}

#[test]
fn append_with_a_wrong_key_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, _) = init(tmp.path(), "log", "example.com/log");
    let (_, same_name) = init(tmp.path(), "impostor", "example.com/log");
    let (_, other_name) = init(tmp.path(), "other", "example.org/log");
    let artifact = tmp.path().join("a.txt");
    std::fs::write(&artifact, b"a").unwrap();
    let before = std::fs::read(log.join("checkpoint")).unwrap();
    for key in [&same_name, &other_name] {
        let err = fails(&[
            &"log",
            &"append",
            &log,
            &"--log-skey",
            key,
            &"--artifact",
            &artifact,
        ]);
        assert!(err.contains("not the key of this log"), "{err}");
    }
    let garbage = tmp.path().join("garbage.skey");
    std::fs::write(&garbage, "PRIVATE+KEY+x+00000000+AAAA").unwrap();
    let err = fails(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &garbage,
        &"--artifact",
        &artifact,
    ]);
    assert!(
        err.contains(&format!("{}: malformed signer key", garbage.display())),
        "{err}"
    );
    assert_eq!(std::fs::read(log.join("checkpoint")).unwrap(), before);
    assert!(!log.join("tile/entries").exists());
}

#[test]
fn append_needs_entries_and_matching_delegates() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, key) = init(tmp.path(), "log", "example.com/log");
    let err = fails(&[&"log", &"append", &log, &"--log-skey", &key]);
    assert!(
        err.contains("required arguments were not provided")
            && err.contains("--ceremony-record")
            && err.contains("--artifact"),
        "{err}"
    );
    let (leaf, delegate) = leaf_and_delegate(tmp.path());
    // The leaf is not a delegate's issuer: swapped arguments are refused.
    let err = fails(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &key,
        &"--leaf",
        &delegate,
        &"--delegate",
        &leaf,
    ]);
    assert!(err.contains("was not issued by"), "{err}");
    let err = fails(&[
        &"log",
        &"append",
        &log,
        &"--log-skey",
        &key,
        &"--leaf",
        &leaf,
    ]);
    assert!(
        err.contains("required arguments were not provided") && err.contains("--delegate <CERT>"),
        "{err}"
    );
    let size = ok(&[
        &"log",
        &"verify-checkpoint",
        &log,
        &"--log-vkey",
        &log.join("log.vkey"),
    ]);
    assert!(size.contains("size 0"), "{size}");
}
