//! A ceremony bastion for end-to-end tests: SoftHSM2 (empty at first: root-init creates the
//! root token) plus a delegate owners' token, ten members' ssh-keygen keys (m1-m9 on the
//! roster, m10 an outsider), a copy of the policy, the ceremony state, the output folders
//! and the transparency log that `ceremony execute` appends to. Executions can run through
//! OpenSC's PKCS#11 spy, so "refused before the HSM" is observed in the calls the module
//! received rather than inferred from missing files.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use super::{MODULE, REPO};

/// OpenSC's PKCS#11 spy (Debian `opensc-pkcs11`, pulled in by `opensc`): a module that
/// logs every call (PINs included: tests only) and forwards it to `PKCS11SPY`.
pub const SPY: &str = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so";

/// The calls that use or change the root token: none may happen before every check passed.
pub const HSM_USES: [&str; 7] = [
    "C_Login",
    "C_SignInit",
    "C_Sign",
    "C_InitToken",
    "C_InitPIN",
    "C_SetPIN",
    "C_GenerateKeyPair",
];

/// The PKCS#11 functions named in a spy log, in call order (`<n>: C_Name` lines).
pub fn spied_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| {
            let (number, name) = line.split_once(": ")?;
            (number.bytes().all(|b| b.is_ascii_digit()) && name.starts_with("C_"))
                .then(|| name.trim().to_owned())
        })
        .collect()
}

/// Require that a spied run never logged in, signed, generated a key or changed the token
/// (none of [`HSM_USES`]).
pub fn assert_hsm_untouched(calls: &[String]) {
    let used: Vec<&String> = calls
        .iter()
        .filter(|call| HSM_USES.contains(&call.as_str()))
        .collect();
    assert!(
        used.is_empty(),
        "the HSM was used ({used:?}) in a run that must stop before it; all calls: {calls:?}"
    );
}

pub const ORGS: [&str; 9] = ["A", "A", "A", "B", "B", "C", "C", "D", "D"];
pub const COUNTRIES: [&str; 9] = ["DE", "DE", "US", "US", "FR", "FR", "JP", "JP", "NL"];

/// A bastion: SoftHSM2 (empty at first: root-init creates the root token), nine members'
/// keys and a roster, a copy of the policy, the ceremony state and the output folder.
pub struct Bastion {
    dir: PathBuf,
    /// Deletes `dir` on drop, for bastions made by [`Bastion::new`].
    _temporary: Option<tempfile::TempDir>,
}

impl Bastion {
    /// A bastion in a temporary directory, deleted on drop.
    pub fn new() -> Self {
        let temporary = tempfile::tempdir().unwrap();
        Self::set_up(temporary.path().to_owned(), Some(temporary))
    }

    /// A bastion in `dir` (created; kept after the test).
    pub fn at(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        Self::set_up(dir, None)
    }

    fn set_up(dir: PathBuf, temporary: Option<tempfile::TempDir>) -> Self {
        let bastion = Self {
            dir,
            _temporary: temporary,
        };
        std::fs::create_dir(bastion.path("keys")).unwrap();
        let mut roster = String::from("version = 1\n");
        for i in 1..=10 {
            let key = bastion.key(i);
            let status = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C"])
                .arg(format!("m{i}"))
                .arg("-f")
                .arg(&key)
                .status()
                .unwrap();
            assert!(status.success());
            if i <= 9 {
                let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
                roster.push_str(&format!(
                    "[[member]]\nid = \"m{i}\"\nname = \"Member {i}\"\norganisation = \"Org {}\"\ncountry = \"{}\"\nssh_key = \"{}\"\nappointed = \"2026-01-01\"\nreappoint_by = \"2028-01-01\"\n",
                    ORGS[i - 1],
                    COUNTRIES[i - 1],
                    public.trim()
                ));
            }
        }
        let policy = std::fs::read_to_string(format!("{REPO}/policy/rust-root.toml")).unwrap();
        std::fs::write(bastion.path("policy.toml"), super::softhsm2_policy(&policy)).unwrap();
        bastion.set_genesis_roster(&roster);
        // A token for the delegate owners' keys; the conf is shared with the root token.
        let status = Command::new(format!("{REPO}/softhsm-fixtures/new-token"))
            .arg(bastion.path("hsm"))
            .arg("delegate-owners")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        // The transparency log every ceremony is appended to.
        bastion.ok(&[
            "log",
            "init",
            "log",
            "--origin",
            "bastion.example/log",
            "--log-skey-out",
            "log.skey",
        ]);
        bastion
    }

