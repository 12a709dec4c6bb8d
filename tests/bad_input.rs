//! Bad input to the `rust-pki` binary: each case gets a clear error naming the file,
//! field or rule, and leaves no output behind. Runs against real SoftHSM2 tokens.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Lab, MODULE};

/// A lab with a root and a delegate key, plus a valid CSR for that key.
fn lab() -> (Lab, String, String) {
    let lab = Lab::new(&["rust-root", "delegate-owners"]);
    let root_key = lab.root();
    let delegate_key = lab.keygen("delegate-owners", "releases");
    let csr = lab.path("releases.csr");
    lab.ok([
        "hsm",
        "csr",
        "--key",
        &delegate_key,
        "--subject",
        "CN=releases",
        "--out",
        csr.to_str().unwrap(),
    ]);
    (lab, root_key, delegate_key)
}

/// `ca delegate` with the given CSR path and root key; must fail without writing --out.
fn delegate_fails(lab: &Lab, csr: &str, root_key: &str, policy: Option<&str>) -> String {
    let out = lab.path("releases.pem");
    let root = lab.path("root.pem");
    let mut args = vec![
        "ca",
        "delegate",
        "--root-cert",
        root.to_str().unwrap(),
        "--root-key",
        root_key,
        "--purpose",
        "releases",
        "--csr",
        csr,
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(policy) = policy {
        args.extend(["--policy", policy]);
    }
    let err = lab.fails(&args);
    assert!(!out.exists(), "no output may be written on error");
    err
}

#[test]
fn rejects_malformed_pem_root_certificate() {
    let (lab, root_key, _) = lab();
    let bad = lab.path("garbage.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = lab.path("out.pem");
    let err = lab.fails([
        "ca",
        "delegate",
        "--root-cert",
        bad.to_str().unwrap(),
        "--root-key",
        &root_key,
        "--purpose",
        "releases",
        "--csr",
        lab.path("releases.csr").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("garbage.pem") && err.contains("PEM"), "{err}");
    assert!(!out.exists());
}

#[test]
fn rejects_malformed_der_csr() {
    let (lab, root_key, _) = lab();
    let bad = lab.path("truncated.csr");
    let der = std::fs::read_to_string(lab.path("releases.csr")).unwrap();
    let der = der::pem::decode_vec(der.as_bytes()).unwrap().1;
    std::fs::write(&bad, &der[..der.len() / 2]).unwrap();
    let err = delegate_fails(&lab, bad.to_str().unwrap(), &root_key, None);
    assert!(
        err.contains("truncated.csr") && err.contains("malformed CSR"),
        "{err}"
    );
}

#[test]
fn rejects_csr_with_bad_signature() {
    let (lab, root_key, _) = lab();
    let text = std::fs::read_to_string(lab.path("releases.csr")).unwrap();
    let mut der = der::pem::decode_vec(text.as_bytes()).unwrap().1;
    let last = der.len() - 3;
    der[last] ^= 0x40;
    let bad = lab.path("tampered.csr");
    std::fs::write(&bad, &der).unwrap();
    let err = delegate_fails(&lab, bad.to_str().unwrap(), &root_key, None);
    assert!(
        err.contains("tampered.csr") && err.contains("signature"),
        "{err}"
    );
}

#[test]
fn rejects_unknown_policy_field() {
    let (lab, root_key, _) = lab();
    let policy = lab.path("policy.toml");
    let text = std::fs::read_to_string(format!("{}/policy/rust-root.toml", common::REPO)).unwrap();
    std::fs::write(
        &policy,
        text.replace("[leaf]\n", "[leaf]\nmax_pathlen = 3\n"),
    )
    .unwrap();
    let err = delegate_fails(
        &lab,
        lab.path("releases.csr").to_str().unwrap(),
        &root_key,
        Some(policy.to_str().unwrap()),
    );
    assert!(
        err.contains("policy.toml") && err.contains("unknown field `max_pathlen`"),
        "{err}"
    );
}

#[test]
fn rejects_wrong_pin_without_printing_it() {
    let (lab, _, _) = lab();
    let pin = lab.path("wrong.pin");
    std::fs::write(&pin, "0000-not-the-pin\n").unwrap();
    let key = format!(
        "pkcs11:token=rust-root;object=root?module-path={MODULE}&pin-source=file:{}",
        pin.display()
    );
    let err = delegate_fails(&lab, lab.path("releases.csr").to_str().unwrap(), &key, None);
    assert!(err.contains("PIN") && err.contains("rust-root"), "{err}");
    assert!(
        !err.contains("0000-not-the-pin"),
        "the PIN must not be echoed: {err}"
    );
}

#[test]
fn rejects_missing_module() {
    let (lab, root_key, _) = lab();
    let key = root_key.replace(MODULE, "/usr/lib/nowhere/libmissing.so");
    let err = delegate_fails(&lab, lab.path("releases.csr").to_str().unwrap(), &key, None);
    assert!(err.contains("/usr/lib/nowhere/libmissing.so"), "{err}");
}

#[test]
fn rejects_unknown_token_label() {
    let (lab, root_key, _) = lab();
    let key = root_key.replace("token=rust-root", "token=no-such-token");
    let err = delegate_fails(&lab, lab.path("releases.csr").to_str().unwrap(), &key, None);
    assert!(
        err.contains("no-such-token") && err.contains("rust-root"),
        "should name the missing and the present tokens: {err}"
    );
}

#[test]
fn rejects_pin_value_in_uri_without_echoing_it() {
    let (lab, root_key, _) = lab();
    let key = root_key.replace("pin-source=file:", "pin-value=123456&pin-source=file:");
    let err = delegate_fails(&lab, lab.path("releases.csr").to_str().unwrap(), &key, None);
    assert!(err.contains("pin-value"), "{err}");
    assert!(!err.contains("123456"), "{err}");
}

#[test]
fn refuses_to_overwrite_an_existing_output() {
    let (lab, root_key, _) = lab();
    let out = lab.path("releases.pem");
    std::fs::write(&out, "precious").unwrap();
    let err = lab.fails([
        "ca",
        "delegate",
        "--root-cert",
        lab.path("root.pem").to_str().unwrap(),
        "--root-key",
        &root_key,
        "--purpose",
        "releases",
        "--csr",
        lab.path("releases.csr").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("releases.pem") && err.contains("already exists"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    // Same for the root.
    let err = lab.fails([
        "ca",
        "root",
        "--key",
        &root_key,
        "--out",
        lab.path("root.pem").to_str().unwrap(),
    ]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn refuses_a_second_key_with_the_same_label() {
    let (lab, _, _) = lab();
    let err = lab.fails([
        "hsm",
        "keygen",
        "--key",
        &lab.uri("delegate-owners", "releases"),
    ]);
    assert!(
        err.contains("releases") && err.contains("exist already"),
        "{err}"
    );
}

#[test]
fn rejects_unknown_purpose() {
    let (lab, root_key, _) = lab();
    let out = lab.path("x.pem");
    let err = lab.fails([
        "ca",
        "delegate",
        "--root-cert",
        lab.path("root.pem").to_str().unwrap(),
        "--root-key",
        &root_key,
        "--purpose",
        "docs",
        "--csr",
        lab.path("releases.csr").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("unknown purpose `docs`") && err.contains("crates-io"),
        "{err}"
    );
}

#[test]
fn rejects_key_that_does_not_match_the_issuer_certificate() {
    let (lab, _, delegate_key) = lab();
    let err = delegate_fails(
        &lab,
        lab.path("releases.csr").to_str().unwrap(),
        &delegate_key,
        None,
    );
    assert!(err.contains("is not the key of certificate"), "{err}");
}

#[test]
fn refuses_to_revoke_a_certificate_of_another_issuer_even_with_the_same_name() {
    let (lab, root_key, delegate_key) = lab();
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    // A second root with the same subject (the policy's) but another key.
    let other_root_key = lab.keygen("rust-root", "other-root");
    lab.ok([
        "ca",
        "root",
        "--key",
        &other_root_key,
        "--out",
        &p("other-root.pem"),
    ]);
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("other-root.pem"),
        "--root-key",
        &other_root_key,
        "--purpose",
        "releases",
        "--subject-key",
        &delegate_key,
        "--out",
        &p("other-releases.pem"),
    ]);
    let out = lab.path("root.crl");
    let err = lab.fails([
        "ca",
        "crl",
        "--issuer-cert",
        &p("root.pem"),
        "--issuer-key",
        &root_key,
        "--revoke",
        &p("other-releases.pem"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("other-releases.pem") && err.contains("authorityKeyIdentifier"),
        "{err}"
    );
    assert!(!out.exists());
    // And a certificate from a different issuer name altogether.
    let err = lab.fails([
        "ca",
        "crl",
        "--issuer-cert",
        &p("other-releases.pem"),
        "--issuer-key",
        &delegate_key,
        "--revoke",
        &p("root.pem"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("not by the CRL issuer"), "{err}");
    assert!(!out.exists());
}
