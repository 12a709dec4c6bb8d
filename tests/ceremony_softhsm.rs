//! Quorum ceremonies end to end on SoftHSM2, with nine throwaway members (ssh-keygen):
//! the happy path, and every attack the quorum must stop before the HSM is touched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(feature = "fault-injection")]
use std::{os::unix::process::ExitStatusExt as _, process::Output};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

use common::bastion::{Bastion, assert_hsm_untouched};
use common::{MODULE, REPO};

#[cfg(feature = "fault-injection")]
/// SIGABRT: the fault hook aborts the process at its injected point.
const SIGABRT: i32 = 6;

#[cfg(feature = "fault-injection")]
/// Require that a run died by the fault hook's abort, not by an ordinary error.
fn assert_aborted(output: &Output, step: &str) {
    assert_eq!(
        output.status.signal(),
        Some(SIGABRT),
        "{step}: the run must die by the fault hook's abort ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(feature = "fault-injection")]
fn count(calls: &[String], name: &str) -> usize {
    calls.iter().filter(|call| *call == name).count()
}

#[test]
fn root_init_then_delegate_issue_with_five_of_nine() {
    let bastion = Bastion::with_root();
    // The PINs exist only as shares, one per member; no PIN file was written.
    for i in 1..=9 {
        assert!(
            bastion
                .path(&format!("state/001-root-init/user-pin/shares/m{i}.age"))
                .exists()
        );
        assert!(
            bastion
                .path(&format!("state/001-root-init/so-pin/shares/m{i}.age"))
                .exists()
        );
    }
    let request = bastion.delegate_request();
    let shown = bastion.show(&request);
    assert!(
        shown.contains("CN=Rust Releases Delegate CA") && shown.contains("read aloud:"),
        "{shown}"
    );
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let out = bastion.execute_ok(&request);
    assert!(out.contains("approved by: m2, m4, m6, m8, m9"), "{out}");
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"verify",
            &"-x509_strict",
            &"-CAfile",
            &bastion.path("out/root.pem"),
            &bastion.path("out/delegates/releases.pem"),
        ],
    );
    assert!(ok, "{text}");
    // The one-time ceremony key is gone once the record exists.
    assert!(!request.parent().unwrap().join("ceremony.key").exists());
    // The record embeds the request and every approval; ssh-keygen agrees with each.
    let record = std::fs::read_to_string(request.parent().unwrap().join("record.toml")).unwrap();
    assert_eq!(record.matches("-----BEGIN SSH SIGNATURE-----").count(), 5);
    // Both ceremonies are in the log, and the delegate carries its stapled bundle.
    assert_eq!(bastion.log_size(), 2);
    assert!(out.contains("logged as entry 1"), "{out}");
    bastion.verify_delegate_bundle("out/delegates/releases.bundle", "releases");
    // Rerunning an executed request issues nothing new and logs nothing new.
    let again = bastion.execute_ok(&request);
    assert!(again.contains("already executed"), "{again}");
    assert_eq!(bastion.records(), 2);
    assert_eq!(bastion.log_size(), 2);
}

/// The spy harness can fail: an approved ceremony logs in and signs, and
/// `assert_hsm_untouched` refuses exactly that.
#[test]
fn spied_execute_of_an_approved_request_shows_login_and_sign() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let (output, calls) = bastion.execute_spied(&request, "out");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let position = |name: &str| calls.iter().position(|call| call == name);
    let (initialize, login, sign) = (
        position("C_Initialize"),
        position("C_Login"),
        position("C_Sign"),
    );
    assert!(
        initialize.is_some() && initialize < login && login < sign,
        "C_Initialize, C_Login, C_Sign in order: {calls:?}"
    );
    let refused = std::panic::catch_unwind(|| assert_hsm_untouched(&calls));
    assert!(refused.is_err(), "assert_hsm_untouched accepted {calls:?}");
}

#[test]
fn execute_refuses_without_a_log_or_with_a_modified_one_before_the_hsm() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let args = |log: &[&'static str]| {
        let mut args = vec![
            "ceremony",
            "execute",
            request.to_str().unwrap(),
            "--out",
            "out",
            "--state-dir",
            "state",
            "--roster",
            "roster.toml",
            "--policy",
            "policy.toml",
            "--module",
            MODULE,
        ];
        args.extend_from_slice(log);
        let (output, calls) = bastion.rust_pki_spied(&args, None);
        assert_hsm_untouched(&calls);
        output
    };
    let no_log = args(&[]);
    assert!(!no_log.status.success());
    let err = String::from_utf8_lossy(&no_log.stderr);
    assert!(err.contains("--log DIR --log-skey"), "{err}");

    // A modified entry bundle: the log refuses to open, so nothing is signed or recorded.
    let tile = bastion.path("log/tile/entries/000.p/1");
    let mut bytes = std::fs::read(&tile).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&tile, &bytes).unwrap();
    let tampered = args(&["--log", "log", "--log-skey", "log.skey"]);
    assert!(!tampered.status.success());
    let err = String::from_utf8_lossy(&tampered.stderr);
    assert!(err.contains("tile/entries/000.p/1"), "{err}");
    assert!(!request.parent().unwrap().join("record.toml").exists());
    assert!(!bastion.path("out/delegates/releases.pem").exists());
}

#[test]
fn rejects_four_approvals() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4], true);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains(
            "quorum not met: 4 valid approvals from distinct members (m1, m2, m3, m4), 5 needed"
        ),
        "{err}"
    );
    assert!(!bastion.path("out/delegates/releases.pem").exists());
}

#[test]
fn rejects_one_member_twice() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4], true);
    let approvals = request.parent().unwrap().join("approvals");
    std::fs::copy(approvals.join("m4.sig"), approvals.join("m4-again.sig")).unwrap();
    let err = bastion.execute_fails(&request);
    assert!(err.contains("m4") && err.contains("m4-again.sig"), "{err}");
}

