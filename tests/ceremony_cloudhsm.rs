//! Ceremonies on the CloudHSM backend, end to end through `rust-pki ceremony execute`,
//! against the strict fake `scripts/fake-cloudhsm-cli` (its state and calls.jsonl are what
//! the HSM did). Members sign the HSM's tokens with their RSA quorum keys through
//! `scripts/fake-cloudhsm-approve`, as the runbook has them do on the bastion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use common::REPO;
use common::bastion::Bastion;
use serde_json::Value;

const CLUSTER: &str = "cluster-jxhlf7644ne";

fn fake() -> String {
    format!("{REPO}/scripts/fake-cloudhsm-cli")
}

/// A bastion whose policy names CloudHSM, whose members have RSA quorum keys
/// (`keys/mI.quorum.pem`, m10 an outsider too), and a fake cluster AWS has initialised.
struct CloudBastion {
    bastion: Bastion,
    members: Members,
}

impl CloudBastion {
    fn new() -> Self {
        let bastion = Bastion::new();
        for i in 1..=10 {
            let key = bastion.path(&format!("keys/m{i}.quorum.pem"));
            run(Command::new("openssl").args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                key.to_str().unwrap(),
            ]));
        }
        let mut roster = String::new();
        for line in std::fs::read_to_string(bastion.path("roster.toml"))
            .unwrap()
            .split_inclusive('\n')
        {
            roster.push_str(line);
            if let Some(id) = line.strip_prefix("id = \"m") {
                let i: usize = id.trim_end().trim_end_matches('"').parse().unwrap();
                roster.push_str(&quorum_key_line(&bastion, i));
            }
        }
        bastion.set_genesis_roster(&roster);
        let policy = std::fs::read_to_string(bastion.path("policy.toml")).unwrap();
        let cloud = policy.replace(
            "[hsm]\nbackend = \"softhsm2\"\n",
            &format!("[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"{CLUSTER}\"\n"),
        );
        assert_ne!(cloud, policy);
        std::fs::write(bastion.path("policy.toml"), cloud).unwrap();
        // What InitializeCluster does (the cluster-init side is the bastion's).
        run(Command::new(fake())
            .arg("fake-initialize")
            .env("FAKE_CLOUDHSM_STATE", bastion.path("fake-hsm")));
        let members = Members::start(bastion.path(""));
        Self { bastion, members }
    }

    /// Execute with the fake CLI, `signers` signing the HSM's tokens.
    fn execute(&self, request: &Path, out: &str, signers: &[usize], fault: Option<&str>) -> Output {
        *self.members.signers.lock().unwrap() = signers.to_vec();
        let fake = fake();
        let mut args = self.bastion.execute_args(request, out);
        args.extend(["--cloudhsm-cli", &fake]);
        self.bastion.rust_pki_with_env(
            &args,
            fault,
            &[("FAKE_CLOUDHSM_STATE", &self.bastion.path("fake-hsm"))],
        )
    }

    fn execute_ok(&self, request: &Path, out: &str, signers: &[usize]) -> String {
        let output = self.execute(request, out, signers, None);
        assert!(
            output.status.success(),
            "execute: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn state(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.bastion.path("fake-hsm/state.json")).unwrap())
            .unwrap()
    }

    /// Successful calls of `command` in calls.jsonl.
    fn calls(&self, command: &str) -> usize {
        std::fs::read_to_string(self.bastion.path("fake-hsm/calls.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|c| c["command"] == command && c["result"] == "ok")
            .count()
    }

    /// How many `cloudhsm-cli` sessions have started.
    fn sessions(&self) -> usize {
        std::fs::read_to_string(self.bastion.path("fake-hsm/calls.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).unwrap()["event"] == "start")
            .count()
    }

    fn users(&self) -> BTreeSet<String> {
        self.state()["users"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// A roster change replacing m9 (keys and quorum key) by m10, approved by m1-m5 with
    /// their shares of the passwords shared by the ceremony folder `shared_by`.
    fn roster_change_m9_to_m10(&self, shared_by: &str) -> PathBuf {
        let bastion = &self.bastion;
        let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
        let m9 = std::fs::read_to_string(bastion.key(9).with_extension("pub")).unwrap();
        let m10 = std::fs::read_to_string(bastion.key(10).with_extension("pub")).unwrap();
        let new_roster = roster
            .replace(m9.trim(), m10.trim())
            .replace("id = \"m9\"", "id = \"m10\"")
            .replace(&quorum_key_line(bastion, 9), &quorum_key_line(bastion, 10));
        std::fs::write(bastion.path("roster.new.toml"), &new_roster).unwrap();
        let request = bastion.prepare(
            "roster-change",
            "kind = \"roster-change\"\nwindow_hours = 24\nnew_roster = \"roster.new.toml\"\n",
        );
        bastion.approve_with_shares(
            &request,
            &[1, 2, 3, 4, 5],
            &[
                &format!("{shared_by}/user-pin"),
                &format!("{shared_by}/so-pin"),
            ],
        );
        request
    }

    fn root_init(&self) -> PathBuf {
        let request = self.bastion.prepare(
            "root-init",
            &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
        );
        self.bastion.approve(&request, &[1, 2, 3, 4, 5], false);
        request
    }
}

fn quorum_key_line(bastion: &Bastion, i: usize) -> String {
    let pem = run(Command::new("openssl").args([
        "pkey",
        "-pubout",
        "-in",
        bastion
            .path(&format!("keys/m{i}.quorum.pem"))
            .to_str()
            .unwrap(),
    ]));
    format!("cloudhsm_quorum_key = \"\"\"\n{}\"\"\"\n", pem)
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Sign `token` as CloudHSM user `username` with member `i`'s quorum key into `out`.
fn approve(bastion: &Path, token: &Path, username: &str, i: usize, out: &Path) {
    run(
        Command::new(format!("{REPO}/scripts/fake-cloudhsm-approve")).args([
            token.to_str().unwrap(),
            username,
            bastion
                .join(format!("keys/m{i}.quorum.pem"))
                .to_str()
                .unwrap(),
            out.to_str().unwrap(),
        ]),
    );
}

/// The members on the other side of the ceremony: a thread that signs every token the
/// tool writes into a ceremony's `cloudhsm/` folder — registration tokens by the member
/// whose user it is, the other tokens by `signers`.
struct Members {
    signers: Arc<Mutex<Vec<usize>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Members {
    fn start(dir: PathBuf) -> Self {
        let signers = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (signers, stop) = (Arc::clone(&signers), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut done = BTreeSet::new();
                while !stop.load(Ordering::SeqCst) {
                    for token in tokens(&dir.join("state")) {
                        let Ok(text) = std::fs::read_to_string(&token) else {
                            continue;
                        };
                        if done.insert((token.clone(), text)) {
                            let signers = signers.lock().unwrap().clone();
                            sign_token(&dir, &token, &signers);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Self {
            signers,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every `<ceremony>/cloudhsm/*.token.json`.
fn tokens(state: &Path) -> Vec<PathBuf> {
    let Ok(folders) = std::fs::read_dir(state) else {
        return Vec::new();
    };
    folders
        .flatten()
        .filter_map(|f| std::fs::read_dir(f.path().join("cloudhsm")).ok())
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".token.json"))
        .collect()
}

fn sign_token(dir: &Path, token: &Path, signers: &[usize]) {
    let name = token.file_name().unwrap().to_str().unwrap();
    let stem = name.trim_end_matches(".token.json");
    let approvals = token.parent().unwrap().parent().unwrap().join("approvals");
    if let Some(username) = stem.strip_prefix("register-") {
        let member = username[2..].replace('_', "-");
        let i: usize = member[1..].parse().unwrap();
        let out = approvals.join(format!("{member}.{stem}.cloudhsm-token.json"));
        approve(dir, token, username, i, &out);
        return;
    }
    let prefix = if stem.starts_with("user-") {
        "a_"
    } else {
        "c_"
    };
    for &i in signers {
        let out = approvals.join(format!("m{i}.{stem}.cloudhsm-token.json"));
        approve(dir, token, &format!("{prefix}m{i}"), i, &out);
    }
}

/// A password rebuilt as an insider would from five members' shares of `share_set` (a
/// `user-pin` folder under the state: `root_owner`'s; `so-pin`: the admin's).
fn rebuilt_secret(bastion: &Bastion, share_set: &str, members: &[usize]) -> String {
    use rust_pki_ceremony::shares::{Manifest, ShareIdentity, combine, decrypt_share};
    use secrecy::ExposeSecret as _;
    let dir = bastion.path(&format!("state/{share_set}/shares"));
    let manifest = Manifest::read(&dir.join("manifest.toml")).unwrap();
    let shares: Vec<_> = members
        .iter()
        .map(|i| {
            let identity = ShareIdentity::from_file(&bastion.key(*i)).unwrap();
            let bytes = std::fs::read(dir.join(format!("m{i}.age"))).unwrap();
            (format!("m{i}"), decrypt_share(&bytes, &identity).unwrap())
        })
        .collect();
    combine(&manifest, &shares)
        .unwrap()
        .secret
        .expose_secret()
        .to_owned()
}

#[test]
fn root_init_delegate_roster_change_and_rotation_on_the_fake_cloudhsm() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;

    // root-init: the cluster activated, users made and registered, quorum values, the key.
    let request = cloud.root_init();
    let shown = bastion.show(&request);
    assert!(
        shown.contains(&format!(
            "HSM:               cloudhsm (AWS CloudHSM cluster {CLUSTER})"
        )),
        "{shown}"
    );
    assert!(
        shown.contains("  HSM approvers:     5 of m1, m2, m3, m4, m5, m6, m7 (the root key"),
        "{shown}"
    );
    let out = cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    assert!(out.contains("approved by: m1, m2, m3, m4, m5"), "{out}");
    let mut expected: BTreeSet<String> = ["admin".to_owned(), "root_owner".to_owned()].into();
    for i in 1..=9 {
        expected.insert(format!("a_m{i}"));
        expected.insert(format!("c_m{i}"));
    }
    assert_eq!(cloud.users(), expected);
    let state = cloud.state();
    for i in 1..=9 {
        for user in [format!("a_m{i}"), format!("c_m{i}")] {
            assert!(state["users"][&user]["quorum_key"].is_string(), "{user}");
        }
    }
    assert_eq!(state["quorum_values"]["user"], 5);
    assert_eq!(state["quorum_values"]["quorum"], 5);
    let keys = state["keys"].as_array().unwrap();
    let private: Vec<&Value> = keys
        .iter()
        .filter(|k| k["class"] == "private-key")
        .collect();
    assert_eq!(private.len(), 1);
    let root_key = private[0];
    assert_eq!(root_key["owner"], "root_owner");
    assert_eq!(root_key["use"], 5);
    assert_eq!(root_key["extractable"], false);
    let shared: Vec<&str> = root_key["shared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(
        shared,
        ["c_m1", "c_m2", "c_m3", "c_m4", "c_m5", "c_m6", "c_m7"]
    );
    let record = std::fs::read_to_string(request.parent().unwrap().join("record.toml")).unwrap();
    assert!(
        record.contains(&format!(
            "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"{CLUSTER}\"\nquorum_enforced_by = [\"sshsig-approvals\", \"password-shares\", \"cloudhsm-quorum\"]"
        )),
        "{record}"
    );
    assert!(
        record.contains("CloudHSM crypto-user c_m9 of m9 with its quorum key registered"),
        "{record}"
    );
    // The root was self-signed through the key-usage quorum.
    assert_eq!(cloud.calls("crypto sign ecdsa"), 1);

    // delegate-issue: the owner's password from five shares, five key-usage signatures.
    // Approvers the root key is not shared with (m8, m9) cannot count at the HSM: refused
    // before any session starts.
    let request = bastion.delegate_request();
    bastion.approve(&request, &[5, 6, 7, 8, 9], true);
    let sessions = cloud.sessions();
    let refused = cloud.execute(&request, "out", &[5, 6, 7, 8, 9], None);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("CloudHSM counts approvals only from the members whose crypto users share the root key (m1, m2, m3, m4, m5, m6, m7): 3 of the approvers"),
        "{err}"
    );
    assert_eq!(cloud.sessions(), sessions);
    bastion.approve(&request, &[2, 3, 4], true);
    cloud.execute_ok(&request, "out", &[2, 3, 4, 6, 7]);
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

    // roster-change: m9 out, m10 in.
    let request = cloud.roster_change_m9_to_m10("001-root-init");
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    let users = cloud.users();
    assert!(
        users.contains("a_m10") && users.contains("c_m10"),
        "{users:?}"
    );
    assert!(
        !users.contains("a_m9") && !users.contains("c_m9"),
        "{users:?}"
    );
    assert_eq!(cloud.calls("user delete"), 2);
    std::fs::copy(bastion.path("out/roster.toml"), bastion.path("roster.toml")).unwrap();

    // The departed member's quorum signature is refused by the HSM itself: an insider
    // with the owner's password drives the fake directly, without our checks.
    let password = rebuilt_secret(bastion, "003-roster-change/user-pin", &[1, 2, 3, 4, 5]);
    departed_signature_is_refused(&cloud, &password);
    // The old shares rebuild the old password, which no longer opens the key owner.
    let old = rebuilt_secret(bastion, "001-root-init/user-pin", &[5, 6, 7, 8, 9]);
    assert_ne!(old, password);
    assert_eq!(cloud.calls("user change-password"), 2);
    let err = insider_session(&cloud, &old).unwrap_err().to_string();
    assert!(err.contains("Invalid username or password"), "{err}");

    // root-rotate: a second key made like the first, both cross-certificates signed.
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
    bastion.approve_with_shares(&request, &[1, 3, 5, 6, 7], &["003-roster-change/user-pin"]);
    cloud.execute_ok(&request, "rotated", &[1, 3, 5, 6, 7]);
    let state = cloud.state();
    let new_key = state["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["class"] == "private-key" && k["label"] == "rust-root-2033")
        .unwrap();
    assert_eq!(new_key["use"], 5);
    assert_eq!(new_key["shared"].as_array().unwrap().len(), 7);
    let p = |name: &str| bastion.path(name);
    for (anchor, cross) in [
        ("out/root.pem", "rotated/cross/new-root-by-old-root.pem"),
        ("rotated/root.pem", "rotated/cross/old-root-by-new-root.pem"),
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
        assert!(ok, "{anchor} {cross}: {text}");
    }
}

/// A session of the fake logged in as `root_owner` with `password`.
fn insider_session(
    cloud: &CloudBastion,
    password: &str,
) -> rust_pki_ceremony::Result<rust_pki_ceremony::gate::cloudhsm::session::Session> {
    use rust_pki_ceremony::gate::cloudhsm::session::Role;
    insider_login(cloud, Role::CryptoUser, "root_owner", password)
}

/// A session of the fake logged in as `username` with `password`.
fn insider_login(
    cloud: &CloudBastion,
    role: rust_pki_ceremony::gate::cloudhsm::session::Role,
    username: &str,
    password: &str,
) -> rust_pki_ceremony::Result<rust_pki_ceremony::gate::cloudhsm::session::Session> {
    use rust_pki_ceremony::gate::cloudhsm::{cli::Cli, session::Session};
    let cli = Cli {
        program: fake().into(),
        env: vec![(
            "FAKE_CLOUDHSM_STATE".into(),
            cloud.bastion.path("fake-hsm").display().to_string(),
        )],
        ..Cli::default()
    };
    let mut session = Session::start(&cli)?;
    session.login(role, username, &secrecy::SecretString::from(password))?;
    Ok(session)
}

/// Sign with the root key directly in the fake, with key-usage approvals by c_m9 (deleted
/// with the roster change) and four current members: the HSM refuses, naming c_m9; the
/// same with five current members signs.
fn departed_signature_is_refused(cloud: &CloudBastion, password: &str) {
    use rust_pki_ceremony::gate::cloudhsm::session::Service;
    let bastion = &cloud.bastion;
    let dir = bastion.path("insider");
    std::fs::create_dir(&dir).unwrap();
    let mut session = insider_session(cloud, password).unwrap();
    let data = dir.join("data");
    std::fs::write(&data, b"anything").unwrap();
    for (round, members) in [[9, 1, 2, 3, 4], [5, 1, 2, 3, 4]].iter().enumerate() {
        let token = dir.join(format!("token-{round}.json"));
        session.generate_token(Service::KeyUsage, &token).unwrap();
        let mut signed = token.clone();
        for (n, i) in members.iter().enumerate() {
            let out = dir.join(format!("token-{round}-{n}.json"));
            approve(
                bastion.path("").as_path(),
                &signed,
                &format!("c_m{i}"),
                *i,
                &out,
            );
            signed = out;
        }
        let result = session.sign_ecdsa("rust-root-2026", &data, &signed);
        if round == 0 {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("c_m9: no registered quorum key"), "{err}");
        } else {
            result.unwrap();
        }
    }
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_crash_between_hsm_steps_then_reruns_complete_root_init_exactly_once() {
    use std::os::unix::process::ExitStatusExt as _;
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    for step in [
        "activated",
        "user-created",
        "registered",
        "quorum-set",
        "key-generated",
    ] {
        let died = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], Some(step));
        assert_eq!(
            died.status.signal(),
            Some(6),
            "{step}: the run must die at the fault point: {}",
            String::from_utf8_lossy(&died.stderr)
        );
        assert!(!request.parent().unwrap().join("record.toml").exists());
    }
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    // Exactly once: one activation, one user per member role and the owner, one
    // registration per member user, one key, one value per admin service.
    assert_eq!(cloud.calls("cluster activate"), 1);
    assert_eq!(cloud.calls("user create"), 19);
    assert_eq!(cloud.calls("user change-quorum token-sign register"), 18);
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 1);
    assert_eq!(cloud.calls("quorum token-sign set-quorum-value"), 2);
    assert_eq!(cloud.users().len(), 20);
    let state = cloud.state();
    assert_eq!(
        state["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["class"] == "private-key")
            .count(),
        1
    );
    // The generated passwords were journalled only until the record: gone with the key.
    let folder = request.parent().unwrap();
    assert!(!folder.join("pending-pins.age").exists());
    assert!(!folder.join("ceremony.key").exists());
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_crash_between_hsm_steps_then_reruns_complete_the_roster_change_exactly_once() {
    use std::os::unix::process::ExitStatusExt as _;
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    let request = cloud.roster_change_m9_to_m10("001-root-init");
    for step in [
        "reshared",
        "user-created",
        "registered",
        "user-deleted",
        "password-changed",
    ] {
        let died = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], Some(step));
        assert_eq!(
            died.status.signal(),
            Some(6),
            "{step}: the run must die at the fault point: {}",
            String::from_utf8_lossy(&died.stderr)
        );
    }
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    // Root-init's 19 users, then m10's two; m9's two deleted once each.
    assert_eq!(cloud.calls("user create"), 21);
    assert_eq!(cloud.calls("user delete"), 2);
    assert_eq!(cloud.calls("user change-quorum token-sign register"), 20);
    let users = cloud.users();
    assert!(
        users.contains("a_m10") && !users.contains("c_m9"),
        "{users:?}"
    );
    // The new password opens the key owner, the old one no longer does.
    let bastion = &cloud.bastion;
    let new = rebuilt_secret(bastion, "002-roster-change/user-pin", &[1, 2, 3, 4, 10]);
    insider_session(&cloud, &new).unwrap();
    let old = rebuilt_secret(bastion, "001-root-init/user-pin", &[1, 2, 3, 4, 5]);
    assert!(insider_session(&cloud, &old).is_err());
}

#[test]
fn root_init_refuses_a_cluster_someone_else_activated() {
    use rust_pki_ceremony::gate::cloudhsm::{cli::Cli, session::Session};
    let cloud = CloudBastion::new();
    let cli = Cli {
        program: fake().into(),
        env: vec![(
            "FAKE_CLOUDHSM_STATE".into(),
            cloud.bastion.path("fake-hsm").display().to_string(),
        )],
        ..Cli::default()
    };
    Session::start(&cli)
        .unwrap()
        .cluster_activate(&secrecy::SecretString::from("the operator's own"))
        .unwrap();
    let request = cloud.root_init();
    let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("the cluster is activated already, not by this root-init"),
        "{err}"
    );
    assert_eq!(cloud.users(), BTreeSet::from(["admin".to_owned()]));
}

#[test]
fn a_cloudhsm_request_on_the_fake_never_starts_the_cli_for_softhsm2() {
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    *cloud.members.signers.lock().unwrap() = vec![1, 2, 3, 4, 5];
    let mut args = cloud.bastion.execute_args(&request, "out");
    args.extend(["--hsm", "softhsm2"]);
    let output = cloud.bastion.rust_pki_with_env(
        &args,
        None,
        &[("FAKE_CLOUDHSM_STATE", &cloud.bastion.path("fake-hsm"))],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("hsm-backend"), "{err}");
    assert!(!cloud.bastion.path("fake-hsm/calls.jsonl").exists());
}

/// A `cloudhsm-cli` the operator wrote: it runs the fake behind it and, by
/// `HOSTILE_MODE`, lies on one command. `echo` answers `login` itself with an error that
/// repeats the password it was given, with a forged line and terminal escapes (and says
/// the same on stderr); `other-bytes` makes the HSM sign another file than the TBS;
/// `flood` answers the signature with 2 MiB of an unfinished JSON object. Every password
/// it sees is appended to `HOSTILE_CAPTURE`, so that the test knows what must not leak.
const HOSTILE_CLI: &str = r#"#!/usr/bin/env python3
import json, os, shlex, subprocess, sys, threading
mode = os.environ["HOSTILE_MODE"]
fake = subprocess.Popen([os.environ["HOSTILE_FAKE"]] + sys.argv[1:], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE)
def pump():
    while True:
        chunk = os.read(fake.stdout.fileno(), 65536)
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
threading.Thread(target=pump, daemon=True).start()
def answer(text):
    sys.stdout.write(text)
    sys.stdout.flush()
while True:
    line = sys.stdin.readline()
    if not line:
        break
    words = shlex.split(line)
    if "--password" in words:
        with open(os.environ["HOSTILE_CAPTURE"], "a") as f:
            f.write(words[words.index("--password") + 1] + "\n")
    if mode == "echo" and words[:1] == ["login"]:
        password = words[words.index("--password") + 1]
        sys.stderr.write("debug: password " + password + "\n\x1b[2J\x1b[1;1H" + "ok: all signed\n")
        sys.stderr.flush()
        answer(json.dumps({"error_code": 1, "data": "Invalid password " + password
                           + "\nok: 5 approvals verified, signed\x1b]0;owned\x07\x1b[31m"}) + "\n")
        continue
    if mode == "other-bytes" and words[:3] == ["crypto", "sign", "ecdsa"]:
        other = os.path.join(os.path.dirname(os.environ["HOSTILE_CAPTURE"]), "other.tbs")
        with open(other, "wb") as f:
            f.write(b"what the operator wanted signed")
        words[words.index("--data-path") + 1] = other
        line = shlex.join(words) + "\n"
    if mode == "flood" and words[:3] == ["crypto", "sign", "ecdsa"]:
        answer('{"error_code": 0, "data": {"signature": "' + "A" * (2 * 1024 * 1024))
        continue
    fake.stdin.write(line.encode())
    fake.stdin.flush()
fake.stdin.close()
fake.wait()
"#;

impl CloudBastion {
    /// Execute through [`HOSTILE_CLI`] in `mode`, `signers` signing the HSM's tokens, at
    /// `-vv`.
    fn execute_hostile(&self, request: &Path, mode: &str, signers: &[usize]) -> Output {
        use std::os::unix::fs::PermissionsExt as _;
        *self.members.signers.lock().unwrap() = signers.to_vec();
        let hostile = self.bastion.path("hostile-cloudhsm-cli");
        std::fs::write(&hostile, HOSTILE_CLI).unwrap();
        std::fs::set_permissions(&hostile, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut args = vec!["-vv"];
        args.extend(self.bastion.execute_args(request, "out"));
        args.extend(["--cloudhsm-cli", hostile.to_str().unwrap()]);
        let fake = PathBuf::from(fake());
        self.bastion.rust_pki_with_env(
            &args,
            None,
            &[
                ("FAKE_CLOUDHSM_STATE", &self.bastion.path("fake-hsm")),
                ("HOSTILE_MODE", Path::new(mode)),
                ("HOSTILE_FAKE", &fake),
                ("HOSTILE_CAPTURE", &self.bastion.path("hostile-capture")),
            ],
        )
    }

    /// What a refused ceremony must leave as it was: the fake HSM's state, the log, the
    /// ceremony records.
    fn snapshot(&self) -> (Vec<u8>, u64, usize) {
        (
            std::fs::read(self.bastion.path("fake-hsm/state.json")).unwrap(),
            self.bastion.log_size(),
            self.bastion.records(),
        )
    }
}

/// Every file under `dir` (recursively) that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .unwrap_or_default()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_hostile_cloudhsm_cli_cannot_leak_a_password_forge_output_or_a_signature() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    cloud.execute_ok(&cloud.root_init(), "out", &[1, 2, 3, 4, 5]);
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    let before = cloud.snapshot();

    // A CLI that echoes the password with a forged line and escapes: cut out, inert.
    let output = cloud.execute_hostile(&request, "echo", &[1, 2, 3, 4, 5]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    let captured = std::fs::read_to_string(bastion.path("hostile-capture")).unwrap();
    let password = captured.lines().next().unwrap();
    assert_eq!(
        password.len(),
        32,
        "the key owner's password reached the CLI"
    );
    assert!(!err.contains(password), "{err}");
    assert!(
        err.contains(
            "cloudhsm-cli login failed (error_code 1); stderr: debug: password [password removed]"
        ),
        "{err}"
    );
    assert!(
        err.contains("response: Invalid password [password removed]\\u{000a}ok: 5 approvals verified, signed\\u{001b}]0;owned"),
        "{err}"
    );
    // (Tracing's own colours are escapes too: only the CLI's must be gone.)
    for raw in ["\u{1b}[2J", "\u{1b}[1;1H", "\u{1b}]0;owned", "\u{7}"] {
        assert!(!err.contains(raw), "{raw:?} in {err}");
    }
    assert!(!err.lines().any(|l| l.starts_with("ok:")), "{err}");
    assert_eq!(cloud.snapshot(), before);
    let request_dir = request.parent().unwrap();
    assert!(!request_dir.join("record.toml").exists());
    // Nowhere in what the bastion keeps: state, output, log, the fake's call log.
    for dir in ["state", "out", "log", "fake-hsm"] {
        let leaks = files_containing(&bastion.path(dir), password.as_bytes());
        assert!(leaks.is_empty(), "{password} in {leaks:?}");
    }

    // A CLI that has the HSM sign other bytes: the signature does not verify, refused.
    let output = cloud.execute_hostile(&request, "other-bytes", &[1, 2, 3, 4, 5]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("is `rust-root-2026` the root certificate's key?"),
        "{err}"
    );
    assert!(!bastion.path("out/delegates/releases.pem").exists());
    assert!(!request_dir.join("record.toml").exists());
    assert_eq!(cloud.snapshot().1, before.1);
    assert_eq!(cloud.snapshot().2, before.2);

    // A CLI that floods: the answer is cut off at the bound, the session ended.
    let output = cloud.execute_hostile(&request, "flood", &[1, 2, 3, 4, 5]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("cloudhsm-cli crypto sign ecdsa: unexpected output: more than 1048576 bytes without a whole answer"),
        "{err}"
    );
    assert!(!request_dir.join("record.toml").exists());
    assert_eq!(cloud.snapshot().1, before.1);
    assert_eq!(cloud.snapshot().2, before.2);

    // None of it broke the ceremony: the real CLI completes it.
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    assert!(bastion.path("out/delegates/releases.pem").exists());
}

impl CloudBastion {
    /// `ceremony execute` with the fake CLI as a child process the test can kill.
    fn spawn_execute(&self, request: &Path, out: &str, signers: &[usize]) -> std::process::Child {
        *self.members.signers.lock().unwrap() = signers.to_vec();
        let fake = fake();
        let mut args = self.bastion.execute_args(request, out);
        args.extend(["--cloudhsm-cli", &fake]);
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .current_dir(self.bastion.path(""))
            .env("SOFTHSM2_CONF", self.bastion.path("hsm/softhsm2.conf"))
            .env("FAKE_CLOUDHSM_STATE", self.bastion.path("fake-hsm"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Until `path` exists (a step the child process reaches), failing after a minute.
fn wait_until_exists(path: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never came",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_root_init_killed_while_waiting_then_robbed_of_its_journal_keeps_its_shares_and_refuses() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    let request = cloud.root_init();
    let folder = request.parent().unwrap().to_owned();
    // Nobody signs the key-usage token: execute waits for approvals after activating the
    // cluster and generating the key; then kill -9.
    let mut child = cloud.spawn_execute(&request, "out", &[]);
    wait_until_exists(&folder.join("cloudhsm/sign-001.token.json"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(cloud.calls("cluster activate"), 1);
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 1);
    let hsm = cloud.state();
    let sessions = cloud.sessions();

    // The operator corrupts the journal: refused before any session, nothing replaced.
    let journal = folder.join("pending-pins.age");
    std::fs::write(&journal, b"age-encryption.org/v1\nnot a journal\n").unwrap();
    let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("request field `pending-pins.age`"), "{err}");
    // The operator deletes it: the share sets of the first run are the only copy of the
    // passwords the cluster now uses; they are kept and nothing runs.
    std::fs::remove_file(&journal).unwrap();
    let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("request field `pending-pins.age`: missing, but an earlier run of this ceremony left share sets (user-pin, so-pin)"),
        "{err}"
    );
    assert_eq!(cloud.sessions(), sessions);
    assert_eq!(cloud.state(), hsm);
    assert!(!folder.join("record.toml").exists());
    // No second activation or key, and five members still hold the admin password.
    assert_eq!(cloud.calls("cluster activate"), 1);
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 1);
    let admin = rebuilt_secret(bastion, "001-root-init/so-pin", &[1, 2, 3, 4, 5]);
    insider_login(
        &cloud,
        rust_pki_ceremony::gate::cloudhsm::session::Role::Admin,
        "admin",
        &admin,
    )
    .unwrap();
}

#[test]
fn two_executes_of_one_root_init_at_once_activate_and_generate_once() {
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    let log_before = cloud.bastion.log_size();
    let first = cloud.spawn_execute(&request, "out", &[1, 2, 3, 4, 5]);
    let second = cloud.spawn_execute(&request, "out", &[1, 2, 3, 4, 5]);
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let succeeded = outputs.iter().filter(|o| o.status.success()).count();
    assert!(succeeded >= 1, "{outputs:?}");
    for output in outputs.iter().filter(|o| !o.status.success()) {
        // The other one waited for the state lock and gave up.
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains("ceremony state"), "{err}");
    }
    // Exactly once: one activation, one key, one self-signature, one log entry.
    assert_eq!(cloud.calls("cluster activate"), 1);
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 1);
    assert_eq!(cloud.calls("crypto sign ecdsa"), 1);
    assert_eq!(cloud.bastion.records(), 1);
    assert_eq!(cloud.bastion.log_size(), log_before + 1);
}

/// `RSA <bits> sha256:<hex>` of a PEM private key's public half, as `ceremony show` prints
/// a CloudHSM quorum key.
fn quorum_fingerprint(bastion: &Bastion, key: &str) -> String {
    let sha = run(Command::new("sh").arg("-c").arg(format!(
        "openssl pkey -in {} -pubout -outform DER | sha256sum",
        bastion.path(key).display()
    )));
    format!("RSA 2048 sha256:{}", &sha[..64])
}

#[test]
fn a_roster_change_swapping_a_members_quorum_key_is_shown_and_refused_at_execute() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    cloud.execute_ok(&cloud.root_init(), "out", &[1, 2, 3, 4, 5]);
    // The operator's roster keeps m3 but puts their own key (m10's) as m3's quorum key.
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    let swapped = roster.replace(&quorum_key_line(bastion, 3), &quorum_key_line(bastion, 10));
    assert_ne!(swapped, roster);
    std::fs::write(bastion.path("roster.new.toml"), swapped).unwrap();
    let request = bastion.prepare(
        "roster-change",
        "kind = \"roster-change\"\nwindow_hours = 24\nnew_roster = \"roster.new.toml\"\n",
    );
    // What every member's own binary shows before they approve.
    let shown = bastion.show(&request);
    let (old, new) = (
        quorum_fingerprint(bastion, "keys/m3.quorum.pem"),
        quorum_fingerprint(bastion, "keys/m10.quorum.pem"),
    );
    assert!(shown.contains("    ~ m3  "), "{shown}");
    assert!(
        shown.contains(&format!("        CloudHSM quorum key: {old} -> {new}")),
        "{shown}"
    );
    // Approved anyway: CloudHSM would keep m3's registered key while the record named
    // the new one, so execute refuses before any session.
    bastion.approve_with_shares(
        &request,
        &[1, 2, 3, 4, 5],
        &["001-root-init/user-pin", "001-root-init/so-pin"],
    );
    let (sessions, hsm, log) = (cloud.sessions(), cloud.state(), bastion.log_size());
    let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("member `m3` keeps their id but gets another cloudhsm_quorum_key"),
        "{err}"
    );
    assert_eq!(cloud.sessions(), sessions);
    assert_eq!(cloud.state(), hsm);
    assert_eq!(bastion.log_size(), log);
    assert!(!request.parent().unwrap().join("record.toml").exists());
}

#[test]
fn roster_check_refuses_shared_short_or_non_rsa_quorum_keys() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    let roster = std::fs::read_to_string(bastion.path("roster.toml")).unwrap();
    let pem_line = |args: &[&str]| {
        let key = bastion.path("keys/odd.pem");
        run(Command::new("openssl")
            .args(["genpkey", "-out", key.to_str().unwrap()])
            .args(args));
        let pem =
            run(Command::new("openssl").args(["pkey", "-pubout", "-in", key.to_str().unwrap()]));
        format!("cloudhsm_quorum_key = \"\"\"\n{pem}\"\"\"\n")
    };
    let m2 = quorum_key_line(bastion, 2);
    for (replacement, expected) in [
        (
            quorum_key_line(bastion, 1),
            "the same key as member `m1`: each member approves with their own",
        ),
        (
            pem_line(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
            "RSA 1024 bits: CloudHSM quorum keys are RSA of at least 2048",
        ),
        (
            pem_line(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
            "is not rsaEncryption",
        ),
    ] {
        std::fs::write(
            bastion.path("roster.odd.toml"),
            roster.replace(&m2, &replacement),
        )
        .unwrap();
        let output = bastion.rust_pki(
            &[
                "ceremony",
                "roster",
                "check",
                "--roster",
                "roster.odd.toml",
                "--policy",
                "policy.toml",
            ],
            None,
        );
        assert!(!output.status.success());
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.contains("m2") && err.contains(expected),
            "{expected}: {err}"
        );
    }
}

#[test]
fn a_request_for_another_cluster_or_without_its_hsm_table_never_reaches_the_cli() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    let pinned = format!("[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"{CLUSTER}\"\n");
    let other = "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-aaaaaaaaaaa\"\n";
    // Another cluster, edited in before members approved (their approvals verify); the
    // table removed after they approved (a member's own binary refuses to approve that).
    for (edit, before_approval, expected) in [
        (other, true, "hsm-policy"),
        ("", false, "missing field `hsm`"),
    ] {
        let request = bastion.prepare(
            "root-init",
            &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
        );
        let text = std::fs::read_to_string(&request).unwrap();
        assert!(text.contains(&pinned), "{text}");
        if !before_approval {
            bastion.approve(&request, &[1, 2, 3, 4, 5], false);
        }
        std::fs::write(&request, text.replace(&pinned, edit)).unwrap();
        if before_approval {
            bastion.approve(&request, &[1, 2, 3, 4, 5], false);
        }
        let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
        assert!(!output.status.success());
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(!bastion.path("fake-hsm/calls.jsonl").exists(), "{err}");
        assert_eq!(bastion.records(), 0);
        std::fs::remove_dir_all(request.parent().unwrap()).unwrap();
    }
}

#[test]
fn no_password_the_cli_was_given_is_left_in_any_file_output_or_call_log() {
    let cloud = CloudBastion::new();
    let bastion = &cloud.bastion;
    // A CLI that forwards everything to the fake and records every password it is given.
    let mut outputs = Vec::new();
    let mut run_ok = |request: &Path, signers: &[usize]| {
        let output = cloud.execute_hostile(request, "pass", signers);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        outputs.push(output);
    };
    run_ok(&cloud.root_init(), &[1, 2, 3, 4, 5]);
    let request = bastion.delegate_request();
    bastion.approve(&request, &[1, 2, 3, 4, 5], true);
    run_ok(&request, &[1, 2, 3, 4, 5]);
    run_ok(
        &cloud.roster_change_m9_to_m10("001-root-init"),
        &[1, 2, 3, 4, 5],
    );
    let captured = std::fs::read_to_string(bastion.path("hostile-capture")).unwrap();
    let passwords: BTreeSet<&str> = captured.lines().collect();
    // admin and root_owner (twice each: root-init, roster-change) and 20 member users.
    assert!(passwords.len() >= 24, "{passwords:?}");
    std::fs::remove_file(bastion.path("hostile-capture")).unwrap();
    for password in &passwords {
        for output in &outputs {
            for stream in [&output.stdout, &output.stderr] {
                assert!(
                    !String::from_utf8_lossy(stream).contains(password),
                    "a password in the output at -vv"
                );
            }
        }
        let leaks = files_containing(&bastion.path(""), password.as_bytes());
        assert!(leaks.is_empty(), "a password in {leaks:?}");
    }
    // Every `--password` the fake recorded is the placeholder.
    let calls = std::fs::read_to_string(bastion.path("fake-hsm/calls.jsonl")).unwrap();
    let mut seen = 0;
    for call in calls
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        let words = call["words"].as_array().cloned().unwrap_or_default();
        for pair in words.windows(2) {
            if pair[0] == "--password" {
                assert_eq!(pair[1], "[password removed]", "{call}");
                seen += 1;
            }
        }
    }
    assert!(seen >= passwords.len(), "{seen} --password words recorded");
}

#[test]
fn a_root_init_killed_while_waiting_for_approvals_completes_once_on_rerun() {
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    let folder = request.parent().unwrap().to_owned();
    let mut child = cloud.spawn_execute(&request, "out", &[]);
    wait_until_exists(&folder.join("cloudhsm/sign-001.token.json"));
    child.kill().unwrap();
    child.wait().unwrap();
    // The dead run's approvals for its token, dropped late, count for nothing now.
    let stale = folder.join("approvals/m1.stale.cloudhsm-token.json");
    approve(
        &cloud.bastion.path(""),
        &folder.join("cloudhsm/sign-001.token.json"),
        "c_m1",
        1,
        &stale,
    );
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    assert_eq!(cloud.calls("cluster activate"), 1);
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 1);
    assert_eq!(cloud.calls("user create"), 19);
    assert_eq!(cloud.calls("crypto sign ecdsa"), 1);
    let approved: Value = serde_json::from_slice(
        &std::fs::read(folder.join("cloudhsm/sign-001.approved.json")).unwrap(),
    )
    .unwrap();
    let signers: Vec<&str> = approved["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(signers, ["c_m1", "c_m2", "c_m3", "c_m4", "c_m5"]);
    assert!(!folder.join("pending-pins.age").exists());
}

/// The operator reads the generated admin password from the journal on the bastion (it
/// holds the ceremony key) while root-init is interrupted, and adds an admin of their own
/// before the quorum values are set: the rerun refuses before the root key exists.
#[cfg(feature = "fault-injection")]
#[test]
fn root_init_refuses_a_user_made_outside_the_ceremony() {
    use rust_pki_ceremony::gate::cloudhsm::{
        cli::Cli,
        session::{Role, Session},
    };
    use secrecy::SecretString;
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    let folder = request.parent().unwrap();
    let died = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], Some("registered"));
    assert!(!died.status.success());
    let journal = run(Command::new("age").args([
        "-d",
        "-i",
        folder.join("ceremony.key").to_str().unwrap(),
        folder.join("pending-pins.age").to_str().unwrap(),
    ]));
    let admin = journal
        .lines()
        .find_map(|l| l.strip_prefix("admin "))
        .unwrap()
        .to_owned();
    let cli = Cli {
        program: fake().into(),
        env: vec![(
            "FAKE_CLOUDHSM_STATE".into(),
            cloud.bastion.path("fake-hsm").display().to_string(),
        )],
        ..Cli::default()
    };
    let mut session = Session::start(&cli).unwrap();
    session
        .login(Role::Admin, "admin", &SecretString::from(admin))
        .unwrap();
    session
        .user_create(
            "a_operator",
            Role::Admin,
            &SecretString::from("operator-pw-1"),
            None,
        )
        .unwrap();
    drop(session);

    let output = cloud.execute(&request, "out", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("CloudHSM user `a_operator` (admin)") && err.contains("cloudhsm-users"),
        "{err}"
    );
    assert_eq!(cloud.calls("key generate-asymmetric-pair ec"), 0);
    assert!(!folder.join("record.toml").exists());
}

/// Five admins approve, in a session of the operator's (who rebuilt the admin password from
/// shares), a user the roster does not name: the next roster change refuses before it
/// creates, deletes or shares anything.
#[test]
fn roster_change_refuses_a_user_made_outside_a_ceremony() {
    use rust_pki_ceremony::gate::cloudhsm::session::{Role, Service};
    let cloud = CloudBastion::new();
    let request = cloud.root_init();
    cloud.execute_ok(&request, "out", &[1, 2, 3, 4, 5]);
    let bastion = &cloud.bastion;
    let admin = rebuilt_secret(bastion, "001-root-init/so-pin", &[1, 2, 3, 4, 5]);
    let mut session = insider_login(&cloud, Role::Admin, "admin", &admin).unwrap();
    let dir = bastion.path("insider");
    std::fs::create_dir(&dir).unwrap();
    let mut signed = dir.join("token.json");
    session.generate_token(Service::User, &signed).unwrap();
    for i in 1..=5 {
        let out = dir.join(format!("token-{i}.json"));
        approve(
            bastion.path("").as_path(),
            &signed,
            &format!("a_m{i}"),
            i,
            &out,
        );
        signed = out;
    }
    session
        .user_create(
            "c_operator",
            Role::CryptoUser,
            &secrecy::SecretString::from("operator-pw-1"),
            Some(&signed),
        )
        .unwrap();
    drop(session);
    let users = cloud.users();

    let request = cloud.roster_change_m9_to_m10("001-root-init");
    let output = cloud.execute(&request, "out2", &[1, 2, 3, 4, 5], None);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("CloudHSM user `c_operator` (crypto-user)") && err.contains("cloudhsm-users"),
        "{err}"
    );
    assert_eq!(cloud.users(), users);
    assert_eq!(cloud.calls("user delete"), 0);
    assert!(!request.parent().unwrap().join("record.toml").exists());
}
