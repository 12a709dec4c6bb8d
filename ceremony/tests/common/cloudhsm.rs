//! A fake CloudHSM cluster for tests: `scripts/fake-cloudhsm-cli` with its own state
//! folder, members' RSA-2048 quorum keys, and a member's approval made as AWS documents
//! (`openssl pkeyutl -sign -pkeyopt digest:sha256` over the base64-decoded token).
//!
//! ```ignore
//! let cluster = FakeCluster::new();            // initialised, not activated
//! let root = cluster.bootstrap(&Bootstrap::default()); // activated, users, quorum keys, root key
//! let mut session = cluster.session();          // cloudhsm-cli interactive on the fake
//! ```

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::Duration,
};

use base64ct::{Base64, Encoding as _};
use der::DecodePem as _;
use rust_pki_ceremony::gate::cloudhsm::{
    cli::Cli,
    session::{Role, Service, Session},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

/// The repository's root (this file also serves tests of other crates, through
/// `#[path = "…/ceremony/tests/common/cloudhsm.rs"] mod cloudhsm;`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("scripts/fake-cloudhsm-cli").exists())
        .expect("scripts/fake-cloudhsm-cli above the crate")
        .to_owned()
}

/// `scripts/fake-cloudhsm-cli`.
pub fn fake_program() -> PathBuf {
    repo().join("scripts/fake-cloudhsm-cli")
}

/// `scripts/fake-cloudhsm-approve`.
pub fn approve_program() -> PathBuf {
    repo().join("scripts/fake-cloudhsm-approve")
}

pub const ADMIN_PASSWORD: &str = "Adm1n pass 'with' spaces";
/// Every crypto user's password in the fake is `<username>-S3cret!`.
pub fn password(username: &str) -> SecretString {
    SecretString::from(format!("{username}-S3cret!"))
}

/// Run a program, insisting that it succeeds.
pub fn run(program: &str, args: &[&str]) {
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

/// A member's RSA-2048 quorum key pair: `<name>.key` and `<name>.pub`, made once per
/// build and kept in Cargo's test scratch folder (RSA key generation is slow).
pub fn quorum_key(name: &str) -> (PathBuf, PathBuf) {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fake-cloudhsm-quorum-keys");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let (key, public) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    );
    if !public.exists() {
        // Made aside and renamed: parallel tests may ask for the same key.
        let tmp = tempfile::tempdir_in(dir).unwrap();
        let (k, p) = (tmp.path().join("k"), tmp.path().join("p"));
        run("openssl", &["genrsa", "-out", path_str(&k), "2048"]);
        run(
            "openssl",
            &["rsa", "-in", path_str(&k), "-pubout", "-out", path_str(&p)],
        );
        std::fs::rename(&k, &key).unwrap();
        std::fs::rename(&p, &public).unwrap();
    }
    (key, public)
}

/// Sign `token` as `username` with the RSA private key `key`, the way the AWS guide shows
/// (base64-decode, `openssl pkeyutl -sign -pkeyopt digest:sha256`, base64), and write the
/// signed copy to `out` (aside, then renamed). A quorum token gets `{"username",
/// "signature"}` added to `signatures`; a registration token gets `signed` filled.
pub fn sign_token(token: &Path, username: &str, key: &Path, out: &Path) {
    let mut file: Value = serde_json::from_slice(&std::fs::read(token).unwrap()).unwrap();
    let unsigned = file["token"]
        .as_str()
        .or_else(|| file["tokens"][0]["unsigned"].as_str())
        .expect("a quorum or registration token")
        .to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let (input, signature) = (tmp.path().join("in"), tmp.path().join("sig"));
    std::fs::write(&input, Base64::decode_vec(&unsigned).unwrap()).unwrap();
    run(
        "openssl",
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            path_str(key),
            "-pkeyopt",
            "digest:sha256",
            "-in",
            path_str(&input),
            "-out",
            path_str(&signature),
        ],
    );
    let signature = Base64::encode_string(&std::fs::read(&signature).unwrap());
    if file.get("token").is_some() {
        file["signatures"]
            .as_array_mut()
            .unwrap()
            .push(json!({"username": username, "signature": signature}));
    } else {
        file["tokens"][0]["signed"] = Value::String(signature);
    }
    let part = out.with_extension("part");
    std::fs::write(&part, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    std::fs::rename(&part, out).unwrap();
}

/// What [`FakeCluster::bootstrap`] sets up.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The crypto user who owns the root key. No quorum key is registered for it: "An
    /// HSM user can sign their own quorum token"
    /// (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli.html>),
    /// so an owner with one would count as an approver of the root key's quorum.
    pub owner: String,
    /// Crypto users with a registered quorum key, the root key shared with them.
    pub members: Vec<String>,
    /// Crypto users created and registered, the key NOT shared with them.
    pub unshared: Vec<String>,
    /// Crypto users created without a quorum key (shared with the key if in `members`).
    pub unregistered: Vec<String>,
    /// The root key's label.
    pub label: String,
    /// The root key's manage and use quorum values.
    pub quorum: usize,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            owner: "ceremony_op".into(),
            members: ["cu_alice", "bob", "carol", "dave", "erin", "frank"]
                .map(String::from)
                .to_vec(),
            unshared: Vec::new(),
            unregistered: Vec::new(),
            label: "rust_pki_root".into(),
            quorum: 5,
        }
    }
}