#[test]
fn rejects_non_member_signature() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4], true);
    let approvals = request.parent().unwrap().join("approvals");
    bastion.ok(&[
        "ceremony",
        "approve",
        request.to_str().unwrap(),
        "--key",
        bastion.key(10).to_str().unwrap(),
        "--out",
        approvals.join("m10.sig").to_str().unwrap(),
    ]);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("m10.sig") && err.contains("not") && err.contains("member"),
        "{err}"
    );
}

#[test]
fn rejects_approvals_of_different_bytes() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let original = std::fs::read_to_string(&request).unwrap();
    // A window still inside the rules (one second shorter), so that only the approvals
    // can refuse it.
    let seconds = original.find("not_after = \"").unwrap() + "not_after = \"".len() + 17;
    let mut window = original.clone();
    let shorter = if &original[seconds..seconds + 2] == "00" {
        "01"
    } else {
        "00"
    };
    window.replace_range(seconds..seconds + 2, shorter);
    let tbs_byte = original.find("tbs = \"").unwrap() + 20;
    let mut tbs = original.clone().into_bytes();
    tbs[tbs_byte] = if tbs[tbs_byte] == b'A' { b'B' } else { b'A' };
    // The kind and the TBS cannot change alone: the request's own rules refuse them before
    // the approvals are looked at.
    for (what, edited, refusal) in [
        ("window", window, "does not verify"),
        (
            "kind",
            original.replace("kind = \"delegate-issue\"", "kind = \"root-crl\""),
            "breaks rule `parameters`",
        ),
        (
            "one TBS byte",
            String::from_utf8(tbs).unwrap(),
            "breaks rule `tbs`",
        ),
    ] {
        assert_ne!(edited, original, "{what}");
        std::fs::write(&request, &edited).unwrap();
        let err = bastion.execute_fails(&request);
        assert!(err.contains(refusal), "{what}: {err}");
    }
    std::fs::write(&request, original).unwrap();
}

#[test]
fn rejects_wrong_namespace() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4], true);
    let approvals = request.parent().unwrap().join("approvals");
    let output = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "file", "-f"])
        .arg(bastion.key(5))
        .stdin(std::fs::File::open(&request).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success());
    std::fs::write(approvals.join("m5.sig"), output.stdout).unwrap();
    let err = bastion.execute_fails(&request);
    assert!(err.contains("namespace"), "{err}");
}

#[test]
fn rejects_replay_of_an_executed_request() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    // The same request and approvals copied into a new ceremony folder.
    let copy = bastion.path("state/099-delegate-issue");
    std::fs::create_dir_all(copy.join("approvals")).unwrap();
    std::fs::copy(&request, copy.join("request.toml")).unwrap();
    for entry in std::fs::read_dir(request.parent().unwrap().join("approvals")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join("approvals").join(entry.file_name())).unwrap();
    }
    let err = bastion.execute_fails(&copy.join("request.toml"));
    assert!(err.contains("executed already"), "{err}");
}

#[test]
fn rejects_policy_or_roster_changed_after_prepare() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    for file in ["policy.toml", "roster.toml"] {
        let path = bastion.path(file);
        let original = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{original}\n# edited\n")).unwrap();
        let err = bastion.execute_fails(&request);
        assert!(
            err.contains(file) && err.contains("changed since the request was prepared"),
            "{err}"
        );
        std::fs::write(&path, original).unwrap();
    }
}

#[test]
fn rejects_expired_window() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    // Members approve a request whose window has passed (as if executed too late).
    let mut text = std::fs::read_to_string(&request).unwrap();
    for (field, time) in [
        ("prepared_at", "2020-01-01T00:00:00Z"),
        ("not_before", "2020-01-01T00:00:00Z"),
        ("not_after", "2020-01-02T00:00:00Z"),
    ] {
        let start = text.find(&format!("{field} = \"")).unwrap() + field.len() + 4;
        let end = start + text[start..].find('"').unwrap();
        text.replace_range(start..end, time);
    }
    std::fs::write(&request, text).unwrap();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let err = bastion.execute_fails(&request);
    assert!(err.contains("may be executed from"), "{err}");
}

#[test]
fn shares_six_with_two_corrupted_fail_seven_with_two_corrupted_succeed() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5, 6], true);
    let approvals = request.parent().unwrap().join("approvals");
    for member in ["m2", "m5"] {
        let path = approvals.join(format!("{member}.user-pin.age"));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 10;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("m2.user-pin.age") && err.contains("m5.user-pin.age") && err.contains("4"),
        "{err}"
    );
    bastion.approve(&request, &[7], true);
    let out = bastion.execute_ok(&request);
    assert!(out.contains("executed"), "{out}");
}

/// One approver hands in a foreign PIN share (m6's SO PIN share as their user PIN share):
/// with four good shares besides, execute fails naming it; with five, it executes and
/// names the share it set aside.
#[test]
fn a_foreign_share_is_named_and_set_aside_when_five_good_ones_remain() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4], true);
    bastion.approve_with_shares(&request, &[6], &["001-root-init/so-pin"]);
    let approvals = request.parent().unwrap().join("approvals");
    std::fs::rename(
        approvals.join("m6.so-pin.age"),
        approvals.join("m6.user-pin.age"),
    )
    .unwrap();
    let named = "`m6` (belongs to secret `so-pin`, but this share set is for secret `user-pin`)";
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("only 4 of the 5 shares given are good, 5 needed") && err.contains(named),
        "{err}"
    );
    assert!(!bastion.path("out/delegates/releases.pem").exists());

    bastion.approve(&request, &[5], true);
    let output = bastion.execute(&request, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(named), "{stderr}");
}

