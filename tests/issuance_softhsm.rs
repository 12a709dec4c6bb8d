//! End to end on SoftHSM2: the `rust-pki` binary issues a root, delegates (from HSM keys,
//! HSM-made CSRs and OpenSSL-made CSRs), leaves and CRLs; OpenSSL, pkilint and
//! `rust-pki verify` must all accept them.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Lab, REPO, pkilint, tool};

fn openssl_ok(args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let (ok, text) = tool("openssl", args);
    assert!(
        ok,
        "openssl {:?} failed: {text}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    );
}

fn pkilint_ok(command: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) {
    let (ok, text) = tool(&pkilint(command), args);
    assert!(ok, "{command} found problems: {text}");
}

#[test]
fn issued_certificates_and_crls_pass_openssl_pkilint_and_rust_pki_verify() {
    let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
    let root_key = lab.root();
    let root = lab.path("root.pem");
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();

    // releases: delegate key in the owner's HSM, CSR made by `rust-pki hsm csr`.
    let releases_key = lab.keygen("delegate-owners", "releases");
    lab.ok([
        "hsm",
        "csr",
        "--key",
        &releases_key,
        "--subject",
        "CN=whatever the owner asks",
        "--out",
        &p("releases.csr"),
    ]);
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "releases",
        "--csr",
        &p("releases.csr"),
        "--out",
        &p("releases.pem"),
    ]);
    // crates-io: delegate key named directly by URI.
    let crates_key = lab.keygen("delegate-owners", "crates-io");
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "crates-io",
        "--subject-key",
        &crates_key,
        "--out",
        &p("crates-io.pem"),
    ]);
    // bors: an Ed25519 delegate key with a CSR made by OpenSSL.
    openssl_ok(&[
        &"genpkey",
        &"-algorithm",
        &"ed25519",
        &"-out",
        &p("bors.key"),
    ]);
    openssl_ok(&[
        &"req",
        &"-new",
        &"-key",
        &p("bors.key"),
        &"-subj",
        &"/CN=bors",
        &"-out",
        &p("bors.csr"),
    ]);
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "bors",
        "--csr",
        &p("bors.csr"),
        "--out",
        &p("bors.pem"),
    ]);

    // Leaves: one from an HSM key, one from an OpenSSL P-384 CSR signed with SHA-256.
    let leaf_key = lab.keygen("leaf-owners", "release-1.95");
    lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &p("releases.pem"),
        "--issuer-key",
        &releases_key,
        "--subject",
        "CN=rust 1.95.0,O=The Rust Project",
        "--subject-key",
        &leaf_key,
        "--out",
        &p("releases-leaf.pem"),
    ]);
    openssl_ok(&[
        &"ecparam",
        &"-name",
        &"secp384r1",
        &"-genkey",
        &"-noout",
        &"-out",
        &p("crates-leaf.key"),
    ]);
    openssl_ok(&[
        &"req",
        &"-new",
        &"-key",
        &p("crates-leaf.key"),
        &"-subj",
        &"/CN=index",
        &"-out",
        &p("crates-leaf.csr"),
    ]);
    lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &p("crates-io.pem"),
        "--issuer-key",
        &crates_key,
        "--subject",
        "CN=crates.io index signing",
        "--csr",
        &p("crates-leaf.csr"),
        "--out",
        &p("crates-io-leaf.pem"),
    ]);

    // CRLs: root (empty), releases (revokes a second leaf).
    let revoked_key = lab.keygen("leaf-owners", "revoked");
    lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &p("releases.pem"),
        "--issuer-key",
        &releases_key,
        "--subject",
        "CN=revoked",
        "--subject-key",
        &revoked_key,
        "--out",
        &p("revoked-leaf.pem"),
    ]);
    lab.ok([
        "ca",
        "crl",
        "--issuer-cert",
        &p("root.pem"),
        "--issuer-key",
        &root_key,
        "--out",
        &p("root.crl"),
    ]);
    lab.ok([
        "ca",
        "crl",
        "--issuer-cert",
        &p("releases.pem"),
        "--issuer-key",
        &releases_key,
        "--revoke",
        &p("revoked-leaf.pem"),
        "--reason",
        "key-compromise",
        "--out",
        &p("releases.crl"),
    ]);

    // Certificates: OpenSSL strict chain validation and pkilint, one by one and in pairs.
    pkilint_ok("lint_pkix_cert", &[&"lint", &"-s", &"ERROR", &root]);
    for (delegate, leaf) in [
        ("releases", Some("releases-leaf")),
        ("crates-io", Some("crates-io-leaf")),
        ("bors", None),
    ] {
        let delegate_pem = p(&format!("{delegate}.pem"));
        openssl_ok(&[&"verify", &"-x509_strict", &"-CAfile", &root, &delegate_pem]);
        pkilint_ok("lint_pkix_cert", &[&"lint", &"-s", &"ERROR", &delegate_pem]);
        pkilint_ok(
            "lint_pkix_signer_signee_cert_chain",
            &[&"lint", &root, &delegate_pem],
        );
        if let Some(leaf) = leaf {
            let leaf_pem = p(&format!("{leaf}.pem"));
            openssl_ok(&[
                &"verify",
                &"-x509_strict",
                &"-CAfile",
                &root,
                &"-untrusted",
                &delegate_pem,
                &leaf_pem,
            ]);
            pkilint_ok("lint_pkix_cert", &[&"lint", &"-s", &"ERROR", &leaf_pem]);
            pkilint_ok(
                "lint_pkix_signer_signee_cert_chain",
                &[&"lint", &delegate_pem, &leaf_pem],
            );
            let chain = lab.path(&format!("{leaf}.chain.pem"));
            let text = std::fs::read_to_string(&leaf_pem).unwrap()
                + &std::fs::read_to_string(&delegate_pem).unwrap();
            std::fs::write(&chain, text).unwrap();
            lab.ok([
                "verify",
                "--root",
                &p("root.pem"),
                "--chain",
                chain.to_str().unwrap(),
                "--purpose",
                delegate,
                "--crl",
                &p("root.crl"),
            ]);
            // Our own linter agrees with itself after the fact.
            lab.ok(["lint", "--issuer", &delegate_pem, &leaf_pem]);
        }
    }
    // CRLs: signatures by OpenSSL, profile by pkilint; the revoked leaf is refused by both.
    openssl_ok(&[
        &"crl",
        &"-in",
        &p("root.crl"),
        &"-CAfile",
        &root,
        &"-noout",
        &"-verify",
    ]);
    openssl_ok(&[
        &"crl",
        &"-in",
        &p("releases.crl"),
        &"-CAfile",
        &p("releases.pem"),
        &"-noout",
        &"-verify",
    ]);
    for crl in ["root.crl", "releases.crl"] {
        pkilint_ok(
            "lint_crl",
            &[
                &"lint",
                &"-t",
                &"CRL",
                &"-p",
                &"PKIX",
                &"-s",
                &"ERROR",
                &p(crl),
            ],
        );
    }
    let crls = lab.path("crls.pem");
    std::fs::write(
        &crls,
        std::fs::read_to_string(p("root.crl")).unwrap()
            + &std::fs::read_to_string(p("releases.crl")).unwrap(),
    )
    .unwrap();
    let (ok, text) = tool(
        "openssl",
        &[
            &"verify",
            &"-x509_strict",
            &"-crl_check_all",
            &"-CRLfile",
            &crls,
            &"-CAfile",
            &root,
            &"-untrusted",
            &p("releases.pem"),
            &p("revoked-leaf.pem"),
        ],
    );
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let chain = lab.path("revoked.chain.pem");
    std::fs::write(
        &chain,
        std::fs::read_to_string(p("revoked-leaf.pem")).unwrap()
            + &std::fs::read_to_string(p("releases.pem")).unwrap(),
    )
    .unwrap();
    let err = lab.fails([
        "verify",
        "--root",
        &p("root.pem"),
        "--chain",
        chain.to_str().unwrap(),
        "--purpose",
        "releases",
        "--crl",
        &p("root.crl"),
        "--crl",
        &p("releases.crl"),
    ]);
    assert!(err.contains("revoked"), "{err}");
}

