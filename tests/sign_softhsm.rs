//! `rust-pki sign` end to end on SoftHSM2: P-384 signatures that `openssl cms -verify`
//! accepts (and rejects after a one-byte change), Ed25519 signatures checked by an
//! independent Python script, the refusals (existing .sig, wrong purpose, wrong key) that
//! sign and log nothing, and a logged run: one append for all files, witnessed, bundles
//! that prove inclusion, and a rerun after a crash that logs nothing twice.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Lab, REPO, WitnessServer, tool};
use rust_pki_tlog::bundle_file::{StapledBundle, verify_bundle};
use rust_pki_tlog::note::VerifierKey;

/// A root, a releases delegate (key in `delegate-owners`) and a way to make leaves.
struct Pki {
    lab: Lab,
    delegate_key: String,
}

impl Pki {
    fn new() -> Self {
        let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
        let root_key = lab.root();
        let delegate_key = lab.keygen("delegate-owners", "releases");
        lab.ok([
            "ca",
            "delegate",
            "--root-cert",
            &p(&lab, "root.pem"),
            "--root-key",
            &root_key,
            "--purpose",
            "releases",
            "--subject-key",
            &delegate_key,
            "--out",
            &p(&lab, "releases.pem"),
        ]);
        Self { lab, delegate_key }
    }

    /// A leaf key (`p-384` or `ed25519`) in `leaf-owners` and its certificate `NAME.pem`;
    /// returns the key's URI.
    fn leaf(&self, name: &str, algorithm: &str) -> String {
        let key = self.lab.uri("leaf-owners", name);
        self.lab
            .ok(["hsm", "keygen", "--key", &key, "--algorithm", algorithm]);
        self.lab.ok([
            "ca",
            "leaf",
            "--issuer-cert",
            &self.path("releases.pem"),
            "--issuer-key",
            &self.delegate_key,
            "--subject",
            &format!("CN={name}"),
            "--subject-key",
            &key,
            "--out",
            &self.path(&format!("{name}.pem")),
        ]);
        key
    }

    fn path(&self, name: &str) -> String {
        p(&self.lab, name)
    }

    /// `count` files of different sizes under `dir/`.
    fn files(&self, dir: &str, count: usize) -> Vec<String> {
        std::fs::create_dir_all(self.lab.path(dir)).unwrap();
        (0..count)
            .map(|i| {
                let path = self.path(&format!("{dir}/file-{i}.bin"));
                std::fs::write(&path, format!("{dir} file {i}\n").repeat(1 + i * 5000)).unwrap();
                path
            })
            .collect()
    }

    /// `rust-pki sign` with the leaf `NAME.pem` and its key, for `purpose`, plus `extra`.
    fn sign(
        &self,
        key: &str,
        leaf: &str,
        purpose: &str,
        extra: &[&str],
        files: &[String],
    ) -> std::process::Output {
        self.sign_with_env(key, leaf, purpose, extra, files, &[])
    }

    /// [`Pki::sign`] with extra environment variables (the crash switch).
    fn sign_with_env(
        &self,
        key: &str,
        leaf: &str,
        purpose: &str,
        extra: &[&str],
        files: &[String],
        env: &[(&str, &str)],
    ) -> std::process::Output {
        let mut args: Vec<String> = [
            "sign",
            "--key",
            key,
            "--cert",
            &self.path(&format!("{leaf}.pem")),
            "--chain",
            &self.path("releases.pem"),
            "--purpose",
            purpose,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.extend(files.iter().cloned());
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .current_dir(REPO)
            .env("SOFTHSM2_CONF", self.lab.hsm_dir().join("softhsm2.conf"))
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
    }
}

fn p(lab: &Lab, name: &str) -> String {
    lab.path(name).to_str().unwrap().to_owned()
}

fn sig(file: &str) -> String {
    format!("{file}.sig")
}

fn openssl_verify(pki: &Pki, file: &str) -> (bool, String) {
    tool(
        "openssl",
        &[
            &"cms",
            &"-verify",
            &"-binary",
            &"-inform",
            &"PEM",
            &"-in",
            &sig(file),
            &"-content",
            &file,
            &"-CAfile",
            &pki.path("root.pem"),
            &"-purpose",
            &"any",
            &"-out",
            &"/dev/null",
        ],
    )
}

fn flip_one_byte(file: &str) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(file, bytes).unwrap();
}