/// Before any roster change the roster in force is the genesis roster the policy pins:
/// a substitute with the same ids and another key is refused by prepare, and by execute
/// when the request was edited to pin it; the genesis roster is accepted.
#[test]
fn a_substituted_genesis_roster_is_refused_by_prepare_and_execute() {
    let bastion = Bastion::new();
    let genesis = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    let m9 = std::fs::read_to_string(bastion.key(9).with_extension("pub")).unwrap();
    let m10 = std::fs::read_to_string(bastion.key(10).with_extension("pub")).unwrap();
    // The operator's key (m10's) under m9's id, name and organisation.
    let substitute = genesis.replace(m9.trim(), m10.trim());
    assert_ne!(substitute, genesis);
    let template = bastion.path("root-init.toml");
    std::fs::copy(
        format!("{REPO}/policy/ceremonies/root-init.toml"),
        &template,
    )
    .unwrap();

    std::fs::write(bastion.path("roster.toml"), &substitute).unwrap();
    let output = bastion.prepare_output(&template);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("rule genesis-roster") && err.contains("roster.toml"),
        "{err}"
    );
    assert!(!bastion.path("state").exists() || bastion.records() == 0);

    // Prepared with the genesis roster, then the roster and the request's pin swapped.
    std::fs::write(bastion.path("roster.toml"), &genesis).unwrap();
    let request = bastion.prepare("root-init", &std::fs::read_to_string(&template).unwrap());
    let honest = std::fs::read_to_string(&request).unwrap();
    let digest = |text: &str| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    let edited = honest.replace(&digest(&genesis), &digest(&substitute));
    assert_ne!(edited, honest);
    std::fs::write(&request, &edited).unwrap();
    std::fs::write(bastion.path("roster.toml"), &substitute).unwrap();
    bastion.approve(&request, &[1, 2, 3, 4, 10], false);
    let err = bastion.execute_fails(&request);
    assert!(err.contains("rule genesis-roster"), "{err}");
    assert!(!bastion.path("out/root.pem").exists());

    // The genesis roster and the honest request: executed.
    std::fs::write(&request, &honest).unwrap();
    std::fs::write(bastion.path("roster.toml"), &genesis).unwrap();
    std::fs::remove_dir_all(request.parent().unwrap().join("approvals")).unwrap();
    std::fs::create_dir(request.parent().unwrap().join("approvals")).unwrap();
    bastion.approve(&request, &[1, 2, 3, 4, 5], false);
    bastion.execute_ok(&request);
    assert!(bastion.path("out/root.pem").exists());
}

#[cfg(feature = "fault-injection")]
#[test]
fn crash_at_each_step_then_rerun_issues_exactly_once() {
    let bastion = Bastion::with_root();
    for step in ["checked", "signed", "recorded"] {
        let request = bastion.delegate_request();
        bastion.approve(&request, &[1, 3, 5, 7, 9], true);
        let before = bastion.records();
        let (crashed, calls) = bastion.execute_spied_with_fault(&request, "out", step);
        assert_aborted(&crashed, step);
        // Where it died, seen from the HSM: checked is before the token is used, signed
        // and recorded after exactly one signing operation (C_SignInit; cryptoki calls
        // C_Sign twice in it, for the length and then the signature).
        if step == "checked" {
            assert_hsm_untouched(&calls);
        } else {
            assert_eq!(count(&calls, "C_SignInit"), 1, "{step}: {calls:?}");
        }
        let record = request.parent().unwrap().join("record.toml");
        assert_eq!(
            record.exists(),
            step == "recorded",
            "{step}: a record is complete or absent"
        );
        let out = bastion.execute_ok(&request);
        assert_eq!(bastion.records(), before + 1, "{step}: exactly one record");
        assert!(out.contains("executed"), "{step}: {out}");
        // Exactly one certificate for this request: the published one is the recorded one.
        let published =
            std::fs::read_to_string(bastion.path("out/delegates/releases.pem")).unwrap();
        let recorded = std::fs::read_to_string(&record).unwrap();
        assert!(
            recorded.contains(published.trim()),
            "{step}: the published certificate is the recorded one"
        );
        // Logged exactly once, with its bundle, however the first run ended.
        assert_eq!(
            bastion.log_size(),
            before as u64 + 1,
            "{step}: one log entry"
        );
        bastion.verify_delegate_bundle("out/delegates/releases.bundle", "releases");
        std::fs::remove_file(bastion.path("out/delegates/releases.pem")).unwrap();
        std::fs::remove_file(bastion.path("out/delegates/releases.bundle")).unwrap();
    }
    // The chain of records is intact: another ceremony still prepares and runs.
    let request = bastion.delegate_request();
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    bastion.execute_ok(&request);
}

#[test]
fn roster_breaking_the_organisation_rule_is_refused_at_prepare() {
    let bastion = Bastion::new();
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    // Pinned by the policy, so that the organisation rule (not the pin) refuses it. A
    // trailing dot does not make "Org B." a new organisation.
    bastion.set_genesis_roster(
        &roster.replace("organisation = \"Org B\"", "organisation = \"Org A.\""),
    );
    let file = bastion.path("root-init.toml");
    std::fs::copy(format!("{REPO}/policy/ceremonies/root-init.toml"), &file).unwrap();
    let output = bastion.prepare_output(&file);
    assert!(!output.status.success());
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("rule max-per-organisation") && err.contains("m1, m2, m3, m4, m5"),
        "{err}"
    );
}

