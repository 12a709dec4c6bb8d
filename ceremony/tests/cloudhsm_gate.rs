//! The CloudHSM gate and its `cloudhsm-cli` session against the strict recording fake
//! (`scripts/fake-cloudhsm-cli`; no CloudHSM exists here). The fake enforces what the AWS
//! guide documents: tokens bound to one login session and expiring, one active token per
//! user for admin services, key quorum values no larger than the users the key is shared
//! with, approvals verified against registered quorum keys, roles. Members approve as AWS
//! documents (`openssl pkeyutl -sign -pkeyopt digest:sha256` over the decoded token).
//!
//! Waiting is event-driven: approvers drop their files while the gate waits, and the gate
//! stops as soon as the threshold is met or every approving member has answered; the
//! approval timeout is an hour and never reached.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use common::cloudhsm::{
    ADMIN_PASSWORD, Bootstrap, FakeCluster, approve_program, password, quorum_key, sign_token,
};
use rust_pki_ca::{KeyAlgorithm, PinSource, signature::verify_signature};
use rust_pki_ceremony::{
    Approval, Error,
    gate::{
        QuorumGate,
        cloudhsm::{
            CloudHsmCli, TOKEN_APPROVAL_SUFFIX,
            session::{Role, Service},
        },
    },
    state::CeremonyDir,
};
use secrecy::SecretString;
use serde_json::Value;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

const THRESHOLD: usize = 5;
/// alice's CloudHSM crypto user is not called like her roster id.
const ALICE_CU: &str = "cu_alice";
/// The five members whose SSHSIG approvals verified; frank did not approve.
const APPROVERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// A bootstrapped fake cluster, a ceremony folder and the operator's password file.
struct Fixture {
    cluster: FakeCluster,
    setup: Bootstrap,
    spki: SubjectPublicKeyInfoOwned,
    ceremony: CeremonyDir,
}

impl Fixture {
    fn new() -> Self {
        Self::with(Bootstrap::default())
    }

    fn with(setup: Bootstrap) -> Self {
        let cluster = FakeCluster::new();
        let spki = cluster.bootstrap(&setup);
        let path = cluster.file("ceremony");
        std::fs::create_dir_all(path.join("approvals")).unwrap();
        std::fs::write(
            cluster.file("password"),
            format!(
                "{}\n",
                secrecy::ExposeSecret::expose_secret(&password(&setup.owner))
            ),
        )
        .unwrap();
        let ceremony = CeremonyDir {
            sequence: 2,
            approvals: path.join("approvals"),
            path,
        };
        Self {
            cluster,
            setup,
            spki,
            ceremony,
        }
    }

    fn gate(&self) -> CloudHsmCli {
        let mut gate = CloudHsmCli::new(
            &self.setup.owner,
            PinSource::File(self.cluster.file("password")),
            &self.setup.label,
            self.spki.clone(),
            THRESHOLD,
        )
        .unwrap();
        gate.cli = self.cluster.cli();
        gate.usernames = BTreeMap::from([("alice".to_owned(), ALICE_CU.to_owned())]);
        // Never reached: the wait ends on the approvals themselves.
        gate.approval_timeout = Duration::from_secs(3600);
        gate
    }

    fn work(&self, name: &str) -> PathBuf {
        self.ceremony.path.join("cloudhsm").join(name)
    }

    /// The session ids of the gate's commands (calls after the bootstrap).
    fn gate_commands(&self, since: usize) -> Vec<(String, String)> {
        self.cluster.commands()[since..].to_vec()
    }
}

/// The member's CloudHSM crypto-user name.
fn cu(member: &str) -> String {
    if member == "alice" {
        ALICE_CU.to_owned()
    } else {
        member.to_owned()
    }
}

fn approvals(members: &[&str]) -> Vec<Approval> {
    members
        .iter()
        .map(|m| Approval {
            member: (*m).to_owned(),
            path: PathBuf::from(format!("approvals/{m}.sig")),
            armored: String::new(),
        })
        .collect()
}

