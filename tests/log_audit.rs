//! `rust-pki log audit`, the monitor, on a log of REAL ceremony records: a bastion runs
//! root-init, delegate-issue, a roster change (m9 replaced by m10) and a delegate-issue
//! approved by the new roster on SoftHSM2, with nine throwaway members' ssh-keygen keys.
//! The records are logged with `rust-pki log append`, then audited from a directory and
//! over HTTP; forged records are made by editing real ones and signing with real SSHSIG.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use base64ct::{Base64, Encoding};
use common::REPO;
use common::bastion::Bastion;
use rust_pki_ceremony::record::{Record, RecordApproval};

const ORIGIN: &str = "audit.example/log";

/// The four records, in order, as copied out of the ceremony state.
const RECORDS: [&str; 4] = [
    "001-root-init.toml",
    "002-delegate-issue.toml",
    "003-roster-change.toml",
    "004-delegate-issue.toml",
];

/// What the bastion produced once for every test: `records/`, `keys/`, the genesis roster,
/// the policy, and the published outputs (`out/`, `out4/`).
struct History {
    dir: PathBuf,
}

impl History {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn record(&self, i: usize) -> PathBuf {
        self.path(&format!("records/{}", RECORDS[i]))
    }
    fn key(&self, member: usize) -> PathBuf {
        self.path(&format!("keys/m{member}"))
    }
}

/// Runs the ceremonies once per test process (they take a few seconds on SoftHSM2), in
/// the target's temporary directory.
fn history() -> &'static History {
    static HISTORY: OnceLock<History> = OnceLock::new();
    HISTORY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("log_audit-{}", std::process::id()));
        remove_stale_fixtures(dir.parent().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let bastion = Bastion::at(dir.clone());
        run_history(&bastion);
        History { dir }
    })
}

/// The four ceremonies whose records every test audits.
fn run_history(bastion: &Bastion) {
    // 1. root-init, approved by m1-m5.
    let request = bastion.prepare(
        "root-init",
        &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
    );
    bastion.approve_with_shares(&request, &[1, 2, 3, 4, 5], &[]);
    execute(bastion, &request, "out");
    // 2. delegate-issue, approved by m2, m4, m6, m8, m9.
    let request = bastion.delegate_request();
    bastion.approve_with_shares(&request, &[2, 4, 6, 8, 9], &["001-root-init/user-pin"]);
    execute(bastion, &request, "out");
    // 3. roster change: m9 leaves, m10 joins.
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    let m9 = std::fs::read_to_string(bastion.key(9).with_extension("pub")).unwrap();
    let m10 = std::fs::read_to_string(bastion.key(10).with_extension("pub")).unwrap();
    let new_roster = roster
        .replace(m9.trim(), m10.trim())
        .replace("id = \"m9\"", "id = \"m10\"");
    std::fs::write(bastion.path("roster.new.toml"), &new_roster).unwrap();
    let request = bastion.prepare(
        "roster-change",
        "kind = \"roster-change\"\nwindow_hours = 24\nnew_roster = \"roster.new.toml\"\n",
    );
    bastion.approve_with_shares(
        &request,
        &[1, 2, 3, 4, 5],
        &["001-root-init/user-pin", "001-root-init/so-pin"],
    );
    execute(bastion, &request, "out");
    std::fs::copy(bastion.path("out/roster.toml"), bastion.path("roster.toml")).unwrap();
    // 4. delegate-issue approved under the new roster, with the newcomer m10.
    let request = bastion.delegate_request();
    bastion.approve_with_shares(&request, &[10, 1, 2, 3, 4], &["003-roster-change/user-pin"]);
    execute(bastion, &request, "out4");

    std::fs::create_dir(bastion.path("records")).unwrap();
    for name in RECORDS {
        let dir = name.trim_end_matches(".toml");
        std::fs::copy(
            bastion.path(&format!("state/{dir}/record.toml")),
            bastion.path(&format!("records/{name}")),
        )
        .unwrap();
    }
}