/// A roster change replaces m9 by m10: the token gets new PINs shared to the new roster;
/// the departing member can no longer approve, the newcomer can, and the old share set no
/// longer opens the token.
#[test]
fn roster_change_kills_old_shares_and_removed_members() {
    let bastion = Bastion::with_root();
    let (request, new_roster) = bastion.prepare_roster_change_m9_to_m10();
    let shown = bastion.show(&request);
    assert!(shown.contains("added: m10; removed: m9"), "{shown}");
    bastion.approve_with_shares(
        &request,
        &[1, 2, 3, 4, 5],
        &["001-root-init/user-pin", "001-root-init/so-pin"],
    );
    bastion.execute_ok(&request);
    assert_eq!(
        std::fs::read_to_string(bastion.path("out/roster.toml")).unwrap(),
        new_roster
    );

    // The old roster file is no longer accepted.
    let file = bastion.path("stale.toml");
    std::fs::write(&file, "kind = \"root-crl\"\nwindow_hours = 24\n").unwrap();
    let output = bastion.prepare_output(&file);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("not the roster installed by the latest roster change")
    );
    std::fs::copy(bastion.path("out/roster.toml"), bastion.path("roster.toml")).unwrap();

    // The departing member's approval no longer counts.
    let request = bastion.delegate_request();
    // (m9 has no share in the new set; the quorum check refuses before shares matter.)
    bastion.approve_with_shares(&request, &[9, 1, 2, 3, 4], &[]);
    let err = bastion.execute_fails(&request);
    assert!(err.contains("m9.sig") && err.contains("member"), "{err}");
    // The newcomer's does, with the new shares.
    std::fs::remove_file(request.parent().unwrap().join("approvals/m9.sig")).unwrap();
    for i in [1, 2, 3, 4] {
        std::fs::remove_file(
            request
                .parent()
                .unwrap()
                .join(format!("approvals/m{i}.sig")),
        )
        .unwrap();
    }
    bastion.approve_with_shares(&request, &[10, 1, 2, 3, 4], &["002-roster-change/user-pin"]);
    bastion.execute_ok(&request);

    // The old share set rebuilds the old PIN, which the token now refuses.
    use rust_pki_ceremony::shares::{Manifest, ShareIdentity, combine, decrypt_share};
    let old = bastion.path("state/001-root-init/user-pin/shares");
    let manifest = Manifest::read(&old.join("manifest.toml")).unwrap();
    let shares: Vec<_> = (1..=5)
        .map(|i| {
            let identity = ShareIdentity::from_file(&bastion.key(i)).unwrap();
            (
                format!("m{i}"),
                decrypt_share(
                    &std::fs::read(old.join(format!("m{i}.age"))).unwrap(),
                    &identity,
                )
                .unwrap(),
            )
        })
        .collect();
    let old_pin = combine(&manifest, &shares).unwrap().secret;
    let key = format!(
        "pkcs11:token=rust-root;object=rust-root-2026?module-path={MODULE}&pin-source=env:OLD_PIN"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .env("SOFTHSM2_CONF", bastion.path("hsm/softhsm2.conf"))
        .env("OLD_PIN", secrecy::ExposeSecret::expose_secret(&old_pin))
        .args(["hsm", "show", "--key", &key])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("PIN") && err.contains("rust-root"), "{err}");
}

#[test]
fn delegate_renew_certifies_the_same_key_and_outputs_are_never_overwritten() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let renew = bastion.prepare(
        "delegate-renew",
        "kind = \"delegate-renew\"\nwindow_hours = 24\npurpose = \"releases\"\n",
    );
    bastion.approve(&renew, &[5, 6, 7, 8, 9], true);
    // Publishing into the same folder would overwrite delegates/releases.pem: refused
    // before the HSM signs, and nothing is recorded.
    let err = bastion.execute_fails(&renew);
    assert!(
        err.contains("releases.pem") && err.contains("already exists"),
        "{err}"
    );
    let output = bastion.execute_into(&renew, "out-renewed", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let spki = |path: &str| {
        let (ok, text) = common::tool(
            "openssl",
            &[
                &"x509",
                &"-in",
                &bastion.path(path),
                &"-noout",
                &"-pubkey",
                &"-serial",
            ],
        );
        assert!(ok, "{text}");
        text
    };
    let (old, new) = (
        spki("out/delegates/releases.pem"),
        spki("out-renewed/delegates/releases.pem"),
    );
    assert_eq!(
        old.split("serial=").next(),
        new.split("serial=").next(),
        "same key"
    );
    assert_ne!(old, new, "new serial");
}

