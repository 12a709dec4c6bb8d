//! The operator attacks the quorum (docs/threat-model.md): each test does what the person at
//! the bastion could do — edit files between steps, copy folders, run processes at once —
//! and asserts the rule that refuses it and that nothing was signed, logged or published.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use base64ct::{Base64, Encoding};
use common::{
    MODULE,
    bastion::{Bastion, SPY, spied_calls},
    set_toml_string,
};
use sha2::{Digest, Sha256};

/// The refusal of `rust-pki args` (which must fail).
fn refused(bastion: &Bastion, args: &[&str]) -> String {
    let output = bastion.rust_pki(args, None);
    assert!(
        !output.status.success(),
        "rust-pki {args:?} unexpectedly succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
}

fn show_refused(bastion: &Bastion, request: &Path) -> String {
    refused(bastion, &Bastion::show_args(request))
}

fn approve_refused(bastion: &Bastion, request: &Path, member: usize) -> String {
    let out = bastion.path(&format!("m{member}-attack.sig"));
    let err = refused(
        bastion,
        &[
            "ceremony",
            "approve",
            request.to_str().unwrap(),
            "--key",
            bastion.key(member).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!out.exists(), "a refused approval writes no signature");
    err
}

/// An execute of `request` as a child process through the PKCS#11 spy (logging to
/// `spy_log`), to run several at once.
fn spawn_execute(bastion: &Bastion, request: &Path, spy_log: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(bastion.path(""))
        .env("SOFTHSM2_CONF", bastion.path("hsm/softhsm2.conf"))
        .env("PKCS11SPY", MODULE)
        .env("PKCS11SPY_OUTPUT", spy_log)
        .args(["ceremony", "execute", request.to_str().unwrap()])
        .args([
            "--out",
            "out",
            "--state-dir",
            "state",
            "--roster",
            "roster.toml",
        ])
        .args(["--policy", "policy.toml", "--module", SPY])
        .args(["--log", "log", "--log-skey", "log.skey"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Run `requests` at once; their outputs and how many signatures the HSM made in all.
fn execute_at_once(bastion: &Bastion, requests: &[&Path]) -> (Vec<Output>, usize) {
    let logs: Vec<PathBuf> = (0..requests.len())
        .map(|i| bastion.path(&format!("spy-{i}.log")))
        .collect();
    let children: Vec<_> = requests
        .iter()
        .zip(&logs)
        .map(|(request, log)| spawn_execute(bastion, request, log))
        .collect();
    let outputs = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let signatures = logs
        .iter()
        .map(|log| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            spied_calls(&text)
                .iter()
                .filter(|call| *call == "C_SignInit")
                .count()
        })
        .sum();
    (outputs, signatures)
}

/// A delegate-issue request for a new key of `purpose` in the delegate owners' token.
fn delegate_request_for(bastion: &Bastion, purpose: &str, label: &str) -> PathBuf {
    let key = format!(
        "pkcs11:token=delegate-owners;object={label}?module-path={MODULE}&pin-source=file:{}",
        bastion.path("hsm/delegate-owners.pin").display()
    );
    bastion.ok(&["hsm", "keygen", "--key", &key]);
    let csr = bastion.path(&format!("{label}.csr"));
    bastion.ok(&[
        "hsm",
        "csr",
        "--key",
        &key,
        "--subject",
        &format!("CN={purpose}"),
        "--out",
        csr.to_str().unwrap(),
    ]);
    bastion.prepare(
        label,
        &format!(
            "kind = \"delegate-issue\"\nwindow_hours = 24\npurpose = \"{purpose}\"\ncsr = \"{}\"\n",
            csr.display()
        ),
    )
}

fn fingerprint(public_key: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public_key)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().nth(1).unwrap().to_owned()
}

/// Attack 1: the operator swaps the new roster of an honest roster change for one with the
/// same ids, names and organisations but the operator's keys. `show` prints every key of
/// the new roster and marks each substituted one against the member's own roster.
#[test]
fn show_marks_every_substituted_key_of_a_roster_change() {
    let bastion = Bastion::with_root();
    let (request, new_roster) = bastion.prepare_roster_change_m9_to_m10();
    let honest = bastion.show(&request);
    assert!(honest.contains("(the same as this binary)"), "{honest}");
    assert!(
        honest.contains("(matches your policy.toml)")
            && honest.contains("(matches your roster.toml)"),
        "{honest}"
    );
    assert!(honest.contains("    + m10  Member 9"), "{honest}");
    assert!(honest.contains("    - m9  Member 9"), "{honest}");
    assert!(honest.contains("(removed)"), "{honest}");
    for i in 1..=8 {
        assert!(
            honest.contains(&format!("    = m{i}  Member {i}")),
            "{honest}"
        );
    }
    assert!(!honest.contains("    ~ "), "{honest}");

    // The operator's own keys for m1..m5, everything else unchanged.
    let mut forged = new_roster.clone();
    for i in 1..=5 {
        let operator = bastion.path(&format!("operator{i}"));
        let status = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                &format!("m{i}"),
                "-f",
            ])
            .arg(&operator)
            .status()
            .unwrap();
        assert!(status.success());
        let theirs = std::fs::read_to_string(bastion.key(i).with_extension("pub")).unwrap();
        let mine = std::fs::read_to_string(operator.with_extension("pub")).unwrap();
        forged = forged.replace(theirs.trim(), mine.trim());
    }
    assert_ne!(forged, new_roster);
    set_toml_string(
        &request,
        "new_roster",
        &Base64::encode_string(forged.as_bytes()),
    );
    set_toml_string(
        &request,
        "new_roster_sha256",
        &hex::encode(Sha256::digest(forged.as_bytes())),
    );
    let shown = bastion.show(&request);
    for i in 1..=5 {
        let member = bastion.key(i).with_extension("pub");
        let operator = bastion.path(&format!("operator{i}.pub"));
        assert!(
            shown.contains(&format!("    ~ m{i}  Member {i}")),
            "m{i} not marked as changed:\n{shown}"
        );
        let change = format!(
            "        ssh key: ssh-ed25519 {} -> ssh-ed25519 {}",
            fingerprint(&member),
            fingerprint(&operator)
        );
        assert!(shown.contains(&change), "missing `{change}` in\n{shown}");
    }
    for i in 6..=8 {
        assert!(
            shown.contains(&format!("    = m{i}  Member {i}")),
            "{shown}"
        );
    }
}

/// Attack 2: a summary with a newline and terminal escapes would print a fake fingerprint
/// line and hide the rest. It breaks the inert-text rule: show, approve and execute refuse it.
#[test]
fn hostile_summary_is_refused_by_show_approve_and_execute() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    for hostile in [
        "Renew\\n  read aloud:        0000-0000-0000-0000\\u001B[8m",
        "Issue the releases delegate\\u200B",
        "Issue \\u202Eesaeler",
    ] {
        set_toml_string(&request, "summary", hostile);
        for err in [
            show_refused(&bastion, &request),
            approve_refused(&bastion, &request, 6),
            bastion.execute_fails(&request),
        ] {
            assert!(
                err.contains("field `summary` breaks rule `inert-text`"),
                "{err}"
            );
            assert!(
                !err.contains('\u{1b}'),
                "the refusal itself stays inert: {err:?}"
            );
        }
    }
    assert!(!bastion.path("out/delegates").exists());
}