fn status(output: &std::process::Output) -> i32 {
    output.status.code().unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn p384_signatures_pass_openssl_cms_verify_and_a_changed_byte_fails() {
    let pki = Pki::new();
    let key = pki.leaf("releases-leaf", "p384");
    let files = pki.files("dist", 3);
    let out = pki.sign(&key, "releases-leaf", "releases", &[], &files);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    // Without --log there is no proof of time, and the user is told.
    assert!(
        stderr(&out).contains("no proof of time"),
        "{}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("signed 3 file(s) for releases"), "{stdout}");
    for file in &files {
        let text = std::fs::read_to_string(sig(file)).unwrap();
        assert!(text.starts_with("-----BEGIN CMS-----\n"), "{text}");
        assert!(
            text.ends_with("-----END CMS-----\n"),
            "no bundle without --log: {text}"
        );
        let (ok, output) = openssl_verify(&pki, file);
        assert!(ok, "openssl rejected {file}: {output}");
        assert!(output.contains("Verification successful"), "{output}");
    }
    flip_one_byte(&files[1]);
    let (ok, output) = openssl_verify(&pki, &files[1]);
    assert!(!ok, "openssl accepted a changed file: {output}");
    assert!(output.contains("content verify error"), "{output}");
}

#[test]
fn ed25519_signatures_pass_an_independent_python_check() {
    let pki = Pki::new();
    let key = pki.leaf("releases-ed", "ed25519");
    let files = pki.files("dist", 2);
    let out = pki.sign(&key, "releases-ed", "releases", &["-q"], &files);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "-q prints nothing on stderr");
    let check = |file: &str| {
        let output = Command::new(python())
            .arg(format!("{REPO}/tests/scripts/verify_ed25519_cms.py"))
            .args([&sig(file), file, &pki.path("releases-ed.pem")])
            .output()
            .unwrap_or_else(|e| panic!("python ({e}): run scripts/install-deps"));
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    for file in &files {
        let (ok, text) = check(file);
        assert!(ok && text.trim() == "OK", "{file}: {text}");
    }
    flip_one_byte(&files[0]);
    let (ok, text) = check(&files[0]);
    assert!(!ok, "a changed file passed: {text}");
    assert!(
        text.contains("message-digest is not SHA-512 of the file"),
        "{text}"
    );
}

#[test]
fn refusals_sign_and_write_nothing() {
    let pki = Pki::new();
    let key = pki.leaf("releases-leaf", "p384");
    let files = pki.files("dist", 3);

    // An existing signature: refused up front (exit 3), naming it; no other .sig appears.
    std::fs::write(sig(&files[2]), "an older signature").unwrap();
    let out = pki.sign(&key, "releases-leaf", "releases", &[], &files);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{} exists: refusing to overwrite", sig(&files[2]))),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sig(&files[2])).unwrap(),
        "an older signature"
    );
    std::fs::remove_file(sig(&files[2])).unwrap();
    let no_sigs = || files.iter().all(|f| !Path::new(&sig(f)).exists());
    assert!(no_sigs());

    // A releases leaf cannot sign for crates-io.
    let out = pki.sign(&key, "releases-leaf", "crates-io", &[], &files);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not for purpose `crates-io`"),
        "{}",
        stderr(&out)
    );
    assert!(no_sigs());

    // A key the leaf does not certify.
    let other = pki.lab.keygen("leaf-owners", "other");
    let out = pki.sign(&other, "releases-leaf", "releases", &[], &files);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not certify the key"),
        "{}",
        stderr(&out)
    );
    assert!(no_sigs());
}

