//! One writer for the transparency log, driven through the binary as an operator (or an
//! attacker at the bastion) would: many appends at once make one history; parallel
//! `ca leaf --log` runs each leave a certificate with a bundle that verifies; a writer
//! that cannot get the lock says which log and lock it waited for; a crash between the
//! log append and the bundle is finished by a rerun without a second entry; a leaf under a
//! delegate that was never logged is refused before anything is signed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(feature = "fault-injection")]
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{Lab, WitnessServer};
use rust_pki_fs::DirLock;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::replica::{DirSource, Replica};

const ORIGIN: &str = "pki.example/log";

fn rust_pki() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `log init DIR/log`; returns (log dir, skey).
fn init_log(dir: &Path) -> (PathBuf, PathBuf) {
    let (log, key) = (dir.join("log"), dir.join("log.skey"));
    assert_ok(
        &rust_pki()
            .args(["log", "init"])
            .arg(&log)
            .args(["--origin", ORIGIN, "--log-skey-out"])
            .arg(&key)
            .output()
            .unwrap(),
    );
    (log, key)
}

/// The whole log, verified as a monitor fetches it (checkpoint signature, every tile).
fn replica(log: &Path) -> Replica {
    let vkey = std::fs::read_to_string(log.join("log.vkey")).unwrap();
    Replica::fetch(
        &DirSource(log.to_owned()),
        &VerifierKey::parse(vkey.trim_end()).unwrap(),
    )
    .unwrap()
}

/// `log audit DIR` (the monitor) must pass.
fn audit_ok(log: &Path) {
    let out = rust_pki()
        .args(["log", "audit"])
        .arg(log)
        .arg("--log-vkey")
        .arg(log.join("log.vkey"))
        .output()
        .unwrap();
    let stdout = assert_ok(&out);
    assert!(stdout.contains("audit OK"), "{stdout}");
}

#[test]
fn parallel_appends_make_one_history() {
    const N: usize = 12;
    let tmp = tempfile::tempdir().unwrap();
    let (log, key) = init_log(tmp.path());
    let files: Vec<PathBuf> = (0..N)
        .map(|i| {
            let f = tmp.path().join(format!("artifact-{i}.tar.xz"));
            std::fs::write(&f, format!("release file {i}")).unwrap();
            f
        })
        .collect();
    // All started before any is waited for: they race for the log.
    let children: Vec<Child> = files
        .iter()
        .map(|f| {
            rust_pki()
                .args(["log", "append"])
                .arg(&log)
                .arg("--log-skey")
                .arg(&key)
                .arg("--artifact")
                .arg(f)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut sizes: Vec<u64> = children
        .into_iter()
        .map(|c| {
            let stdout = assert_ok(&c.wait_with_output().unwrap());
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("size: "))
                .unwrap_or_else(|| panic!("no size in {stdout}"))
                .parse()
                .unwrap()
        })
        .collect();
    sizes.sort_unstable();
    // Each append extended the head the previous one signed: one checkpoint per size.
    assert_eq!(sizes, (1..=N as u64).collect::<Vec<_>>());

    // The log reopens for writing, and a monitor's copy holds every entry exactly once.
    let out = rust_pki()
        .args(["log", "verify-checkpoint"])
        .arg(&log)
        .arg("--log-vkey")
        .arg(log.join("log.vkey"))
        .output()
        .unwrap();
    assert!(
        assert_ok(&out).contains(&format!("checkpoint OK: {ORIGIN} size {N}")),
        "{}",
        text(&out.stdout)
    );
    let copy = replica(&log);
    assert_eq!(copy.checkpoint.size, N as u64);
    let mut names: Vec<String> = copy
        .entries
        .iter()
        .map(|e| match Entry::parse(e).unwrap() {
            Entry::Artifact { name, .. } => name,
            other => panic!("unexpected entry {other:?}"),
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..N).map(|i| format!("artifact-{i}.tar.xz")).collect();
    expected.sort();
    assert_eq!(names, expected);
    audit_ok(&log);
}

#[test]
fn a_writer_that_cannot_get_the_lock_names_the_log_and_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, key) = init_log(tmp.path());
    let artifact = tmp.path().join("a.txt");
    std::fs::write(&artifact, b"a").unwrap();
    let before = std::fs::read(log.join("checkpoint")).unwrap();

    let held = DirLock::acquire(&log, "transparency log", Duration::ZERO).unwrap();
    let out = rust_pki()
        .args(["log", "append"])
        .arg(&log)
        .arg("--log-skey")
        .arg(&key)
        .arg("--artifact")
        .arg(&artifact)
        .args(["--lock-timeout", "0.3"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "transparency log {} is locked by another rust-pki process (lock file {})",
            log.display(),
            log.join(".lock").display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(log.join("checkpoint")).unwrap(), before);
    // `log cosign` is a writer too (it adds cosignatures to the checkpoint).
    let witness_state = tmp.path().join("witness");
    assert_ok(
        &rust_pki()
            .args(["log", "witness", "init", "--state-dir"])
            .arg(&witness_state)
            .args(["--name", "witness.example/w1", "--witness-skey-out"])
            .arg(tmp.path().join("witness.skey"))
            .output()
            .unwrap(),
    );
    let out = rust_pki()
        .args(["log", "cosign"])
        .arg(&log)
        .arg("--log-skey")
        .arg(&key)
        .args(["--witness-url", "http://127.0.0.1:9", "--witness-vkey"])
        .arg(witness_state.join("witness.vkey"))
        .args(["--lock-timeout", "0.1"])
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("is locked by another rust-pki process"),
        "{}",
        text(&out.stderr)
    );

    // Once the lock is free, the same append goes through: waiting is not failing.
    drop(held);
    let stdout = assert_ok(
        &rust_pki()
            .args(["log", "append"])
            .arg(&log)
            .arg("--log-skey")
            .arg(&key)
            .arg("--artifact")
            .arg(&artifact)
            .output()
            .unwrap(),
    );
    assert!(stdout.contains("size: 1"), "{stdout}");
}

