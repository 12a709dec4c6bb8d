//! A throwaway PKI lab for end-to-end tests of the `rust-pki` binary: SoftHSM2 tokens in a
//! temporary directory (made by `softhsm-fixtures/new-token`), and helpers to run
//! `rust-pki`, OpenSSL and pkilint against the files it writes. Every command gets
//! SOFTHSM2_CONF through `Command::env`, so tests run in parallel without touching the
//! test process's environment.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

pub mod bastion;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
};

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The repository's policy text with `[hsm] backend = "softhsm2"` (no cluster): the
/// production policy names CloudHSM, these tests run on SoftHSM2.
pub fn softhsm2_policy(policy: &str) -> String {
    let cloudhsm = "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-replacewithid\"\n";
    assert_eq!(
        policy.matches(cloudhsm).count(),
        1,
        "policy/rust-root.toml's [hsm]"
    );
    policy.replace(cloudhsm, "[hsm]\nbackend = \"softhsm2\"\n")
}

pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// A lab with the given tokens.
    pub fn new(tokens: &[&str]) -> Self {
        let lab = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for token in tokens {
            let status = Command::new(format!("{REPO}/softhsm-fixtures/new-token"))
                .arg(lab.hsm_dir())
                .arg(token)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "new-token {token}");
        }
        lab
    }

    pub fn hsm_dir(&self) -> PathBuf {
        self.dir.path().join("hsm")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn uri(&self, token: &str, object: &str) -> String {
        format!(
            "pkcs11:token={token};object={object}?module-path={MODULE}&pin-source=file:{}",
            self.hsm_dir().join(format!("{token}.pin")).display()
        )
    }

    /// Run `rust-pki ARGS` with this lab's SoftHSM2 configuration.
    pub fn rust_pki<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .current_dir(REPO)
            .env("SOFTHSM2_CONF", self.hsm_dir().join("softhsm2.conf"))
            .args(args)
            .output()
            .unwrap()
    }

    /// Run `rust-pki ARGS` and require success.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = self.rust_pki(args);
        assert!(
            output.status.success(),
            "rust-pki failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Run `rust-pki ARGS` and require failure; returns stderr.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let output = self.rust_pki(args);
        assert!(
            !output.status.success(),
            "rust-pki unexpectedly succeeded: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    pub fn keygen(&self, token: &str, object: &str) -> String {
        let uri = self.uri(token, object);
        self.ok(["hsm", "keygen", "--key", &uri]);
        uri
    }

    /// Root key + certificate at `root.pem`; returns the root key URI.
    pub fn root(&self) -> String {
        let key = self.keygen("rust-root", "root");
        self.ok([
            "ca",
            "root",
            "--key",
            &key,
            "--out",
            self.path("root.pem").to_str().unwrap(),
        ]);
        key
    }
}

/// Run a tool no one here wrote; returns (success, stdout+stderr).
pub fn tool(program: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> (bool, String) {
    let output = Command::new(program)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): run scripts/install-deps"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A pkilint command from the repository's venv (scripts/install-deps makes it) or PATH.
pub fn pkilint(command: &str) -> String {
    let venv = Path::new(REPO).join(".venv/bin").join(command);
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    command.to_owned()
}

/// Logs the certificate in `delegate` (made with `ca delegate`) as the output of a
/// delegate-issue ceremony, and writes its bundle next to it (`<delegate>.bundle`), as
/// `ceremony execute` does: `ca leaf --log` proves its delegate's entry from that bundle.
/// The record bytes are a stand-in (only a monitor's replay reads them). Returns the
/// entry's index.
pub fn log_as_ceremony_output(delegate: &Path, log_dir: &Path, log_skey: &Path) -> u64 {
    use rust_pki_tlog::{bundle_file::StapledBundle, entry::Entry, note, writer::Log};
    let der = rust_pki_ca::pem::read_der(delegate, rust_pki_ca::pem::label::CERTIFICATE).unwrap();
    let key =
        note::SignerKey::parse(std::fs::read_to_string(log_skey).unwrap().trim_end()).unwrap();
    let origin = key.name().to_owned();
    let record = format!("stand-in record of {}", delegate.display());
    let entry = Entry::ceremony_record("002-delegate-issue.toml", record.as_bytes(), &[&der])
        .unwrap()
        .encode()
        .unwrap();
    let mut log = Log::open(log_dir, &origin, move |body: &[u8]| {
        note::sign_note(body, &key)
    })
    .unwrap();
    log.append(std::slice::from_ref(&entry)).unwrap();
    let index = log.find_entry(&entry).unwrap();
    let bundle = StapledBundle::from_log(&log, index, &entry, vec![der]).unwrap();
    std::fs::write(delegate.with_extension("bundle"), bundle.to_text()).unwrap();
    index
}

/// Replace the string value of `field = "…"` (its first occurrence at the start of a line)
/// in a TOML file, as an operator editing a request or record between steps would.
pub fn set_toml_string(file: &Path, field: &str, value: &str) {
    let mut text = std::fs::read_to_string(file).unwrap();
    let key = format!("\n{field} = \"");
    let start = text.find(&key).unwrap() + key.len();
    let end = start + text[start..].find('"').unwrap();
    text.replace_range(start..end, value);
    std::fs::write(file, text).unwrap();
}

/// A `rust-pki log witness serve` listening on 127.0.0.1, killed when dropped.
pub struct WitnessServer {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl WitnessServer {
    /// Serves the witness state `state` signed with `skey`, for the logs of `log_vkeys`.
    pub fn start(state: &Path, skey: &Path, log_vkeys: &[&Path]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rust-pki"));
        cmd.args(["log", "witness", "serve", "--listen", "127.0.0.1:0"])
            .arg("--state-dir")
            .arg(state)
            .arg("--witness-skey")
            .arg(skey);
        for vkey in log_vkeys {
            cmd.arg("--log-vkey").arg(vkey);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim_end()
            .strip_prefix("listening: ")
            .unwrap_or_else(|| panic!("no address from the witness: {line:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Self { child, url }
    }
}

impl Drop for WitnessServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
