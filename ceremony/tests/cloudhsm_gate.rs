//! The CloudHSM gate against a recording fake `cloudhsm-cli` (no CloudHSM exists here).
//!
//! The fake, a python3 script written at test time, logs each call's argv (one JSON line
//! per call), insists on the crypto-user credentials in `CLOUDHSM_ROLE`/`CLOUDHSM_PIN`
//! and never in argv, and answers as the AWS documentation describes: `quorum token-sign
//! generate` writes a token file (`approval_data`, `token` = SHA-256 of it,
//! `signatures`); `crypto sign ecdsa` checks the key label, SHA-384 and that the
//! `--approval` file carries enough signatures over the token that verify with the
//! members' registered RSA keys (as the HSM would), then signs the `--data-path` file with
//! `openssl dgst -sha384 -sign` and answers the raw `r||s` in base64.
//!
//! Members approve like AWS documents: `openssl pkeyutl -sign -pkeyopt digest:sha256`
//! over the base64-decoded `token`, their signature added to their copy of the token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    thread,
    time::{Duration, Instant},
};

use base64ct::{Base64, Encoding as _};
use der::Decode as _;
use rust_pki_ca::{KeyAlgorithm, PinSource, signature::verify_signature};
use rust_pki_ceremony::{
    Approval, Error,
    gate::{
        QuorumGate,
        cloudhsm::{CloudHsmCli, TOKEN_APPROVAL_SUFFIX},
    },
    state::CeremonyDir,
};
use serde_json::{Value, json};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

const USER: &str = "ceremony-operator";
const PASSWORD: &str = "S3cret-CU-pw!";
const LABEL: &str = "rust-pki-root";
const THRESHOLD: usize = 5;
const MEMBERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
/// alice's CloudHSM crypto user is not called like her roster id.
const ALICE_CU: &str = "cu-alice";

const FAKE: &str = r#"#!/usr/bin/env python3
import base64, hashlib, json, os, subprocess, sys, tempfile
CONF = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake.json")))
args = sys.argv[1:]
if args == ["--probe"]:
    sys.exit(0)
pin = os.environ.get("CLOUDHSM_PIN", "")
role = os.environ.get("CLOUDHSM_ROLE")
user, _, password = pin.partition(":")
with open(CONF["log"], "a") as log:
    log.write(json.dumps({"argv": args, "role": role, "user": user,
                          "password_ok": password == CONF["password"]}) + "\n")

def fail(code, message, stderr):
    print(json.dumps({"error_code": 1, "data": message}, indent=2))
    sys.stderr.write(stderr + "\n")
    sys.exit(code)

def opt(name):
    if name not in args:
        fail(2, "missing " + name, "error: the argument '" + name + "' is required")
    return args[args.index(name) + 1]

if any(CONF["password"] in a for a in args):
    fail(99, "password on the command line", "password on the command line")
if role != "crypto-user" or user != CONF["user"] or password != CONF["password"]:
    fail(1, "Login failed", "error: invalid username or password")
mode = CONF.get("mode", "")
state = os.path.join(CONF["dir"], "hsm-state.json")
hsm = json.load(open(state)) if os.path.exists(state) else {"count": 0, "live": None}

if args[:3] == ["quorum", "token-sign", "generate"]:
    if mode == "fail-generate":
        fail(3, "Connection failed", "cloudhsm-cli: cannot reach the cluster: connection refused")
    if opt("--service") != "key-usage":
        fail(2, "bad service", "error: invalid value for --service")
    hsm["count"] += 1
    raw = b"fake-approval-data-%d" % hsm["count"]
    token = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    with open(opt("--token"), "w") as f:
        json.dump({"version": "2.0", "service": "key-usage",
                   "approval_data": base64.b64encode(raw).decode(),
                   "token": token, "signatures": []}, f, indent=2)
    hsm["live"] = token
    json.dump(hsm, open(state, "w"))
    print(json.dumps({"error_code": 0, "data": {"path": opt("--token")}}, indent=2))
