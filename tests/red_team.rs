//! Red team: attacks by the person at the bastion (docs/threat-model.md) against the
//! current implementation. Tests marked `#[ignore = "red team: …"]` are attacks that
//! SUCCEED today: each asserts the refusal the threat model promises, so it fails until the
//! hole is closed. The others are attacks correctly refused, kept as rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{path::Path, process::Command};

use common::{
    bastion::{Bastion, assert_hsm_untouched},
    set_toml_string,
};

/// `cp -a SRC DST`.
fn copy_tree(src: &Path, dst: &Path) {
    let status = Command::new("cp")
        .args(["-a", src.to_str().unwrap(), dst.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Finding 1: the operator executes an approved delegate-issue, then deletes its record and
/// renames the folder (002-delegate-issue -> 003-delegate-issue). The log is only searched
/// by folder name, the record chain no longer shows the ceremony id, the approvals are still
/// there (so is the one-time ceremony key, which the operator copied before the first run)
/// and the window is open: the request executes a second time and the HSM signs again.
/// Expected: refused before the HSM, because the log already holds a record of this
/// ceremony id / request digest (or because the state's head is not the log's latest
/// ceremony record).
#[test]
fn renamed_folder_without_record_does_not_execute_again() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let folder = request.parent().unwrap().to_owned();
    // The operator keeps the one-time ceremony key (it sits on the bastion they run).
    let key = std::fs::read(folder.join("ceremony.key")).unwrap();
    bastion.execute_ok(&request);
    let size = bastion.log_size();
    std::fs::remove_file(folder.join("record.toml")).unwrap();
    std::fs::write(folder.join("ceremony.key"), key).unwrap();
    let renamed = bastion.path("state/003-delegate-issue");
    std::fs::rename(&folder, &renamed).unwrap();
    let (output, calls) = bastion.execute_spied(&renamed.join("request.toml"), "out-again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the same approved request executed twice (log size {size} -> {}): {stdout}",
        bastion.log_size()
    );
    assert_hsm_untouched(&calls);
    assert!(
        stderr.contains("the ceremony state and the transparency log disagree"),
        "{stderr}"
    );
    assert_eq!(bastion.log_size(), size);
}

/// Finding 2: the operator copies the whole state directory and the log before executing
/// (`cp -a state state2; cp -a log log2`). The request in the copy is "a direct child of
/// --state-dir" (the copy), its chain head and log are consistent copies: it executes there,
/// then the original executes too. Two signatures by the root over the approved TBS and a
/// forked log (detectable only by witnesses, which are asked after the HSM signed).
/// Expected: something the operator cannot copy decides "executed once" before the HSM
/// signs (e.g. a per-ceremony object on the token, or a witnessed log entry of the intent).
#[test]
#[ignore = "red team: a copied state directory and log execute the same request twice"]
fn a_copied_state_and_log_do_not_execute_twice() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    copy_tree(&bastion.path("state"), &bastion.path("state2"));
    copy_tree(&bastion.path("log"), &bastion.path("log2"));
    bastion.execute_ok(&request);
    let copied = bastion.path("state2/002-delegate-issue/request.toml");
    let output = bastion.rust_pki(
        &[
            "ceremony",
            "execute",
            copied.to_str().unwrap(),
            "--out",
            "out2",
            "--state-dir",
            "state2",
            "--roster",
            "roster.toml",
            "--policy",
            "policy.toml",
            "--module",
            common::MODULE,
            "--log",
            "log2",
            "--log-skey",
            "log.skey",
        ],
        None,
    );
    assert!(
        !output.status.success(),
        "executed a second time from a copy: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!bastion.path("out2/delegates/releases.pem").exists());
}

/// Finding 3: the run dies between writing the record and logging it (`recorded`). Before
/// the rerun the operator edits the record's unchecked fields — `approved_by` (here with a
/// terminal escape that sets the window title and erases the line), a key event and the
/// times. `check_record` compares only the request, outputs and TBS, so the rerun logs the
/// forged record for good (the monitor's replay later refuses the whole history) and prints
/// the escape raw on the operator's terminal ("approved by: …").
/// Expected: a record read back is checked completely (approvals verify for exactly
/// `approved_by`, keys and times as written) before it is logged, and nothing from it is
/// printed raw.
#[cfg(feature = "fault-injection")]
#[test]
fn an_unlogged_record_edited_after_a_crash_is_not_logged() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let died = bastion.execute(&request, Some("recorded"));
    assert!(!died.status.success());
    let size = bastion.log_size();
    let record = request.parent().unwrap().join("record.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    let forged = text
        .replace(
            "approved_by = [\"m1\", \"m2\", \"m3\", \"m4\", \"m5\"]",
            "approved_by = [\"m6\", \"m7\", \"m8\", \"m9\", \"\\u001b]0;pwned\\u0007\\u001b[2K\"]",
        )
        .replace("action = \"used\"", "action = \"destroyed\"");
    assert_ne!(forged, text, "the record's layout changed");
    std::fs::write(&record, &forged).unwrap();
    let output = bastion.execute(&request, None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains('\u{1b}'),
        "execute printed a raw escape from the record: {stdout:?}"
    );
    assert!(
        !output.status.success(),
        "a forged record was logged: {stdout}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("the record does not match its approvals"),
        "{err}"
    );
    assert_eq!(bastion.log_size(), size);
}

/// Finding 3b: `log audit` prints the forged record's `approved_by` raw — in its listing
/// and in the finding — so whoever can append to the log (or the operator, via finding 3)
/// writes escapes onto the monitor's terminal.
/// Expected: every string from a log entry is printed through `inert()`.
#[cfg(feature = "fault-injection")]
#[test]
fn log_audit_prints_record_text_inert() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    assert!(!bastion.execute(&request, Some("recorded")).status.success());
    let record = request.parent().unwrap().join("record.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(
        &record,
        text.replace(
            "approved_by = [\"m1\", \"m2\", \"m3\", \"m4\", \"m5\"]",
            "approved_by = [\"m1\", \"m2\", \"m3\", \"m4\", \"\\u001b]0;pwned\\u0007\\u001b[2K\"]",
        ),
    )
    .unwrap();
    let _ = bastion.execute(&request, None);
    let audit = bastion.rust_pki(
        &[
            "log",
            "audit",
            "log",
            "--log-vkey",
            "log/log.vkey",
            "--genesis-roster",
            "roster.genesis.toml",
            "--policy",
            "policy.toml",
            "--root",
            "out/root.pem",
        ],
        None,
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
    assert!(
        !all.contains('\u{1b}'),
        "raw escape printed by log audit: {all:?}"
    );
}

/// Finding 4: revocations rolled back by hiding the latest record. After a delegate-revoke
/// executes (and is logged as 003-delegate-revoke.toml), the operator renames its folder to
/// a name the state does not list (`hidden-003-delegate-revoke`). The chain is intact
/// without it (it was the latest), so `prepare` builds a root-crl on record 2 that carries
/// over no revocation; `show` prints no revoked serial and nothing says a logged record is
/// missing; the new folder is 003-root-crl, a name the log does not hold, so execute signs
/// a root CRL without the revoked delegate — a revoked delegate is valid again.
/// Expected: prepare and execute refuse a state whose chain head is not the log's latest
/// ceremony record.
#[test]
fn hiding_the_latest_record_does_not_roll_back_a_revocation() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let revoke = bastion.revoke_releases_request();
    bastion.approve(&revoke, &[5, 6, 7, 8, 9], true);
    bastion.execute_ok(&revoke);
    let size = bastion.log_size();
    std::fs::rename(
        revoke.parent().unwrap(),
        bastion.path("state/hidden-003-delegate-revoke"),
    )
    .unwrap();
    let file = bastion.path("resign.toml");
    std::fs::write(&file, "kind = \"root-crl\"\nwindow_hours = 24\n").unwrap();
    let prepared = bastion.prepare_output(&file);
    if prepared.status.success() {
        let resign = bastion.path("state/003-root-crl/request.toml");
        let shown = bastion.show(&resign);
        assert!(
            shown.contains("revoked"),
            "show lists no revocation and no warning: {shown}"
        );
        bastion.approve(&resign, &[1, 3, 5, 7, 9], true);
        let output = bastion.execute_into(&resign, "resigned", None);
        assert!(
            !output.status.success(),
            "a root CRL without the logged revocation was signed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert!(!bastion.path("resigned/root.crl").exists());
    assert_eq!(bastion.log_size(), size);
}

/// Finding 5: the operator chooses `--module` (and the environment) of `ceremony execute`.
/// Run once through OpenSC's PKCS#11 spy (a stock Debian package), the reconstructed root
/// user PIN appears in clear in the spy's log (`C_Login … pPin`). With it the operator
/// alone signs a delegate with the root key (`ca delegate --root-key …pin-source=file:`),
/// no request, no approvals, no log entry: the quorum is bypassed for good (until the next
/// roster change re-randomises the PINs).
/// Expected: execute refuses a module the policy does not pin (path and digest, shown by
/// `show`), and the PIN never crosses an interposable boundary — or the threat model says
/// plainly that the bastion host is trusted with the PIN on SoftHSM2.
#[test]
#[ignore = "red team: the operator's --module captures the root PIN"]
fn execute_does_not_hand_the_pin_to_an_operator_chosen_module() {
    use common::bastion::SPY;
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let spy_log = bastion.path("spy.log");
    let output = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(bastion.path(""))
        .env("SOFTHSM2_CONF", bastion.path("hsm/softhsm2.conf"))
        .env("PKCS11SPY", common::MODULE)
        .env("PKCS11SPY_OUTPUT", &spy_log)
        .args([
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
            SPY,
            "--log",
            "log",
            "--log-skey",
            "log.skey",
        ])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(&spy_log).unwrap_or_default();
    if output.status.success() {
        // The PIN, as the spy dumped it: the hex column of the lines after `pPin`.
        let at = log.find("C_Login").expect("no C_Login in the spy log");
        let pin: String = log[at..]
            .lines()
            .skip_while(|l| !l.contains("pPin"))
            .skip(1)
            .take_while(|l| l.starts_with("    0000"))
            .flat_map(|l| l.split_whitespace().skip(1).take(16))
            .collect();
        let pin = hex::decode(pin).unwrap();
        std::fs::write(bastion.path("stolen.pin"), &pin).unwrap();
        let root_key = format!(
            "pkcs11:token=rust-root;object=rust-root-2026?module-path={}&pin-source=file:{}",
            common::MODULE,
            bastion.path("stolen.pin").display()
        );
        let csr = bastion.path("releases-1.csr");
        let forged = bastion.rust_pki(
            &[
                "ca",
                "delegate",
                "--policy",
                "policy.toml",
                "--root-cert",
                "out/root.pem",
                "--root-key",
                &root_key,
                "--purpose",
                "releases",
                "--csr",
                csr.to_str().unwrap(),
                "--out",
                "forged.pem",
            ],
            None,
        );
        assert!(
            !forged.status.success(),
            "the operator alone signed a delegate with the root key, PIN taken from the \
             spy log of an approved ceremony: {}",
            String::from_utf8_lossy(&forged.stdout)
        );
    }
}

/// Finding 6: `prepared_at` is whatever the file says. The operator moves a prepared
/// request a year ahead (prepared_at = not_before = +365 days, a 1-day window): every rule
/// holds (`window` is relative to prepared_at), `show` prints the dates without a word, and
/// `approve` signs. The approvals then stay usable a year from now, against the threat
/// model's "approvals do not stay usable for long".
/// Expected: show/approve refuse (or loudly flag) a prepared_at in the future of the
/// member's clock, and a window that does not start near now.
#[test]
fn a_request_dated_in_the_future_is_not_approved() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    let year = |field: &str| {
        let text = std::fs::read_to_string(&request).unwrap();
        let key = format!("\n{field} = \"");
        let at = text.find(&key).unwrap() + key.len();
        let old: i32 = text[at..at + 4].parse().unwrap();
        set_toml_string(
            &request,
            field,
            &format!("{}{}", old + 1, &text[at + 4..at + 20]),
        );
    };
    year("prepared_at");
    year("not_before");
    year("not_after");
    let shown = bastion.show(&request);
    let approve = bastion.rust_pki(
        &[
            "ceremony",
            "approve",
            request.to_str().unwrap(),
            "--key",
            bastion.key(1).to_str().unwrap(),
            "--out",
            bastion.path("m1.sig").to_str().unwrap(),
        ],
        None,
    );
    assert!(
        !approve.status.success(),
        "approved a request prepared a year from now; show said: {shown}"
    );
    assert!(
        shown.contains("WARNING: ") && shown.contains("breaks rule `clock`"),
        "{shown}"
    );
    let err = String::from_utf8_lossy(&approve.stderr);
    assert!(
        err.contains("field `prepared_at` breaks rule `clock`"),
        "{err}"
    );
}

/// Finding 7: a request that is not valid TOML is refused, but the refusal quotes the
/// offending line raw (the `toml` crate's snippet): raw ESC, CR and cursor movements reach
/// the member's terminal from `show` (and `approve`, `execute`, `log audit` for records), so
/// the operator can draw a fake `read aloud:` line and conceal the error. Same with a valid
/// TOML key spelled with `\u001b` escapes: serde's "unknown field" error names it raw.
/// Expected: errors are printed inert too (control characters escaped).
#[test]
fn show_prints_parse_errors_inert() {
    let bastion = Bastion::new();
    let request = bastion.path("state/001-x/request.toml");
    std::fs::create_dir_all(request.parent().unwrap()).unwrap();
    std::fs::write(
        &request,
        "format = \"rust-pki/ceremony-request/v1\"\nsummary = \"ok\u{1b}[2K\r  read aloud:        1111-2222-3333-4444\u{1b}[8m\"\n",
    )
    .unwrap();
    let output = bastion.rust_pki(&Bastion::show_args(&request), None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
    // Valid TOML this time: a quoted key spelled with escapes is named raw by serde's
    // "unknown field" error.
    std::fs::write(
        &request,
        "format = \"rust-pki/ceremony-request/v1\"\n\"\\u001b[2J\\u001b[H  read aloud:        1111-2222-3333-4444\\u001b[8m\" = 1\n",
    )
    .unwrap();
    let output = bastion.rust_pki(&Bastion::show_args(&request), None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// Finding 8: the `size` rule is checked after the whole file is read into memory, so a
/// sparse multi-gigabyte request.toml (a few bytes on disk, `truncate -s`) makes `show`
/// allocate all of it: several GB and seconds of work, or an allocation failure reported
/// as "out of memory" instead of the rule. Same for approvals, rosters, records, shares.
/// Expected: the size is bounded before reading (metadata, then a bounded read) and the
/// refusal names the `size` rule.
#[test]
fn a_huge_sparse_request_is_refused_by_size_before_reading() {
    let bastion = Bastion::new();
    let request = bastion.path("state/001-x/request.toml");
    std::fs::create_dir_all(request.parent().unwrap()).unwrap();
    std::fs::File::create(&request)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    // 512 MB of address space is plenty for show; reading 2 GB is not.
    let output = Command::new("sh")
        .current_dir(bastion.path(""))
        .arg("-c")
        .arg(format!(
            "ulimit -v 524288; exec {} ceremony show {} --policy policy.toml --roster roster.toml",
            env!("CARGO_BIN_EXE_rust-pki"),
            request.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("breaks rule `size`"), "{err}");
}

/// Finding 9: an executed folder renamed (002-delegate-issue -> 005-delegate-issue, record
/// kept) is "already executed" to the chain, but the log is searched by folder name only:
/// the rerun logs the same record a second time under the new name (and staples a second
/// bundle), so the public history holds one ceremony twice and the monitor's replay of it
/// breaks.
/// Expected: a rerun finds the record's own log entry (by record digest / ceremony id)
/// whatever the folder is called, and appends nothing.
#[test]
fn a_renamed_executed_folder_is_not_logged_again() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let size = bastion.log_size();
    let renamed = bastion.path("state/005-delegate-issue");
    std::fs::rename(request.parent().unwrap(), &renamed).unwrap();
    let output = bastion.execute_into(&renamed.join("request.toml"), "out-renamed", None);
    assert_eq!(
        bastion.log_size(),
        size,
        "logged again: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Refused correctly: a record inserted in the middle of the chain (a copy of record 2 as
/// folder 003, the real 003 renumbered 004) breaks `records()`: execute stops before the
/// HSM naming the record chain.
#[test]
fn a_record_inserted_in_the_middle_breaks_the_chain_before_the_hsm() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let next = bastion.delegate_request();
    bastion.approve(&next, &[1, 2, 3, 4, 5], true);
    std::fs::rename(
        next.parent().unwrap(),
        bastion.path("state/004-delegate-issue"),
    )
    .unwrap();
    let inserted = bastion.path("state/003-delegate-issue");
    std::fs::create_dir(&inserted).unwrap();
    std::fs::copy(
        request.parent().unwrap().join("record.toml"),
        inserted.join("record.toml"),
    )
    .unwrap();
    let err = bastion.execute_fails(&bastion.path("state/004-delegate-issue/request.toml"));
    assert!(err.contains("expected sequence 3"), "{err}");
}

/// Finding 10: `show` does not display every TBS field of a CRL: the CRL extensions
/// (cRLNumber, authorityKeyIdentifier) are not printed. The operator raises the cRLNumber of
/// a prepared root-crl to 0x7fffffff (a 2038 Unix time; lint allows up to 20 octets):
/// every rule holds, `show` looks exactly as before apart from the fingerprint, members
/// approve, and the root signs a CRL after which every CRL numbered from the clock is
/// "older" for clients that keep CRL numbers monotonic (RFC 5280 §5.2.3).
/// Expected: `show` prints the cRLNumber (and every CRL/entry extension), and `validate`
/// bounds it (e.g. the number prepare would have chosen, not above the next one).
#[test]
fn show_displays_the_crl_number() {
    use base64ct::{Base64, Encoding};
    use sha2::{Digest, Sha256};
    let bastion = Bastion::with_root();
    let file = bastion.path("crl.toml");
    std::fs::write(&file, "kind = \"root-crl\"\nwindow_hours = 24\n").unwrap();
    assert!(bastion.prepare_output(&file).status.success());
    let request = bastion.path("state/002-root-crl/request.toml");
    let before = bastion.show(&request);
    let text = std::fs::read_to_string(&request).unwrap();
    let at = text.find("\ntbs = \"").unwrap() + "\ntbs = \"".len();
    let end = at + text[at..].find('"').unwrap();
    let mut der = Base64::decode_vec(&text[at..end]).unwrap();
    // extnID cRLNumber, OCTET STRING { INTEGER (4 octets) }.
    let pattern = [0x06, 0x03, 0x55, 0x1d, 0x14, 0x04, 0x06, 0x02, 0x04];
    let i = der
        .windows(pattern.len())
        .position(|w| w == pattern)
        .expect("a 4-octet cRLNumber")
        + pattern.len();
    der[i..i + 4].copy_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
    set_toml_string(&request, "tbs", &Base64::encode_string(&der));
    set_toml_string(&request, "tbs_sha256", &hex::encode(Sha256::digest(&der)));
    let after = bastion.show(&request);
    let differing: Vec<_> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert!(
        after.contains("2147483647") || after.to_lowercase().contains("7fffffff"),
        "show does not display the cRLNumber; only these lines changed: {differing:#?}"
    );
}

/// Finding 11: the pre-HSM output check looks only at the planned certificate paths (with
/// `symlink_metadata`, which still follows a symlinked directory on the way) and not at the
/// bundles. With `out/delegates` a symlink to an empty folder (or a file already at
/// `out/delegates/releases.bundle`) every check passes, the root signs, the record is
/// written — and only then is the output directory refused, after the HSM.
/// Expected: every path the run will write (outputs, bundles, their directories) is checked
/// before the HSM, refusing symlinks on the way.
#[test]
fn a_symlinked_output_directory_is_refused_before_the_hsm() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    std::fs::create_dir(bastion.path("elsewhere")).unwrap();
    std::fs::create_dir(bastion.path("out-link")).unwrap();
    std::os::unix::fs::symlink(
        bastion.path("elsewhere"),
        bastion.path("out-link/delegates"),
    )
    .unwrap();
    let (output, calls) = bastion.execute_spied(&request, "out-link");
    assert!(!output.status.success());
    assert_hsm_untouched(&calls);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("out-link/delegates: a symlink or not a directory"),
        "{err}"
    );
}

/// Finding 12: nothing pins which log a ceremony is appended to. The operator makes a log
/// of their own (`log init rogue`, their own key) and executes an approved delegate-issue
/// into it: the root signs, the certificate is published with a bundle from the rogue log,
/// and the real log never hears of it (its next ceremony is not refused either: the state
/// and the real log are never compared). A root signature exists that no monitor of the
/// real log can see.
/// Now refused before the HSM: the state's records are not in that log. (Pinning the log's
/// key in the policy, against a copy of the real log, is still open: see the threat model.)
#[test]
fn execute_refuses_a_log_the_policy_does_not_pin() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.ok(&[
        "log",
        "init",
        "rogue",
        "--origin",
        "bastion.example/log",
        "--log-skey-out",
        "rogue.skey",
    ]);
    let real = bastion.log_size();
    let output = bastion.rust_pki(
        &[
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
            common::MODULE,
            "--log",
            "rogue",
            "--log-skey",
            "rogue.skey",
        ],
        None,
    );
    assert!(
        !output.status.success(),
        "signed into a log of the operator's choosing (real log still size {real}): {}",
        String::from_utf8_lossy(&output.stdout)
    );
    // A new log does not hold the state's records: refused before the HSM. (A copy of the
    // real log signed with the same key is a fork only witnesses can expose.)
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("the ceremony state and the transparency log disagree")
            && err.contains("001-root-init/record.toml is not in the log"),
        "{err}"
    );
}

/// Finding 13: a revoked (key-compromise) delegate key is certified again. Revocation is by
/// serial; `prepare` refuses to *renew* a revoked delegate but a delegate-issue with the
/// same CSR (the compromised key) prepares, `show` gives no hint that this key was revoked
/// for key compromise in the latest root CRL, and execute signs: the compromised key is a
/// valid delegate again under a new serial the CRL does not list. (Execute re-checks none
/// of prepare's revocation checks, so a hand-made delegate-renew of a revoked delegate also
/// signs.)
/// Expected: prepare and execute refuse to certify a key any revoked delegate certificate
/// carried (or at least `show` marks it loudly).
#[test]
fn a_revoked_delegate_key_is_not_certified_again() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let revoke = bastion.revoke_releases_request();
    bastion.approve(&revoke, &[5, 6, 7, 8, 9], true);
    bastion.execute_ok(&revoke);
    let csr = bastion.path("releases-1.csr");
    let file = bastion.path("again.toml");
    std::fs::write(
        &file,
        format!(
            "kind = \"delegate-issue\"\nwindow_hours = 24\npurpose = \"releases\"\ncsr = \"{}\"\n",
            csr.display()
        ),
    )
    .unwrap();
    let prepared = bastion.prepare_output(&file);
    let err = String::from_utf8_lossy(&prepared.stderr);
    assert!(
        !prepared.status.success() && err.contains("breaks rule `revoked-key`"),
        "the compromised key was prepared for certification again: {err}"
    );
}

/// Refused correctly: a request nested 100 000 arrays deep (200 kB, under the `size`
/// limit) does not overflow the stack; the parser's recursion limit refuses it.
#[test]
fn a_deeply_nested_request_is_refused_without_a_crash() {
    let bastion = Bastion::new();
    let request = bastion.path("state/001-x/request.toml");
    std::fs::create_dir_all(request.parent().unwrap()).unwrap();
    let depth = 100_000;
    std::fs::write(
        &request,
        format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
    )
    .unwrap();
    let output = bastion.rust_pki(&Bastion::show_args(&request), None);
    let err = String::from_utf8_lossy(&output.stderr);
    // A malformed input file: exit 2 (`error:`), not a crash (101) and not a verdict.
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("max recursion depth"), "{err}");
}