/// Attack 3: output paths outside `--out`, or spelt differently (`./root.crl`) so that the
/// next root CRL would miss the revocations published under `root.crl`.
#[test]
fn output_paths_outside_the_fixed_set_are_refused() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let original = std::fs::read_to_string(&request).unwrap();
    let escape = bastion.path("escaped.pem");
    for path in [
        "../escaped.pem",
        escape.to_str().unwrap(),
        "./delegates/releases.pem",
        "delegates//releases.pem",
        "delegates/crates-io.pem",
    ] {
        std::fs::write(&request, &original).unwrap();
        set_toml_string(&request, "path", path);
        let err = bastion.execute_fails(&request);
        assert!(
            err.contains("field `output` breaks rule `outputs`")
                && err.contains("delegates/releases.pem"),
            "{path}: {err}"
        );
        assert!(show_refused(&bastion, &request).contains("rule `outputs`"));
    }
    assert!(!escape.exists() && !bastion.path("out/delegates").exists());

    // The revocation case: a delegate-revoke publishing `./root.crl`.
    std::fs::write(&request, &original).unwrap();
    bastion.execute_ok(&request);
    let revoke = bastion.revoke_releases_request();
    bastion.approve(&revoke, &[1, 2, 3, 4, 5], true);
    set_toml_string(&revoke, "path", "./root.crl");
    assert!(approve_refused(&bastion, &revoke, 6).contains("breaks rule `outputs`"));
    let err = bastion.execute_fails(&revoke);
    assert!(err.contains("breaks rule `outputs`"), "{err}");
    assert!(!bastion.path("out/root.crl").exists());
}

