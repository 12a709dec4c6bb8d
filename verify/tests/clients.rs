//! The client library calls (`rust_pki_verify::clients`): a signed channel manifest and the
//! downloads it lists, rustup-style; a `Cargo.lock` and the signed crates it pins,
//! cargo-style. Real signatures (OpenSSL and field by field) and log bundles with a witness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::clients::{
    CRATES, Fixture, MANIFEST, RELEASE, SIGNED_AT, crates, lock_text, release, sha256_hex,
    signed_crates, signed_release,
};
use common::{CRATES_IO, RELEASES};
use rust_pki_verify::Error;
use rust_pki_verify::clients::{FileFailure, verify_lockfile, verify_manifest};

fn assert_rule(error: &Error, rule: &str, text: &str) {
    assert_eq!(error.rule(), rule, "{error}");
    assert!(error.to_string().contains(text), "{text}: {error}");
}

fn only_failure(failed: &[FileFailure]) -> &FileFailure {
    assert_eq!(failed.len(), 1, "{failed:?}");
    &failed[0]
}

#[test]
fn manifest_and_its_downloads_verify() {
    let r = release();
    let v = r.verifier("releases");
    let report =
        verify_manifest(&v, &r.path(MANIFEST), std::slice::from_ref(&r.dir), true).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!((report.listed, report.files.len()), (3, 3));
    assert_eq!(report.date, "2026-11-30");
    assert!(report.missing.is_empty());
    assert_eq!(report.manifest.name, MANIFEST);
    assert_eq!(report.manifest.proven_time, Some(SIGNED_AT));
    let rustc = report
        .files
        .iter()
        .find(|f| f.file.ends_with(RELEASE[0].0))
        .unwrap();
    assert_eq!(
        (rustc.package.as_str(), rustc.target.as_str()),
        ("rustc", "x86_64-unknown-linux-gnu")
    );
    assert_eq!(rustc.sha256, sha256_hex(RELEASE[0].1));
    // Not listed, not checked: the signatures and the manifest itself.
    assert_eq!(report.ignored.len(), 5, "{:?}", report.ignored);
    assert!(report.ignored.iter().any(|f| f.ends_with(MANIFEST)));
    assert!(report.ignored.iter().all(|f| !f.ends_with(".tar.xz")));
    assert_eq!(v.chain_validations(), 1);
}

#[test]
fn openssl_signed_manifest_verifies() {
    let r = signed_release(Fixture::openssl("release", RELEASES));
    let v = r.verifier("releases");
    let report =
        verify_manifest(&v, &r.path(MANIFEST), std::slice::from_ref(&r.dir), true).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.files.len(), 3);
    assert_eq!(report.manifest.key, "P-384");
}

#[test]
fn a_download_with_another_digest_is_named() {
    let r = release();
    let tampered = r.files.dir_path().join(RELEASE[0].0);
    std::fs::write(&tampered, b"rustc tarbalL").unwrap();
    let v = r.verifier("releases");
    let downloads = [tampered.clone(), r.path(RELEASE[1].0)];
    let report = verify_manifest(&v, &r.path(MANIFEST), &downloads, false).unwrap();
    let failure = only_failure(&report.failed);
    assert_eq!(failure.file, tampered.display().to_string());
    assert_rule(
        &failure.error,
        "manifest-digest-mismatch",
        &sha256_hex(RELEASE[0].1),
    );
    assert_eq!(failure.rule, "manifest-digest-mismatch");
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.missing, [RELEASE[2].0]);
}

#[test]
fn a_file_the_manifest_does_not_list_is_refused_when_named() {
    let r = release();
    let other = r.files.write("clippy-1.95.0.tar.xz", b"clippy");
    let v = r.verifier("releases");
    let report = verify_manifest(&v, &r.path(MANIFEST), &[other], false).unwrap();
    assert_rule(
        &only_failure(&report.failed).error,
        "not-in-manifest",
        "clippy-1.95.0.tar.xz",
    );
}