/// Finding 14: the ceremony folder's name is free text after `NNN-`, and it becomes the log
/// entry's file name. With a bidi override (`002-delegate-issue\u{202e}lmot.exe`) the
/// ceremony executes and is logged under that name, which `log audit` prints raw (the
/// monitor's line renders reversed); with an ESC in it the root signs and the record is
/// written, and only the log refuses the entry name — after the HSM. A folder named
/// `005-root-crl` may also hold a delegate-issue: the name's kind is never compared.
/// Expected: before the HSM, the folder is exactly `NNN-<kind of the request>`.
#[test]
fn a_ceremony_folder_must_be_named_after_its_kind() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let renamed = bastion.path("state/002-x\u{1b}[2J");
    std::fs::rename(request.parent().unwrap(), &renamed).unwrap();
    let (output, calls) = bastion.execute_spied(&renamed.join("request.toml"), "out");
    assert!(!output.status.success());
    assert_hsm_untouched(&calls);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("breaks rule `folder-name`"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "the folder name is printed inert: {err:?}"
    );
}

/// Refused correctly: a request whose window opens in an hour (edited before approval, so
/// the approvals are over these bytes) is refused before the HSM, naming the window.
#[test]
fn a_window_that_has_not_opened_is_refused_before_the_hsm() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    let text = std::fs::read_to_string(&request).unwrap();
    let key = "\nnot_before = \"";
    let at = text.find(key).unwrap() + key.len();
    let hour: u32 = text[at + 11..at + 13].parse().unwrap();
    let later = format!(
        "{}{:02}{}",
        &text[at..at + 11],
        (hour + 1) % 24,
        &text[at + 13..at + 20]
    );
    // Near midnight the next hour is tomorrow: keep the test about "not yet open".
    if hour == 23 {
        return;
    }
    set_toml_string(&request, "not_before", &later);
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let err = bastion.execute_fails(&request);
    assert!(
        err.contains(&format!("the request may be executed from {later}")),
        "{err}"
    );
}

