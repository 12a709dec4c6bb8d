//! The PKCS#11 signer against a real SoftHSM2 (no mocks), cross-checked with OpenSC's
//! `pkcs11-tool` and `openssl`.
//!
//! How SOFTHSM2_CONF is set: SoftHSM2 reads it once, at C_Initialize, and `rust_pki_ca`
//! initialises a module once per process. `std::env::set_var` is `unsafe` in edition 2024
//! and the workspace forbids unsafe code, so each HSM test re-executes this test binary
//! for itself alone (`<exe> <name> --exact`) with SOFTHSM2_CONF set on the child through
//! `Command::env`; the child sees `CHILD_DIR_ENV` and runs the test body. Every test gets
//! its own temporary directory and tokens (made by `softhsm-fixtures/new-token`), so tests
//! can run in parallel, under `cargo test` or `cargo nextest`.

// clippy.toml allows these inside #[test] functions only; the fixture helpers below are
// test code too.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use der::{Decode, Encode};
use p384::ecdsa::signature::Verifier;
use rust_pki_ca::hsm::Token;
use rust_pki_ca::signer::{KeyAttributes, Pkcs11Signer};
use rust_pki_ca::{Error, KeyAlgorithm, PinSource, Pkcs11Uri, Signer};
use spki::DecodePublicKey;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// Set in the re-executed child: the directory holding its SoftHSM2 conf and PIN files.
const CHILD_DIR_ENV: &str = "RUST_PKI_TEST_SOFTHSM_DIR";

/// The temporary SoftHSM2 installation a test body runs against.
struct SoftHsm {
    dir: PathBuf,
}

impl SoftHsm {
    fn pin_file(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.pin"))
    }

    fn pin(&self, token: &str) -> String {
        std::fs::read_to_string(self.pin_file(token))
            .unwrap()
            .trim_end()
            .to_owned()
    }

    /// `pkcs11:token=TOKEN;object=OBJECT?module-path=…&pin-source=file:…`
    fn uri(&self, token: &str, object: &str) -> Pkcs11Uri {
        Pkcs11Uri {
            token: token.into(),
            object: object.into(),
            id: None,
            module_path: MODULE.into(),
            pin_source: Some(PinSource::File(self.pin_file(token))),
        }
    }

