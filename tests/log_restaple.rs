//! `rust-pki log restaple`, run as the binary: bundles stapled on a log without witnesses
//! (as `ceremony execute` does on the offline bastion) are refused by `verify
//! --min-witnesses 1`; after `log cosign` (a witness served on 127.0.0.1), restapled
//! bundles verify. Bundles that are not the log's, malformed, or whose new file exists are
//! refused and nothing is written.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::WitnessServer;
use rust_pki_tlog::bundle_file::{StapledBundle, pem_certificates, verify_bundle};
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{SignerKey, VerifierKey, sign_note};
use rust_pki_tlog::writer::Log;

const ORIGIN: &str = "example.com/log";
const WITNESS: &str = "witness.example/w1";

fn run(args: &[&dyn AsRef<OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&dyn AsRef<OsStr>]) -> String {
    let out = run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

/// Runs a command that must fail with `code`; returns its stderr.
fn fails_with(code: i32, args: &[&dyn AsRef<OsStr>]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    stderr
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("verify/tests/data/cli")
}

/// A log with a delegate's ceremony record and a leaf issued by it, both stapled without
/// any witness, and a witness served on 127.0.0.1 for the log.
struct Lab {
    tmp: tempfile::TempDir,
    log: PathBuf,
    skey: PathBuf,
    wvkey: PathBuf,
    server: WitnessServer,
    /// DER: the leaf, then its delegate (verify/tests/data/cli/chain.pem).
    certificates: Vec<Vec<u8>>,
    /// The bundles, as `ceremony execute` and `ca leaf` lay them out.
    bundles: PathBuf,
}

impl Lab {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("log");
        let skey = tmp.path().join("log.skey");
        ok(&[
            &"log",
            &"init",
            &log,
            &"--origin",
            &ORIGIN,
            &"--log-skey-out",
            &skey,
        ]);
        let state = tmp.path().join("witness");
        let wskey = tmp.path().join("witness.skey");
        ok(&[
            &"log",
            &"witness",
            &"init",
            &"--state-dir",
            &state,
            &"--name",
            &WITNESS,
            &"--witness-skey-out",
            &wskey,
        ]);
        let wvkey = state.join("witness.vkey");
        let server = WitnessServer::start(&state, &wskey, &[&log.join("log.vkey")]);
        let chain = std::fs::read_to_string(fixtures().join("chain.pem")).unwrap();
        let lab = Self {
            bundles: tmp.path().join("bundles"),
            certificates: pem_certificates(&chain).unwrap(),
            tmp,
            log,
            skey,
            wvkey,
            server,
        };
        lab.append_artifact("before");
        // The delegate-issue ceremony (entry 1, stapled at size 2), then a leaf (entry 2,
        // stapled at size 3).
        let record = lab.delegate_record(b"record");
        lab.append(&record);
        lab.staple(
            &lab.bundles.join("delegates/releases.bundle"),
            &record,
            vec![lab.certificates[1].clone()],
            None,
        );
        let leaf = Entry::leaf_issuance(&lab.certificates[0], &lab.certificates[1])
            .unwrap()
            .encode()
            .unwrap();
        lab.append(&leaf);
        lab.staple(
            &lab.bundles.join("leaves/leaf.bundle"),
            &leaf,
            lab.certificates.clone(),
            Some(&record),
        );
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn log_key(&self) -> VerifierKey {
        VerifierKey::parse(
            std::fs::read_to_string(self.log.join("log.vkey"))
                .unwrap()
                .trim_end(),
        )
        .unwrap()
    }

    fn witness_key(&self) -> VerifierKey {
        VerifierKey::parse(std::fs::read_to_string(&self.wvkey).unwrap().trim_end()).unwrap()
    }

    /// The ceremony record entry of the delegate certificate, with these record bytes.
    fn delegate_record(&self, record: &[u8]) -> Vec<u8> {
        Entry::ceremony_record("002-delegate-issue.toml", record, &[&self.certificates[1]])
            .unwrap()
            .encode()
            .unwrap()
    }

    fn append_to(&self, log: &Path, entry: &[u8]) {
        let key =
            SignerKey::parse(std::fs::read_to_string(&self.skey).unwrap().trim_end()).unwrap();
        Log::open(log, ORIGIN, move |body: &[u8]| sign_note(body, &key))
            .unwrap()
            .append(&[entry.to_vec()])
            .unwrap();
    }

    fn append(&self, entry: &[u8]) {
        self.append_to(&self.log, entry);
    }

    fn append_artifact(&self, tag: &str) {
        let file = self.path(&format!("{tag}.txt"));
        std::fs::write(&file, tag).unwrap();
        ok(&[
            &"log",
            &"append",
            &self.log,
            &"--log-skey",
            &self.skey,
            &"--artifact",
            &file,
        ]);
    }

    /// Writes the bundle of `entry` in the log `log` at its current checkpoint, as stapling
    /// without a witness does.
    fn staple_from(
        &self,
        log: &Path,
        path: &Path,
        entry: &[u8],
        certificates: Vec<Vec<u8>>,
        delegate: Option<&[u8]>,
    ) {
        let no_signer = |_: &[u8]| -> rust_pki_tlog::Result<Vec<u8>> {
            Err(rust_pki_tlog::Error::EntryNoSigner)
        };
        let log = Log::open(log, ORIGIN, no_signer).unwrap();
        let index = log.find_entry(entry).unwrap();
        let mut bundle = StapledBundle::from_log(&log, index, entry, certificates).unwrap();
        if let Some(record) = delegate {
            bundle.add_delegate(&log, record).unwrap();
        }
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bundle.to_text()).unwrap();
    }

    fn staple(
        &self,
        path: &Path,
        entry: &[u8],
        certificates: Vec<Vec<u8>>,
        delegate: Option<&[u8]>,
    ) {
        self.staple_from(&self.log, path, entry, certificates, delegate);
    }

    fn cosign(&self) {
        ok(&[
            &"log",
            &"cosign",
            &self.log,
            &"--log-skey",
            &self.skey,
            &"--witness-url",
            &self.server.url,
            &"--witness-vkey",
            &self.wvkey,
        ]);
    }

    fn verify_leaf(&self, bundle: &Path) -> Output {
        run(&[
            &"verify",
            &"--bundle",
            &bundle,
            &"--root",
            &fixtures().join("root.pem"),
            &"--log-vkey",
            &self.log.join("log.vkey"),
            &"--at",
            &"2026-12-01T00:00:00Z",
            &"--purpose",
            &"releases",
            &"--witness-vkey",
            &self.wvkey,
            &"--min-witnesses",
            &"1",
        ])
    }

    /// `log restaple LOG ARGS… --out OUT`.
    fn restaple(&self, out: &Path, args: &[&dyn AsRef<OsStr>]) -> Output {
        let mut all: Vec<&dyn AsRef<OsStr>> = vec![&"log", &"restaple", &self.log];
        all.extend_from_slice(args);
        all.push(&"--out");
        all.push(&out);
        run(&all)
    }
}