/// Finding 15: a delegate-revoke that revokes nothing real. The operator edits a prepared
/// revoke of the releases delegate: another serial (last octet changed) in the CRL TBS, in
/// `revoked_serials` and in the summary. `validate` only checks that the CRL and
/// `revoked_serials` agree with each other; `show` still says `purpose: releases` and
/// prints a serial no member can tie to a certificate; execute signs. The compromised
/// delegate stays valid, and the state believes it was revoked.
/// Expected: a delegate-revoke's serials are bound to the purpose's delegate (the request
/// carries the certificate being revoked and `show` prints its subject, key and serial,
/// or execute checks the serial against the purpose's latest delegate record before the
/// HSM).
#[test]
fn a_delegate_revoke_revokes_the_purposes_delegate() {
    use base64ct::{Base64, Encoding};
    use sha2::{Digest, Sha256};
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    let revoke = bastion.revoke_releases_request();
    let text = std::fs::read_to_string(&revoke).unwrap();
    let key = "revoked_serials = [\"";
    let at = text.find(key).unwrap() + key.len();
    let serial = text[at..at + text[at..].find('"').unwrap()].to_owned();
    let mut bytes = hex::decode(&serial).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    let other = hex::encode(&bytes);
    let mut text = text.replace(&serial, &other);
    let tbs_key = "\ntbs = \"";
    let t = text.find(tbs_key).unwrap() + tbs_key.len();
    let end = t + text[t..].find('"').unwrap();
    let mut der = Base64::decode_vec(&text[t..end]).unwrap();
    let old = hex::decode(&serial).unwrap();
    let i = der
        .windows(old.len())
        .position(|w| w == old.as_slice())
        .unwrap();
    der[i..i + old.len()].copy_from_slice(&bytes);
    text.replace_range(t..end, &Base64::encode_string(&der));
    std::fs::write(&revoke, text).unwrap();
    set_toml_string(&revoke, "tbs_sha256", &hex::encode(Sha256::digest(&der)));
    let shown = bastion.show(&revoke);
    bastion.approve(&revoke, &[5, 6, 7, 8, 9], true);
    let output = bastion.execute_into(&revoke, "out-revoke", None);
    assert!(
        !output.status.success(),
        "signed a CRL revoking {other} instead of the releases delegate {serial}; show said: {shown}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("breaks rule `revocations-carried`"), "{err}");
}

/// Finding 4b: the same rollback without hiding anything. The operator keeps a copy of the
/// state from before a delegate-revoke, prepares a root-crl there (no revocation to carry
/// over), points its `previous_record_sha256` at the real head and moves it into the real
/// state. Every rule holds; `show` prints "revoked: none"; execute never compares the new
/// CRL with the revocations of the latest root CRL in the chain, and signs: the revoked
/// delegate is valid again on the newest root CRL.
/// Expected: execute (and validate against the chain) refuses a root-crl or delegate-revoke
/// whose CRL does not carry every revocation of the latest root CRL.
#[test]
fn a_root_crl_carries_every_earlier_revocation() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    bastion.execute_ok(&request);
    copy_tree(&bastion.path("state"), &bastion.path("state-old"));
    let revoke = bastion.revoke_releases_request();
    bastion.approve(&revoke, &[5, 6, 7, 8, 9], true);
    bastion.execute_ok(&revoke);
    let head = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(revoke.parent().unwrap().join("record.toml")).unwrap(),
    ));
    let file = bastion.path("resign.toml");
    std::fs::write(&file, "kind = \"root-crl\"\nwindow_hours = 24\n").unwrap();
    bastion.ok(&[
        "ceremony",
        "prepare",
        file.to_str().unwrap(),
        "--roster",
        "roster.toml",
        "--policy",
        "policy.toml",
        "--state-dir",
        "state-old",
    ]);
    let moved = bastion.path("state/004-root-crl");
    std::fs::rename(bastion.path("state-old/003-root-crl"), &moved).unwrap();
    let resign = moved.join("request.toml");
    set_toml_string(&resign, "previous_record_sha256", &head);
    let shown = bastion.show(&resign);
    bastion.approve(&resign, &[1, 3, 5, 7, 9], true);
    let output = bastion.execute_into(&resign, "resigned", None);
    assert!(
        !output.status.success(),
        "a root CRL dropping the revoked delegate was signed; show said: {shown}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("breaks rule `revocations-carried`"), "{err}");
}

