//! `rust-pki-verify artifact`: exit statuses, stderr lines and the JSON envelope (validated
//! against docs/cli-json.schema.json), with signatures built in the test.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::cli::{json, run, text};
use common::sign::{Signer, TestLog};
use common::{Files, crl, pki, validate_against_schema};
use time::macros::datetime;

const AT: &str = "2026-12-01T00:00:00Z";
const SIGNED_AT: time::OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

struct Setup {
    files: Files,
    root: String,
    log_vkey: String,
    witness_vkey: String,
    crl: String,
    /// A published `crl/` folder: the root's CRL, the delegate's (revoking nothing) and an
    /// unrelated CA's.
    crl_dir: String,
}

/// A release directory: two files signed and logged, the root, the log's and witness's
/// keys, a CRL revoking the leaf.
fn setup() -> Setup {
    let p = pki();
    let files = Files::new();
    let dist = files.dir_path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let mut log = TestLog::new(&p.delegate);
    let contents: [(&str, &[u8]); 2] = [("a.tar.xz", b"first file"), ("b.tar.xz", b"second")];
    let signer = Signer {
        leaf: &p.leaf,
        delegate: &p.delegate,
        time: SIGNED_AT,
        openssl: false,
    };
    signer.write(&dist, Some(&mut log), &contents);
    let path = |p: PathBuf| p.display().to_string();
    std::fs::create_dir(files.dir_path().join("crl")).unwrap();
    files.write("crl/root.crl", crl(&p.root, &[]));
    files.write("crl/releases.crl", crl(&p.delegate, &[]));
    let other = common::Spec::ca("Other CA", 5).self_signed();
    files.write("crl/other.crl", crl(&other, &[]));
    Setup {
        crl_dir: files.name("crl"),
        root: path(files.write("root.pem", p.root.pem())),
        log_vkey: path(files.write("log.vkey", log.log_key.to_string())),
        witness_vkey: path(files.write("w1.vkey", log.witness.verifier().to_string())),
        crl: path(files.write("releases.crl", crl(&p.delegate, &[0x1001]))),
        files,
    }
}

impl Setup {
    fn dist(&self, name: &str) -> String {
        self.files
            .dir_path()
            .join("dist")
            .join(name)
            .display()
            .to_string()
    }

    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "artifact",
            "--root",
            &self.root,
            "--purpose",
            "releases",
            "--at",
            AT,
        ];
        args.extend_from_slice(extra);
        args
    }
}

#[test]
fn exit_statuses_lines_and_envelopes() {
    let s = setup();
    let (a, b) = (s.dist("a.tar.xz"), s.dist("b.tar.xz"));
    let mut envelopes = Vec::new();

    // Valid, with the log proof: exit 0, one line per file and a summary.
    let dist = s.files.dir_path().join("dist").display().to_string();
    let logged = [
        "--all",
        dist.as_str(),
        "--log-vkey",
        &s.log_vkey,
        "--witness-vkey",
        &s.witness_vkey,
    ];
    let out = run(&s.args(&logged));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("OK: {a}: signed by CN=Rust Test Leaf")),
        "{stdout}"
    );
    assert!(
        stdout.contains("existed by 2026-11-30T12:00:00Z (1 witness(es)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 of 2 file(s) verified; the chain was validated 1 time(s)"),
        "{stdout}"
    );
    let out = run(&s.args(&[&logged[..], &["--json"]].concat()));
    let env = json(&out);
    assert_eq!(env["command"], "verify artifact");
    assert_eq!(env["ok"], true);
    assert_eq!(env["result"]["verified"], 2);
    assert_eq!(env["result"]["chain_validations"], 1);
    assert_eq!(
        env["result"]["files"][0]["proven_time"],
        "2026-11-30T12:00:00Z"
    );
    assert!(
        env["checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "proven-time")
    );
    envelopes.push(("valid logged", env));

    // Without the log's key: valid, and the log is listed as skipped.
    let out = run(&s.args(&[&a, "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = json(&out);
    assert!(
        env["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "log-inclusion")
    );
    envelopes.push(("valid unlogged", env));

    // A changed file: exit 1, INVALID [rule]: FILE: …
    std::fs::write(&b, "second, changed").unwrap();
    let out = run(&s.args(&[&a, &b]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("INVALID [message-digest-mismatch]: {b}: ")),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("1 of 2 file(s) verified"));
    let out = run(&s.args(&[&a, &b, "--json"]));
    let env = json(&out);
    assert_eq!(
        (env["ok"].clone(), env["error"]["exit"].clone()),
        (false.into(), 1.into())
    );
    assert_eq!(env["error"]["rule"], "message-digest-mismatch");
    assert_eq!(env["result"]["failed"][0]["file"], b.as_str());
    envelopes.push(("changed file", env));

    // Revoked by the CRL: exit 1.
    let out = run(&s.args(&[&a, "--crl", &s.crl]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with(&format!("INVALID [revoked]: {a}: ")));

    // A missing .sig and a missing root: exit 2, error: …
    let out = run(&s.args(&[&s.dist("nothing"), "--json"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: "),
        "{}",
        text(&out.stderr)
    );
    envelopes.push(("missing sig", json(&out)));
    let out = run(&[
        "artifact",
        &a,
        "--root",
        "/nonexistent/root.pem",
        "--purpose",
        "releases",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    envelopes.push(("missing root", json(&out)));

    // An unreadable --cross-cert is an input error.
    let out = run(&s.args(&[&a, "--cross-cert", "/nonexistent/cross.pem"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cross.pem"),
        "{}",
        text(&out.stderr)
    );

    // --sig with two files is a usage error.
    let out = run(&s.args(&[&a, &b, "--sig", "x.sig"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--sig applies to exactly one FILE"));

    validate_against_schema(&envelopes);
}

#[test]
fn flat_verify_still_takes_its_arguments() {
    let s = setup();
    // No subcommand: the flat form's own requirements are reported (not the artifact's).
    let out = run(&["--root", &s.root, "--purpose", "releases"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--chain"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn require_crl_needs_the_root_and_delegate_crls() {
    let s = setup();
    let a = s.dist("a.tar.xz");
    let out = run(&s.args(&[&a, "--require-crl", "--crl-dir", &s.crl_dir, "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = json(&out);
    assert!(
        env["checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "revocation"),
        "{env}"
    );
    let root_crl = s.files.name("crl/root.crl");
    let out = run(&s.args(&[&a, "--require-crl", "--crl", &root_crl]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("INVALID [crl-required]")
            && stderr.contains("no CRL of intermediate 1 CN=Rust Test Delegate"),
        "{stderr}"
    );
}