/// A `log witness serve` on 127.0.0.1 for the log in `log`, killed when dropped.
struct Witness {
    server: WitnessServer,
    vkey: PathBuf,
}

fn witness(dir: &Path, log: &Path) -> Witness {
    let (state, skey) = (dir.join("witness"), dir.join("witness.skey"));
    assert_ok(
        &rust_pki()
            .args(["log", "witness", "init", "--state-dir"])
            .arg(&state)
            .args(["--name", "witness.example/w1", "--witness-skey-out"])
            .arg(&skey)
            .output()
            .unwrap(),
    );
    Witness {
        server: WitnessServer::start(&state, &skey, &[&log.join("log.vkey")]),
        vkey: state.join("witness.vkey"),
    }
}

/// A lab with a root, a releases delegate (`releases.pem`, key in `delegate-owners`) and
/// a log; with `logged`, the delegate is logged as a ceremony's output with its bundle.
fn lab_with_delegate(logged: bool) -> (Lab, String) {
    let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
    let root_key = lab.root();
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    let delegate_key = lab.keygen("delegate-owners", "releases");
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "releases",
        "--subject-key",
        &delegate_key,
        "--out",
        &p("releases.pem"),
    ]);
    init_log(lab.dir.path());
    if logged {
        common::log_as_ceremony_output(
            &lab.path("releases.pem"),
            &lab.path("log"),
            &lab.path("log.skey"),
        );
    }
    (lab, delegate_key)
}