/// How a member answers token `number`: signs with their own quorum key, or with
/// another user's name (a file that cannot count).
#[derive(Clone, Copy)]
enum Answer {
    Sign,
    SignAs(&'static str),
    WithScript,
}

/// Members who approve the `number`th token once it appears (as they would, on their own
/// machines, while `execute` waits), each writing `<member>.<number>.cloudhsm-token.json`.
fn spawn_approvers<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    fixture: &'scope Fixture,
    number: u32,
    members: &'scope [(&'static str, Answer)],
) -> thread::ScopedJoinHandle<'scope, ()> {
    scope.spawn(move || {
        let token = fixture.work(&format!("sign-{number:03}.token.json"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&token)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|t| t["token"].is_string())
        {
            assert!(Instant::now() < deadline, "token {number} never appeared");
            thread::sleep(Duration::from_millis(10));
        }
        for (member, answer) in members {
            let out = fixture
                .ceremony
                .approvals()
                .join(format!("{member}.{number}{TOKEN_APPROVAL_SUFFIX}"));
            let (key, _) = quorum_key(&cu(member));
            match answer {
                Answer::Sign => sign_token(&token, &cu(member), &key, &out),
                Answer::SignAs(name) => sign_token(&token, name, &key, &out),
                Answer::WithScript => {
                    let status = std::process::Command::new(approve_program())
                        .args([&token, Path::new(&cu(member)), &key, &out])
                        .status()
                        .unwrap();
                    assert!(status.success());
                }
            }
        }
    })
}

fn verify(fixture: &Fixture, message: &[u8], signature: &[u8]) {
    verify_signature(
        &fixture.spki,
        &KeyAlgorithm::EcdsaP384.signature_algorithm(),
        message,
        signature,
        "CloudHSM signature in test",
    )
    .unwrap();
}

const ALL_SIGN: [(&str, Answer); 5] = [
    ("alice", Answer::Sign),
    ("bob", Answer::WithScript),
    ("carol", Answer::Sign),
    ("dave", Answer::Sign),
    ("erin", Answer::Sign),
];