/// Every file under `dir` (empty when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn bundles_stapled_without_witness_verify_after_cosign_and_restaple() {
    let lab = Lab::new();
    let leaf = lab.bundles.join("leaves/leaf.bundle");
    // Stapled before any witness cosigned: verify (one witness by default) refuses it.
    let out = lab.verify_leaf(&leaf);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [witnesses]: 0 valid witness cosignature(s), 1 required"),
        "{stderr}"
    );
    // The log grows after the ceremony: the new bundles need fresh proofs.
    lab.append_artifact("after");

    // Restapling before `log cosign` with a witness quorum is refused, writing nothing.
    let restapled = lab.path("restapled");
    let witness: [&dyn AsRef<OsStr>; 4] = [&"--witness-vkey", &lab.wvkey, &"--min-witnesses", &"1"];
    let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"--all", &lab.bundles];
    args.extend_from_slice(&witness);
    let out = lab.restaple(&restapled, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("0 valid cosignature(s) by the --witness-vkey keys, 1 required")
            && stderr.contains("run `rust-pki log cosign`"),
        "{stderr}"
    );
    assert!(files_under(&restapled).is_empty());

    lab.cosign();
    let out = lab.restaple(&restapled, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --all keeps each bundle's path relative to the folder.
    let new_delegate = restapled.join("delegates/releases.bundle");
    let new_leaf = restapled.join("leaves/leaf.bundle");
    assert_eq!(
        files_under(&restapled),
        vec![new_delegate.clone(), new_leaf.clone()]
    );
    assert!(
        stdout.contains(&format!(
            "restapled {} -> {}: entry 1, tree size 2 -> 4",
            lab.bundles.join("delegates/releases.bundle").display(),
            new_delegate.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "restapled {} -> {}: entry 2, tree size 3 -> 4",
            leaf.display(),
            new_leaf.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "restapled 2 bundle(s) into {} with the checkpoint of {ORIGIN} size 4",
            restapled.display()
        )) && stdout.contains(&format!("cosigned by {WITNESS}+")),
        "{stdout}"
    );

    // The restapled leaf bundle verifies with the witness required.
    let out = lab.verify_leaf(&new_leaf);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("1 witness cosignature(s) ({WITNESS}+")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // So does the delegate's, and both keep their entries, certificates and indexes.
    for (old, new) in [
        (lab.bundles.join("delegates/releases.bundle"), new_delegate),
        (leaf, new_leaf),
    ] {
        let old = StapledBundle::parse(&std::fs::read(old).unwrap()).unwrap();
        let new = StapledBundle::parse(&std::fs::read(new).unwrap()).unwrap();
        let verified = verify_bundle(&new, &lab.log_key(), &[lab.witness_key()], 1).unwrap();
        assert_eq!(verified.tree_size, 4);
        assert_eq!(
            (&new.certificates, &new.entry, new.index),
            (&old.certificates, &old.entry, old.index)
        );
        assert_eq!(
            new.delegate.as_ref().map(|d| (&d.entry, d.index)),
            old.delegate.as_ref().map(|d| (&d.entry, d.index))
        );
        assert_eq!(
            new.checkpoint,
            std::fs::read(lab.log.join("checkpoint")).unwrap()
        );
    }
}