    /// `pkcs11-tool … --list-objects` on `token`, as the user.
    fn pkcs11_tool_list_objects(&self, token: &str) -> String {
        // The PIN on argv is fine for a throwaway test token only.
        let output = Command::new("pkcs11-tool")
            .args([
                "--module",
                MODULE,
                "--token-label",
                token,
                "--login",
                "--pin",
            ])
            .arg(self.pin(token))
            .arg("--list-objects")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pkcs11-tool: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// Run `body` in a child process whose SOFTHSM2_CONF points at fresh tokens `tokens`.
/// `name` must be the calling test's function name.
fn with_softhsm(name: &str, tokens: &[&str], body: impl FnOnce(&SoftHsm)) {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        body(&SoftHsm { dir: dir.into() });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../softhsm-fixtures/new-token");
    for token in tokens {
        let output = Command::new(&script)
            .arg(dir.path())
            .arg(token)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "new-token: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        assert!(
            stdout.contains(&format!("SOFTHSM2_CONF={}", conf.display())),
            "{stdout}"
        );
        assert!(
            stdout.contains(
                &dir.path()
                    .join(format!("{token}.pin"))
                    .display()
                    .to_string()
            )
        );
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
        .env(CHILD_DIR_ENV, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child test failed:\n{stdout}\n{stderr}"
    );
    // Guard against a misspelt name silently running no test at all.
    assert!(
        stdout.contains("1 passed"),
        "child ran no test named {name}:\n{stdout}"
    );
}

#[test]
fn keygen_makes_a_sensitive_never_extractable_key() {
    with_softhsm(
        "keygen_makes_a_sensitive_never_extractable_key",
        &["rust-root"],
        |hsm| {
            let uri = hsm.uri("rust-root", "root-2026");
            let signer = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap();
            assert_eq!(signer.id().len(), 16);
            let expected = KeyAttributes {
                sensitive: true,
                extractable: false,
                never_extractable: true,
                always_sensitive: true,
                local: true,
                token: true,
                private: true,
            };
            assert_eq!(signer.key_attributes().unwrap(), expected);
            let spki = signer.public_key().clone();
            assert_eq!(KeyAlgorithm::of_spki(&spki), Some(KeyAlgorithm::EcdsaP384));
            drop(signer);

            // Read back from the token through a fresh session.
            let reopened = Pkcs11Signer::open(&uri).unwrap();
            assert_eq!(reopened.key_attributes().unwrap(), expected);
            assert_eq!(reopened.public_key(), &spki);

            // A tool nobody here wrote sees the same key, with the same properties.
            let listing = hsm.pkcs11_tool_list_objects("rust-root");
            let private = listing
                .split("Private Key Object; EC")
                .nth(1)
                .unwrap_or_else(|| panic!("no private EC key in:\n{listing}"));
            let private = private.split("Key Object").next().unwrap();
            assert!(private.contains("label:      root-2026"), "{listing}");
            assert!(
                private.contains(&format!("ID:         {}", hex::encode(reopened.id()))),
                "{listing}"
            );
            assert!(
                private
                    .contains("Access:     sensitive, always sensitive, never extractable, local"),
                "{listing}"
            );
            assert!(listing.contains("EC_PARAMS:  06052b81040022"), "{listing}");
        },
    );
}

#[test]
fn keygen_refuses_a_label_that_exists() {
    with_softhsm(
        "keygen_refuses_a_label_that_exists",
        &["rust-root"],
        |hsm| {
            let uri = hsm.uri("rust-root", "root-2026");
            let first = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap();
            let spki = first.public_key().clone();
            drop(first);
            let count = |label| {
                let token = Token::open(
                    Path::new(MODULE),
                    "rust-root",
                    uri.pin_source.as_ref().unwrap(),
                )
                .unwrap();
                token.count_objects_labelled(label).unwrap()
            };
            assert_eq!(count("root-2026"), 2);

            // Also with an explicit, different id: the label alone decides.
            for id in [None, Some(vec![0xAA; 4])] {
                let err = Pkcs11Signer::generate(
                    &Pkcs11Uri { id, ..uri.clone() },
                    KeyAlgorithm::EcdsaP384,
                )
                .unwrap_err();
                assert!(
                    matches!(&err, Error::KeyLabelExists { token, label, count: 2 }
                    if token == "rust-root" && label == "root-2026"),
                    "{err}"
                );
            }
            assert_eq!(count("root-2026"), 2);
            assert_eq!(Pkcs11Signer::open(&uri).unwrap().public_key(), &spki);
        },
    );
}

#[test]
fn keygen_refuses_an_id_that_exists() {
    with_softhsm("keygen_refuses_an_id_that_exists", &["rust-root"], |hsm| {
        let id = vec![1, 2, 3, 4];
        let uri = Pkcs11Uri {
            id: Some(id.clone()),
            ..hsm.uri("rust-root", "root-2026")
        };
        let signer = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap();
        assert_eq!(signer.id(), id);
        drop(signer);
        let other = Pkcs11Uri {
            object: "root-2027".into(),
            ..uri
        };
        let err = Pkcs11Signer::generate(&other, KeyAlgorithm::EcdsaP384).unwrap_err();
        assert!(
            matches!(&err, Error::KeyIdExists { id, .. } if id == "01020304"),
            "{err}"
        );
    });
}

#[test]
fn signature_verifies_under_the_spki() {
    with_softhsm("signature_verifies_under_the_spki", &["rust-root"], |hsm| {
        let uri = hsm.uri("rust-root", "root-2026");
        let signer = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap();
        assert_eq!(signer.algorithm(), KeyAlgorithm::EcdsaP384);
        let spki_der = signer.public_key().to_der().unwrap();
        let key = p384::ecdsa::VerifyingKey::from_public_key_der(&spki_der).unwrap();

        let message = b"tbsCertificate bytes";
        let der_sig = signer.sign(message).unwrap();
        let signature = p384::ecdsa::DerSignature::from_bytes(&der_sig).unwrap();
        key.verify(message, &signature).unwrap();
        assert!(key.verify(b"other bytes", &signature).is_err());

        // Same through a reopened key, and with OpenSSL.
        drop(signer);
        let signer = Pkcs11Signer::open(&uri).unwrap();
        let der_sig = signer.sign(message).unwrap();
        key.verify(
            message,
            &p384::ecdsa::DerSignature::from_bytes(&der_sig).unwrap(),
        )
        .unwrap();
        std::fs::write(hsm.dir.join("msg"), message).unwrap();
        std::fs::write(hsm.dir.join("sig.der"), &der_sig).unwrap();
        std::fs::write(hsm.dir.join("pub.pem"), signer.public_key_pem().unwrap()).unwrap();
        let output = Command::new("openssl")
            .args([
                "dgst",
                "-sha384",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.der",
                "msg",
            ])
            .current_dir(&hsm.dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "Verified OK"
        );

        let fingerprint = signer.spki_sha256().unwrap();
        assert_eq!(
            fingerprint.as_slice(),
            <sha2::Sha256 as sha2::Digest>::digest(&spki_der).as_slice()
        );
        assert_eq!(
            signer.describe(),
            "pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so"
        );
    });
}

#[test]
fn opens_by_label_and_by_id() {
    with_softhsm("opens_by_label_and_by_id", &["rust-root"], |hsm| {
        let uri = hsm.uri("rust-root", "root-2026");
        let generated = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap();
        let (id, spki) = (generated.id().to_vec(), generated.public_key().clone());
        drop(generated);

        let by_id = Pkcs11Signer::open(&Pkcs11Uri {
            id: Some(id.clone()),
            ..uri.clone()
        })
        .unwrap();
        assert_eq!(by_id.public_key(), &spki);
        assert_eq!(by_id.uri().id, Some(id));
        drop(by_id);

        let err = Pkcs11Signer::open(&Pkcs11Uri {
            id: Some(vec![0xEE]),
            ..uri.clone()
        })
        .unwrap_err();
        assert!(
            matches!(&err, Error::KeyNotFound { token, label, id: Some(id), class: "private key" }
                if token == "rust-root" && label == "root-2026" && id == "ee"),
            "{err}"
        );
        let err = Pkcs11Signer::open(&hsm.uri("rust-root", "no-such-key")).unwrap_err();
        assert!(
            matches!(&err, Error::KeyNotFound { label, .. } if label == "no-such-key"),
            "{err}"
        );
    });
}

#[test]
fn wrong_pin_is_rejected_as_such() {
    with_softhsm("wrong_pin_is_rejected_as_such", &["rust-root"], |hsm| {
        let wrong = hsm.dir.join("wrong.pin");
        std::fs::write(&wrong, "00000000000000000000000000000000\n").unwrap();
        let uri = Pkcs11Uri {
            pin_source: Some(PinSource::File(wrong)),
            ..hsm.uri("rust-root", "root-2026")
        };
        for result in [
            Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384),
            Pkcs11Signer::open(&uri),
        ] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, Error::PinIncorrect { token } if token == "rust-root"),
                "{err}"
            );
            let message = err.to_string();
            assert!(
                message.contains("PIN was rejected") && message.contains("rust-root"),
                "{message}"
            );
            assert!(!message.contains("0000"), "{message}");
        }
    });
}