#[test]
fn signs_in_one_session_and_the_signatures_verify() {
    let fixture = Fixture::new();
    let before = fixture.cluster.commands().len();
    let signer = fixture
        .gate()
        .unlock(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    assert_eq!(signer.algorithm(), KeyAlgorithm::EcdsaP384);
    assert_eq!(signer.public_key(), &fixture.spki);
    assert!(signer.describe().contains("rust_pki_root"));

    let messages = [b"first TBS".to_vec(), b"second TBS".to_vec()];
    thread::scope(|scope| {
        for (number, message) in (1..).zip(&messages) {
            let members = spawn_approvers(scope, &fixture, number, &ALL_SIGN);
            let signature = signer.sign(message).unwrap();
            members.join().unwrap();
            verify(&fixture, message, &signature);
        }
    });
    drop(signer);

    // One session: login, then for each signature a key-usage token and the signature.
    let commands = fixture.gate_commands(before);
    let session = &commands[0].0;
    assert!(commands.iter().all(|(s, _)| s == session), "{commands:?}");
    assert_eq!(
        commands.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
        [
            "login",
            "quorum token-sign generate",
            "crypto sign ecdsa",
            "quorum token-sign generate",
            "crypto sign ecdsa"
        ]
    );
    let calls = fixture.cluster.calls();
    let gate_calls: Vec<&Value> = calls
        .iter()
        .filter(|c| c["session"] == session.as_str() && c["command"].is_string())
        .collect();
    for call in &gate_calls {
        assert_eq!(call["result"], "ok", "{call}");
    }
    assert_eq!(gate_calls[1]["user"], "ceremony_op");
    assert_eq!(gate_calls[1]["role"], "crypto-user");
    let words: Vec<&str> = gate_calls[2]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let approved = fixture.work("sign-001.approved.json");
    assert_eq!(
        words,
        [
            "crypto",
            "sign",
            "ecdsa",
            "--key-filter",
            "attr.label=rust_pki_root",
            "attr.class=private-key",
            "--hash-function",
            "sha384",
            "--data-path",
            fixture.work("sign-001.tbs").to_str().unwrap(),
            "--approval",
            approved.to_str().unwrap(),
        ]
    );
    // The session started as `interactive` only, and ended with the signer.
    assert!(calls.iter().any(|c| c["session"] == session.as_str()
        && c["event"] == "start"
        && c["argv"] == serde_json::json!(["interactive"])));
    assert!(
        calls
            .iter()
            .any(|c| c["session"] == session.as_str() && c["event"] == "end")
    );
    // The approved token is the generated one plus the members' signatures, under their
    // CloudHSM usernames.
    let approved: Value = serde_json::from_slice(&std::fs::read(approved).unwrap()).unwrap();
    let signers: Vec<&str> = approved["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(signers, [ALICE_CU, "bob", "carol", "dave", "erin"]);
    // No password anywhere in what the fake recorded.
    let log = std::fs::read_to_string(fixture.cluster.state.join("calls.jsonl")).unwrap();
    for secret in ["-S3cret!", ADMIN_PASSWORD] {
        assert!(!log.contains(secret), "{secret} in calls.jsonl");
    }
    assert!(log.contains("[password removed]"));
}

#[test]
fn cloudhsm_key_quorum_refuses_four_valid_approvals_by_itself() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    // Our own counts are skipped: the refusal below is CloudHSM's (the fake's) alone.
    gate.skip_own_quorum_check_for_tests = true;
    let four = &APPROVERS[..4];
    let signer = gate.signer(&fixture.ceremony, &approvals(four)).unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &ALL_SIGN[..4]);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    let Error::CloudHsmCommand {
        command, response, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(*command, "crypto sign ecdsa");
    assert!(response.starts_with("Quorum Failed"), "{response}");
    assert!(
        response.contains("4 valid approval(s), 5 needed"),
        "{response}"
    );
    assert!(!error.to_string().contains("-S3cret!"));
}

#[test]
fn too_few_token_approvals_end_the_wait_once_every_approver_answered() {
    let fixture = Fixture::new();
    let before = fixture.cluster.commands().len();
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    // A copy signed by erin for some other token: not this token's approval.
    std::fs::write(
        fixture
            .ceremony
            .approvals()
            .join(format!("erin.old{TOKEN_APPROVAL_SUFFIX}")),
        serde_json::json!({"token": "b3RoZXI=", "signatures": []}).to_string(),
    )
    .unwrap();
    // Four sign; erin signs under another name (cannot count); frank signs too, but his
    // SSHSIG approval is not among the verified ones. The approval timeout is an hour:
    // the wait ends because every approving member has answered.
    let answers = [
        ("alice", Answer::Sign),
        ("bob", Answer::Sign),
        ("carol", Answer::Sign),
        ("dave", Answer::Sign),
        ("frank", Answer::Sign),
        ("erin", Answer::SignAs("bob")),
    ];
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &answers);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    let Error::CloudHsmApprovalsMissing {
        needed,
        found,
        members,
        ignored,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((*needed, *found), (5, 4));
    assert_eq!(members, &["alice", "bob", "carol", "dave"]);
    assert!(
        ignored
            .iter()
            .any(|i| i.contains("frank") && i.contains("no verified approval")),
        "{ignored:?}"
    );
    assert!(
        ignored
            .iter()
            .any(|i| i.contains("erin") && i.contains("no signature by CloudHSM user `erin`")),
        "{ignored:?}"
    );
    assert!(error.to_string().contains("nothing was signed"), "{error}");
    // The token was generated, the key never used.
    let commands: Vec<String> = fixture
        .gate_commands(before)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(commands, ["login", "quorum token-sign generate"]);
    assert!(!fixture.work("sign-001.approved.json").exists());
}

#[test]
fn too_few_request_approvals_refuse_before_any_command() {
    let fixture = Fixture::new();
    let before = fixture.cluster.calls().len();
    let error = fixture
        .gate()
        .unlock(&fixture.ceremony, &approvals(&APPROVERS[..4]))
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            Error::QuorumNotMet {
                found: 4,
                needed: 5,
                ..
            }
        ),
        "{error}"
    );
    // Not even a session was started.
    assert_eq!(fixture.cluster.calls().len(), before);
}