/// An Ed25519 delegate key in the HSM (CKM_EDDSA) issues a leaf and a CRL that OpenSSL,
/// pkilint and `rust-pki verify` accept.
#[test]
fn ed25519_delegate_in_the_hsm_issues_leaves_and_crls() {
    let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
    let root_key = lab.root();
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    let bors_key = lab.uri("delegate-owners", "bors");
    let out = lab.ok([
        "hsm",
        "keygen",
        "--key",
        &bors_key,
        "--algorithm",
        "ed25519",
    ]);
    assert!(out.contains("Ed25519"), "{out}");
    lab.ok([
        "hsm",
        "csr",
        "--key",
        &bors_key,
        "--subject",
        "CN=bors",
        "--out",
        &p("bors.csr"),
    ]);
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "bors",
        "--csr",
        &p("bors.csr"),
        "--out",
        &p("bors.pem"),
    ]);
    let leaf_key = lab.keygen("leaf-owners", "rust-lang-rust");
    lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &p("bors.pem"),
        "--issuer-key",
        &bors_key,
        "--subject",
        "CN=rust-lang/rust",
        "--subject-key",
        &leaf_key,
        "--out",
        &p("leaf.pem"),
    ]);
    lab.ok([
        "ca",
        "crl",
        "--issuer-cert",
        &p("bors.pem"),
        "--issuer-key",
        &bors_key,
        "--out",
        &p("bors.crl"),
    ]);

    let (_, text) = tool(
        "openssl",
        &[&"x509", &"-in", &p("leaf.pem"), &"-noout", &"-text"],
    );
    assert!(text.contains("Signature Algorithm: ED25519"), "{text}");
    openssl_ok(&[
        &"verify",
        &"-x509_strict",
        &"-CAfile",
        &p("root.pem"),
        &"-untrusted",
        &p("bors.pem"),
        &p("leaf.pem"),
    ]);
    openssl_ok(&[
        &"crl",
        &"-in",
        &p("bors.crl"),
        &"-CAfile",
        &p("bors.pem"),
        &"-noout",
        &"-verify",
    ]);
    pkilint_ok(
        "lint_pkix_cert",
        &[&"lint", &"-s", &"ERROR", &p("leaf.pem")],
    );
    pkilint_ok(
        "lint_pkix_signer_signee_cert_chain",
        &[&"lint", &p("bors.pem"), &p("leaf.pem")],
    );
    pkilint_ok(
        "lint_crl",
        &[
            &"lint",
            &"-t",
            &"CRL",
            &"-p",
            &"PKIX",
            &"-s",
            &"ERROR",
            &p("bors.crl"),
        ],
    );
    let chain = lab.path("chain.pem");
    std::fs::write(
        &chain,
        std::fs::read_to_string(p("leaf.pem")).unwrap()
            + &std::fs::read_to_string(p("bors.pem")).unwrap(),
    )
    .unwrap();
    lab.ok([
        "verify",
        "--root",
        &p("root.pem"),
        "--chain",
        chain.to_str().unwrap(),
        "--purpose",
        "bors",
        "--crl",
        &p("bors.crl"),
    ]);
}