elif args[:3] == ["crypto", "sign", "ecdsa"]:
    if mode == "fail-sign":
        fail(4, "Quorum Failed", "error: HSM refused the operation (session " + pin + ")")
    if opt("--key-filter") != "attr.label=" + CONF["label"]:
        fail(1, "No key found matching the filter", "error: key not found")
    if opt("--hash-function") != "sha384":
        fail(1, "unexpected hash", "error: unexpected hash")
    approval = json.load(open(opt("--approval")))
    if approval.get("token") != hsm["live"]:
        fail(1, "Quorum Failed", "error: unknown or used quorum token")
    valid = set()
    with tempfile.TemporaryDirectory() as tmp:
        tok = os.path.join(tmp, "token.bin")
        open(tok, "wb").write(base64.b64decode(approval["token"]))
        for entry in approval.get("signatures", []):
            pub = os.path.join(CONF["registered"], entry["username"] + ".pub")
            if not os.path.exists(pub):
                continue
            sig = os.path.join(tmp, "sig.bin")
            open(sig, "wb").write(base64.b64decode(entry["signature"]))
            ok = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub,
                                 "-pkeyopt", "digest:sha256", "-in", tok, "-sigfile", sig],
                                capture_output=True).returncode == 0
            if ok:
                valid.add(entry["username"])
    if len(valid) < CONF["quorum"]:
        fail(1, "Quorum Failed", "error: %d valid approvals, key quorum is %d" % (len(valid), CONF["quorum"]))
    key = CONF["other_key"] if mode == "wrong-key" else CONF["key"]
    der = subprocess.run(["openssl", "dgst", "-sha384", "-sign", key, opt("--data-path")],
                         capture_output=True, check=True).stdout
    i, raw = 2, b""
    for _ in range(2):
        n = der[i + 1]
        raw += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(48, b"\0")
        i += 2 + n
    hsm["live"] = None
    json.dump(hsm, open(state, "w"))
    print(json.dumps({"error_code": 0, "data": {"key-reference": "0x0000000000680006",
                      "signature": base64.b64encode(raw).decode()}}, indent=2))
else:
    fail(2, "unknown command", "error: unrecognized subcommand")
"#;

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A temp dir with the fake CLI, the root key, the members' quorum keys and a ceremony.
struct Fixture {
    dir: tempfile::TempDir,
    program: PathBuf,
    log: PathBuf,
    spki: SubjectPublicKeyInfoOwned,
    ceremony: CeremonyDir,
}