#[test]
fn require_all_names_every_file_not_downloaded() {
    let r = release();
    let v = r.verifier("releases");
    let one = [r.path(RELEASE[0].0)];
    let report = verify_manifest(&v, &r.path(MANIFEST), &one, false).unwrap();
    assert!(report.failed.is_empty());
    assert_eq!(report.missing.len(), 2);

    std::fs::remove_file(r.path(RELEASE[2].0)).unwrap();
    let report =
        verify_manifest(&v, &r.path(MANIFEST), std::slice::from_ref(&r.dir), true).unwrap();
    let failure = only_failure(&report.failed);
    assert_eq!(failure.file, RELEASE[2].0);
    assert_rule(&failure.error, "manifest-file-missing", "not downloaded");
}

#[test]
fn a_manifest_edited_after_signing_is_refused() {
    let r = release();
    let manifest = r.path(MANIFEST);
    let text = std::fs::read_to_string(&manifest).unwrap();
    // Point rustc's entry at the cargo tarball's digest: the manifest is no longer signed.
    let edited = text.replacen(&sha256_hex(RELEASE[0].1), &sha256_hex(RELEASE[1].1), 1);
    assert_ne!(edited, text);
    std::fs::write(&manifest, edited).unwrap();
    let e = verify_manifest(
        &r.verifier("releases"),
        &manifest,
        std::slice::from_ref(&r.dir),
        false,
    )
    .unwrap_err();
    assert_rule(&e, "message-digest-mismatch", MANIFEST);
}

#[test]
fn a_manifest_signed_for_crates_io_is_not_a_releases_manifest() {
    let r = signed_release(Fixture::new("release", CRATES_IO));
    let e = verify_manifest(&r.verifier("releases"), &r.path(MANIFEST), &[], false).unwrap_err();
    assert!(matches!(e.rule(), "missing-eku" | "wrong-eku"), "{e}");
    assert!(e.to_string().contains("releases"), "{e}");
}

#[test]
fn a_manifest_without_its_signature_is_an_input_error() {
    let r = release();
    std::fs::remove_file(r.path(&format!("{MANIFEST}.sig"))).unwrap();
    let e = verify_manifest(&r.verifier("releases"), &r.path(MANIFEST), &[], false).unwrap_err();
    assert_rule(&e, "read", &format!("{MANIFEST}.sig"));
}

#[test]
fn lockfile_crates_verify_with_one_chain_validation() {
    let c = crates();
    let v = c.verifier("crates-io");
    let report = verify_lockfile(&v, &c.path("Cargo.lock"), &c.dir).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!((report.total, report.crates.len()), (2, 2));
    let serde = &report.crates[0];
    assert_eq!(
        (serde.name.as_str(), serde.version.as_str()),
        ("serde", "1.0.219")
    );
    assert_eq!(serde.checksum, sha256_hex(CRATES[0].2));
    assert_eq!(serde.signature.name, "serde-1.0.219.crate");
    assert_eq!(serde.signature.purpose, "crates-io");
    assert_eq!(serde.signature.proven_time, Some(SIGNED_AT));
    // Path and git packages are not crates.io's to sign.
    assert_eq!(
        report.skipped,
        [
            "app 0.1.0 (path)",
            "tool 0.2.0 (git+https://example.invalid/tool#0123abc)"
        ]
    );
    assert_eq!(v.chain_validations(), 1);
}

#[test]
fn openssl_signed_crates_verify() {
    let c = signed_crates(Fixture::openssl("crates", CRATES_IO));
    let report = verify_lockfile(&c.verifier("crates-io"), &c.path("Cargo.lock"), &c.dir).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.crates.len(), 2);
}