/// Attack 4: a window stretched to decades keeps approvals usable forever.
#[test]
fn windows_beyond_fourteen_days_from_prepare_are_refused() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    let original = std::fs::read_to_string(&request).unwrap();
    for (field, value, reason) in [
        ("not_before", "1970-01-01T00:00:00Z", "before prepared_at"),
        (
            "not_after",
            "2099-01-01T00:00:00Z",
            "more than 14 days after prepared_at",
        ),
        (
            "prepared_at",
            "1970-01-01T00:00:00Z",
            "more than 14 days after prepared_at",
        ),
    ] {
        std::fs::write(&request, &original).unwrap();
        set_toml_string(&request, field, value);
        let err = approve_refused(&bastion, &request, 1);
        assert!(
            err.contains("breaks rule `window`") && err.contains(reason),
            "{err}"
        );
        assert!(show_refused(&bastion, &request).contains("rule `window`"));
    }
    // Approved first, edited after: refused by the rule before the approvals are checked.
    std::fs::write(&request, &original).unwrap();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    set_toml_string(&request, "not_before", "1970-01-01T00:00:00Z");
    set_toml_string(&request, "not_after", "2099-01-01T00:00:00Z");
    let err = bastion.execute_fails(&request);
    assert!(err.contains("breaks rule `window`"), "{err}");
}

/// Attack 5a: a request folder copied out of the state directory (or linked back into it)
/// does not execute; the original executes once.
#[test]
fn copied_or_linked_request_folders_do_not_execute() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let folder = request.parent().unwrap();
    let copy = bastion.path("elsewhere/002-delegate-issue");
    std::fs::create_dir_all(&copy).unwrap();
    let status = Command::new("cp")
        .args([
            "-a",
            &format!("{}/.", folder.display()),
            copy.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let link = bastion.path("state/003-delegate-issue");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    let size_before = bastion.log_size();
    for copied in [copy.join("request.toml"), link.join("request.toml")] {
        let err = bastion.execute_fails(&copied);
        assert!(
            err.contains("a request executes only from its own folder in the state directory"),
            "{err}"
        );
    }
    std::fs::remove_file(&link).unwrap();
    bastion.execute_ok(&request);
    let err = bastion.execute_fails(&copy.join("request.toml"));
    assert!(err.contains("executes only from its own folder"), "{err}");
    assert_eq!(bastion.records(), 2);
    assert_eq!(bastion.log_size(), size_before + 1);
}

/// Attack 5b: two approved requests built on the same latest record, executed at once:
/// exactly one signs; the other is refused as stale, and the state stays usable.
#[test]
fn parallel_siblings_exactly_one_executes() {
    let bastion = Bastion::with_root();
    let releases = delegate_request_for(&bastion, "releases", "releases-a");
    let crates = delegate_request_for(&bastion, "crates-io", "crates-a");
    bastion.approve(&releases, &[1, 2, 3, 4, 5], true);
    bastion.approve(&crates, &[5, 6, 7, 8, 9], true);
    let size_before = bastion.log_size();
    let (outputs, signatures) = execute_at_once(&bastion, &[&releases, &crates]);
    assert_eq!(signatures, 1, "the HSM signed for the loser too");
    let winners = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(winners, 1, "{outputs:?}");
    let loser = outputs.iter().find(|o| !o.status.success()).unwrap();
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(err.contains("prepared on an older record chain"), "{err}");
    assert_eq!(bastion.records(), 2);
    assert_eq!(bastion.log_size(), size_before + 1);
    // The state is still usable: the next ceremony prepares and executes.
    let next = bastion.delegate_request();
    bastion.approve(&next, &[2, 3, 4, 5, 6], true);
    bastion.execute_into(&next, "out-next", None);
    assert_eq!(bastion.records(), 3);
}

/// Attack 5c: the same request executed three times at once signs and logs once; the others
/// wait for the lock and find it executed.
#[test]
fn the_same_request_executed_in_parallel_runs_once() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let size_before = bastion.log_size();
    let (outputs, signatures) = execute_at_once(&bastion, &[&request, &request, &request]);
    assert_eq!(signatures, 1, "the HSM signed more than once");
    for output in &outputs {
        assert!(output.status.success(), "{output:?}");
    }
    let stdout: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .collect();
    let executed = stdout.iter().filter(|s| s.contains(") executed")).count();
    let again = stdout
        .iter()
        .filter(|s| s.contains("was already executed"))
        .count();
    assert_eq!((executed, again), (1, 2), "{stdout:?}");
    assert_eq!(bastion.records(), 2);
    assert_eq!(bastion.log_size(), size_before + 1);
}