#[test]
fn a_token_from_another_session_is_refused() {
    let fixture = Fixture::new();
    let owner = &fixture.setup.owner;
    let label = &fixture.setup.label;
    let mut first = fixture.cluster.session();
    let mut second = fixture.cluster.session();
    for session in [&mut first, &mut second] {
        session
            .login(Role::CryptoUser, owner, &password(owner))
            .unwrap();
    }
    // The first session (still logged in) gets a token; five members approve it.
    let token = fixture.cluster.file("first.token.json");
    first.generate_token(Service::KeyUsage, &token).unwrap();
    let mut approved = token.clone();
    for (i, (member, _)) in ALL_SIGN.iter().enumerate() {
        let out = fixture.cluster.file(&format!("first.{i}.json"));
        sign_token(&approved, &cu(member), &quorum_key(&cu(member)).0, &out);
        approved = out;
    }
    let data = fixture.cluster.file("tbs");
    std::fs::write(&data, b"TBS").unwrap();
    // The same user, the same key, the same approvals: another session is refused.
    let error = second.sign_ecdsa(label, &data, &approved).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("Quorum Failed (fake-cloudhsm-cli: the quorum token was generated in another login session)"),
        "{error}"
    );
    // In its own session the token works, once.
    let raw = first.sign_ecdsa(label, &data, &approved).unwrap();
    assert_eq!(raw.len(), 96);
    let again = first.sign_ecdsa(label, &data, &approved).unwrap_err();
    assert!(again.to_string().contains("no live token"), "{again}");
}

#[test]
fn an_expired_token_is_refused() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    // Tokens expire as soon as they are made.
    gate.cli
        .env
        .push(("FAKE_CLOUDHSM_TOKEN_TTL".into(), "0".into()));
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &ALL_SIGN);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "crypto sign ecdsa", response, .. }
            if response.contains("the quorum token has expired")),
        "{error}"
    );
}

#[test]
fn an_approval_by_a_user_without_a_registered_quorum_key_is_refused() {
    // frank is a crypto user the key is shared with, but he never registered a quorum key.
    let mut setup = Bootstrap::default();
    setup.members.retain(|m| m != "frank");
    setup.unregistered = vec!["frank".into()];
    let fixture = Fixture::with(setup);
    let approvers = ["alice", "bob", "carol", "dave", "frank"];
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&approvers))
        .unwrap();
    let answers = [
        ("alice", Answer::Sign),
        ("bob", Answer::Sign),
        ("carol", Answer::Sign),
        ("dave", Answer::Sign),
        ("frank", Answer::Sign),
    ];
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &answers);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "crypto sign ecdsa", response, .. }
            if response.contains("frank: no registered quorum key")),
        "{error}"
    );
}

#[test]
fn an_approval_by_a_user_the_key_is_not_shared_with_is_refused() {
    let mut setup = Bootstrap::default();
    setup.members.retain(|m| m != "frank");
    setup.unshared = vec!["frank".into()];
    let fixture = Fixture::with(setup);
    let approvers = ["alice", "bob", "carol", "dave", "frank"];
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&approvers))
        .unwrap();
    let answers = [
        ("alice", Answer::Sign),
        ("bob", Answer::Sign),
        ("carol", Answer::Sign),
        ("dave", Answer::Sign),
        ("frank", Answer::Sign),
    ];
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &answers);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    assert!(
        matches!(&error, Error::CloudHsmCommand { response, .. }
            if response.contains("frank: not a user the key is shared with")),
        "{error}"
    );
}

#[test]
fn a_cli_that_dies_mid_session_is_a_clear_error() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    gate.cli
        .env
        .push(("FAKE_CLOUDHSM_DIE_ON".into(), "crypto sign ecdsa".into()));
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &ALL_SIGN);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    let Error::CloudHsmSessionEnded {
        command,
        status,
        stderr,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(*command, "crypto sign ecdsa");
    assert_eq!(status, "exit code 9");
    assert!(stderr.contains("dying on `crypto sign ecdsa`"), "{stderr}");
    // The session is over: the next signature says so at once.
    let next = signer.sign_checked(b"TBS 2").unwrap_err();
    assert!(
        matches!(
            next,
            Error::CloudHsmSessionEnded {
                command: "quorum token-sign generate",
                ..
            }
        ),
        "{next}"
    );
}