/// `ceremony execute`, publishing into `out`; it must succeed.
fn execute(bastion: &Bastion, request: &Path, out: &str) {
    let output = bastion.execute_into(request, out, None);
    assert!(
        output.status.success(),
        "execute: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs and requires failure; returns stdout + stderr.
fn fails(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "unexpected success: {text}");
    text
}

/// A fresh log in its own temporary directory.
struct TestLog {
    tmp: tempfile::TempDir,
}

impl TestLog {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let log = Self { tmp };
        ok(&[
            &"log",
            &"init",
            &log.dir(),
            &"--origin",
            &ORIGIN,
            &"--log-skey-out",
            &log.skey(),
        ]);
        log
    }

    fn dir(&self) -> PathBuf {
        self.tmp.path().join("log")
    }
    fn skey(&self) -> PathBuf {
        self.tmp.path().join("log.skey")
    }
    fn vkey(&self) -> PathBuf {
        self.dir().join("log.vkey")
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn append_records(&self, records: &[PathBuf]) {
        append_records_to(&self.dir(), &self.skey(), records);
    }
}

fn append_records_to(dir: &Path, skey: &Path, records: &[PathBuf]) {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"log", &"append", &dir, &"--log-skey", &skey];
    for record in records {
        args.push(&"--ceremony-record");
        args.push(record);
    }
    ok(&args);
}

/// `rust-pki log audit SOURCE --log-vkey VKEY` plus `extra`.
fn audit_args<'a>(
    source: &'a dyn AsRef<std::ffi::OsStr>,
    vkey: &'a dyn AsRef<std::ffi::OsStr>,
    extra: &[&'a dyn AsRef<std::ffi::OsStr>],
) -> Vec<&'a dyn AsRef<std::ffi::OsStr>> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"log", &"audit", source, &"--log-vkey", vkey];
    args.extend_from_slice(extra);
    args
}

fn all_records(h: &History) -> Vec<PathBuf> {
    (0..4).map(|i| h.record(i)).collect()
}

/// A static file server on 127.0.0.1 for `root` (404 for anything missing); returns the
/// base URL. The thread ends with the test process.
fn serve(root: PathBuf) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request.url().trim_start_matches('/').to_owned();
            let file = root.join(&path);
            let response = if !path.contains("..") && file.is_file() {
                tiny_http::Response::from_data(std::fs::read(&file).unwrap())
            } else {
                tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
            };
            let _ = request.respond(response);
        }
    });
    format!("http://127.0.0.1:{port}/log/")
}

#[test]
fn audit_lists_operations_and_replays_the_quorum_history() {
    let h = history();
    let log = TestLog::new();
    log.append_records(&all_records(h));
    let (roster, policy, root, out, out4) = (
        h.path("roster.genesis.toml"),
        h.path("policy.toml"),
        h.path("out/root.pem"),
        h.path("out"),
        h.path("out4"),
    );
    let text = ok(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[
            &"--genesis-roster",
            &roster,
            &"--policy",
            &policy,
            &"--root",
            &root,
            &"--certs",
            &out,
            &"--certs",
            &out4,
        ],
    ));
    for expected in [
        "root operations (ceremony records): 4",
        "#1 root-init",
        "#2 delegate-issue",
        "#3 roster-change",
        "#4 delegate-issue",
        "approved by m1, m2, m3, m4, m5",
        "approved by m2, m4, m6, m8, m9",
        "approved by m1, m10, m2, m3, m4",
        "issued root.pem",
        "issued delegates/releases.pem",
        "4 of 4 records had their quorum",
        "installed roster",
        "3 chain to the root, 0 not in the log",
        "audit OK",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    // The bastion's own log, to which `ceremony execute` appended each record.
    let bastion_log = h.path("log");
    let bastion_vkey = h.path("log/log.vkey");
    let text = ok(&audit_args(
        &bastion_log,
        &bastion_vkey,
        &[&"--genesis-roster", &roster, &"--policy", &policy],
    ));
    assert!(
        text.contains("4 of 4 records had their quorum") && text.contains("audit OK"),
        "{text}"
    );

    let json = ok(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[
            &"--genesis-roster",
            &roster,
            &"--policy",
            &policy,
            &"--json",
        ],
    ));
    // The envelope (docs/cli-json.md): the report is its result.
    let envelope: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(envelope["ok"], true);
    assert_eq!(envelope["command"], "log audit");
    let report = &envelope["result"];
    assert_eq!(report["ok"], true);
    assert_eq!(report["size"], 4);
    assert_eq!(report["replay"]["records"].as_array().unwrap().len(), 4);
    assert_eq!(report["ceremony_records"][2]["kind"], "roster-change");
    assert_eq!(
        report["replay"]["records"][3]["approved_by"],
        serde_json::json!(["m1", "m10", "m2", "m3", "m4"])
    );
}

