//! Token initialisation and PIN changes (C_InitToken, C_InitPIN, C_SetPIN) against a real
//! SoftHSM2 whose token directory starts empty, cross-checked with OpenSC's `pkcs11-tool`.
//!
//! Same process model as `tests/pkcs11.rs`: SoftHSM2 reads SOFTHSM2_CONF once per process
//! and setting it in-process needs `unsafe`, so each HSM test re-executes this binary for
//! itself alone with SOFTHSM2_CONF set through `Command::env`. Here the conf is written
//! from `softhsm-fixtures/softhsm2.conf.template` with an empty token directory, so the
//! only token that exists is the one the test initialises.

// clippy.toml allows these inside #[test] functions only; the helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_pki_ca::hsm::{self, Token};
use rust_pki_ca::{Error, PinSource};
use secrecy::SecretString;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// Set in the re-executed child: the directory holding its SoftHSM2 conf.
const CHILD_DIR_ENV: &str = "RUST_PKI_TEST_SOFTHSM_EMPTY_DIR";

const SO_PIN: &str = "so-pin-0123456789abcdef";
const USER_PIN: &str = "user-pin-0123456789abcdef";

fn module() -> &'static Path {
    Path::new(MODULE)
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// The child's temporary directory: PIN files for `Token::open` go there.
struct Dir(PathBuf);

impl Dir {
    /// A `file:` PIN source holding `pin`.
    fn pin_source(&self, name: &str, pin: &str) -> PinSource {
        let path = self.0.join(format!("{name}.pin"));
        std::fs::write(&path, format!("{pin}\n")).unwrap();
        PinSource::File(path)
    }

    fn open(&self, label: &str, pin: &str) -> rust_pki_ca::Result<Token> {
        Token::open(module(), label, &self.pin_source("open", pin))
    }
}