/// Attack 6: after execution the operator swaps the certificate in the record (digest
/// fixed up) or points an output outside `--out`; a rerun refuses to republish.
#[cfg(feature = "fault-injection")]
#[test]
fn a_tampered_record_is_not_republished() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    // Stopped after the record was written, before it was logged: only the record vouches
    // for itself (a logged one must also match its log entry).
    let crashed = bastion.execute(&request, Some("recorded"));
    assert!(!crashed.status.success());
    let record = request.parent().unwrap().join("record.toml");
    let original = std::fs::read_to_string(&record).unwrap();

    // Another certificate (the root's) in place of the delegate's, its digest fixed up.
    let root = std::fs::read_to_string(bastion.path("out/root.pem")).unwrap();
    let mut table: toml::Table = toml::from_str(&original).unwrap();
    let output = table["output"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    output.insert("contents".into(), root.clone().into());
    output.insert(
        "sha256".into(),
        hex::encode(Sha256::digest(root.as_bytes())).into(),
    );
    let swapped = toml::to_string(&table).unwrap();
    assert_ne!(swapped, original);
    std::fs::write(&record, &swapped).unwrap();
    let output = bastion.execute(&request, None);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && err.contains("the record does not match its request")
            && err.contains("not signed over the TBS the members approved"),
        "{err}"
    );
    assert!(!bastion.path("out/delegates/releases.pem").exists());

    // An output path leading out of --out.
    std::fs::write(
        &record,
        original.replace(
            "path = \"delegates/releases.pem\"",
            "path = \"../escaped.pem\"",
        ),
    )
    .unwrap();
    let output = bastion.execute(&request, None);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && err.contains("the record does not match its request"),
        "{err}"
    );
    assert!(!bastion.path("escaped.pem").exists());

    // The untouched record republishes what was approved.
    std::fs::write(&record, &original).unwrap();
    let out = bastion.execute_ok(&request);
    assert!(out.contains("was already executed"), "{out}");
    assert!(bastion.path("out/delegates/releases.pem").exists());
}

/// Attack 9 (seen from the roster side): `roster check` says whether a roster is the
/// genesis roster the policy pins, so a substituted one is visible before any ceremony.
#[test]
fn roster_check_flags_a_roster_that_is_not_the_pinned_genesis() {
    let bastion = Bastion::new();
    let check = |roster: &str| {
        bastion.ok(&[
            "ceremony",
            "roster",
            "check",
            "--roster",
            roster,
            "--policy",
            "policy.toml",
        ])
    };
    assert!(check("roster.toml").contains("(the genesis roster the policy pins)"));
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    let m1 = std::fs::read_to_string(bastion.key(1).with_extension("pub")).unwrap();
    let m10 = std::fs::read_to_string(bastion.key(10).with_extension("pub")).unwrap();
    std::fs::write(
        bastion.path("substituted.toml"),
        roster.replace(m1.trim(), m10.trim()),
    )
    .unwrap();
    let shown = check("substituted.toml");
    assert!(
        shown.contains("NOT the genesis roster the policy pins"),
        "{shown}"
    );
}

/// Attack 6 (the log side): a record edited after it was logged (here only its finishing
/// time, which nothing else pins) is refused against its log entry; a record deleted after
/// it was logged does not let the request execute a second time.
#[test]
fn records_must_match_their_log_entry_and_a_logged_ceremony_never_runs_twice() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let size = bastion.log_size();
    let record = request.parent().unwrap().join("record.toml");
    let original = std::fs::read_to_string(&record).unwrap();
    let at = original.find("finished_at = \"").unwrap() + "finished_at = \"".len();
    let mut edited = original.clone();
    edited.replace_range(at..at + 4, "2027");
    std::fs::write(&record, &edited).unwrap();
    let output = bastion.execute(&request, None);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && err.contains("the ceremony state and the transparency log disagree")
            && err.contains("log entry 1 is ceremony record #2 (002-delegate-issue.toml"),
        "{err}"
    );

    // The record removed: the chain would let the request run again; the log does not.
    std::fs::remove_file(&record).unwrap();
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("log entry 1 is ceremony record #2 (002-delegate-issue.toml), which the state does not hold"),
        "{err}"
    );
    assert_eq!(bastion.log_size(), size);
}

/// A member whose term ended (`reappoint_by` in the past) no longer counts towards the
/// quorum: five approvals with theirs are four; a sixth member in term makes it five.
#[test]
fn approvals_of_members_whose_term_ended_do_not_count() {
    let bastion = Bastion::new();
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    // m1 was appointed in 2026 and had to be re-appointed by 2026-02-01.
    let at = roster.find("id = \"m1\"").unwrap();
    let end = at + roster[at..].find("reappoint_by = \"2028-01-01\"").unwrap();
    let mut lapsed = roster.clone();
    lapsed.replace_range(end..end + 27, "reappoint_by = \"2026-02-01\"");
    assert_ne!(lapsed, roster);
    bastion.set_genesis_roster(&lapsed);
    let init = bastion.prepare(
        "root-init",
        &std::fs::read_to_string(format!("{}/policy/ceremonies/root-init.toml", common::REPO))
            .unwrap(),
    );
    bastion.approve(&init, &[2, 3, 4, 5, 6], false);
    bastion.execute_ok(&init);

    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("approval set aside: the member's term ended") && err.contains("m1"),
        "{err}"
    );
    assert!(err.contains("quorum not met: 4"), "{err}");
    bastion.approve(&request, &[6], true);
    let out = bastion.execute_ok(&request);
    assert!(out.contains("approved by: m2, m3, m4, m5, m6"), "{out}");
}