/// Root rotation: a new root key and certificate, cross-certificates both ways; a client
/// pinned to the old root accepts a chain under the new root through the cross-certificate.
#[test]
fn root_rotate_with_cross_certificates_both_ways() {
    let bastion = Bastion::with_root();
    // The policy's [root] section describes the new root.
    let policy = std::fs::read_to_string(bastion.path("policy.toml")).unwrap();
    let policy = policy
        .replace("CN=Rust Root CA 2026", "CN=Rust Root CA 2033")
        .replace(
            "not_after = \"2031-12-31T23:59:59Z\"",
            "not_after = \"2033-06-30T00:00:00Z\"",
        );
    std::fs::write(bastion.path("policy.toml"), policy).unwrap();
    let request = bastion.prepare(
        "root-rotate",
        "kind = \"root-rotate\"\nwindow_hours = 24\nkey_label = \"rust-root-2033\"\n",
    );
    bastion.approve(&request, &[1, 3, 5, 7, 9], true);
    let output = bastion.execute_into(&request, "rotated", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let p = |name: &str| bastion.path(name);
    // Each root accepts the other's key through its cross-certificate.
    for (anchor, cross, subject) in [
        (
            "out/root.pem",
            "rotated/cross/new-root-by-old-root.pem",
            "rotated/root.pem",
        ),
        (
            "rotated/root.pem",
            "rotated/cross/old-root-by-new-root.pem",
            "out/root.pem",
        ),
    ] {
        let (ok, text) = common::tool(
            "openssl",
            &[
                &"verify",
                &"-x509_strict",
                &"-CAfile",
                &p(anchor),
                &p(cross),
            ],
        );
        assert!(ok, "{cross}: {text}");
        let (_, text) = common::tool(
            "openssl",
            &[&"x509", &"-in", &p(cross), &"-noout", &"-pubkey"],
        );
        let (_, expected) = common::tool(
            "openssl",
            &[&"x509", &"-in", &p(subject), &"-noout", &"-pubkey"],
        );
        assert_eq!(text, expected, "{cross} certifies the key of {subject}");
        let (ok, text) = common::tool(
            &common::pkilint("lint_pkix_cert"),
            &[&"lint", &"-s", &"ERROR", &p(cross)],
        );
        assert!(ok, "pkilint {cross}: {text}");
        let (ok, text) = common::tool(
            &common::pkilint("lint_pkix_signer_signee_cert_chain"),
            &[&"lint", &p(anchor), &p(cross)],
        );
        assert!(ok, "pkilint {anchor} -> {cross}: {text}");
    }

    // Ceremonies now use the new root key: a delegate issued after the rotation.
    let request = bastion.delegate_request();
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let output = bastion.execute_into(&request, "after", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"verify",
            &"-x509_strict",
            &"-CAfile",
            &p("rotated/root.pem"),
            &p("after/delegates/releases.pem"),
        ],
    );
    assert!(ok, "{text}");

    // A leaf under that delegate verifies for a client pinned to the OLD root, with the
    // cross-certificate as an extra intermediate.
    let delegate_key = format!(
        "pkcs11:token=delegate-owners;object=releases-{}?module-path={MODULE}&pin-source=file:{}",
        2,
        p("hsm/delegate-owners.pin").display()
    );
    common::tool(
        "openssl",
        &[
            &"ecparam",
            &"-name",
            &"secp384r1",
            &"-genkey",
            &"-noout",
            &"-out",
            &p("leaf.key"),
        ],
    );
    common::tool(
        "openssl",
        &[
            &"req",
            &"-new",
            &"-key",
            &p("leaf.key"),
            &"-subj",
            &"/CN=leaf",
            &"-out",
            &p("leaf.csr"),
        ],
    );
    bastion.ok(&[
        "ca",
        "leaf",
        "--policy",
        "policy.toml",
        "--issuer-cert",
        "after/delegates/releases.pem",
        "--issuer-key",
        &delegate_key,
        "--subject",
        "CN=rust 2033 release",
        "--csr",
        "leaf.csr",
        "--out",
        "leaf.pem",
    ]);
    let chain = [
        p("leaf.pem"),
        p("after/delegates/releases.pem"),
        p("rotated/cross/new-root-by-old-root.pem"),
    ]
    .iter()
    .map(|f| std::fs::read_to_string(f).unwrap())
    .collect::<String>();
    std::fs::write(p("chain.pem"), chain).unwrap();
    bastion.ok(&[
        "verify",
        "--root",
        "out/root.pem",
        "--chain",
        "chain.pem",
        "--purpose",
        "releases",
        "--policy",
        "policy.toml",
    ]);
    bastion.ok(&[
        "verify",
        "--root",
        "rotated/root.pem",
        "--chain",
        "chain.pem",
        "--purpose",
        "releases",
        "--policy",
        "policy.toml",
    ]);
    let untrusted = p("untrusted.pem");
    std::fs::write(
        &untrusted,
        std::fs::read_to_string(p("after/delegates/releases.pem")).unwrap()
            + &std::fs::read_to_string(p("rotated/cross/new-root-by-old-root.pem")).unwrap(),
    )
    .unwrap();
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"verify",
            &"-x509_strict",
            &"-CAfile",
            &p("out/root.pem"),
            &"-untrusted",
            &untrusted,
            &p("leaf.pem"),
        ],
    );
    assert!(ok, "{text}");
}

#[test]
fn production_policy_refuses_example_arc_ekus() {
    let bastion = Bastion::with_root();
    let policy = std::fs::read_to_string(bastion.path("policy.toml")).unwrap();
    std::fs::write(
        bastion.path("policy.toml"),
        policy.replace("test_policy = true", "test_policy = false"),
    )
    .unwrap();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("example arc") && err.contains("releases"),
        "{err}"
    );
}

/// A root-init that crashed after sharing the new PINs, or after the token was
/// initialised, but before its record is not retried blindly: the rerun refuses (no second
/// root, no record) and says why.
#[cfg(feature = "fault-injection")]
#[test]
fn root_init_crash_leaves_no_record_and_rerun_refuses() {
    for step in ["shared", "token-initialised"] {
        let bastion = Bastion::new();
        let request = bastion.prepare(
            "root-init",
            &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
        );
        bastion.approve(&request, &[1, 2, 3, 4, 5], false);
        let (crashed, calls) = bastion.execute_spied_with_fault(&request, "out", step);
        assert_aborted(&crashed, step);
        // Where it died, seen from the HSM: the token is initialised between the two
        // points, and the root key generated only after the second.
        let initialised = usize::from(step == "token-initialised");
        assert_eq!(
            count(&calls, "C_InitToken"),
            initialised,
            "{step}: {calls:?}"
        );
        assert_eq!(count(&calls, "C_InitPIN"), initialised, "{step}: {calls:?}");
        assert_eq!(count(&calls, "C_GenerateKeyPair"), 0, "{step}: {calls:?}");
        let err = bastion.execute_fails(&request);
        assert!(err.contains("interrupted"), "{step}: {err}");
        assert!(!bastion.path("out/root.pem").exists(), "{step}");
        assert_eq!(bastion.records(), 0, "{step}");
    }
}

