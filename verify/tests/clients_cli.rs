//! `rust-pki-verify manifest` and `rust-pki-verify lockfile`: exit statuses, stdout and
//! stderr lines, and the JSON envelopes (validated against docs/cli-json.schema.json), on
//! download folders signed and logged in the test.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::cli::{json, run, text};
use common::clients::{CRATES, MANIFEST, RELEASE, crates, release, sha256_hex};
use common::validate_against_schema;
use serde_json::Value;

fn s(path: &Path) -> String {
    path.display().to_string()
}

/// `COMMAND FIRST [extra…] <trust arguments>`.
fn args<'a>(
    command: &'a str,
    first: &'a str,
    extra: &[&'a str],
    trust: &'a [String],
) -> Vec<&'a str> {
    let mut args = vec![command, first];
    args.extend_from_slice(extra);
    args.extend(trust.iter().map(String::as_str));
    args
}

fn has_check(env: &Value, list: &str, check: &str) -> bool {
    env[list]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == check)
}

#[test]
fn manifest_exit_statuses_lines_and_envelopes() {
    let r = release();
    let trust = r.trust_args();
    let manifest = s(&r.path(MANIFEST));
    let dir = s(&r.dir);
    let mut envelopes = Vec::new();

    // The demo's call: the whole release folder, every listed file required.
    let all = ["--require-all", "--downloads", dir.as_str()];
    let out = run(&args("manifest", &manifest, &all, &trust));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("OK: {manifest}: signed by CN=Rust Test Leaf")),
        "{stdout}"
    );
    assert!(
        stdout.contains("existed by 2026-11-30T12:00:00Z"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "OK: {}: SHA-256 as the manifest lists (rustc x86_64-unknown-linux-gnu)",
            s(&r.path(RELEASE[0].0))
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 of 3 download(s) match it, 0 listed file(s) not downloaded"),
        "{stdout}"
    );
    let out = run(&args(
        "manifest",
        &manifest,
        &[&all[..], &["--json"]].concat(),
        &trust,
    ));
    let env = json(&out);
    assert_eq!(
        (env["command"].as_str(), env["ok"].as_bool()),
        (Some("verify manifest"), Some(true))
    );
    assert_eq!(env["result"]["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        env["result"]["manifest"]["proven_time"],
        "2026-11-30T12:00:00Z"
    );
    assert_eq!(env["result"]["chain_validations"], 1);
    assert!(has_check(&env, "checked", "manifest-complete"));
    assert!(has_check(&env, "checked", "proven-time"));
    envelopes.push(("manifest valid", env));

    // One download named, without --require-all: the others are "not downloaded".
    let rustc = s(&r.path(RELEASE[0].0));
    let out = run(&args("manifest", &manifest, &[&rustc], &trust));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("not downloaded: {}", RELEASE[1].0)));

    // A tampered download (the demo's second call): exit 1, the rule and the file named.
    let tampered = r.files.write(RELEASE[0].0, b"rustc tarbalL");
    let tampered = s(&tampered);
    // As the demo calls it: FILE after the trust arguments.
    let mut demo_order = args("manifest", &manifest, &[], &trust);
    demo_order.push(&tampered);
    let out = run(&demo_order);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("INVALID [manifest-digest-mismatch]: {tampered}: ")),
        "{stderr}"
    );
    assert!(stderr.contains(&sha256_hex(RELEASE[0].1)), "{stderr}");
    let out = run(&args("manifest", &manifest, &[&tampered, "--json"], &trust));
    let env = json(&out);
    assert_eq!(
        (env["ok"].as_bool(), env["error"]["exit"].as_u64()),
        (Some(false), Some(1))
    );
    assert_eq!(env["error"]["rule"], "manifest-digest-mismatch");
    assert_eq!(env["result"]["failed"][0]["file"], tampered.as_str());
    envelopes.push(("manifest tampered download", env));

    // A listed file missing with --require-all.
    std::fs::remove_file(r.path(RELEASE[2].0)).unwrap();
    let out = run(&args(
        "manifest",
        &manifest,
        &[&all[..], &["--json"]].concat(),
        &trust,
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "INVALID [manifest-file-missing]: {}: listed in the manifest",
            RELEASE[2].0
        )),
        "{}",
        text(&out.stderr)
    );
    envelopes.push(("manifest missing file", json(&out)));

    // The manifest edited after signing: exit 1, no result.
    let edited = std::fs::read_to_string(r.path(MANIFEST))
        .unwrap()
        .replace("2026-11-30\"", "2026-12-01\"");
    std::fs::write(r.path(MANIFEST), edited).unwrap();
    let out = run(&args("manifest", &manifest, &["--json"], &trust));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!("INVALID [message-digest-mismatch]: {manifest}")),
        "{}",
        text(&out.stderr)
    );
    let env = json(&out);
    assert_eq!(env["result"], Value::Null);
    envelopes.push(("manifest edited", env));

    // Inputs that cannot be used: exit 2.
    let out = run(&args(
        "manifest",
        &manifest,
        &["--downloads", "/nonexistent/dir", "--json"],
        &trust,
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--downloads /nonexistent/dir: not a directory"));
    envelopes.push(("manifest no downloads dir", json(&out)));
    std::fs::remove_file(r.path(&format!("{MANIFEST}.sig"))).unwrap();
    let out = run(&args("manifest", &manifest, &["--json"], &trust));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: cannot read "),
        "{}",
        text(&out.stderr)
    );
    envelopes.push(("manifest no sig", json(&out)));

    validate_against_schema(&envelopes);
}