/// Finding 8b: approvals are read whole, following symlinks, while execute holds the state
/// and log locks: `approvals/m1.sig -> /dev/zero` reads until memory runs out (here an
/// "out of memory" error under a 512 MB limit; unbounded, the OOM killer), and a FIFO named
/// `m1.sig` blocks execute forever with both locks held.
/// Expected: approval (and share) files are regular files, not followed through symlinks,
/// read with a size bound, refused naming the file and the `size` rule.
#[test]
fn an_endless_approval_file_is_refused_by_size() {
    let bastion = Bastion::with_root();
    let request = bastion.delegate_request();
    bastion.approve(&request, &[2, 3, 4, 5, 6], true);
    let approvals = request.parent().unwrap().join("approvals");
    std::os::unix::fs::symlink("/dev/zero", approvals.join("m1.sig")).unwrap();
    let output = Command::new("sh")
        .current_dir(bastion.path(""))
        .env("SOFTHSM2_CONF", bastion.path("hsm/softhsm2.conf"))
        .arg("-c")
        .arg(format!(
            "ulimit -v 524288; exec {} ceremony execute {} --out out --state-dir state \
             --roster roster.toml --policy policy.toml --module {} --log log --log-skey log.skey",
            env!("CARGO_BIN_EXE_rust-pki"),
            request.display(),
            common::MODULE
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        err.contains("m1.sig") && !err.contains("out of memory"),
        "{err}"
    );
}