impl Fixture {
    fn new(mode: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = |name: &str| dir.path().join(name);
        std::fs::create_dir_all(d("ceremony/approvals")).unwrap();
        // The root key "in the HSM", its SPKI as the root certificate holds it, and
        // another key for the wrong-key case.
        for key in ["root", "other"] {
            let pem = d(&format!("{key}.pem"));
            run(
                "openssl",
                &[
                    "ecparam",
                    "-name",
                    "secp384r1",
                    "-genkey",
                    "-noout",
                    "-out",
                    path_str(&pem),
                ],
            );
        }
        let spki_der = d("root.spki.der");
        run(
            "openssl",
            &[
                "ec",
                "-in",
                path_str(&d("root.pem")),
                "-pubout",
                "-outform",
                "DER",
                "-out",
                path_str(&spki_der),
            ],
        );
        let spki = SubjectPublicKeyInfoOwned::from_der(&std::fs::read(&spki_der).unwrap()).unwrap();
        std::fs::write(d("password"), format!("{PASSWORD}\n")).unwrap();
        let log = d("calls.jsonl");
        let conf = json!({
            "log": log, "dir": dir.path(), "user": USER, "password": PASSWORD, "label": LABEL,
            "key": d("root.pem"), "other_key": d("other.pem"), "registered": member_keys(),
            "quorum": THRESHOLD, "mode": mode,
        });
        std::fs::write(d("fake.json"), conf.to_string()).unwrap();
        let program = d("cloudhsm-cli");
        std::fs::write(&program, FAKE).unwrap();
        let mut permissions = std::fs::metadata(&program).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&program, permissions).unwrap();
        probe(&program);
        let ceremony = CeremonyDir {
            sequence: 2,
            path: d("ceremony"),
            approvals: d("ceremony/approvals"),
        };
        Self {
            dir,
            program,
            log,
            spki,
            ceremony,
        }
    }

    fn gate(&self) -> CloudHsmCli {
        let mut gate = CloudHsmCli::new(
            USER,
            PinSource::File(self.dir.path().join("password")),
            LABEL,
            self.spki.clone(),
            THRESHOLD,
        )
        .unwrap();
        gate.cli.program = self.program.clone();
        gate.usernames = BTreeMap::from([("alice".to_owned(), ALICE_CU.to_owned())]);
        gate.approval_timeout = Duration::from_secs(60);
        gate.poll_interval = Duration::from_millis(20);
        gate
    }

    fn work(&self, name: &str) -> PathBuf {
        self.ceremony.path.join("cloudhsm").join(name)
    }

    /// Every call the fake saw.
    fn calls(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.log) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn argvs(&self) -> Vec<Vec<String>> {
        self.calls()
            .iter()
            .map(|c| {
                c["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }

    /// `member` signs the token in `token_file` as AWS documents and drops their copy
    /// into the approvals folder as `file_name`.
    fn approve(&self, member: &str, token_file: &Path, file_name: &str) {
        let mut token: Value =
            serde_json::from_str(&std::fs::read_to_string(token_file).unwrap()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let unsigned = tmp.path().join("unsigned.bin");
        let signature = tmp.path().join("sig.bin");
        std::fs::write(
            &unsigned,
            Base64::decode_vec(token["token"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let key = member_keys().join(format!("{member}.key"));
        run(
            "openssl",
            &[
                "pkeyutl",
                "-sign",
                "-inkey",
                path_str(&key),
                "-pkeyopt",
                "digest:sha256",
                "-in",
                path_str(&unsigned),
                "-out",
                path_str(&signature),
            ],
        );
        let signature = Base64::encode_string(&std::fs::read(&signature).unwrap());
        token["signatures"]
            .as_array_mut()
            .unwrap()
            .push(json!({"username": cu(member), "signature": signature}));
        // Written aside, then renamed: the gate never sees half a file.
        let part = self.dir.path().join(format!("{file_name}.part"));
        std::fs::write(&part, token.to_string()).unwrap();
        std::fs::rename(&part, self.ceremony.approvals().join(file_name)).unwrap();
    }
}

/// Members who approve the `number`th token once it appears (as they would, on their own
/// machines, while `execute` waits), each writing `<member>.<number>.cloudhsm-token.json`.
fn spawn_approvers<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    fixture: &'scope Fixture,
    number: u32,
    members: &'static [&'static str],
) -> thread::ScopedJoinHandle<'scope, ()> {
    scope.spawn(move || {
        let token_file = fixture.work(&format!("sign-{number:03}.token.json"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = std::fs::read_to_string(&token_file)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|t| t["token"].is_string());
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "token {number} never appeared");
            thread::sleep(Duration::from_millis(10));
        }
        for member in members {
            fixture.approve(
                member,
                &token_file,
                &format!("{member}.{number}{TOKEN_APPROVAL_SUFFIX}"),
            );
        }
    })
}

/// Each member's RSA-2048 quorum key (`<member>.key`), its public half as registered
/// with the "HSM" under their CloudHSM username (`<username>.pub`). Made once and kept
/// in Cargo's test scratch folder: RSA key generation is slow.
fn member_keys() -> &'static Path {
    static KEYS: OnceLock<PathBuf> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cloudhsm-gate-member-keys");
        if dir.join("complete").exists() {
            return dir;
        }
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        for member in MEMBERS {
            let key = tmp.path().join(format!("{member}.key"));
            run("openssl", &["genrsa", "-out", path_str(&key), "2048"]);
            let public = tmp.path().join(format!("{}.pub", cu(member)));
            run(
                "openssl",
                &[
                    "rsa",
                    "-in",
                    path_str(&key),
                    "-pubout",
                    "-out",
                    path_str(&public),
                ],
            );
        }
        std::fs::write(tmp.path().join("complete"), "").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(tmp.keep(), &dir).unwrap();
        dir
    })
}

/// The member's CloudHSM crypto-user name.
fn cu(member: &str) -> String {
    if member == "alice" {
        ALICE_CU.to_owned()
    } else {
        member.to_owned()
    }
}