#[test]
fn manifest_purpose_defaults_to_releases() {
    let c = crates();
    // A crates-io signature (on a crate file) presented as a manifest: refused for releases.
    let krate = s(&c.path("serde-1.0.219.crate"));
    let out = run(&args("manifest", &krate, &[], &c.trust_args()));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [missing-eku]") || stderr.starts_with("INVALID [wrong-eku]"),
        "{stderr}"
    );
    assert!(stderr.contains("releases"), "{stderr}");
}

#[test]
fn lockfile_exit_statuses_lines_and_envelopes() {
    let c = crates();
    let trust = c.trust_args();
    let lock = s(&c.path("Cargo.lock"));
    let dir = s(&c.dir);
    let crates_dir = ["--crates", dir.as_str()];
    let mut envelopes = Vec::new();

    let out = run(&args("lockfile", &lock, &crates_dir, &trust));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "OK: {}: serde 1.0.219 with the checksum of {lock}; signed by CN=Rust Test Leaf",
            s(&c.path("serde-1.0.219.crate"))
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIPPED: app 0.1.0 (path): not a crates.io package"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "2 of 2 crate(s) verified, 2 package(s) skipped (not from crates.io); the chain \
             was validated 1 time(s)"
        ),
        "{stdout}"
    );
    let out = run(&args(
        "lockfile",
        &lock,
        &[&crates_dir[..], &["--json"]].concat(),
        &trust,
    ));
    let env = json(&out);
    assert_eq!(
        (env["command"].as_str(), env["ok"].as_bool()),
        (Some("verify lockfile"), Some(true))
    );
    assert_eq!(env["result"]["verified"], 2);
    assert_eq!(
        env["result"]["crates"][1]["checksum"],
        sha256_hex(CRATES[1].2)
    );
    assert_eq!(
        env["result"]["crates"][1]["signature"]["purpose"],
        "crates-io"
    );
    assert!(has_check(&env, "checked", "crate-checksum"));
    let skipped = env["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|c| c["check"] == "crate-signature"
            && c["subject"] == "tool 0.2.0 (git+https://example.invalid/tool#0123abc)"),
        "{skipped:?}"
    );
    envelopes.push(("lockfile valid", env));

    // A crate with another checksum, a crate missing: exit 1, both named.
    std::fs::write(c.path("serde-1.0.219.crate"), b"serde cratE").unwrap();
    std::fs::remove_file(c.path("rand-0.9.0.crate")).unwrap();
    let out = run(&args(
        "lockfile",
        &lock,
        &[&crates_dir[..], &["--json"]].concat(),
        &trust,
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "INVALID [crate-checksum-mismatch]: {}",
            s(&c.path("serde-1.0.219.crate"))
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "INVALID [crate-missing]: {}",
            s(&c.path("rand-0.9.0.crate"))
        )),
        "{stderr}"
    );
    let env = json(&out);
    assert_eq!(env["error"]["rule"], "crate-checksum-mismatch");
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("(and 1 more failures)")
    );
    assert_eq!(env["result"]["failed"].as_array().unwrap().len(), 2);
    envelopes.push(("lockfile bad crates", env));

    // A version 1 lock file and a missing --crates folder: exit 2.
    std::fs::write(
        c.path("Cargo.lock"),
        "[metadata]\n\"checksum serde 1.0.0 (registry+x)\" = \"ab\"\n",
    )
    .unwrap();
    let out = run(&args(
        "lockfile",
        &lock,
        &[&crates_dir[..], &["--json"]].concat(),
        &trust,
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "error: {lock}: malformed Cargo.lock: lock file version 1"
        )),
        "{}",
        text(&out.stderr)
    );
    envelopes.push(("lockfile v1", json(&out)));
    let out = run(&args(
        "lockfile",
        &lock,
        &["--crates", "/nonexistent", "--json"],
        &trust,
    ));
    assert_eq!(out.status.code(), Some(2));
    envelopes.push(("lockfile no crates dir", json(&out)));

    validate_against_schema(&envelopes);
}

#[test]
fn lockfile_purpose_is_crates_io_unless_given() {
    let c = crates();
    let lock = s(&c.path("Cargo.lock"));
    let dir = s(&c.dir);
    let trust = c.trust_args();
    let out = run(&args(
        "lockfile",
        &lock,
        &["--crates", &dir, "--purpose", "releases"],
        &trust,
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [missing-eku]") || stderr.starts_with("INVALID [wrong-eku]"),
        "{stderr}"
    );
}
