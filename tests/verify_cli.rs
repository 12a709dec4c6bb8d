//! `rust-pki verify`: exit codes, text and --json output. Fixtures come from
//! verify/tests/data/cli (see verify/tests/cli_fixtures.rs): root → releases delegate → leaf
//! (serial 1001), valid on 2026-12-01.
// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests does not reach them.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

const AT: &str = "2026-12-01T00:00:00Z";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("verify/tests/data/cli")
        .join(name)
}

fn rust_pki(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .arg("verify")
        .args(args)
        .output()
        .unwrap()
}

fn base<'a>(root: &'a str, chain: &'a str) -> Vec<&'a str> {
    vec!["--root", root, "--chain", chain, "--at", AT]
}

struct Paths {
    root: String,
    chain: String,
}

fn paths() -> Paths {
    Paths {
        root: fixture("root.pem").display().to_string(),
        chain: fixture("chain.pem").display().to_string(),
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn valid_chain_exits_0_with_summary() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "releases"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.starts_with(
            "OK: chain valid for purpose releases (1.3.6.1.4.1.32473.1.1) at 2026-12-01T00:00:00Z: \
             leaf CN=Rust Test Leaf,O=Rust Project Test (serial 1001) ← "
        ),
        "{out}"
    );
    assert!(out.contains("← root CN=Rust Test Root CA"), "{out}");
}

#[test]
fn valid_chain_json_shape() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "releases", "--json"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["result"]["purpose"]["name"], "releases");
    assert_eq!(json["result"]["purpose"]["eku"], "1.3.6.1.4.1.32473.1.1");
    assert_eq!(json["result"]["at"], AT);
    let path = json["result"]["path"].as_array().unwrap();
    assert_eq!(path.len(), 3);
    assert_eq!(path[0]["position"], 0);
    assert_eq!(path[0]["serial"], "1001");
    assert_eq!(
        path[0]["ekus"],
        serde_json::json!(["1.3.6.1.4.1.32473.1.1"])
    );
    assert_eq!(path[1]["position"], 1);
    assert_eq!(path[2]["role"], "root");
    assert_eq!(json["result"]["crls"], serde_json::json!([]));
}

#[test]
fn wrong_purpose_exits_1_naming_cert_and_rule() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "bors"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("INVALID [wrong-eku]: leaf CN=Rust Test Leaf"),
        "{err}"
    );
    assert!(err.contains("1.3.6.1.4.1.32473.1.3"), "{err}");
}

#[test]
fn failure_json_shape() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "crates-io", "--json"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["ok"], false);
    let error = &json["error"];
    assert_eq!(error["rule"], "wrong-eku");
    assert_eq!(error["cert"]["position"], 0);
    assert_eq!(error["cert"]["serial"], "1001");
    assert_eq!(
        error["cert"]["subject"],
        "CN=Rust Test Leaf,O=Rust Project Test"
    );
    assert_eq!(error["expected"], "1.3.6.1.4.1.32473.1.2");
    assert_eq!(error["found"], serde_json::json!(["1.3.6.1.4.1.32473.1.1"]));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Rust Test Leaf")
    );
}

#[test]
fn custom_eku_is_accepted() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--eku", "1.3.6.1.4.1.32473.1.1"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let mut args = base(&p.root, &p.chain);
    args.extend(["--eku", "1.3.6.1.4.1.55555.7"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("[wrong-eku]"));
}

#[test]
fn revoked_leaf_exits_1() {
    let p = paths();
    let crl = fixture("revoked-leaf.crl.pem").display().to_string();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "releases", "--crl", &crl, "--json"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["error"]["rule"], "revoked");
    assert_eq!(json["error"]["cert"]["position"], 0);
    assert_eq!(json["error"]["reason"], "keyCompromise");
    assert_eq!(json["error"]["crl"], crl);
}

#[test]
fn wrong_root_exits_1() {
    let p = paths();
    let other = fixture("other-root.pem").display().to_string();
    let mut args = base(&other, &p.chain);
    args.extend(["--purpose", "releases"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with("INVALID [unknown-issuer]: intermediate 1 CN=Rust Test Delegate"),
        "{err}"
    );
    assert!(err.contains("CN=Evil Root CA"), "{err}");
}

#[test]
fn expired_at_time_exits_1() {
    let p = paths();
    let output = rust_pki(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--at",
        "2030-01-01T00:00:00Z",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("INVALID [expired]: leaf "));
}

#[test]
fn unreadable_chain_names_the_file() {
    let p = paths();
    let missing = fixture("no-such-chain.pem").display().to_string();
    let mut args = base(&p.root, &missing);
    args.extend(["--purpose", "releases", "--json"]);
    let output = rust_pki(&args);
    // An input error (exit 2, `error:`), not a verdict on the chain.
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: "),
        "{}",
        stderr(&output)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["result"], serde_json::Value::Null);
    assert_eq!(json["error"]["rule"], "read");
    assert_eq!(json["error"]["exit"], 2);
    assert_eq!(json["error"]["file"], missing);
}

#[test]
fn purpose_and_eku_are_exclusive_and_one_is_required() {
    let p = paths();
    let mut both = base(&p.root, &p.chain);
    both.extend(["--purpose", "releases", "--eku", "1.3.6.1.4.1.32473.1.1"]);
    assert_eq!(rust_pki(&both).status.code(), Some(2));

    let neither = base(&p.root, &p.chain);
    assert_eq!(rust_pki(&neither).status.code(), Some(2));
}

#[test]
fn bad_time_and_bad_oid_are_usage_errors() {
    let p = paths();
    let output = rust_pki(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--at",
        "yesterday",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RFC 3339"));

    let output = rust_pki(&["--root", &p.root, "--chain", &p.chain, "--eku", "1.40.3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid OID"));
}

#[test]
fn ca_flag_is_explicit_and_refuses_a_leaf() {
    // The leaf chain checked as a CA: the first certificate is not one.
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "releases", "--ca", "--json"]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("INVALID [leaf-as-ca]: leaf "),
        "{}",
        stderr(&output)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["error"]["rule"], "leaf-as-ca");
}

#[test]
fn purposes_are_built_in_and_policy_overrides_them() {
    let p = paths();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "nightly"]);
    let output = rust_pki(&args);
    // A configuration error (exit 2, `error:`), not a verdict on the chain.
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.starts_with("error: unknown purpose \"nightly\"; known: releases, crates-io, bors"),
        "{err}"
    );

    // A policy whose releases purpose has another OID: the fixture chain no longer fits.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[purposes.releases]\neku = \"1.3.6.1.4.1.32473.1.9\"\n",
    )
    .unwrap();
    let policy = policy.display().to_string();
    let mut args = base(&p.root, &p.chain);
    args.extend(["--purpose", "releases", "--policy", &policy]);
    let output = rust_pki(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("INVALID [wrong-eku]: "),
        "{}",
        stderr(&output)
    );
}