/// `rust-pki ca leaf … --log` arguments for a leaf NAME under the lab's releases delegate.
fn leaf_args(lab: &Lab, delegate_key: &str, leaf_key: &str, name: &str) -> Vec<String> {
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    [
        "ca",
        "leaf",
        "--issuer-cert",
        &p("releases.pem"),
        "--issuer-key",
        delegate_key,
        "--subject",
        &format!("CN={name},O=The Rust Project"),
        "--subject-key",
        leaf_key,
        "--out",
        &p(&format!("{name}.pem")),
        "--log",
        &p("log"),
        "--log-skey",
        &p("log.skey"),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn lab_command(lab: &Lab, args: &[String]) -> Command {
    let mut command = rust_pki();
    command
        .current_dir(common::REPO)
        .env("SOFTHSM2_CONF", lab.hsm_dir().join("softhsm2.conf"))
        .args(args);
    command
}

/// `verify --bundle NAME.bundle` with the given extra arguments.
fn verify_bundle(lab: &Lab, name: &str, extra: &[&str]) -> Output {
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    lab.rust_pki(
        [
            "verify",
            "--bundle",
            &p(&format!("{name}.bundle")),
            "--root",
            &p("root.pem"),
            "--log-vkey",
            &p("log/log.vkey"),
            "--purpose",
            "releases",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(extra.iter().map(|s| (*s).to_owned())),
    )
}

#[test]
fn parallel_leaf_issuances_each_leave_a_certificate_with_a_verifying_bundle() {
    const N: usize = 4;
    let (lab, delegate_key) = lab_with_delegate(true);
    let w = witness(lab.dir.path(), &lab.path("log"));
    let names: Vec<String> = (0..N).map(|i| format!("leaf-{i}")).collect();
    let keys: Vec<String> = names
        .iter()
        .map(|name| lab.keygen("leaf-owners", name))
        .collect();
    let children: Vec<Child> = names
        .iter()
        .zip(&keys)
        .map(|(name, key)| {
            let mut args = leaf_args(&lab, &delegate_key, key, name);
            args.extend([
                "--witness-url".to_owned(),
                w.server.url.clone(),
                "--witness-vkey".to_owned(),
            ]);
            args.push(w.vkey.to_str().unwrap().to_owned());
            lab_command(&lab, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_ok(&child.wait_with_output().unwrap());
    }
    let w_vkey = w.vkey.to_str().unwrap().to_owned();
    for name in &names {
        assert!(lab.path(&format!("{name}.pem")).is_file(), "{name}.pem");
        assert!(!lab.path(&format!("{name}.pem.pending")).exists());
        // Witness required by default, and the delegate's ceremony entry is proven.
        let out = verify_bundle(&lab, name, &["--witness-vkey", &w_vkey]);
        let stdout = assert_ok(&out);
        assert!(
            stdout.contains("1 witness cosignature(s)")
                && stdout.contains("delegate logged as the ceremony record at entry 0"),
            "{stdout}"
        );
        // The bundle is for the certificate written next to it.
        let pem = std::fs::read_to_string(lab.path(&format!("{name}.pem"))).unwrap();
        let bundle = std::fs::read_to_string(lab.path(&format!("{name}.bundle"))).unwrap();
        assert!(bundle.contains(pem.trim_end()), "{name}");
    }
    // One history, as a monitor's copy sees it: the delegate's record and one entry per
    // leaf, each leaf once. (Not `log audit`: the record is a stand-in it would refuse.)
    let copy = replica(&lab.path("log"));
    assert_eq!(copy.checkpoint.size, 1 + N as u64);
    for name in &names {
        let pem = std::fs::read_to_string(lab.path(&format!("{name}.pem"))).unwrap();
        let der = rust_pki_ca::pem::decode_der(pem.as_bytes(), "CERTIFICATE").unwrap();
        let logged = copy
            .entries
            .iter()
            .filter(|e| Entry::parse(e).unwrap().names_certificate(&der))
            .count();
        assert_eq!(logged, 1, "{name}");
    }
}

#[cfg(feature = "fault-injection")]
#[test]
fn crash_between_log_append_and_bundle_is_finished_by_a_rerun_without_a_second_entry() {
    let (lab, delegate_key) = lab_with_delegate(true);
    let leaf_key = lab.keygen("leaf-owners", "crashed");
    let args = leaf_args(&lab, &delegate_key, &leaf_key, "crashed");
    let out = lab_command(&lab, &args)
        .env("RUST_PKI_LOG_FAULT", "appended")
        .output()
        .unwrap();
    // Died at the injected point (abort), not by an error.
    assert_eq!(out.status.signal(), Some(6), "{}", text(&out.stderr));
    assert_eq!(replica(&lab.path("log")).checkpoint.size, 2);
    assert!(lab.path("crashed.pem.pending").is_file());
    assert!(!lab.path("crashed.pem").exists());
    assert!(!lab.path("crashed.bundle").exists());

    let stdout = assert_ok(&lab_command(&lab, &args).output().unwrap());
    assert!(stdout.contains("resuming"), "{stdout}");
    assert!(stdout.contains("logged as entry 1"), "{stdout}");
    // The entry was not appended again, and nothing was left pending.
    let copy = replica(&lab.path("log"));
    assert_eq!(copy.checkpoint.size, 2);
    assert!(!lab.path("crashed.pem.pending").exists());
    let pem = std::fs::read_to_string(lab.path("crashed.pem")).unwrap();
    let der = rust_pki_ca::pem::decode_der(pem.as_bytes(), "CERTIFICATE").unwrap();
    assert!(
        Entry::parse(&copy.entries[1])
            .unwrap()
            .names_certificate(&der)
    );

    // A crash after OUT was written, before the pending copy was removed: the rerun
    // only removes the copy (no signature, no entry).
    std::fs::copy(lab.path("crashed.pem"), lab.path("crashed.pem.pending")).unwrap();
    let stdout = assert_ok(&lab_command(&lab, &args).output().unwrap());
    assert!(stdout.contains("was issued and logged already"), "{stdout}");
    assert!(!lab.path("crashed.pem.pending").exists());
    assert_eq!(replica(&lab.path("log")).checkpoint.size, 2);

    // No witness here: the default refuses, naming the witness rule; 0 is allowed, warned.
    let out = verify_bundle(&lab, "crashed", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .starts_with("INVALID [witnesses]: 0 valid witness cosignature(s), 1 required"),
        "{}",
        text(&out.stderr)
    );
    let out = verify_bundle(&lab, "crashed", &["--min-witnesses", "0"]);
    assert_ok(&out);
    assert!(
        text(&out.stderr).contains("warning: --min-witnesses 0"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn leaf_under_a_delegate_that_was_never_logged_is_refused_before_signing() {
    // `ca delegate` outside a ceremony: the root signed it, but the log never saw it.
    let (lab, delegate_key) = lab_with_delegate(false);
    let leaf_key = lab.keygen("leaf-owners", "orphan");
    let args = leaf_args(&lab, &delegate_key, &leaf_key, "orphan");
    let out = lab_command(&lab, &args).output().unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: the delegate's bundle (from its delegate-issue ceremony) is needed",
            lab.path("releases.bundle").display()
        )),
        "{stderr}"
    );
    assert!(!lab.path("orphan.pem").exists());
    assert!(!lab.path("orphan.pem.pending").exists());
    assert_eq!(replica(&lab.path("log")).checkpoint.size, 0);

    // A bundle of the delegate from another log does not help: its record is not in this one.
    let other = tempfile::tempdir().unwrap();
    let (other_log, other_key) = init_log(other.path());
    let copy = other.path().join("releases.pem");
    std::fs::copy(lab.path("releases.pem"), &copy).unwrap();
    common::log_as_ceremony_output(&copy, &other_log, &other_key);
    let mut args = args;
    args.extend([
        "--delegate-bundle".to_owned(),
        other
            .path()
            .join("releases.bundle")
            .to_str()
            .unwrap()
            .to_owned(),
    ]);
    let out = lab_command(&lab, &args).output().unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the delegate's ceremony record is not in the log"),
        "{stderr}"
    );
    assert!(!lab.path("orphan.pem.pending").exists());
    assert_eq!(replica(&lab.path("log")).checkpoint.size, 0);
}