/// Python from the repository's venv (scripts/install-deps makes it, with `cryptography`),
/// or from PATH.
fn python() -> String {
    let venv = Path::new(REPO).join(".venv/bin/python");
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    "python3".to_owned()
}

/// A `log witness serve` process, killed when dropped.
fn witness(pki: &Pki) -> (WitnessServer, PathBuf) {
    let state = pki.lab.path("witness");
    pki.lab.ok([
        "log",
        "witness",
        "init",
        "--state-dir",
        &pki.path("witness"),
        "--name",
        "witness.example/w1",
        "--witness-skey-out",
        &pki.path("witness.skey"),
    ]);
    let server = WitnessServer::start(
        &state,
        Path::new(&pki.path("witness.skey")),
        &[Path::new(&pki.path("log/log.vkey"))],
    );
    (server, state.join("witness.vkey"))
}

fn vkey(path: &Path) -> VerifierKey {
    VerifierKey::parse(std::fs::read_to_string(path).unwrap().trim_end()).unwrap()
}

/// The stapled bundle after the CMS block of a .sig.
fn bundle_of(sig_file: &str) -> StapledBundle {
    let text = std::fs::read_to_string(sig_file).unwrap();
    let (_, bundle) = text.split_once("-----END CMS-----\n").unwrap();
    assert!(bundle.starts_with("rust-pki-bundle/v2\n"), "{bundle}");
    StapledBundle::parse(bundle.as_bytes()).unwrap()
}