#[test]
fn a_hung_cli_is_killed_and_named() {
    let fixture = Fixture::new();
    let mut cli = fixture.cluster.cli();
    cli.env.push((
        "FAKE_CLOUDHSM_HANG_ON".into(),
        "quorum token-sign generate".into(),
    ));
    let mut session = rust_pki_ceremony::gate::cloudhsm::session::Session::start(&cli).unwrap();
    let owner = &fixture.setup.owner;
    session
        .login(Role::CryptoUser, owner, &password(owner))
        .unwrap();
    session.set_command_timeout(Duration::from_millis(200));
    let error = session
        .generate_token(Service::KeyUsage, &fixture.cluster.file("t.json"))
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::CloudHsmTimeout {
                command: "quorum token-sign generate",
                ..
            }
        ),
        "{error}"
    );
    assert!(session.user_list().is_err());
}

#[test]
fn a_wrong_password_is_refused_without_the_password() {
    let fixture = Fixture::new();
    std::fs::write(fixture.cluster.file("password"), "not-the-password\n").unwrap();
    let error = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .err()
        .unwrap();
    let message = error.to_string();
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "login", response, .. }
            if response == "Invalid username or password"),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    // The root certificate names another P-384 key than the one labelled in CloudHSM.
    let other = FakeCluster::new().bootstrap(&Bootstrap {
        members: vec!["bob".into()],
        quorum: 2,
        ..Bootstrap::default()
    });
    gate.root_spki = other;
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &ALL_SIGN);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    assert!(
        matches!(&error, Error::CloudHsmSignatureInvalid { key_label, .. } if key_label == "rust_pki_root"),
        "{error}"
    );
}

#[test]
fn a_missing_program_is_named() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    gate.cli.program = fixture.cluster.file("no-such-cloudhsm-cli");
    let error = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .err()
        .unwrap();
    assert!(
        matches!(&error, Error::CloudHsmSpawn { command: "interactive", program, .. } if program.ends_with("no-such-cloudhsm-cli")),
        "{error}"
    );
}

#[test]
fn settings_that_cannot_work_are_refused() {
    let spki = FakeCluster::new().bootstrap(&Bootstrap {
        members: vec!["bob".into()],
        quorum: 2,
        ..Bootstrap::default()
    });
    let password = PinSource::File(PathBuf::from("/nonexistent"));
    // CloudHSM quorums go from 2 to 8 approvers.
    for threshold in [0, 1, 9] {
        let error =
            CloudHsmCli::new("op", password.clone(), "root", spki.clone(), threshold).unwrap_err();
        assert!(matches!(error, Error::CloudHsmConfig { .. }), "{error}");
    }
    // Usernames as CloudHSM documents them; labels without whitespace.
    for (user, label) in [
        ("a:b", "root"),
        ("ceremony-operator", "root"),
        ("op", "two words"),
        ("op", ""),
    ] {
        assert!(CloudHsmCli::new(user, password.clone(), label, spki.clone(), 5).is_err());
    }
}