#[test]
fn delegate_subject_and_extensions_come_from_policy_not_from_the_csr() {
    let lab = Lab::new(&["rust-root", "delegate-owners"]);
    let root_key = lab.root();
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    let key = lab.keygen("delegate-owners", "bors");
    lab.ok([
        "hsm",
        "csr",
        "--key",
        &key,
        "--subject",
        "CN=Rust Root CA 2026,O=Evil",
        "--out",
        &p("bors.csr"),
    ]);
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "bors",
        "--csr",
        &p("bors.csr"),
        "--out",
        &p("bors.pem"),
    ]);
    let (_, text) = tool(
        "openssl",
        &[
            &"x509",
            &"-in",
            &p("bors.pem"),
            &"-noout",
            &"-subject",
            &"-ext",
            &"basicConstraints,extendedKeyUsage",
        ],
    );
    assert!(text.contains("CN = bors Delegate CA"), "{text}");
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.32473.1.3"), "{text}");
    assert!(!text.contains("Evil"), "{text}");
}

#[test]
fn leaf_issuance_with_log_staples_a_bundle_and_refuses_a_modified_log_before_signing() {
    let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
    let root_key = lab.root();
    let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
    let delegate_key = lab.keygen("delegate-owners", "releases");
    lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "releases",
        "--subject-key",
        &delegate_key,
        "--out",
        &p("releases.pem"),
    ]);
    lab.ok([
        "log",
        "init",
        &p("log"),
        "--origin",
        "pki.example/log",
        "--log-skey-out",
        &p("log.skey"),
    ]);
    // The delegate as a ceremony would have left it: logged, with its bundle.
    common::log_as_ceremony_output(
        &lab.path("releases.pem"),
        &lab.path("log"),
        &lab.path("log.skey"),
    );
    let leaf = |name: &str| {
        let leaf_key = lab.keygen("leaf-owners", name);
        lab.rust_pki([
            "ca",
            "leaf",
            "--issuer-cert",
            &p("releases.pem"),
            "--issuer-key",
            &delegate_key,
            "--subject",
            &format!("CN={name}"),
            "--subject-key",
            &leaf_key,
            "--out",
            &p(&format!("{name}.pem")),
            "--log",
            &p("log"),
            "--log-skey",
            &p("log.skey"),
        ])
    };
    let first = leaf("first");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}");
    assert!(stdout.contains("logged as entry 1"), "{stdout}");
    assert!(
        stdout.contains("first.bundle: stapled log bundle"),
        "{stdout}"
    );
    let verify = |root: &str| {
        lab.rust_pki([
            "verify",
            "--bundle",
            &p("first.bundle"),
            "--root",
            root,
            "--log-vkey",
            &p("log/log.vkey"),
            "--purpose",
            "releases",
            // No witness in this test (warned about).
            "--min-witnesses",
            "0",
        ])
    };
    let verified = verify(&p("root.pem"));
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        String::from_utf8_lossy(&verified.stdout)
            .contains("delegate logged as the ceremony record at entry 0"),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    // Another PKI's root is refused.
    let other_root = format!("{REPO}/verify/tests/data/cli/root.pem");
    assert!(!verify(&other_root).status.success());

    // A modified log: refused before the delegate key signs, so no leaf appears.
    let bundle = lab.path("log/tile/entries/000.p/2");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[3] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let second = leaf("second");
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("tile/entries/000.p/2"), "{err}");
    assert!(!lab.path("second.pem").exists());
    assert!(!lab.path("second.bundle").exists());
}