/// Run the fake once: a freshly written executable can still be open for writing in a
/// child forked by another test thread (ETXTBSY); retry until it runs.
fn probe(program: &Path) {
    for _ in 0..100 {
        match Command::new(program).arg("--probe").status() {
            Ok(status) => {
                assert!(status.success());
                return;
            }
            Err(e) if e.raw_os_error() == Some(26) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("cannot run the fake cloudhsm-cli: {e}"),
        }
    }
    panic!("the fake cloudhsm-cli stayed busy");
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

/// The five members whose SSHSIG approvals verified; frank did not approve.
const APPROVERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn commands(fixture: &Fixture) -> Vec<String> {
    fixture.argvs().iter().map(|a| a[..3].join(" ")).collect()
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

#[test]
fn signs_through_a_quorum_token_and_the_signature_verifies() {
    let fixture = Fixture::new("");
    let signer = fixture
        .gate()
        .unlock(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    assert_eq!(signer.algorithm(), KeyAlgorithm::EcdsaP384);
    assert_eq!(signer.public_key(), &fixture.spki);
    assert!(signer.describe().contains("rust-pki-root"));
    assert!(fixture.calls().is_empty(), "unlock runs no command");

    let tbs = b"TBSCertificate bytes the CA built".to_vec();
    let signature = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &APPROVERS);
        let signature = signer.sign(&tbs).unwrap();
        members.join().unwrap();
        signature
    });

    // (b) a DER ECDSA signature over SHA-384 of the TBS, by the root key.
    verify(&fixture, &tbs, &signature);

    // (a) exactly: generate the token, then sign with the members' approved token.
    let token = fixture.work("sign-001.token.json");
    let approved = fixture.work("sign-001.approved.json");
    let data = fixture.work("sign-001.tbs");
    assert_eq!(
        fixture.argvs(),
        [
            vec![
                "quorum",
                "token-sign",
                "generate",
                "--service",
                "key-usage",
                "--token",
                path_str(&token),
            ],
            vec![
                "crypto",
                "sign",
                "ecdsa",
                "--key-filter",
                "attr.label=rust-pki-root",
                "--hash-function",
                "sha384",
                "--data-path",
                path_str(&data),
                "--approval",
                path_str(&approved),
            ],
        ]
    );
    for call in fixture.calls() {
        assert_eq!(call["role"], "crypto-user");
        assert_eq!(call["user"], USER);
        assert_eq!(call["password_ok"], true);
    }
    assert_eq!(std::fs::read(&data).unwrap(), tbs);
    // The approved token is the generated one plus the approving members' signatures,
    // under their CloudHSM usernames.
    let generated: Value = serde_json::from_slice(&std::fs::read(&token).unwrap()).unwrap();
    let approved: Value = serde_json::from_slice(&std::fs::read(&approved).unwrap()).unwrap();
    for field in ["version", "service", "approval_data", "token"] {
        assert_eq!(approved[field], generated[field], "{field}");
    }
    let signers: Vec<&str> = approved["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(signers, [ALICE_CU, "bob", "carol", "dave", "erin"]);
    // The password reached the CLI only through its environment.
    assert!(
        !std::fs::read_to_string(&fixture.log)
            .unwrap()
            .contains(PASSWORD)
    );
}

#[test]
fn every_signature_needs_its_own_token_and_approvals() {
    let fixture = Fixture::new("");
    let signer = fixture
        .gate()
        .unlock(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let messages = [b"first TBS".to_vec(), b"second TBS".to_vec()];
    thread::scope(|scope| {
        for (number, message) in (1..).zip(&messages) {
            let members = spawn_approvers(scope, &fixture, number, &APPROVERS);
            let signature = signer.sign(message).unwrap();
            members.join().unwrap();
            verify(&fixture, message, &signature);
        }
    });
    assert_eq!(
        commands(&fixture),
        [
            "quorum token-sign generate",
            "crypto sign ecdsa",
            "quorum token-sign generate",
            "crypto sign ecdsa",
        ]
    );
    let second = fixture.argvs()[3].clone();
    assert_eq!(
        second.last().unwrap(),
        path_str(&fixture.work("sign-002.approved.json"))
    );
    // Token 1's approval files were still there; they did not count for token 2.
    let first: Value =
        serde_json::from_slice(&std::fs::read(fixture.work("sign-001.approved.json")).unwrap())
            .unwrap();
    let second: Value =
        serde_json::from_slice(&std::fs::read(fixture.work("sign-002.approved.json")).unwrap())
            .unwrap();
    assert_ne!(first["token"], second["token"]);
}

#[test]
fn too_few_token_approvals_refuse_before_the_key_is_used() {
    let fixture = Fixture::new("");
    let mut gate = fixture.gate();
    gate.approval_timeout = Duration::from_secs(2);
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    // A copy signed by erin for some other token: not this token's approval.
    std::fs::write(
        fixture
            .ceremony
            .approvals()
            .join(format!("erin.old{TOKEN_APPROVAL_SUFFIX}")),
        json!({"token": "b3RoZXI=", "signatures": [{"username": "erin", "signature": "AAAA"}]})
            .to_string(),
    )
    .unwrap();
    let error = thread::scope(|scope| {
        // Four approvers sign; frank signs too, but his SSHSIG approval is not among
        // the verified ones, so he does not count.
        let members = spawn_approvers(
            scope,
            &fixture,
            1,
            &["alice", "bob", "carol", "dave", "frank"],
        );
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
    assert!(error.to_string().contains("nothing was signed"), "{error}");
    // The token was generated, and the key never used.
    assert_eq!(commands(&fixture), ["quorum token-sign generate"]);
    assert!(!fixture.work("sign-001.approved.json").exists());
}

#[test]
fn too_few_request_approvals_refuse_before_any_command() {
    let fixture = Fixture::new("");
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
    assert!(fixture.calls().is_empty());
}

#[test]
fn a_failing_cli_names_the_command_exit_code_and_stderr() {
    let fixture = Fixture::new("fail-generate");
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = signer.sign_checked(b"TBS").unwrap_err();
    let Error::CloudHsmCommand {
        command,
        status,
        stderr,
        response,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(*command, "quorum token-sign generate");
    assert_eq!(status, "exit code 3");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert_eq!(response, "Connection failed");
    // Through the CA's Signer trait, the message still says it all.
    let message = rust_pki_ca::Signer::sign(&signer, b"TBS")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("cloudhsm-cli quorum token-sign generate failed (exit code 3)")
            && message.contains("connection refused"),
        "{message}"
    );
    assert_eq!(
        commands(&fixture),
        ["quorum token-sign generate", "quorum token-sign generate"]
    );
}

#[test]
fn a_failing_sign_names_the_command_and_never_the_password() {
    let fixture = Fixture::new("fail-sign");
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &APPROVERS);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    let message = error.to_string();
    assert!(
        matches!(&error, Error::CloudHsmCommand { command: "crypto sign ecdsa", status, .. } if status == "exit code 4"),
        "{message}"
    );
    // The fake echoed its CLOUDHSM_PIN on stderr: the gate cut the password out.
    assert!(message.contains("HSM refused the operation"), "{message}");
    assert!(message.contains("Quorum Failed"), "{message}");
    assert!(!message.contains(PASSWORD), "{message}");
    assert_eq!(
        commands(&fixture),
        ["quorum token-sign generate", "crypto sign ecdsa"]
    );
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let fixture = Fixture::new("wrong-key");
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = thread::scope(|scope| {
        let members = spawn_approvers(scope, &fixture, 1, &APPROVERS);
        let error = signer.sign_checked(b"TBS").unwrap_err();
        members.join().unwrap();
        error
    });
    assert!(
        matches!(&error, Error::CloudHsmSignatureInvalid { key_label, .. } if key_label == LABEL),
        "{error}"
    );
}

#[test]
fn a_wrong_password_is_a_login_failure_without_the_password() {
    let fixture = Fixture::new("");
    std::fs::write(fixture.dir.path().join("password"), "not-the-password").unwrap();
    let signer = fixture
        .gate()
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let message = signer.sign_checked(b"TBS").unwrap_err().to_string();
    assert!(message.contains("Login failed"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
    assert_eq!(fixture.calls()[0]["password_ok"], false);
}

#[test]
fn a_missing_program_is_named() {
    let fixture = Fixture::new("");
    let mut gate = fixture.gate();
    gate.cli.program = fixture.dir.path().join("no-such-cloudhsm-cli");
    let signer = gate
        .signer(&fixture.ceremony, &approvals(&APPROVERS))
        .unwrap();
    let error = signer.sign_checked(b"TBS").unwrap_err();
    assert!(
        matches!(&error, Error::CloudHsmSpawn { command: "quorum token-sign generate", program, .. } if program.ends_with("no-such-cloudhsm-cli")),
        "{error}"
    );
}

#[test]
fn settings_that_cannot_work_are_refused() {
    let fixture = Fixture::new("");
    let password = PinSource::File(fixture.dir.path().join("password"));
    for threshold in [0, 9] {
        let error = CloudHsmCli::new(
            USER,
            password.clone(),
            LABEL,
            fixture.spki.clone(),
            threshold,
        )
        .unwrap_err();
        assert!(matches!(error, Error::CloudHsmConfig { .. }), "{error}");
    }
    for (user, label) in [("a:b", LABEL), (USER, "two words"), (USER, "")] {
        assert!(CloudHsmCli::new(user, password.clone(), label, fixture.spki.clone(), 5).is_err());
    }
    // An unreadable password source fails at unlock, before any command.
    let mut gate = fixture.gate();
    gate.password = PinSource::Env("RUST_PKI_TEST_NO_SUCH_VARIABLE".into());
    assert!(
        gate.unlock(&fixture.ceremony, &approvals(&APPROVERS))
            .is_err()
    );
    assert!(fixture.calls().is_empty());
}