/// The replay starts from the genesis roster the policy pins: another roster file (here
/// the same members with one more comment line) is refused before any record.
#[test]
fn replay_refuses_a_genesis_roster_the_policy_does_not_pin() {
    let h = history();
    let log = TestLog::new();
    log.append_records(&all_records(h));
    let policy = h.path("policy.toml");
    let substitute = log.tmp.path().join("roster-substitute.toml");
    let mut text = std::fs::read_to_string(h.path("roster.genesis.toml")).unwrap();
    text.push_str("# substituted\n");
    std::fs::write(&substitute, text).unwrap();
    let err = fails(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--genesis-roster", &substitute, &"--policy", &policy],
    ));
    assert!(
        err.contains("rule genesis-roster") && err.contains("quorum.genesis_roster_sha256"),
        "{err}"
    );
}

#[test]
fn replay_needs_the_policy_each_request_pinned_among_those_given() {
    let h = history();
    let log = TestLog::new();
    log.append_records(&all_records(h));
    let roster = h.path("roster.genesis.toml");
    let policy = h.path("policy.toml");
    // A later policy (other bytes) alone: every request pinned the first one.
    let later = log.tmp.path().join("policy-later.toml");
    let mut text = std::fs::read_to_string(&policy).unwrap();
    text.push_str("\n# amended\n");
    std::fs::write(&later, text).unwrap();
    let err = fails(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--genesis-roster", &roster, &"--policy", &later],
    ));
    assert!(
        err.contains("rule policy-pin") && err.contains("the policies given are"),
        "{err}"
    );
    // Both, in order of adoption: each request finds the policy it pinned.
    let ok_text = ok(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[
            &"--genesis-roster",
            &roster,
            &"--policy",
            &policy,
            &"--policy",
            &later,
        ],
    ));
    assert!(
        ok_text.contains("4 of 4 records had their quorum"),
        "{ok_text}"
    );
}