fn log_size(pki: &Pki) -> u64 {
    let checkpoint = std::fs::read_to_string(pki.lab.path("log/checkpoint")).unwrap();
    checkpoint.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn logged_run_appends_once_staples_witnessed_bundles_and_a_rerun_after_a_crash_logs_nothing_twice()
{
    let pki = Pki::new();
    let key = pki.leaf("releases-leaf", "p384");
    pki.lab.ok([
        "log",
        "init",
        &pki.path("log"),
        "--origin",
        "pki.example/log",
        "--log-skey-out",
        &pki.path("log.skey"),
    ]);
    common::log_as_ceremony_output(
        &pki.lab.path("releases.pem"),
        &pki.lab.path("log"),
        &pki.lab.path("log.skey"),
    );
    assert_eq!(log_size(&pki), 1);
    let (witness, witness_vkey) = witness(&pki);
    let mut files = pki.files("dist", 4);
    // The same name and bytes in another directory: one entry, proved by both bundles.
    std::fs::create_dir(pki.lab.path("copy")).unwrap();
    let copy = pki.path("copy/file-0.bin");
    std::fs::copy(&files[0], &copy).unwrap();
    files.push(copy);
    let log_args = [
        "--log",
        &pki.path("log"),
        "--log-skey",
        &pki.path("log.skey"),
        "--witness-url",
        &witness.url,
        "--witness-vkey",
        witness_vkey.to_str().unwrap(),
    ];
    let out = pki.sign(&key, "releases-leaf", "releases", &log_args, &files);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("no proof of time"),
        "{}",
        stderr(&out)
    );
    // One append of the four entries: one new checkpoint, of size 5, in every bundle.
    assert_eq!(log_size(&pki), 5);
    let log_key = vkey(&pki.lab.path("log/log.vkey"));
    let witness_key = vkey(&witness_vkey);
    let leaf =
        rust_pki_ca::pem::read_der(&pki.lab.path("releases-leaf.pem"), "CERTIFICATE").unwrap();
    let delegate =
        rust_pki_ca::pem::read_der(&pki.lab.path("releases.pem"), "CERTIFICATE").unwrap();
    let check_bundles = |files: &[String]| {
        let mut checkpoints = Vec::new();
        let mut indices = Vec::new();
        for file in files {
            let bundle = bundle_of(&sig(file));
            verify_bundle(&bundle, &log_key, std::slice::from_ref(&witness_key), 1)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(bundle.certificates, [leaf.clone(), delegate.clone()]);
            assert!(
                bundle.delegate.is_some(),
                "the delegate's ceremony entry is stapled"
            );
            let entry = rust_pki_tlog::entry::Entry::parse(&bundle.entry).unwrap();
            let name = Path::new(file).file_name().unwrap().to_str().unwrap();
            assert!(
                matches!(&entry, rust_pki_tlog::entry::Entry::Artifact { name: n, size, .. }
                    if n == name && *size == std::fs::metadata(file).unwrap().len()),
                "{entry:?}"
            );
            assert!(entry.names_certificate(&leaf));
            checkpoints.push(bundle.checkpoint.clone());
            indices.push(bundle.index);
            // OpenSSL reads the CMS block and ignores the bundle after it.
            let (ok, output) = openssl_verify(&pki, file);
            assert!(ok, "{file}: {output}");
        }
        checkpoints.dedup();
        let shown: Vec<String> = checkpoints
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert_eq!(
            checkpoints.len(),
            1,
            "one checkpoint for the whole batch: {shown:#?}"
        );
        indices
    };
    assert_eq!(check_bundles(&files), [1, 2, 3, 4, 1]);

    // A crash after the append, before the .sig files were written: they are absent, the
    // entries are logged. The rerun signs again and finds the entries: nothing twice.
    for file in &files {
        std::fs::remove_file(sig(file)).unwrap();
    }
    let out = pki.sign(&key, "releases-leaf", "releases", &log_args, &files);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(log_size(&pki), 5, "no entry appended twice");
    assert_eq!(check_bundles(&files), [1, 2, 3, 4, 1]);

    // A crash while the .sig files were written: the finished ones are kept as they are,
    // the others signed again; still nothing logged twice.
    let before: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(sig(f)).unwrap())
        .collect();
    std::fs::remove_file(sig(&files[1])).unwrap();
    std::fs::remove_file(sig(&files[3])).unwrap();
    let out = pki.sign(&key, "releases-leaf", "releases", &log_args, &files);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "kept {}: signed and logged by an earlier run",
            sig(&files[0])
        )),
        "{stdout}"
    );
    assert_eq!(log_size(&pki), 5, "no entry appended twice");
    for i in [0, 2, 4] {
        assert_eq!(std::fs::read_to_string(sig(&files[i])).unwrap(), before[i]);
    }
    assert_eq!(check_bundles(&files), [1, 2, 3, 4, 1]);

    // Any other existing .sig is still refused, with the log: one of another file.
    let other = pki.files("other", 1);
    std::fs::copy(sig(&files[0]), sig(&other[0])).unwrap();
    let out = pki.sign(&key, "releases-leaf", "releases", &log_args, &other);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to overwrite"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(sig(&other[0])).unwrap();
    // A leaf for another purpose: refused, nothing logged.
    let out = pki.sign(&key, "releases-leaf", "crates-io", &log_args, &other);
    assert_eq!(status(&out), 3, "{}", stderr(&out));
    assert_eq!(log_size(&pki), 5, "refusals log nothing");
    assert!(!Path::new(&sig(&other[0])).exists());

    // The same with a real crash (abort right after the append, before the witnesses are
    // asked and any .sig is written), in builds with the crash switches.
    #[cfg(feature = "fault-injection")]
    {
        let more = pki.files("more", 2);
        let crashed = pki.sign_with_env(
            &key,
            "releases-leaf",
            "releases",
            &log_args,
            &more,
            &[("RUST_PKI_LOG_FAULT", "appended")],
        );
        assert!(!crashed.status.success(), "the crash switch did not abort");
        assert_eq!(log_size(&pki), 7, "appended before the crash");
        assert!(more.iter().all(|f| !Path::new(&sig(f)).exists()));
        let out = pki.sign(&key, "releases-leaf", "releases", &log_args, &more);
        assert_eq!(status(&out), 0, "{}", stderr(&out));
        assert_eq!(log_size(&pki), 7, "no entry appended twice after the crash");
        assert_eq!(check_bundles(&more), [5, 6]);
    }
    drop(witness);
}