#[test]
fn refuses_bundles_not_of_the_log_and_writes_nothing() {
    let lab = Lab::new();
    let good = lab.bundles.join("delegates/releases.bundle");
    let text = std::fs::read_to_string(&good).unwrap();
    let bad = lab.path("bad");
    std::fs::create_dir_all(&bad).unwrap();

    // A fork of the log (same key and origin) in which another record names the delegate.
    let fork = lab.path("fork");
    copy_dir(&lab.log, &fork);
    let evil = lab.delegate_record(b"another record");
    lab.append_to(&fork, &evil);
    // The log and the fork: both of size 4, with different roots.
    lab.append_artifact("after");
    let forked = bad.join("forked.bundle");
    lab.staple_from(
        &fork,
        &forked,
        &evil,
        vec![lab.certificates[1].clone()],
        None,
    );
    // The delegate's record with the leaf certificate in place of the delegate's.
    let mut swapped = StapledBundle::parse(text.as_bytes()).unwrap();
    swapped.certificates = vec![lab.certificates[0].clone()];
    let wrong_certificate = bad.join("wrong-certificate.bundle");
    std::fs::write(&wrong_certificate, swapped.to_text()).unwrap();
    // The right entry, claiming another index.
    let moved = bad.join("moved.bundle");
    std::fs::write(&moved, text.replacen("\nindex: 1\n", "\nindex: 0\n", 1)).unwrap();
    let garbage = bad.join("garbage.bundle");
    std::fs::write(&garbage, "not a bundle\n").unwrap();

    let out = lab.path("restapled");
    for (bundle, rule, reason) in [
        (
            &forked,
            "in-log",
            "has another root than this log at that size: a fork",
        ),
        (
            &wrong_certificate,
            "entry",
            "does not name the leaf certificate",
        ),
        (&moved, "inclusion", "entry 0 is not proven included"),
        (&garbage, "bundle-format", "missing \"checkpoint:\" line"),
    ] {
        let err = fails_with(
            1,
            &[&"log", &"restaple", &lab.log, &good, bundle, &"--out", &out],
        );
        let prefix = format!("INVALID [{rule}]: {}: ", bundle.display());
        assert!(err.starts_with(&prefix), "{prefix}\n{err}");
        assert!(
            err.contains(reason) && err.contains("nothing written"),
            "{err}"
        );
        assert!(files_under(&out).is_empty(), "{bundle:?} wrote files");
    }

    // A fork that grew beyond the log.
    lab.append_to(&fork, &lab.delegate_record(b"more"));
    let longer = bad.join("longer.bundle");
    lab.staple_from(
        &fork,
        &longer,
        &evil,
        vec![lab.certificates[1].clone()],
        None,
    );
    let err = fails_with(1, &[&"log", &"restaple", &lab.log, &longer, &"--out", &out]);
    assert!(
        err.starts_with(&format!("INVALID [in-log]: {}: ", longer.display()))
            && err.contains("of a larger tree (size 5)"),
        "{err}"
    );
    assert!(files_under(&out).is_empty());
}

#[test]
fn refuses_an_existing_output_and_writes_nothing() {
    let lab = Lab::new();
    let out = lab.path("restapled");
    std::fs::create_dir_all(out.join("leaves")).unwrap();
    let existing = out.join("leaves/leaf.bundle");
    std::fs::write(&existing, "earlier\n").unwrap();
    let err = fails_with(
        3,
        &[
            &"log",
            &"restaple",
            &lab.log,
            &"--all",
            &lab.bundles,
            &"--out",
            &out,
        ],
    );
    assert!(
        err.contains(&format!(
            "{} exist(s) already; refusing to overwrite: nothing written",
            existing.display()
        )),
        "{err}"
    );
    assert_eq!(files_under(&out), vec![existing.clone()]);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "earlier\n");

    // Two bundles given by name that would land on one file.
    let copy = lab.path("elsewhere/leaf.bundle");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(lab.bundles.join("leaves/leaf.bundle"), &copy).unwrap();
    let other_out = lab.path("other");
    let err = fails_with(
        2,
        &[
            &"log",
            &"restaple",
            &lab.log,
            &lab.bundles.join("leaves/leaf.bundle"),
            &copy,
            &"--out",
            &other_out,
        ],
    );
    assert!(err.contains("would both be written to"), "{err}");
    assert!(files_under(&other_out).is_empty());

    // Given by name, a bundle goes to OUT/<its file name>.
    let stdout = ok(&[&"log", &"restaple", &lab.log, &copy, &"--out", &other_out]);
    assert_eq!(files_under(&other_out), vec![other_out.join("leaf.bundle")]);
    assert!(
        stdout.contains("witness cosignatures not checked (no --witness-vkey)"),
        "{stdout}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else if e.file_name() != ".lock" {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