/// delegate-revoke puts the delegate on a new root CRL; root-crl re-signs it with the
/// entry carried over; `rust-pki verify` then refuses chains through the delegate.
#[test]
fn delegate_revoke_then_root_crl_carries_the_entry_over() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let revoke = bastion.revoke_releases_request();
    let shown = bastion.show(&revoke);
    assert!(
        shown.contains("revoked:") && shown.contains("(keyCompromise)"),
        "{shown}"
    );
    bastion.approve(&revoke, &[5, 6, 7, 8, 9], true);
    bastion.execute_ok(&revoke);
    let p = |name: &str| bastion.path(name);
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"crl",
            &"-in",
            &p("out/root.crl"),
            &"-CAfile",
            &p("out/root.pem"),
            &"-noout",
            &"-verify",
            &"-text",
        ],
    );
    assert!(ok && text.contains("Key Compromise"), "{text}");
    let (_, serial) = common::tool(
        "openssl",
        &[
            &"x509",
            &"-in",
            &p("out/delegates/releases.pem"),
            &"-noout",
            &"-serial",
        ],
    );
    let serial = serial.trim().trim_start_matches("serial=").to_owned();
    assert!(
        text.to_uppercase().contains(&serial.to_uppercase()),
        "{serial} in {text}"
    );

    // Re-signing the root CRL keeps the entry (published to a new folder: never overwritten).
    let resign = bastion.prepare("root-crl", "kind = \"root-crl\"\nwindow_hours = 24\n");
    bastion.approve(&resign, &[1, 3, 5, 7, 9], true);
    let output = bastion.execute_into(&resign, "resigned", None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"crl",
            &"-in",
            &p("resigned/root.crl"),
            &"-CAfile",
            &p("out/root.pem"),
            &"-noout",
            &"-verify",
            &"-text",
        ],
    );
    assert!(
        ok && text.to_uppercase().contains(&serial.to_uppercase()),
        "{text}"
    );
    // Revoking it again is refused at prepare.
    let file = p("again.toml");
    std::fs::write(
        &file,
        "kind = \"delegate-revoke\"\nwindow_hours = 24\npurpose = \"releases\"\n",
    )
    .unwrap();
    let output = bastion.prepare_output(&file);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("revoked already"));
}

/// A roster change that crashes after re-sharing, or between the two PIN changes, is
/// finished by a rerun (its new PINs are journaled, encrypted to the ceremony key): the
/// token is never left with PINs that nobody holds shares of.
#[cfg(feature = "fault-injection")]
#[test]
fn roster_change_crash_then_rerun_completes() {
    for step in ["reshared", "user-pin-changed"] {
        let bastion = Bastion::with_root();
        let (request, _) = bastion.prepare_roster_change_m9_to_m10();
        bastion.approve_with_shares(
            &request,
            &[1, 2, 3, 4, 5],
            &["001-root-init/user-pin", "001-root-init/so-pin"],
        );
        let (crashed, calls) = bastion.execute_spied_with_fault(&request, "out", step);
        assert_aborted(&crashed, step);
        // Where it died, seen from the HSM: no PIN changed before re-sharing, only the
        // user PIN after the first change.
        let changed = usize::from(step == "user-pin-changed");
        assert_eq!(count(&calls, "C_SetPIN"), changed, "{step}: {calls:?}");
        assert_eq!(bastion.records(), 1, "{step}: no record yet");
        bastion.execute_ok(&request);
        assert!(
            !request.parent().unwrap().join("pending-pins.age").exists(),
            "{step}: journal removed"
        );
        std::fs::copy(bastion.path("out/roster.toml"), bastion.path("roster.toml")).unwrap();
        // The new share set unlocks the root.
        let request = bastion.delegate_request();
        bastion.approve_with_shares(&request, &[10, 6, 7, 8, 1], &["002-roster-change/user-pin"]);
        bastion.execute_ok(&request);
    }
}

/// An RSA-2048 CSR like a CloudHSM cluster's (`<cluster>_ClusterCsr.csr`), made by OpenSSL.
fn cluster_csr(bastion: &Bastion, name: &str, newkey: &[&str]) -> PathBuf {
    let csr = bastion.path(name);
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"req", &"-new"];
    for arg in newkey {
        args.push(arg);
    }
    let key = bastion.path(&format!("{name}.key"));
    args.extend([
        &"-nodes" as &dyn AsRef<std::ffi::OsStr>,
        &"-keyout",
        &key,
        &"-subj",
        &"/CN=HSM:123:PARTN:1, for FIPS mode",
        &"-out",
        &csr,
    ]);
    let (ok, text) = common::tool("openssl", &args);
    assert!(ok, "{text}");
    csr
}

fn cluster_template(cluster_id: &str, csr: &Path) -> String {
    format!(
        "kind = \"cluster-init\"\nwindow_hours = 24\ncluster_id = \"{cluster_id}\"\ncsr = \"{}\"\n",
        csr.display()
    )
}