#[test]
fn unknown_token_label_is_named_with_the_labels_present() {
    with_softhsm(
        "unknown_token_label_is_named_with_the_labels_present",
        &["rust-root"],
        |hsm| {
            let uri = Pkcs11Uri {
                token: "rust-rooot".into(),
                ..hsm.uri("rust-root", "root-2026")
            };
            let err = Pkcs11Signer::open(&uri).unwrap_err();
            assert!(
                matches!(&err, Error::TokenNotFound { label, available, .. }
                if label == "rust-rooot" && available == &["rust-root"]),
                "{err}"
            );
            assert!(err.to_string().contains("`rust-rooot`"), "{err}");
            assert!(err.to_string().contains("`rust-root`"), "{err}");
        },
    );
}

#[test]
fn two_tokens_share_one_conf_and_keep_their_keys_apart() {
    with_softhsm(
        "two_tokens_share_one_conf_and_keep_their_keys_apart",
        &["root-a", "root-b"],
        |hsm| {
            let a =
                Pkcs11Signer::generate(&hsm.uri("root-a", "key"), KeyAlgorithm::EcdsaP384).unwrap();
            let b =
                Pkcs11Signer::generate(&hsm.uri("root-b", "key"), KeyAlgorithm::EcdsaP384).unwrap();
            assert_ne!(a.public_key(), b.public_key());
            assert_ne!(hsm.pin("root-a"), hsm.pin("root-b"));
            // Each PIN opens only its own token.
            let crossed = Pkcs11Uri {
                pin_source: Some(PinSource::File(hsm.pin_file("root-a"))),
                ..hsm.uri("root-b", "key")
            };
            drop((a, b));
            let err = Pkcs11Signer::open(&crossed).unwrap_err();
            assert!(
                matches!(&err, Error::PinIncorrect { token } if token == "root-b"),
                "{err}"
            );
        },
    );
}

