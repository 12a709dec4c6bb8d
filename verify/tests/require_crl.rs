//! `--require-crl` and `--crl-dir`: revocation is never skipped by accident. A CA of the
//! path without a CRL, a stale CRL and a CRL in a CA's name signed by another key each fail;
//! a published `crl/` folder that also holds other issuers' CRLs passes.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli::{json, run, text};
use common::*;
use rust_pki_verify::{Chain, Crl, Error, Position, Root};

/// root.pem, chain.pem and a `crl/` folder with the root's and the delegate's CRLs, an
/// unrelated delegate's CRL and a file that is no CRL.
struct Published {
    files: Files,
    root: String,
    chain: String,
    crl_dir: String,
}

fn published(pki: &Pki) -> Published {
    let files = Files::new();
    let root = files.write("root.pem", pki.root.pem());
    let chain = files.write("chain.pem", [pki.leaf.pem(), pki.delegate.pem()].concat());
    std::fs::create_dir(files.dir_path().join("crl")).unwrap();
    files.write("crl/root.crl", crl(&pki.root, &[]));
    // DER, like a CRL downloaded from a distribution point.
    files.write("crl/releases.crl", crl_der(&pki.delegate, &[0x2002]));
    let bors = Spec::ca("bors Test Delegate", 0x0300)
        .eku(BORS)
        .signed_by(&pki.root);
    files.write("crl/bors.crl", crl(&bors, &[]));
    let stranger = Spec::ca("Stranger CA", 77).self_signed();
    files.write("crl/stranger.crl", crl(&stranger, &[]));
    files.write("crl/index.html", "<html>not a CRL</html>");
    Published {
        root: root.display().to_string(),
        chain: chain.display().to_string(),
        crl_dir: files.name("crl"),
        files,
    }
}

const AT_TEXT: &str = "2026-12-01T00:00:00Z";

#[test]
fn crl_dir_skips_other_issuers_and_require_crl_passes() {
    let pki = pki();
    let p = published(&pki);
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl-dir",
        &p.crl_dir,
        "--require-crl",
        "--at",
        AT_TEXT,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let envelope = json(&out);
    let crls = envelope["result"]["crls"].as_array().unwrap();
    let files: Vec<&str> = crls.iter().map(|c| c["file"].as_str().unwrap()).collect();
    // Only the two CRLs of the path's CAs, in file name order; bors and the stranger skipped.
    assert_eq!(
        files,
        [
            p.files.name("crl/releases.crl"),
            p.files.name("crl/root.crl")
        ]
    );
    let skipped = envelope["skipped"].as_array().unwrap();
    assert!(
        !skipped.iter().any(|c| c["check"] == "revocation"),
        "{skipped:?}"
    );
    validate_against_schema(&[("require-crl ok", envelope.clone())]);
}

#[test]
fn require_crl_names_the_ca_without_a_crl() {
    let pki = pki();
    let p = published(&pki);
    let delegate_crl = p.files.write("releases.crl", crl(&pki.delegate, &[]));
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl",
        &delegate_crl.display().to_string(),
        "--require-crl",
        "--at",
        AT_TEXT,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "INVALID [crl-required]: no CRL of root CN=Rust Test Root CA,O=Rust Project Test"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("at level 1 of the path"), "{stderr}");
    let envelope = json(&out);
    assert_eq!(envelope["error"]["rule"], "crl-required");
    validate_against_schema(&[("require-crl missing", envelope.clone())]);

    // Without --require-crl the same inputs pass, the root level listed as not checked.
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl",
        &delegate_crl.display().to_string(),
        "--at",
        AT_TEXT,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not checked: revocation of CN=Rust Test Delegate"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn require_crl_fails_without_any_crl_for_the_leaf_level() {
    let pki = pki();
    let p = published(&pki);
    let root_crl = p.files.write("only-root.crl", crl(&pki.root, &[]));
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl",
        &root_crl.display().to_string(),
        "--require-crl",
        "--at",
        AT_TEXT,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "[crl-required]: no CRL of intermediate 1 CN=Rust Test Delegate,O=Rust Project Test"
        ) && stderr.contains("(issuer of CN=Rust Test Leaf,O=Rust Project Test at level 0"),
        "{stderr}"
    );
}

#[test]
fn require_crl_fails_for_a_stale_crl_in_the_folder() {
    let pki = pki();
    let p = published(&pki);
    // The folder's CRLs have nextUpdate 2027-01-01.
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl-dir",
        &p.crl_dir,
        "--require-crl",
        "--at",
        "2027-01-02T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "INVALID [crl-expired]: CRL {} of CN=Rust Test Delegate,O=Rust Project Test: expired",
            p.files.name("crl/releases.crl")
        )),
        "{stderr}"
    );
}

#[test]
fn crl_dir_refuses_a_crl_in_a_path_cas_name_signed_by_another_key() {
    let pki = pki();
    let p = published(&pki);
    p.files
        .write("crl/root.crl", crl(&pki.root.impostor(), &[]));
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl-dir",
        &p.crl_dir,
        "--require-crl",
        "--at",
        AT_TEXT,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "INVALID [crl-bad-signature]: CRL {}",
            p.files.name("crl/root.crl")
        )),
        "{stderr}"
    );
}

#[test]
fn crl_given_with_crl_from_an_unknown_issuer_is_still_refused() {
    let pki = pki();
    let p = published(&pki);
    let out = run(&[
        "--root",
        &p.root,
        "--chain",
        &p.chain,
        "--purpose",
        "releases",
        "--crl",
        &p.files.name("crl/bors.crl"),
        "--at",
        AT_TEXT,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("INVALID [crl-unknown-issuer]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn require_crls_in_the_library_covers_a_ca_checked_with_verify_ca() {
    let pki = pki();
    let p = published(&pki);
    let root = Root::from_file(std::path::Path::new(&p.root)).unwrap();
    let delegate = Chain::from_file(&p.files.write("delegate.pem", pki.delegate.pem())).unwrap();
    let folder = Crl::from_dir(std::path::Path::new(&p.crl_dir)).unwrap();
    assert_eq!(folder.len(), 4, "every *.crl of the folder, nothing else");
    let verified = rust_pki_verify::verify_ca(&root, &delegate, &folder, &releases(), AT).unwrap();
    verified.require_crls().unwrap();
    let verified = rust_pki_verify::verify_ca(&root, &delegate, &[], &releases(), AT).unwrap();
    let error = verified.require_crls().unwrap_err();
    assert!(
        matches!(&error, Error::CrlRequired { cert, level: 0, .. }
            if cert.position == Position::Root),
        "{error:?}"
    );
}