/// The CloudHSM InitializeCluster flow: the root certifies the cluster's RSA key (from
/// its CSR) in a 5-of-9 ceremony; OpenSSL, pkilint and `rust-pki verify` accept the
/// certificate, which carries the cluster EKU and the CSR's subject, and is no CA.
#[test]
fn cluster_init_certifies_the_cloudhsm_cluster_key() {
    let bastion = Bastion::with_root();
    let p = |name: &str| bastion.path(name);
    let csr = cluster_csr(&bastion, "cluster.csr", &["-newkey", "rsa:2048"]);
    let id = "cluster-igklspoyj5v";
    let request = bastion.prepare("cluster-init", &cluster_template(id, &csr));
    let shown = bastion.show(&request);
    for expected in [
        &format!("Certify CloudHSM cluster {id} HSM key sha256:") as &str,
        &format!("certificate -> cluster/{id}.pem (cluster)"),
        "(RSA 2048 bits)",
        "basicConstraints (critical): not a CA",
        "keyUsage (critical): digitalSignature, keyEncipherment",
        "extendedKeyUsage: cluster (1.3.6.1.4.1.32473.1.4)",
        "CN=HSM:123:PARTN:1\\, for FIPS mode",
        "cluster CSR sha256:",
    ] {
        assert!(shown.contains(expected), "missing `{expected}` in\n{shown}");
    }
    bastion.approve(&request, &[1, 3, 5, 7, 9], true);
    let out = bastion.execute_ok(&request);
    assert!(out.contains("approved by: m1, m3, m5, m7, m9"), "{out}");
    let cert = p(&format!("out/cluster/{id}.pem"));

    // OpenSSL: a strict chain to the root (the cluster certificate is an end entity
    // issued by the trust anchor itself, so no -partial_chain is needed).
    let (ok, text) = common::tool(
        "openssl",
        &[
            &"verify",
            &"-x509_strict",
            &"-CAfile",
            &p("out/root.pem"),
            &cert,
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = common::tool("openssl", &[&"x509", &"-in", &cert, &"-noout", &"-text"]);
    assert!(ok, "{text}");
    for expected in [
        "X509v3 Extended Key Usage: \n                1.3.6.1.4.1.32473.1.4",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment",
        "Public-Key: (2048 bit)",
        "Subject: CN = \"HSM:123:PARTN:1, for FIPS mode\"",
        "Signature Algorithm: ecdsa-with-SHA384",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    // It certifies exactly the CSR's key.
    let (_, key) = common::tool("openssl", &[&"x509", &"-in", &cert, &"-noout", &"-pubkey"]);
    let (_, expected) = common::tool("openssl", &[&"req", &"-in", &csr, &"-noout", &"-pubkey"]);
    assert_eq!(key, expected);

    // pkilint: the certificate alone, and as issued by the root.
    let (ok, text) = common::tool(
        &common::pkilint("lint_pkix_cert"),
        &[&"lint", &"-s", &"ERROR", &cert],
    );
    assert!(ok, "pkilint: {text}");
    // (At DEBUG level pkilint reports one INFO finding only:
    // pkix.subject_key_identifier_method_1_identified; RSA 2048 draws nothing.)
    let (ok, text) = common::tool(
        &common::pkilint("lint_pkix_signer_signee_cert_chain"),
        &[&"lint", &p("out/root.pem"), &cert],
    );
    assert!(ok, "pkilint root -> cluster: {text}");

    // Logged like every ceremony, with its stapled bundle next to it; it verifies for the
    // cluster EKU and for no purpose.
    assert_eq!(bastion.log_size(), 2);
    let bundle = format!("out/cluster/{id}.bundle");
    assert!(p(&bundle).exists());
    bastion.ok(&[
        "verify",
        "--bundle",
        &bundle,
        "--root",
        "out/root.pem",
        "--log-vkey",
        "log/log.vkey",
        "--min-witnesses",
        "0",
        "--eku",
        "1.3.6.1.4.1.32473.1.4",
    ]);
    let refused = bastion.rust_pki(
        &[
            "verify",
            "--bundle",
            &bundle,
            "--root",
            "out/root.pem",
            "--log-vkey",
            "log/log.vkey",
            "--purpose",
            "releases",
        ],
        None,
    );
    assert!(
        !refused.status.success(),
        "a cluster certificate is no releases certificate"
    );

    // A monitor's audit of the log: the cluster-init record replays (quorum, pins) and
    // the published cluster certificate is logged and chains to the root.
    let audit = bastion.ok(&[
        "log",
        "audit",
        "log",
        "--log-vkey",
        "log/log.vkey",
        "--genesis-roster",
        "roster.toml",
        "--policy",
        "policy.toml",
        "--root",
        "out/root.pem",
        "--certs",
        "out",
    ]);
    assert!(audit.contains("audit OK"), "{audit}");

    // `rust-pki lint` recognises it by the cluster EKU.
    let linted = bastion.ok(&[
        "lint",
        "--policy",
        "policy.toml",
        cert.to_str().unwrap(),
        "--issuer",
        "out/root.pem",
    ]);
    assert!(linted.contains("0 error(s)"), "{linted}");

    // A cluster is initialised once.
    let again = bastion.prepare_output(&{
        let file = p("cluster-init-again.toml");
        std::fs::write(&file, cluster_template(id, &csr)).unwrap();
        file
    });
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("earlier ceremony"), "{err}");
}

/// cluster-init refuses at prepare, before anyone is asked to approve: a P-384 CSR (the
/// error names the rule), a malformed cluster id, and a policy without `[cluster]`.
#[test]
fn cluster_init_refuses_p384_csr_bad_id_and_missing_policy_at_prepare() {
    let bastion = Bastion::with_root();
    let prepare_fails = |name: &str, template: String| -> String {
        let file = bastion.path(&format!("{name}.toml"));
        std::fs::write(&file, template).unwrap();
        let output = bastion.prepare_output(&file);
        assert!(
            !output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).unwrap()
    };
    let p384 = cluster_csr(
        &bastion,
        "p384.csr",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    let err = prepare_fails("p384", cluster_template("cluster-abc123", &p384));
    assert!(
        err.contains("cluster-key-rsa") && err.contains("must be RSA"),
        "{err}"
    );

    let rsa = cluster_csr(&bastion, "cluster.csr", &["-newkey", "rsa:2048"]);
    let err = prepare_fails("bad-id", cluster_template("cluster_ABC", &rsa));
    assert!(err.contains("cluster_id"), "{err}");
    let err = prepare_fails("small", {
        let small = cluster_csr(&bastion, "small.csr", &["-newkey", "rsa:1024"]);
        cluster_template("cluster-abc123", &small)
    });
    assert!(err.contains("cluster-rsa-bits"), "{err}");

    // A production policy refuses the example-arc cluster EKU before the HSM.
    let policy = std::fs::read_to_string(bastion.path("policy.toml")).unwrap();
    std::fs::write(
        bastion.path("policy.toml"),
        policy.replace("test_policy = true", "test_policy = false"),
    )
    .unwrap();
    let request = bastion.prepare("production", &cluster_template("cluster-abc123", &rsa));
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains("example arc") && err.contains("1.3.6.1.4.1.32473.1.4"),
        "{err}"
    );
    std::fs::remove_dir_all(request.parent().unwrap()).unwrap();

    let at = policy
        .find("\n# The AWS CloudHSM cluster certificate")
        .unwrap();
    std::fs::write(bastion.path("policy.toml"), &policy[..at]).unwrap();
    let err = prepare_fails("no-policy", cluster_template("cluster-abc123", &rsa));
    assert!(
        err.contains("cluster-init is refused") && err.contains("no [cluster] section"),
        "{err}"
    );
    // Nothing was prepared: only the root-init ceremony is in the state.
    let folders = std::fs::read_dir(bastion.path("state"))
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(folders, 1);
}

/// A refusal by rule `hsm-backend` before any HSM: no record, no PKCS#11 login or key
/// use, and `cloudhsm-cli` (a script leaving a mark) never started.
fn assert_refused_for_backend(bastion: &Bastion, request: &Path, extra: &[&str], marker: &Path) {
    let (output, calls) = bastion.execute_spied_with(request, extra);
    assert_hsm_untouched(&calls);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("hsm-backend"), "{err}");
    assert!(!request.parent().unwrap().join("record.toml").exists());
    assert!(!marker.exists(), "cloudhsm-cli was started: {err}");
}

/// A `cloudhsm-cli` stand-in that only leaves a mark: it must never run.
fn marking_cloudhsm_cli(bastion: &Bastion) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let marker = bastion.path("cloudhsm-cli-ran");
    let script = bastion.path("cloudhsm-cli");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, marker)
}

