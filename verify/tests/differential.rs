//! Differential test against OpenSSL: every mutation of the profile tests (common/mutate.rs),
//! each breaking one rule on a valid P-384 chain built at test time, goes through our
//! verifier and `openssl verify -x509_strict -purpose any`. It fails wherever we accept what
//! OpenSSL rejects. Where we are stricter than OpenSSL, the mutation is listed by name in
//! [`STRICTER_THAN_OPENSSL`], and the list is checked both ways so that it stays true.

mod common;

use std::process::Command;

use common::mutate::{self, Pems};
use common::*;

/// Mutations OpenSSL 3 accepts with `-x509_strict -purpose any` and we refuse, with why.
const STRICTER_THAN_OPENSSL: &[(&str, &str)] = &[
    (
        "delegate-no-eku",
        "our purpose rule: the EKU in every certificate below the root",
    ),
    ("root-eku", "no EKU in the root"),
    ("leaf-ca-true", "a CA certificate is never an end entity"),
    ("leaf-eku-critical", "EKU never critical"),
    ("leaf-any-eku", "never anyExtendedKeyUsage"),
    ("leaf-no-key-usage", "keyUsage required in end entities"),
    ("leaf-key-usage-not-critical", "keyUsage always critical"),
    (
        "leaf-no-digital-signature",
        "digitalSignature required in end entities (OpenSSL: -purpose any)",
    ),
    (
        "leaf-validity-beyond-delegate",
        "validity inside the issuer's",
    ),
    (
        "delegate-validity-before-root",
        "validity inside the issuer's",
    ),
    ("leaf-p256-key", "only the policy's algorithms"),
    (
        "leaf-signed-with-p256-sha256",
        "only the policy's algorithms",
    ),
    ("leaf-serial-zero", "serial positive and non-zero"),
    ("delegate-serial-negative", "serial positive and non-zero"),
    ("root-serial-21-octets", "serial at most 20 octets"),
    ("root-aki-issuer-serial", "a root's AKI has no other fields"),
    (
        "delegate-malformed-aia",
        "extensions that are present must parse",
    ),
];

/// Whether `openssl verify -x509_strict -purpose any` accepts the chain at [`AT`].
// A test helper outside #[test]: clippy.toml's allow-unwrap-in-tests does not reach it.
#[allow(clippy::expect_used)]
fn openssl_accepts(files: &Files, pems: &Pems) -> (bool, String) {
    let root = files.write("root.pem", &pems.root);
    let delegate = files.write("untrusted.pem", &pems.delegate);
    let leaf = files.write("leaf.pem", &pems.leaf);
    let output = Command::new("openssl")
        .arg("verify")
        .args(["-x509_strict", "-purpose", "any"])
        .args(["-attime", &AT.unix_timestamp().to_string()])
        .arg("-CAfile")
        .arg(&root)
        .arg("-untrusted")
        .arg(&delegate)
        .arg(&leaf)
        .output()
        .expect("openssl verify runs (scripts/install-deps installs openssl)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

fn ours(files: &Files, pems: &Pems) -> Result<(), rust_pki_verify::Error> {
    verify_pems(
        files,
        &pems.root,
        &[&pems.leaf, &pems.delegate],
        &[],
        &releases(),
        AT,
    )
    .map(drop)
}

#[test]
fn valid_chain_is_accepted_by_both() {
    let files = Files::new();
    let pems = mutate::valid();
    let (accepted, text) = openssl_accepts(&files, &pems);
    assert!(accepted, "openssl: {text}");
    ours(&files, &pems).unwrap();
}

#[test]
fn we_never_accept_what_openssl_rejects() {
    let mut failures = Vec::new();
    let mut stricter = Vec::new();
    for case in mutate::cases() {
        let files = Files::new();
        let pems = (case.build)();
        let (openssl, text) = openssl_accepts(&files, &pems);
        match ours(&files, &pems) {
            Ok(()) if !openssl => failures.push(format!(
                "{}: we accept, openssl rejects: {}",
                case.name,
                text.trim()
            )),
            Ok(()) => failures.push(format!("{}: we accept a broken {}", case.name, case.rule)),
            Err(error) if error.rule() != case.rule => failures.push(format!(
                "{}: expected rule {}, got {error}",
                case.name, case.rule
            )),
            Err(_) if openssl => stricter.push(case.name),
            Err(_) => {}
        }
    }
    let listed: Vec<&str> = STRICTER_THAN_OPENSSL
        .iter()
        .map(|(name, _)| *name)
        .collect();
    for name in &stricter {
        if !listed.contains(name) {
            failures.push(format!(
                "{name}: openssl accepts it and it is not listed in STRICTER_THAN_OPENSSL"
            ));
        }
    }
    for name in &listed {
        if !stricter.contains(name) {
            failures.push(format!(
                "{name}: listed in STRICTER_THAN_OPENSSL but openssl rejects it too"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