#[test]
fn a_crate_with_another_checksum_and_a_missing_crate_are_named() {
    let c = crates();
    std::fs::write(c.path("serde-1.0.219.crate"), b"serde cratE").unwrap();
    std::fs::remove_file(c.path("rand-0.9.0.crate")).unwrap();
    let report = verify_lockfile(&c.verifier("crates-io"), &c.path("Cargo.lock"), &c.dir).unwrap();
    assert!(report.crates.is_empty());
    assert_eq!(report.failed.len(), 2);
    assert_rule(
        &report.failed[0].error,
        "crate-checksum-mismatch",
        &sha256_hex(CRATES[0].2),
    );
    assert!(report.failed[0].file.ends_with("serde-1.0.219.crate"));
    assert_rule(&report.failed[1].error, "crate-missing", "rand 0.9.0");
}

/// A crate published under another name with the bytes and signature of a signed crate:
/// the CMS verifies, but the log entry names the other file.
#[test]
fn a_signature_logged_for_another_crate_is_refused() {
    let c = crates();
    let (name, _, content) = CRATES[0];
    let evil = [("evil", "1.0.0", content)];
    std::fs::write(c.path("Cargo.lock"), lock_text(&evil)).unwrap();
    std::fs::copy(c.path("serde-1.0.219.crate"), c.path("evil-1.0.0.crate")).unwrap();
    std::fs::copy(
        c.path("serde-1.0.219.crate.sig"),
        c.path("evil-1.0.0.crate.sig"),
    )
    .unwrap();
    let report = verify_lockfile(&c.verifier("crates-io"), &c.path("Cargo.lock"), &c.dir).unwrap();
    let failure = only_failure(&report.failed);
    assert_rule(&failure.error, "log-entry-mismatch", name);
    assert!(matches!(
        failure.error,
        Error::LogEntryMismatch { field: "name", .. }
    ));
}

/// Without log trust, a `.sig` swapped from another crate fails the CMS digest check.
#[test]
fn a_swapped_signature_fails_the_digest_without_log_trust() {
    let c = crates();
    std::fs::copy(
        c.path("rand-0.9.0.crate.sig"),
        c.path("serde-1.0.219.crate.sig"),
    )
    .unwrap();
    let root = rust_pki_verify::Root::from_file(&c.root_pem).unwrap();
    let v = rust_pki_verify::artifact::ArtifactVerifier::new(
        root,
        rust_pki_verify::Purpose::built_in("crates-io").unwrap(),
    )
    .at(c.at);
    let report = verify_lockfile(&v, &c.path("Cargo.lock"), &c.dir).unwrap();
    let failure = only_failure(&report.failed);
    assert_rule(
        &failure.error,
        "message-digest-mismatch",
        "serde-1.0.219.crate",
    );
    assert_eq!(report.crates.len(), 1);
}

#[test]
fn crates_signed_for_releases_are_refused_for_crates_io() {
    let c = signed_crates(Fixture::new("crates", RELEASES));
    let report = verify_lockfile(&c.verifier("crates-io"), &c.path("Cargo.lock"), &c.dir).unwrap();
    assert_eq!(report.failed.len(), 2);
    assert!(
        report
            .failed
            .iter()
            .all(|f| matches!(f.rule, "missing-eku" | "wrong-eku")),
        "{:?}",
        report.failed
    );
}

#[test]
fn a_version_1_lock_file_is_refused() {
    let c = crates();
    let v1 = "[[package]]\nname = \"serde\"\nversion = \"1.0.219\"\n\
              source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
              [metadata]\n\"checksum serde 1.0.219 (registry+https://github.com/rust-lang/\
              crates.io-index)\" = \"00\"\n";
    std::fs::write(c.path("Cargo.lock"), v1).unwrap();
    let e = verify_lockfile(&c.verifier("crates-io"), &c.path("Cargo.lock"), &c.dir).unwrap_err();
    assert_rule(&e, "malformed-lockfile", "version 1");
    let missing = PathBuf::from("/nonexistent/Cargo.lock");
    let e = verify_lockfile(&c.verifier("crates-io"), &missing, &c.dir).unwrap_err();
    assert_rule(&e, "read", "/nonexistent/Cargo.lock");
}