#[test]
fn missing_module_is_named() {
    // Fails before any module is initialised: no SoftHSM2 needed.
    let uri = Pkcs11Uri {
        module_path: "/nonexistent/libpkcs11.so".into(),
        ..SoftHsm { dir: "/tmp".into() }.uri("rust-root", "root-2026")
    };
    let err = Pkcs11Signer::open(&uri).unwrap_err();
    assert!(
        matches!(&err, Error::Pkcs11ModuleFile { path, .. } if path == Path::new("/nonexistent/libpkcs11.so")),
        "{err}"
    );
    assert!(
        err.to_string().contains("/nonexistent/libpkcs11.so"),
        "{err}"
    );
}

#[test]
fn non_module_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libfake.so");
    std::fs::write(&fake, b"not a shared object").unwrap();
    let uri = Pkcs11Uri {
        module_path: fake.clone(),
        ..SoftHsm { dir: "/tmp".into() }.uri("rust-root", "root-2026")
    };
    let err = Pkcs11Signer::generate(&uri, KeyAlgorithm::EcdsaP384).unwrap_err();
    assert!(
        matches!(&err, Error::Pkcs11Module { path, .. } if path == &fake),
        "{err}"
    );
    assert!(err.to_string().contains("cannot be loaded"), "{err}");
}

#[test]
fn pin_value_in_uri_is_refused() {
    let err = "pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234"
        .parse::<Pkcs11Uri>()
        .unwrap_err();
    assert!(matches!(err, Error::Pkcs11UriPinValue), "{err}");
    assert!(!err.to_string().contains("1234"), "{err}");
}

#[test]
fn uri_without_pin_source_is_refused_before_touching_the_module() {
    let uri = Pkcs11Uri {
        pin_source: None,
        module_path: "/nonexistent/libpkcs11.so".into(),
        ..SoftHsm { dir: "/tmp".into() }.uri("rust-root", "root-2026")
    };
    let err = Pkcs11Signer::open(&uri).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pkcs11UriMissingAttribute {
                attribute: "pin-source"
            }
        ),
        "{err}"
    );
}

// Keep the SPKI's DER decodable the standard way (what the CLI's PEM output relies on).
#[test]
fn spki_decodes_as_subject_public_key_info() {
    with_softhsm(
        "spki_decodes_as_subject_public_key_info",
        &["rust-root"],
        |hsm| {
            let signer =
                Pkcs11Signer::generate(&hsm.uri("rust-root", "k"), KeyAlgorithm::EcdsaP384)
                    .unwrap();
            let pem = signer.public_key_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
            let der = signer.public_key().to_der().unwrap();
            let parsed = spki::SubjectPublicKeyInfoOwned::from_der(&der).unwrap();
            assert_eq!(&parsed, signer.public_key());
        },
    );
}