/// Run `body` in a child process whose SOFTHSM2_CONF has an empty token directory.
/// `name` must be the calling test's function name.
fn with_empty_softhsm(name: &str, body: impl FnOnce(&Dir)) {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        body(&Dir(dir.into()));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../softhsm-fixtures/softhsm2.conf.template");
    let conf = std::fs::read_to_string(template)
        .unwrap()
        .replace("@TOKENDIR@", tokens.to_str().unwrap());
    assert!(conf.contains("directories.tokendir = /"), "{conf}");
    std::fs::write(dir.path().join("softhsm2.conf"), conf).unwrap();

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

/// `pkcs11-tool --list-token-slots`: a tool nobody here wrote.
fn pkcs11_tool_slots() -> String {
    let output = Command::new("pkcs11-tool")
        .args(["--module", MODULE, "--list-token-slots"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pkcs11-tool: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn init_token_and_user_pin_then_the_pin_opens_the_token() {
    with_empty_softhsm(
        "init_token_and_user_pin_then_the_pin_opens_the_token",
        |dir| {
            // Nothing there yet.
            let err = dir.open("rust-root", USER_PIN).unwrap_err();
            assert!(
                matches!(&err, Error::TokenNotFound { available, .. } if available.is_empty()),
                "{err}"
            );

            hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
            // Initialised, but no user PIN yet: a user login cannot succeed.
            assert!(dir.open("rust-root", USER_PIN).is_err());

            hsm::init_user_pin(module(), "rust-root", &secret(SO_PIN), &secret(USER_PIN)).unwrap();
            let token = dir.open("rust-root", USER_PIN).unwrap();
            assert_eq!(token.label(), "rust-root");
            assert_eq!(token.count_objects_labelled("anything").unwrap(), 0);
            drop(token);

            let err = dir.open("rust-root", "not-the-user-pin").unwrap_err();
            assert!(
                matches!(&err, Error::PinIncorrect { token } if token == "rust-root"),
                "{err}"
            );

            // OpenSC sees one initialised token with that label and a user PIN.
            let slots = pkcs11_tool_slots();
            let token = slots
                .split("token label        : rust-root")
                .nth(1)
                .unwrap_or_else(|| panic!("no token rust-root in:\n{slots}"));
            let token = token.split("Slot ").next().unwrap();
            assert!(token.contains("PIN initialized"), "{slots}");
            assert!(token.contains("token initialized"), "{slots}");
        },
    );
}

#[test]
fn init_token_refuses_a_label_that_exists() {
    with_empty_softhsm("init_token_refuses_a_label_that_exists", |dir| {
        hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
        hsm::init_user_pin(module(), "rust-root", &secret(SO_PIN), &secret(USER_PIN)).unwrap();

        // With the same SO PIN or another: the label alone decides.
        for so_pin in [SO_PIN, "another-so-pin"] {
            let err = hsm::init_token(module(), "rust-root", &secret(so_pin)).unwrap_err();
            assert!(
                matches!(&err, Error::TokenLabelExists { label, module }
                    if label == "rust-root" && module == Path::new(MODULE)),
                "{err}"
            );
            assert!(err.to_string().contains("`rust-root`"), "{err}");
        }
        // The first token was not re-initialised: its user PIN still opens it.
        dir.open("rust-root", USER_PIN).unwrap();
    });
}

#[test]
fn two_tokens_initialised_in_one_process_are_distinct() {
    with_empty_softhsm(
        "two_tokens_initialised_in_one_process_are_distinct",
        |dir| {
            // SoftHSM2 offers a new free slot once the first is used, in the same process.
            hsm::init_token(module(), "root-a", &secret(SO_PIN)).unwrap();
            hsm::init_token(module(), "root-b", &secret("so-pin-of-b")).unwrap();
            hsm::init_user_pin(module(), "root-a", &secret(SO_PIN), &secret("pin-of-a")).unwrap();
            hsm::init_user_pin(
                module(),
                "root-b",
                &secret("so-pin-of-b"),
                &secret("pin-of-b"),
            )
            .unwrap();
            drop(dir.open("root-a", "pin-of-a").unwrap());
            drop(dir.open("root-b", "pin-of-b").unwrap());
            let err = dir.open("root-b", "pin-of-a").unwrap_err();
            assert!(
                matches!(&err, Error::PinIncorrect { token } if token == "root-b"),
                "{err}"
            );
        },
    );
}

#[test]
fn set_user_pin_retires_the_old_pin() {
    with_empty_softhsm("set_user_pin_retires_the_old_pin", |dir| {
        hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
        hsm::init_user_pin(module(), "rust-root", &secret(SO_PIN), &secret(USER_PIN)).unwrap();
        let new_pin = "new-user-pin-fedcba9876543210";

        // A wrong old PIN changes nothing.
        let err = hsm::set_user_pin(
            module(),
            "rust-root",
            &secret("wrong-old-pin"),
            &secret(new_pin),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::PinIncorrect { token } if token == "rust-root"),
            "{err}"
        );
        assert!(!err.to_string().contains("wrong-old-pin"), "{err}");
        drop(dir.open("rust-root", USER_PIN).unwrap());

        hsm::set_user_pin(module(), "rust-root", &secret(USER_PIN), &secret(new_pin)).unwrap();
        let err = dir.open("rust-root", USER_PIN).unwrap_err();
        assert!(
            matches!(&err, Error::PinIncorrect { token } if token == "rust-root"),
            "{err}"
        );
        drop(dir.open("rust-root", new_pin).unwrap());

        // Also while a user session of this process is open (shared login state).
        let open = dir.open("rust-root", new_pin).unwrap();
        hsm::set_user_pin(module(), "rust-root", &secret(new_pin), &secret(USER_PIN)).unwrap();
        drop(open);
        assert!(matches!(
            dir.open("rust-root", new_pin),
            Err(Error::PinIncorrect { .. })
        ));
        drop(dir.open("rust-root", USER_PIN).unwrap());
    });
}

#[test]
fn wrong_so_pin_is_refused_and_not_echoed() {
    with_empty_softhsm("wrong_so_pin_is_refused_and_not_echoed", |dir| {
        hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
        let err = hsm::init_user_pin(
            module(),
            "rust-root",
            &secret("wrong-so-pin-4711"),
            &secret(USER_PIN),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::SoPinIncorrect { token } if token == "rust-root"),
            "{err}"
        );
        let message = err.to_string();
        assert!(message.contains("security officer PIN"), "{message}");
        assert!(
            !message.contains("4711") && !message.contains(USER_PIN),
            "{message}"
        );
        // No user PIN was set.
        assert!(dir.open("rust-root", USER_PIN).is_err());
    });
}

#[test]
fn set_so_pin_retires_the_old_so_pin() {
    with_empty_softhsm("set_so_pin_retires_the_old_so_pin", |dir| {
        hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
        let new_so = "new-so-pin-0000111122223333";
        hsm::set_so_pin(module(), "rust-root", &secret(SO_PIN), &secret(new_so)).unwrap();
        let err = hsm::init_user_pin(module(), "rust-root", &secret(SO_PIN), &secret(USER_PIN))
            .unwrap_err();
        assert!(matches!(err, Error::SoPinIncorrect { .. }), "{err}");
        hsm::init_user_pin(module(), "rust-root", &secret(new_so), &secret(USER_PIN)).unwrap();
        drop(dir.open("rust-root", USER_PIN).unwrap());
    });
}

#[test]
fn pin_operations_on_a_missing_token_name_the_labels_present() {
    with_empty_softhsm(
        "pin_operations_on_a_missing_token_name_the_labels_present",
        |_dir| {
            hsm::init_token(module(), "rust-root", &secret(SO_PIN)).unwrap();
            let err = hsm::set_user_pin(
                module(),
                "rust-rooot",
                &secret(USER_PIN),
                &secret("x-new-pin"),
            )
            .unwrap_err();
            assert!(
                matches!(&err, Error::TokenNotFound { label, available, .. }
                    if label == "rust-rooot" && available == &["rust-root"]),
                "{err}"
            );
        },
    );
}

#[test]
fn init_token_refuses_labels_pkcs11_cannot_hold() {
    // Checked before the module is loaded: no SoftHSM2 needed.
    for (label, reason) in [
        ("", "empty"),
        ("a-label-that-is-longer-than-32-bytes", "at most 32"),
        ("trailing ", "blank"),
        ("tab\there", "control"),
    ] {
        let err =
            hsm::init_token(Path::new("/nonexistent/lib.so"), label, &secret(SO_PIN)).unwrap_err();
        assert!(
            matches!(&err, Error::TokenLabelInvalid { .. }) && err.to_string().contains(reason),
            "{label:?}: {err}"
        );
    }
}