/// The fake's admin rules, through the session: once the `user` service's quorum value is
/// set, user management needs an approved `user` token; one active such token per admin.
#[test]
fn fake_refuses_user_management_without_admin_quorum_approval() {
    let cluster = FakeCluster::new();
    let mut session = cluster.session();
    let admin_pw = SecretString::from(ADMIN_PASSWORD);
    session.cluster_activate(&admin_pw).unwrap();
    // Activation happens once.
    let again = session.cluster_activate(&admin_pw).unwrap_err();
    assert!(again.to_string().contains("already activated"), "{again}");
    session.login(Role::Admin, "admin", &admin_pw).unwrap();
    for admin in ["admin2", "admin3"] {
        session
            .user_create(admin, Role::Admin, &password(admin), None)
            .unwrap();
    }
    session.logout().unwrap();
    for admin in ["admin", "admin2", "admin3"] {
        let pw = if admin == "admin" {
            admin_pw.clone()
        } else {
            password(admin)
        };
        session.login(Role::Admin, admin, &pw).unwrap();
        cluster.register(&mut session, admin);
        session.logout().unwrap();
    }
    session.login(Role::Admin, "admin", &admin_pw).unwrap();
    session.set_quorum_value(Service::User, 2, None).unwrap();

    // Without approval: refused with the documented message.
    let error = session
        .user_create("m1", Role::CryptoUser, &password("m1"), None)
        .unwrap_err();
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "user create", response, .. }
            if response == "Quorum approval is required for this operation"),
        "{error}"
    );
    assert!(!error.to_string().contains("-S3cret!"), "{error}");

    // One active `user` token per admin.
    let token = cluster.file("user.token.json");
    session.generate_token(Service::User, &token).unwrap();
    let second = session
        .generate_token(Service::User, &cluster.file("user2.token.json"))
        .unwrap_err();
    assert!(
        second
            .to_string()
            .contains("An active user token already exists for user admin"),
        "{second}"
    );

    // One approval is not enough; two admins' are.
    let one = cluster.file("user.token.1.json");
    sign_token(&token, "admin2", &quorum_key("admin2").0, &one);
    let short = session
        .user_create("m1", Role::CryptoUser, &password("m1"), Some(&one))
        .unwrap_err();
    assert!(
        short.to_string().contains("1 valid approval(s), 2 needed"),
        "{short}"
    );
    let two = cluster.file("user.token.2.json");
    sign_token(&one, "admin3", &quorum_key("admin3").0, &two);
    session
        .user_create("m1", Role::CryptoUser, &password("m1"), Some(&two))
        .unwrap();
    let users = session.user_list().unwrap();
    let m1 = users.iter().find(|u| u.username == "m1").unwrap();
    assert_eq!(m1.role, "crypto-user");
    assert!(!m1.quorum_key_registered);
    assert!(
        users
            .iter()
            .find(|u| u.username == "admin2")
            .unwrap()
            .quorum_key_registered
    );
    // The token was used up: deleting needs a new one.
    let reuse = session
        .user_delete("m1", Role::CryptoUser, Some(&two))
        .unwrap_err();
    assert!(reuse.to_string().contains("Quorum Failed"), "{reuse}");
}

#[test]
fn fake_refuses_a_key_quorum_above_the_users_the_key_is_shared_with() {
    let cluster = FakeCluster::new();
    let spki = cluster.bootstrap(&Bootstrap {
        members: vec!["bob".into(), "carol".into()],
        unshared: vec!["dave".into()],
        quorum: 3,
        ..Bootstrap::default()
    });
    assert_eq!(KeyAlgorithm::of_spki(&spki), Some(KeyAlgorithm::EcdsaP384));
    let mut session = cluster.session();
    session
        .login(Role::CryptoUser, "ceremony_op", &password("ceremony_op"))
        .unwrap();
    // Owner + two shared users: a quorum of 4 cannot be met.
    let error = session
        .generate_p384_key("too_big", &["bob".into(), "carol".into()], 4)
        .unwrap_err();
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "key generate-asymmetric-pair ec", response, .. }
            if response == "Invalid quorum value provided."),
        "{error}"
    );
    assert!(
        !session
            .key_public_pem("too_big", &cluster.file("x.pem"))
            .unwrap()
    );
    // Sharing the root key later is a key-management operation: its quorum applies.
    let share = session
        .share_key("rust_pki_root", "dave", None)
        .unwrap_err();
    assert!(share.to_string().contains("Quorum Failed"), "{share}");
}