/// A fake cluster: its state folder, initialised (as AWS's InitializeCluster leaves it).
#[derive(Debug)]
pub struct FakeCluster {
    pub dir: tempfile::TempDir,
    pub state: PathBuf,
}

impl FakeCluster {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("fake-cloudhsm");
        let status = Command::new(fake_program())
            .arg("fake-initialize")
            .envs(Self::env_of(&state))
            .status()
            .unwrap();
        assert!(status.success());
        Self { dir, state }
    }

    fn env_of(state: &Path) -> Vec<(String, String)> {
        let mut env = vec![(
            "FAKE_CLOUDHSM_STATE".to_owned(),
            state.to_string_lossy().into_owned(),
        )];
        // The fake needs `cryptography`: from the repository's venv if the python3 on
        // PATH lacks it (scripts/install-deps makes the venv).
        let venv = repo().join(".venv");
        if venv.exists() {
            env.push((
                "RUST_PKI_VENV".to_owned(),
                venv.to_string_lossy().into_owned(),
            ));
        }
        env
    }

    /// How to run the fake: `FAKE_CLOUDHSM_STATE` in the CLI's environment.
    pub fn cli(&self) -> Cli {
        Cli {
            program: fake_program(),
            cluster_id: None,
            command_timeout: Duration::from_secs(60),
            env: Self::env_of(&self.state),
        }
    }

    /// A new interactive session on the fake.
    pub fn session(&self) -> Session {
        Session::start(&self.cli()).unwrap()
    }

    /// Every line of `calls.jsonl`: session starts and ends, and each command.
    pub fn calls(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.state.join("calls.jsonl")) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The commands recorded (`"crypto sign ecdsa"`, …) with their session ids.
    pub fn commands(&self) -> Vec<(String, String)> {
        self.calls()
            .iter()
            .filter_map(|c| {
                Some((
                    c["session"].as_str()?.to_owned(),
                    c["command"].as_str()?.to_owned(),
                ))
            })
            .collect()
    }

    /// A scratch file path in the cluster's folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Register the quorum key of the user logged in on `session` (generate a
    /// registration token, sign it with their key, register).
    pub fn register(&self, session: &mut Session, username: &str) {
        let (key, public) = quorum_key(username);
        let token = self.file(&format!("{username}.registration.json"));
        let signed = self.file(&format!("{username}.registration.signed.json"));
        session
            .generate_token(Service::Registration, &token)
            .unwrap();
        sign_token(&token, username, &key, &signed);
        session.register_quorum_key(&public, &signed).unwrap();
    }

    /// Activate the cluster, create the users, register their quorum keys, and generate
    /// the root key (owned by `owner`, shared with `members` and `unregistered`); returns
    /// the root key's SubjectPublicKeyInfo as exported by the fake.
    pub fn bootstrap(&self, setup: &Bootstrap) -> SubjectPublicKeyInfoOwned {
        let mut session = self.session();
        session
            .cluster_activate(&SecretString::from(ADMIN_PASSWORD))
            .unwrap();
        session
            .login(Role::Admin, "admin", &SecretString::from(ADMIN_PASSWORD))
            .unwrap();
        let registered: Vec<&String> = setup.members.iter().chain(&setup.unshared).collect();
        let users = std::iter::once(&setup.owner)
            .chain(registered.iter().copied())
            .chain(&setup.unregistered);
        for user in users {
            session
                .user_create(user, Role::CryptoUser, &password(user), None)
                .unwrap();
        }
        session.logout().unwrap();
        for user in &registered {
            session
                .login(Role::CryptoUser, user, &password(user))
                .unwrap();
            self.register(&mut session, user);
            session.logout().unwrap();
        }
        session
            .login(Role::CryptoUser, &setup.owner, &password(&setup.owner))
            .unwrap();
        let shared: Vec<String> = setup
            .members
            .iter()
            .chain(&setup.unregistered)
            .cloned()
            .collect();
        session
            .generate_p384_key(&setup.label, &shared, setup.quorum)
            .unwrap();
        let pem = self.file(&format!("{}.pub.pem", setup.label));
        assert!(session.key_public_pem(&setup.label, &pem).unwrap());
        SubjectPublicKeyInfoOwned::from_pem(std::fs::read(&pem).unwrap()).unwrap()
    }
}