#[test]
fn audit_over_http_and_not_found() {
    let h = history();
    let log = TestLog::new();
    log.append_records(&all_records(h));
    let url = serve(log.tmp.path().to_owned());
    let (roster, policy) = (h.path("roster.genesis.toml"), h.path("policy.toml"));
    let text = ok(&audit_args(
        &url,
        &log.vkey(),
        &[&"--genesis-roster", &roster, &"--policy", &policy],
    ));
    assert!(text.contains(&format!("at {url}")), "{text}");
    assert!(text.contains("4 of 4 records had their quorum"), "{text}");
    assert!(text.contains("audit OK"), "{text}");

    // Nothing served there: a clear "not found" naming the URL.
    let missing = url.replace("/log/", "/nothing/");
    let err = fails(&audit_args(&missing, &log.vkey(), &[]));
    assert!(
        err.contains("not found") && err.contains(&format!("{missing}checkpoint")),
        "{err}"
    );

    // A server that accepts and never answers: the request times out.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}/log", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let err = fails(&audit_args(&silent, &log.vkey(), &[&"--timeout", &"1"]));
    assert!(
        err.contains("timed out") && err.contains(&format!("{silent}/checkpoint")),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn state_file_detects_rollback_and_split_view() {
    let h = history();
    let log = TestLog::new();
    let state = log.path("monitor.state");
    log.append_records(&all_records(h)[..2]);
    // A copy of the log at size 2, for the rollback.
    let old = log.path("old");
    copy_dir(&log.dir(), &old);

    let text = ok(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--state-file", &state],
    ));
    assert!(text.contains("no checkpoint seen before"), "{text}");
    let seen2 = std::fs::read(&state).unwrap();
    assert_eq!(seen2, std::fs::read(log.dir().join("checkpoint")).unwrap());

    // A fork: the same key signs a different third entry on a copy.
    let fork = log.path("fork");
    copy_dir(&log.dir(), &fork);
    append_records_to(&fork, &log.skey(), &[h.record(3)]);

    // The log grows: consistent, and the state moves on.
    log.append_records(&[h.record(2)]);
    let text = ok(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--state-file", &state],
    ));
    assert!(
        text.contains("consistent with the checkpoint last seen: size 2"),
        "{text}"
    );
    let seen3 = std::fs::read(&state).unwrap();
    assert_eq!(seen3, std::fs::read(log.dir().join("checkpoint")).unwrap());

    // Split view: same size, another root.
    let err = fails(&audit_args(&fork, &log.vkey(), &[&"--state-file", &state]));
    assert!(
        err.contains("rule split-view") && err.contains("size 3"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        seen3,
        "state kept on failure"
    );

    // Rollback: the log shrank.
    let err = fails(&audit_args(&old, &log.vkey(), &[&"--state-file", &state]));
    assert!(
        err.contains("rule rollback") && err.contains("2 entries"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        seen3,
        "state kept on failure"
    );

    // A tampered hash tile is named (the partial level-0 tile of the current size 3).
    let tile = log.dir().join("tile/0/000.p/3");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let err = fails(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--state-file", &state],
    ));
    assert!(
        err.contains("rule log-verify") && err.contains(tile.to_str().unwrap()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        seen3,
        "state kept on failure"
    );
}

/// Edits a real record (parsed, changed, written back as TOML) into `dir/name`.
fn edit_record(h: &History, i: usize, dir: &Path, edit: impl FnOnce(&mut Record)) -> PathBuf {
    let path = h.record(i);
    let mut record = Record::parse(&std::fs::read(&path).unwrap(), &path).unwrap();
    edit(&mut record);
    let out = dir.join(RECORDS[i]);
    record.write_atomically(&out).unwrap();
    out
}

/// Member `member`'s real SSHSIG approval of the request embedded in `record`.
fn sign_request(h: &History, record: &Record, member: usize) -> String {
    let request = Base64::decode_vec(&record.request).unwrap();
    rust_pki_ceremony::sign_with_ssh_keygen(&request, &h.key(member)).unwrap()
}

fn replay_fails(h: &History, records: &[PathBuf]) -> String {
    let log = TestLog::new();
    log.append_records(records);
    let (roster, policy) = (h.path("roster.genesis.toml"), h.path("policy.toml"));
    fails(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--genesis-roster", &roster, &"--policy", &policy],
    ))
}

#[test]
fn replay_rejects_approvals_below_threshold_or_by_non_members() {
    let h = history();
    let tmp = tempfile::tempdir().unwrap();

    // Four approvals: below the threshold of five.
    let dir = tmp.path().join("four");
    std::fs::create_dir(&dir).unwrap();
    let four = edit_record(h, 1, &dir, |r| {
        r.approvals.pop();
        r.approved_by.pop();
    });
    let err = replay_fails(h, &[h.record(0), four]);
    assert!(
        err.contains("rule quorum")
            && err.contains("entry 1 (002-delegate-issue.toml)")
            && err.contains("quorum not met: 4 valid approvals"),
        "{err}"
    );
    assert!(err.contains("audit FAILED"), "{err}");

    // m2's approval swapped for the outsider m10's real signature.
    let dir = tmp.path().join("outsider");
    std::fs::create_dir(&dir).unwrap();
    let record = Record::parse(&std::fs::read(h.record(1)).unwrap(), &h.record(1)).unwrap();
    let m10 = sign_request(h, &record, 10);
    let outsider = edit_record(h, 1, &dir, |r| {
        let a = r.approvals.iter_mut().find(|a| a.member == "m2").unwrap();
        a.signature = m10;
    });
    let err = replay_fails(h, &[h.record(0), outsider]);
    assert!(
        err.contains("rule quorum")
            && err.contains("entry 1 (002-delegate-issue.toml) approval 1 (m2)")
            && err.contains("not a roster member's key"),
        "{err}"
    );

    // A record missing from the chain.
    let err = replay_fails(h, &[h.record(0), h.record(2)]);
    assert!(
        err.contains("rule sequence") && err.contains("entry 1 (003-roster-change.toml)"),
        "{err}"
    );
}

#[test]
fn replay_rejects_a_member_removed_by_an_earlier_roster_change() {
    let h = history();
    let tmp = tempfile::tempdir().unwrap();
    // Ceremony 4 ran under the new roster (approvals m1, m10, m2, m3, m4: file order);
    // give m10's place to m9, whom ceremony 3 removed
    // (a real signature by m9 over the exact request bytes).
    let record = Record::parse(&std::fs::read(h.record(3)).unwrap(), &h.record(3)).unwrap();
    let m9 = sign_request(h, &record, 9);
    let forged = edit_record(h, 3, tmp.path(), |r| {
        let i = r.approvals.iter().position(|a| a.member == "m10").unwrap();
        r.approvals[i] = RecordApproval {
            member: "m9".into(),
            signature: m9,
        };
        r.approved_by[i] = "m9".into();
    });
    let mut records = all_records(h);
    records[3] = forged;
    let err = replay_fails(h, &records);
    assert!(
        err.contains("rule quorum")
            && err.contains("entry 3 (004-delegate-issue.toml) approval 2 (m9)")
            && err.contains("not a roster member's key"),
        "{err}"
    );
    // The same signature was fine before the roster change: m9 approved ceremony 2.
    assert!(err.contains("3 of 4 records had their quorum"), "{err}");
}

#[test]
fn unlogged_certificate_chaining_to_the_root_is_flagged() {
    let h = history();
    // Only root-init is logged: the delegate certificate of ceremony 2 is not.
    let log = TestLog::new();
    log.append_records(&[h.record(0)]);
    let (root, out) = (h.path("out/root.pem"), h.path("out"));
    let err = fails(&audit_args(
        &log.dir(),
        &log.vkey(),
        &[&"--root", &root, &"--certs", &out],
    ));
    let delegate = h.path("out/delegates/releases.pem");
    assert!(
        err.contains("rule unlogged-certificate")
            && err.contains(&format!("FLAGGED {}", delegate.display()))
            && err.contains("1 problem(s)"),
        "{err}"
    );
    // The root itself is named by root-init's record.
    assert!(
        !err.contains(&format!("FLAGGED {}", root.display())),
        "{err}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Appends ceremony-record entries logged by digest only (`record: -`), as for a record too
/// large for an entry, signing with the test log's key through the tlog library.
fn append_digest_only(log: &TestLog, records: &[PathBuf]) {
    use rust_pki_tlog::{entry::Entry, note, writer::Log};
    let skey = std::fs::read_to_string(log.skey()).unwrap();
    let key = note::SignerKey::parse(skey.trim_end()).unwrap();
    let entries: Vec<Vec<u8>> = records
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            let record = Record::parse(&bytes, path).unwrap();
            let ders: Vec<Vec<u8>> = record.certificates().into_iter().map(|(_, d)| d).collect();
            let Entry::CeremonyRecord {
                file_name,
                size,
                sha256,
                certificates,
                ..
            } = Entry::ceremony_record(path.file_name().unwrap().to_str().unwrap(), &bytes, &ders)
                .unwrap()
            else {
                unreachable!()
            };
            Entry::CeremonyRecord {
                file_name,
                size,
                sha256,
                certificates,
                record: None,
            }
            .encode()
            .unwrap()
        })
        .collect();
    let mut writer = Log::open(log.dir(), ORIGIN, move |body: &[u8]| {
        note::sign_note(body, &key)
    })
    .unwrap();
    writer.append(&entries).unwrap();
}

#[test]
fn digest_only_records_are_fetched_from_records_beside_the_log() {
    let h = history();
    let log = TestLog::new();
    append_digest_only(&log, &all_records(h)[..2]);
    let (roster, policy) = (h.path("roster.genesis.toml"), h.path("policy.toml"));
    let replay: [&dyn AsRef<std::ffi::OsStr>; 4] =
        [&"--genesis-roster", &roster, &"--policy", &policy];

    // Not published: an error naming the entry and where the record should be.
    let err = fails(&audit_args(&log.dir(), &log.vkey(), &replay));
    let expected = log.dir().join("records/001-root-init.toml");
    assert!(
        err.contains("rule record-published")
            && err.contains("entry 0 (001-root-init.toml): record not published")
            && err.contains(expected.to_str().unwrap()),
        "{err}"
    );

    // Published, but other bytes than the log commits to.
    let records = log.dir().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::copy(h.record(1), records.join(RECORDS[0])).unwrap();
    std::fs::copy(h.record(1), records.join(RECORDS[1])).unwrap();
    let err = fails(&audit_args(&log.dir(), &log.vkey(), &replay));
    assert!(
        err.contains("rule record-digest") && err.contains("entry 0 (001-root-init.toml)"),
        "{err}"
    );
    // The same finding in the --json report: its rule, entry index and file.
    let mut json_args = replay.to_vec();
    json_args.push(&"--json");
    let out = run(&audit_args(&log.dir(), &log.vkey(), &json_args));
    // A verdict: exit 1, and the envelope carries the findings and the report.
    assert_eq!(out.status.code(), Some(1));
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(envelope["ok"], false);
    assert_eq!(envelope["error"]["rule"], "audit");
    assert_eq!(envelope["error"]["exit"], 1);
    assert_eq!(
        envelope["error"]["findings"],
        envelope["result"]["findings"]
    );
    let report = &envelope["result"];
    assert_eq!(report["ok"], false);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "record-digest", "{report}");
    assert_eq!(finding["entry"], 0, "{report}");
    assert_eq!(
        finding["file"],
        records.join(RECORDS[0]).display().to_string(),
        "{report}"
    );
    assert!(
        report["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("rule record-digest: entry 0 (001-root-init.toml)"),
        "{report}"
    );

    // Published as logged: the replay runs, from the directory and over HTTP.
    std::fs::copy(h.record(0), records.join(RECORDS[0])).unwrap();
    let text = ok(&audit_args(&log.dir(), &log.vkey(), &replay));
    assert!(
        text.contains("record records") && text.contains("2 of 2 records had their quorum"),
        "{text}"
    );
    let url = serve(log.tmp.path().to_owned());
    let text = ok(&audit_args(&url, &log.vkey(), &replay));
    assert!(text.contains("2 of 2 records had their quorum"), "{text}");
    std::fs::remove_file(records.join(RECORDS[1])).unwrap();
    let err = fails(&audit_args(&url, &log.vkey(), &replay));
    assert!(
        err.contains("record not published")
            && err.contains(&format!("{url}records/002-delegate-issue.toml"))
            && err.contains("not found"),
        "{err}"
    );
}

/// Fixtures of earlier test runs (more than an hour old; a concurrent run's is younger).
fn remove_stale_fixtures(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if stale
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with("log_audit-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