#[test]
fn fake_refuses_commands_in_the_wrong_role_or_logged_out() {
    let cluster = FakeCluster::new();
    cluster.bootstrap(&Bootstrap {
        members: vec!["bob".into()],
        quorum: 2,
        ..Bootstrap::default()
    });
    let mut session = cluster.session();
    let logged_out = session
        .generate_token(Service::KeyUsage, &cluster.file("t.json"))
        .unwrap_err();
    assert!(
        logged_out.to_string().contains("must be logged in"),
        "{logged_out}"
    );
    session
        .login(Role::Admin, "admin", &SecretString::from(ADMIN_PASSWORD))
        .unwrap();
    let admin_signs = session
        .sign_ecdsa(
            "rust_pki_root",
            Path::new("/dev/null"),
            Path::new("/dev/null"),
        )
        .unwrap_err();
    assert!(
        admin_signs
            .to_string()
            .contains("not permitted for the admin role"),
        "{admin_signs}"
    );
    let admin_key_token = session
        .generate_token(Service::KeyUsage, &cluster.file("t.json"))
        .unwrap_err();
    assert!(admin_key_token.to_string().contains("not permitted"));
    session.logout().unwrap();
    session
        .login(Role::CryptoUser, "bob", &password("bob"))
        .unwrap();
    let cu_creates = session
        .user_create("eve", Role::Admin, &password("eve"), None)
        .unwrap_err();
    assert!(
        cu_creates
            .to_string()
            .contains("not permitted for the crypto-user role"),
        "{cu_creates}"
    );
    // Key-usage tokens are not limited to one per user (only admin services are).
    session
        .generate_token(Service::KeyUsage, &cluster.file("k1.json"))
        .unwrap();
    session
        .generate_token(Service::KeyUsage, &cluster.file("k2.json"))
        .unwrap();
}

/// "An HSM user can sign their own quorum token": a key owner with a registered quorum
/// key is one of the key's approvers. Hence the bootstrap registers none for the root
/// key's owner, and the gate never signs for it.
#[test]
fn fake_counts_a_registered_key_owner_as_an_approver() {
    let fixture = Fixture::new();
    let owner = &fixture.setup.owner;
    let mut session = fixture.cluster.session();
    session
        .login(Role::CryptoUser, owner, &password(owner))
        .unwrap();
    fixture.cluster.register(&mut session, owner);
    let token = fixture.cluster.file("own.token.json");
    session.generate_token(Service::KeyUsage, &token).unwrap();
    let mut approved = token.clone();
    for (i, name) in [owner.as_str(), ALICE_CU, "bob", "carol", "dave"]
        .into_iter()
        .enumerate()
    {
        let out = fixture.cluster.file(&format!("own.{i}.json"));
        sign_token(&approved, name, &quorum_key(name).0, &out);
        approved = out;
    }
    let data = fixture.cluster.file("tbs");
    std::fs::write(&data, b"TBS").unwrap();
    let raw = session
        .sign_ecdsa(&fixture.setup.label, &data, &approved)
        .unwrap();
    assert_eq!(raw.len(), 96);
}