#[test]
fn a_softhsm2_request_is_refused_on_the_cloudhsm_backend() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    let text = std::fs::read_to_string(&request).unwrap();
    assert!(text.contains("[hsm]\nbackend = \"softhsm2\"\n"), "{text}");
    // Members see the backend first, before the summary.
    let shown = bastion.show(&request);
    let hsm = shown
        .find("  HSM:               softhsm2 (SoftHSM2")
        .expect(&shown);
    assert!(hsm < shown.find("  summary:").unwrap(), "{shown}");
    assert!(shown.contains("(as your policy.toml)"), "{shown}");
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let (cli, marker) = marking_cloudhsm_cli(&bastion);
    let cli = cli.to_str().unwrap();
    assert_refused_for_backend(
        &bastion,
        &request,
        &["--hsm", "cloudhsm", "--cloudhsm-cli", cli],
        &marker,
    );
    // Nothing was spent: the same approvals execute on the policy's backend.
    let out = bastion.execute_ok(&request);
    assert!(out.contains("approved by: m2, m4, m6, m8, m9"), "{out}");
    let record = std::fs::read_to_string(request.parent().unwrap().join("record.toml")).unwrap();
    assert!(
        record.contains(
            "[hsm]\nbackend = \"softhsm2\"\nquorum_enforced_by = [\"sshsig-approvals\", \"pin-shares\"]"
        ),
        "{record}"
    );
}

#[test]
fn a_cloudhsm_request_is_refused_on_softhsm2() {
    let bastion = Bastion::new();
    // Members with CloudHSM quorum keys (RSA), as a CloudHSM policy requires.
    let mut roster = String::new();
    for block in std::fs::read_to_string(bastion.path("roster.toml"))
        .unwrap()
        .split_inclusive('\n')
    {
        roster.push_str(block);
        if block.starts_with("ssh_key = ") {
            let (ok, pem) = common::tool(
                "sh",
                &[
                    &"-c",
                    &"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout",
                ],
            );
            assert!(ok, "{pem}");
            roster.push_str(&format!(
                "cloudhsm_quorum_key = \"\"\"\n{}\"\"\"\n",
                pem.trim_end()
            ));
        }
    }
    bastion.set_genesis_roster(&roster);
    let policy = std::fs::read_to_string(bastion.path("policy.toml")).unwrap();
    std::fs::write(
        bastion.path("policy.toml"),
        policy.replace(
            "[hsm]\nbackend = \"softhsm2\"\n",
            "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-jxhlf7644ne\"\n",
        ),
    )
    .unwrap();
    let checked = bastion.ok(&[
        "ceremony",
        "roster",
        "check",
        "--roster",
        "roster.toml",
        "--policy",
        "policy.toml",
    ]);
    assert!(
        checked.contains("9 of 9 members have a CloudHSM quorum key"),
        "{checked}"
    );
    let request = bastion.prepare(
        "root-init",
        &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
    );
    let shown = bastion.show(&request);
    assert!(
        shown.contains("  HSM:               cloudhsm (AWS CloudHSM cluster cluster-jxhlf7644ne)"),
        "{shown}"
    );
    bastion.approve(&request, &[1, 2, 3, 4, 5], false);
    let (_, marker) = marking_cloudhsm_cli(&bastion);
    assert_refused_for_backend(&bastion, &request, &["--hsm", "softhsm2"], &marker);
    assert!(!bastion.path("out/root.pem").exists());
    // No root token was made (root-init would have initialised one next to the
    // delegate owners' token).
    assert_eq!(
        std::fs::read_dir(bastion.path("hsm/tokens"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn an_edited_hsm_field_is_refused() {
    let bastion = Bastion::with_root();
    let softhsm2 = "[hsm]\nbackend = \"softhsm2\"\n";
    let cloudhsm = "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-jxhlf7644ne\"\n";
    // Edited before the members read it: show says so, and execute refuses it even with
    // their approvals, since the pinned policy says otherwise.
    let request = bastion.delegate_request();
    let text = std::fs::read_to_string(&request).unwrap();
    std::fs::write(&request, text.replace(softhsm2, cloudhsm)).unwrap();
    let shown = bastion.show(&request);
    assert!(
        shown.contains("DIFFERS from your policy.toml, which says softhsm2"),
        "{shown}"
    );
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let err = bastion.execute_fails(&request);
    assert!(err.contains("hsm-policy"), "{err}");
    // Edited after the approvals: refused as well (and the approvals no longer match).
    let request = bastion.prepare("root-crl", "kind = \"root-crl\"\nwindow_hours = 24\n");
    bastion.approve(&request, &[2, 4, 6, 8, 9], true);
    let text = std::fs::read_to_string(&request).unwrap();
    std::fs::write(&request, text.replace(softhsm2, cloudhsm)).unwrap();
    let err = bastion.execute_fails(&request);
    assert!(err.contains("hsm-policy"), "{err}");
}