    /// Make `text` the genesis roster (before any roster change): `roster.toml`,
    /// `roster.genesis.toml` (for history replays) and the digest the policy copy pins
    /// (`quorum.genesis_roster_sha256`).
    pub fn set_genesis_roster(&self, text: &str) {
        std::fs::write(self.path("roster.toml"), text).unwrap();
        std::fs::write(self.path("roster.genesis.toml"), text).unwrap();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        let policy = std::fs::read_to_string(self.path("policy.toml")).unwrap();
        let key = "genesis_roster_sha256 = ";
        assert_eq!(policy.lines().filter(|l| l.starts_with(key)).count(), 1);
        let pinned: String = policy
            .lines()
            .map(|line| {
                if line.starts_with(key) {
                    format!("{key}\"{digest}\"\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(self.path("policy.toml"), pinned).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The size of the log, from its verified checkpoint.
    pub fn log_size(&self) -> u64 {
        let out = self.ok(&[
            "log",
            "verify-checkpoint",
            "log",
            "--log-vkey",
            "log/log.vkey",
        ]);
        // "checkpoint OK: <origin> size <n> root <hash>"
        let words: Vec<&str> = out.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "size").unwrap();
        words[at + 1].parse().unwrap()
    }

    /// `rust-pki verify --bundle --ca` of a delegate's stapled bundle against the first root.
    pub fn verify_delegate_bundle(&self, bundle: &str, purpose: &str) {
        self.ok(&[
            "verify",
            "--bundle",
            bundle,
            "--root",
            "out/root.pem",
            "--log-vkey",
            "log/log.vkey",
            // This harness runs no witness (the demo and tests/log_concurrency.rs do).
            "--min-witnesses",
            "0",
            "--purpose",
            purpose,
            "--ca",
        ]);
    }

    /// Member i's private key (i = 10 is an outsider).
    pub fn key(&self, i: usize) -> PathBuf {
        self.path(&format!("keys/m{i}"))
    }

    pub fn rust_pki(&self, args: &[&str], fault: Option<&str>) -> Output {
        self.command(args, fault).output().unwrap()
    }

    /// [`Bastion::rust_pki`] with more environment (e.g. a fake CloudHSM's state folder).
    pub fn rust_pki_with_env(
        &self,
        args: &[&str],
        fault: Option<&str>,
        env: &[(&str, &Path)],
    ) -> Output {
        let mut command = self.command(args, fault);
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    }

    fn command(&self, args: &[&str], fault: Option<&str>) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rust-pki"));
        command
            .current_dir(&self.dir)
            .env("SOFTHSM2_CONF", self.path("hsm/softhsm2.conf"))
            .args(args);
        if let Some(step) = fault {
            #[cfg(feature = "fault-injection")]
            command.env(rust_pki_ceremony::fault::FAULT_ENV, step);
            #[cfg(not(feature = "fault-injection"))]
            panic!("fault point `{step}`: crash tests need the `fault-injection` feature");
        }
        command
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.rust_pki(args, None);
        assert!(
            output.status.success(),
            "rust-pki {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// A roster-change request replacing m9 by the outsider m10; returns it and the new roster.
    pub fn prepare_roster_change_m9_to_m10(&self) -> (PathBuf, String) {
        let roster = std::fs::read_to_string(self.path("roster.toml")).unwrap();
        let m9 = std::fs::read_to_string(self.key(9).with_extension("pub")).unwrap();
        let m10 = std::fs::read_to_string(self.key(10).with_extension("pub")).unwrap();
        let new_roster = roster
            .replace(m9.trim(), m10.trim())
            .replace("id = \"m9\"", "id = \"m10\"");
        std::fs::write(self.path("roster.new.toml"), &new_roster).unwrap();
        let request = self.prepare(
            "roster-change",
            "kind = \"roster-change\"\nwindow_hours = 24\nnew_roster = \"roster.new.toml\"\n",
        );
        (request, new_roster)
    }

    /// Run `ceremony prepare` on a template file.
    pub fn prepare_output(&self, template: &Path) -> Output {
        self.rust_pki(
            &[
                "ceremony",
                "prepare",
                template.to_str().unwrap(),
                "--roster",
                "roster.toml",
                "--policy",
                "policy.toml",
                "--state-dir",
                "state",
            ],
            None,
        )
    }

    /// Prepare a ceremony from template text; returns the request path.
    pub fn prepare(&self, name: &str, template: &str) -> PathBuf {
        let file = self.path(&format!("{name}.toml"));
        std::fs::write(&file, template).unwrap();
        let out = self.ok(&[
            "ceremony",
            "prepare",
            file.to_str().unwrap(),
            "--roster",
            "roster.toml",
            "--policy",
            "policy.toml",
            "--state-dir",
            "state",
        ]);
        let line = out.lines().find(|l| l.starts_with("prepared ")).unwrap();
        self.path(line.trim_start_matches("prepared "))
    }

    /// Members `members` approve `request` (with their PIN share unless root-init).
    pub fn approve(&self, request: &Path, members: &[usize], with_share: bool) {
        let shares: &[&str] = if with_share {
            &["001-root-init/user-pin"]
        } else {
            &[]
        };
        self.approve_with_shares(request, members, shares);
    }

    /// Members approve, contributing their shares from the given share sets
    /// (`<ceremony folder>/<secret>`, relative to the state directory).
    pub fn approve_with_shares(&self, request: &Path, members: &[usize], share_sets: &[&str]) {
        let approvals = request.parent().unwrap().join("approvals");
        for &i in members {
            let sig = approvals.join(format!("m{i}.sig"));
            let key = self.key(i).to_str().unwrap().to_owned();
            let mut args: Vec<String> = [
                "ceremony",
                "approve",
                request.to_str().unwrap(),
                "--key",
                &key,
                "--out",
                sig.to_str().unwrap(),
            ]
            .map(str::to_owned)
            .to_vec();
            for set in share_sets {
                args.push("--share".into());
                args.push(
                    self.path(&format!("state/{set}/shares/m{i}.age"))
                        .to_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            if !share_sets.is_empty() {
                args.extend(["--identity".to_owned(), key.clone()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            self.ok(&args);
        }
    }

    pub fn execute(&self, request: &Path, fault: Option<&str>) -> Output {
        self.execute_into(request, "out", fault)
    }

    /// Execute, publishing into `out` (a folder per ceremony avoids overwriting outputs).
    pub fn execute_into(&self, request: &Path, out: &str, fault: Option<&str>) -> Output {
        self.rust_pki(&self.execute_args(request, out), fault)
    }

    /// Execute into `out` with OpenSC's PKCS#11 spy in front of SoftHSM2; returns the
    /// output and the PKCS#11 calls the run made (see [`assert_hsm_untouched`]).
    pub fn execute_spied(&self, request: &Path, out: &str) -> (Output, Vec<String>) {
        self.rust_pki_spied(&self.execute_args(request, out), None)
    }

    /// [`Bastion::execute_spied`] with more arguments (e.g. `--hsm`).
    pub fn execute_spied_with(&self, request: &Path, extra: &[&str]) -> (Output, Vec<String>) {
        let mut args = self.execute_args(request, "out");
        args.extend_from_slice(extra);
        self.rust_pki_spied(&args, None)
    }

    /// [`Bastion::execute_spied`], aborting at the fault point `step` (see `FAULT_ENV`).
    pub fn execute_spied_with_fault(
        &self,
        request: &Path,
        out: &str,
        step: &str,
    ) -> (Output, Vec<String>) {
        self.rust_pki_spied(&self.execute_args(request, out), Some(step))
    }

    /// Run `rust-pki ARGS` with the spy in front of SoftHSM2 (every `MODULE` argument
    /// becomes the spy, which forwards to `MODULE`), aborting at `fault` if given;
    /// returns the output and the PKCS#11 calls in order.
    pub fn rust_pki_spied(&self, args: &[&str], fault: Option<&str>) -> (Output, Vec<String>) {
        assert!(
            Path::new(SPY).exists(),
            "{SPY} is missing: run scripts/install-deps (Debian opensc)"
        );
        // Without MODULE in the arguments the spy would sit in front of nothing.
        assert!(args.contains(&MODULE), "no `--module {MODULE}` in {args:?}");
        let args: Vec<&str> = args
            .iter()
            .map(|&arg| if arg == MODULE { SPY } else { arg })
            .collect();
        // A fresh log per run, so the calls are this run's only.
        let log = tempfile::NamedTempFile::new_in(&self.dir).unwrap();
        let output = self
            .command(&args, fault)
            .env("PKCS11SPY", MODULE)
            .env("PKCS11SPY_OUTPUT", log.path())
            .output()
            .unwrap();
        // No calls at all is a valid answer (refused before the module was even loaded);
        // spied_execute_of_an_approved_request_shows_login_and_sign proves the spy listens.
        let calls = spied_calls(&std::fs::read_to_string(log.path()).unwrap());
        (output, calls)
    }

    pub fn execute_args<'a>(&self, request: &'a Path, out: &'a str) -> Vec<&'a str> {
        vec![
            "ceremony",
            "execute",
            request.to_str().unwrap(),
            "--out",
            out,
            "--state-dir",
            "state",
            "--roster",
            "roster.toml",
            "--policy",
            "policy.toml",
            "--module",
            MODULE,
            "--log",
            "log",
            "--log-skey",
            "log.skey",
        ]
    }

    pub fn execute_ok(&self, request: &Path) -> String {
        let output = self.execute(request, None);
        assert!(
            output.status.success(),
            "execute: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Execute through the spy and require a refusal before the HSM: the run fails, leaves
    /// no record, and never logged in, signed or changed the token. Returns stderr.
    pub fn execute_fails(&self, request: &Path) -> String {
        let (output, calls) = self.execute_spied(request, "out");
        assert_hsm_untouched(&calls);
        assert!(
            !output.status.success(),
            "execute unexpectedly succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(
            !request.parent().unwrap().join("record.toml").exists(),
            "a refused ceremony leaves no record"
        );
        String::from_utf8(output.stderr).unwrap()
    }

    /// A root, made by a root-init ceremony approved by members 1-5.
    pub fn with_root() -> Self {
        let bastion = Self::new();
        let request = bastion.prepare(
            "root-init",
            &std::fs::read_to_string(format!("{REPO}/policy/ceremonies/root-init.toml")).unwrap(),
        );
        bastion.approve(&request, &[1, 2, 3, 4, 5], false);
        bastion.execute_ok(&request);
        assert!(bastion.path("out/root.pem").exists());
        bastion
    }

    /// A delegate-issue request for a fresh releases key in the delegate owners' token.
    pub fn delegate_request(&self) -> PathBuf {
        let key = format!(
            "pkcs11:token=delegate-owners;object=releases-{}?module-path={MODULE}&pin-source=file:{}",
            self.records(),
            self.path("hsm/delegate-owners.pin").display()
        );
        self.ok(&["hsm", "keygen", "--key", &key]);
        let csr = self.path(&format!("releases-{}.csr", self.records()));
        self.ok(&[
            "hsm",
            "csr",
            "--key",
            &key,
            "--subject",
            "CN=releases",
            "--out",
            csr.to_str().unwrap(),
        ]);
        self.prepare("delegate-issue", &format!("kind = \"delegate-issue\"\nwindow_hours = 24\npurpose = \"releases\"\ncsr = \"{}\"\n", csr.display()))
    }

    /// `ceremony show` as a member with this bastion's policy and roster would run it.
    pub fn show(&self, request: &Path) -> String {
        self.ok(&Self::show_args(request))
    }

    /// The arguments of [`Bastion::show`], for tests that expect a refusal.
    pub fn show_args(request: &Path) -> [&str; 7] {
        [
            "ceremony",
            "show",
            request.to_str().unwrap(),
            "--policy",
            "policy.toml",
            "--roster",
            "roster.toml",
        ]
    }

    /// A delegate-revoke request for the releases delegate (reason key-compromise).
    pub fn revoke_releases_request(&self) -> PathBuf {
        self.prepare(
            "delegate-revoke",
            "kind = \"delegate-revoke\"\nwindow_hours = 24\npurpose = \"releases\"\nreason = \"key-compromise\"\n",
        )
    }

    pub fn records(&self) -> usize {
        std::fs::read_dir(self.path("state"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().join("record.toml").exists())
            .count()
    }
}