/// Token `number`'s file and contents, once the gate has written it whole.
fn wait_for_token(fixture: &Fixture, number: u32) -> (PathBuf, Value) {
    let token = fixture.work(&format!("sign-{number:03}.token.json"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(file) = std::fs::read_to_string(&token)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .filter(|t| t["token"].is_string())
        {
            return (token, file);
        }
        assert!(Instant::now() < deadline, "token {number} never appeared");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_edited_token_file_is_neither_counted_nor_forwarded() {
    use base64ct::{Base64, Encoding as _};
    let fixture = Fixture::new();
    let before = fixture.gate_commands(0).len();
    let mut gate = fixture.gate();
    // The members' files never match: the wait ends on this timeout.
    gate.approval_timeout = Duration::from_secs(2);
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let operator = scope.spawn(|| {
            let (token, mut file) = wait_for_token(&fixture, 1);
            let mut bytes = Base64::decode_vec(file["token"].as_str().unwrap()).unwrap();
            *bytes.last_mut().unwrap() ^= 1;
            file["token"] = Value::String(Base64::encode_string(&bytes));
            std::fs::write(&token, file.to_string()).unwrap();
            // Every member signs what the operator shows them.
            for member in APPROVERS {
                let out = fixture
                    .ceremony
                    .approvals()
                    .join(format!("{member}.1{TOKEN_APPROVAL_SUFFIX}"));
                sign_token(&token, &cu(member), &quorum_key(&cu(member)).0, &out);
            }
        });
        let error = signer.sign_checked(b"TBS").unwrap_err();
        operator.join().unwrap();
        error
    });
    assert!(
        matches!(
            &error,
            Error::CloudHsmApprovalsMissing {
                needed: 5,
                found: 0,
                ..
            }
        ),
        "{error}"
    );
    // The key was never used, and no approved token was written from the edited file.
    let commands: Vec<String> = fixture
        .gate_commands(before)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(commands, ["login", "quorum token-sign generate"]);
    assert!(!fixture.work("sign-001.approved.json").exists());
}

#[test]
fn one_member_counts_once_however_many_files_and_names_they_sign_with() {
    let fixture = Fixture::new();
    let before = fixture.gate_commands(0).len();
    let mut gate = fixture.gate();
    // Only bob answers: the wait ends on this timeout.
    gate.approval_timeout = Duration::from_secs(2);
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let bob = scope.spawn(|| {
            let (token, _) = wait_for_token(&fixture, 1);
            let (key, _) = quorum_key("bob");
            let approvals = fixture.ceremony.approvals();
            // The same approval twice, and one file signed in everyone's name.
            for copy in ["a", "b"] {
                let out = approvals.join(format!("bob.{copy}{TOKEN_APPROVAL_SUFFIX}"));
                sign_token(&token, "bob", &key, &out);
            }
            let mut signed = token.clone();
            for (i, name) in [ALICE_CU, "carol", "dave", "erin"].iter().enumerate() {
                let out = fixture.cluster.file(&format!("bob-as-{i}.json"));
                sign_token(&signed, name, &key, &out);
                signed = out;
            }
            std::fs::copy(
                &signed,
                approvals.join(format!("bob.all{TOKEN_APPROVAL_SUFFIX}")),
            )
            .unwrap();
        });
        let error = signer.sign_checked(b"TBS").unwrap_err();
        bob.join().unwrap();
        error
    });
    let Error::CloudHsmApprovalsMissing {
        needed,
        found,
        members,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((*needed, *found), (5, 1));
    assert_eq!(members, &["bob"]);
    let commands: Vec<String> = fixture
        .gate_commands(before)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(commands, ["login", "quorum token-sign generate"]);
}

#[test]
fn an_approval_file_forged_in_a_members_name_is_refused_by_the_hsm() {
    let fixture = Fixture::new();
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &ALL_SIGN[..4]);
        let operator = scope.spawn(|| {
            // The operator drops erin's file, signed with their own key in her name.
            let (token, _) = wait_for_token(&fixture, 1);
            let out = fixture
                .ceremony
                .approvals()
                .join(format!("erin.1{TOKEN_APPROVAL_SUFFIX}"));
            sign_token(&token, "erin", &quorum_key("operator").0, &out);
        });
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        operator.join().unwrap();
        error
    });
    // Our count cannot check RSA signatures it has no keys for; the HSM does.
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "crypto sign ecdsa", response, .. }
            if response.starts_with("Quorum Failed") && response.contains("erin")),
        "{error}"
    );
}

#[test]
fn an_approval_file_name_cannot_forge_a_line_of_the_error() {
    let fixture = Fixture::new();
    let mut gate = fixture.gate();
    // Only the forged file answers: the wait ends on this timeout.
    gate.approval_timeout = Duration::from_secs(2);
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let operator = scope.spawn(|| {
            let (token, _) = wait_for_token(&fixture, 1);
            let name = format!("mallory\nok: 5 of 5 approvals\u{1b}[2K.1{TOKEN_APPROVAL_SUFFIX}");
            let out = fixture.ceremony.approvals().join(name);
            sign_token(&token, "mallory", &quorum_key("operator").0, &out);
        });
        let error = signer.sign_checked(b"TBS").unwrap_err();
        operator.join().unwrap();
        error
    });
    let message = error.to_string();
    assert!(
        matches!(&error, Error::CloudHsmApprovalsMissing { found: 0, .. }),
        "{message}"
    );
    assert!(
        message.contains("mallory\\u{000a}ok: 5 of 5 approvals\\u{001b}[2K.1"),
        "{message}"
    );
    assert!(
        !message.contains('\n') && !message.contains('\u{1b}'),
        "{message}"
    );
}
