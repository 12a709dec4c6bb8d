//! The certificate profile: one test per rule, each on a chain built at test time with one
//! certificate mutated (common/mutate.rs), asserting the rule name and the certificate the
//! error names.

mod common;

use std::path::Path;

use common::mutate::{self, DELEGATE_SUBJECT, ROOT_SUBJECT};
use common::*;
use rcgen::KeyUsagePurpose;
use rust_pki_verify::{Chain, Position, Purpose, Root, verify_ca};
use time::macros::datetime;

/// Verifies the mutation `name` as a leaf chain and checks the rule and certificate named.
// A test helper outside #[test]: clippy.toml's allow-unwrap-in-tests does not reach it.
#[allow(clippy::unwrap_used, clippy::panic)]
fn check(name: &str) {
    let case = mutate::cases()
        .into_iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no mutation {name}"));
    let pems = (case.build)();
    let error = verify_pems(
        &Files::new(),
        &pems.root,
        &[&pems.leaf, &pems.delegate],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert_eq!(error.rule(), case.rule, "{name}: {error}");
    let cert = error
        .cert()
        .unwrap_or_else(|| panic!("{name}: no certificate named: {error}"));
    assert_eq!(cert.position, case.position, "{name}: {error}");
    assert_eq!(cert.subject, case.subject(), "{name}: {error}");
}

macro_rules! rule_tests {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($case);
            }
        )*
        const TESTED: &[&str] = &[$($case),*];
    };
}

rule_tests! {
    not_v3_leaf => "leaf-version-2",
    bad_serial_zero_leaf => "leaf-serial-zero",
    bad_serial_negative_delegate => "delegate-serial-negative",
    bad_serial_21_octets_root => "root-serial-21-octets",
    empty_subject_delegate => "delegate-empty-subject",
    missing_basic_constraints_root => "root-no-basic-constraints",
    basic_constraints_not_critical_root => "root-basic-constraints-not-critical",
    basic_constraints_not_critical_delegate => "delegate-basic-constraints-not-critical",
    not_a_ca_root => "root-not-ca",
    ca_without_key_cert_sign_root => "root-ca-without-key-cert-sign",
    key_cert_sign_in_end_entity => "leaf-key-cert-sign",
    ca_as_leaf => "leaf-ca-true",
    missing_key_usage_leaf => "leaf-no-key-usage",
    key_usage_not_critical_leaf => "leaf-key-usage-not-critical",
    missing_digital_signature_leaf => "leaf-no-digital-signature",
    missing_subject_key_identifier_root => "root-no-ski",
    missing_subject_key_identifier_delegate => "delegate-no-ski",
    subject_key_identifier_critical_root => "root-ski-critical",
    missing_authority_key_identifier_leaf => "leaf-no-aki",
    authority_key_identifier_critical_delegate => "delegate-aki-critical",
    authority_key_identifier_critical_root => "root-aki-critical",
    authority_key_identifier_mismatch_leaf => "leaf-aki-mismatch",
    root_authority_key_identifier_not_ski => "root-aki-not-ski",
    root_authority_key_identifier_issuer_serial => "root-aki-issuer-serial",
    eku_in_root => "root-eku",
    eku_critical_leaf => "leaf-eku-critical",
    any_extended_key_usage_leaf => "leaf-any-eku",
    unknown_critical_extension_root => "root-unknown-critical-extension",
    unknown_critical_extension_leaf => "leaf-unknown-critical-extension",
    malformed_extension_aia_delegate => "delegate-malformed-aia",
    malformed_extension_crl_distribution_points_leaf => "leaf-malformed-crl-distribution-points",
    malformed_extension_duplicate_leaf => "leaf-duplicate-extension",
    validity_outside_issuer_leaf => "leaf-validity-beyond-delegate",
    validity_outside_issuer_delegate => "delegate-validity-before-root",
    disallowed_key_algorithm_leaf => "leaf-p256-key",
    disallowed_signature_algorithm_leaf => "leaf-signed-with-p256-sha256",
    missing_eku_delegate => "delegate-no-eku",
}

#[test]
fn every_mutation_has_its_test() {
    let names: Vec<_> = mutate::cases().iter().map(|case| case.name).collect();
    assert_eq!(names, TESTED);
}

#[test]
fn unmutated_chain_passes_every_rule() {
    let pems = mutate::valid();
    let verified = verify_pems(
        &Files::new(),
        &pems.root,
        &[&pems.leaf, &pems.delegate],
        &[],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.path.len(), 3);
}

/// `verify_ca` applies the same profile, the pinned root included.
#[test]
fn verify_ca_checks_the_root_profile() {
    for (name, rule) in [
        ("root-ski-critical", "subject-key-identifier-critical"),
        ("root-eku", "eku-in-root"),
        ("root-aki-not-ski", "root-authority-key-identifier"),
    ] {
        let case = mutate::cases()
            .into_iter()
            .find(|case| case.name == name)
            .unwrap();
        let pems = (case.build)();
        let root = Root::from_bytes("root.pem", pems.root.as_bytes()).unwrap();
        let chain = Chain::from_bytes("delegate.pem", pems.delegate.as_bytes()).unwrap();
        let error = verify_ca(&root, &chain, &[], &releases(), AT).unwrap_err();
        assert_eq!(error.rule(), rule, "{name}: {error}");
        let cert = error.cert().unwrap();
        assert_eq!(
            (cert.position, cert.subject.as_str()),
            (Position::Root, ROOT_SUBJECT)
        );
    }
}

#[test]
fn verify_ca_checks_the_delegate_profile() {
    let case = mutate::cases()
        .into_iter()
        .find(|case| case.name == "delegate-no-ski")
        .unwrap();
    let pems = (case.build)();
    let root = Root::from_bytes("root.pem", pems.root.as_bytes()).unwrap();
    let chain = Chain::from_bytes("delegate.pem", pems.delegate.as_bytes()).unwrap();
    let error = verify_ca(&root, &chain, &[], &releases(), AT).unwrap_err();
    assert_eq!(error.rule(), "missing-subject-key-identifier");
    let cert = error.cert().unwrap();
    assert_eq!(
        (cert.position, cert.subject.as_str()),
        (Position::Ca, DELEGATE_SUBJECT)
    );
}

/// A certificate with cA=TRUE but without keyCertSign (an end entity marked as a CA) is an
/// error in both modes: as a leaf (a CA is never a leaf) and as a CA.
#[test]
fn end_entity_with_ca_true_fails_in_both_modes() {
    let root = root();
    let delegate = delegate(&root, Some(RELEASES));
    let fake = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .basic_constraints(rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained))
        .with(|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature])
        .signed_by(&delegate);
    let files = Files::new();
    let error = verify_pems(
        &files,
        &root.pem(),
        &[&fake.pem(), &delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert_eq!(error.rule(), "ca-as-leaf");
    assert_eq!(error.cert().unwrap().position, Position::Leaf);

    let root = Root::from_bytes("root.pem", root.pem().as_bytes()).unwrap();
    let chain =
        Chain::from_bytes("c.pem", [fake.pem(), delegate.pem()].concat().as_bytes()).unwrap();
    let error = verify_ca(&root, &chain, &[], &releases(), AT).unwrap_err();
    assert_eq!(error.rule(), "ca-without-key-cert-sign");
    assert_eq!(error.cert().unwrap().position, Position::Ca);
}

#[test]
fn built_in_purposes_are_the_policy_files() {
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/rust-root.toml");
    let mut from_policy = Purpose::all_from_policy(&policy).unwrap();
    let mut built_in = Purpose::built_ins();
    from_policy.sort_by(|a, b| a.name.cmp(&b.name));
    built_in.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(built_in, from_policy);
    assert_eq!(built_in.len(), 3);
    assert_eq!(
        Purpose::built_in("crates-io").unwrap().eku.to_string(),
        "1.3.6.1.4.1.32473.1.2"
    );
    assert_eq!(
        Purpose::from_policy(&policy, "bors").unwrap(),
        Purpose::built_in("bors").unwrap()
    );
}

#[test]
fn unknown_purpose_lists_the_known_ones() {
    let error = Purpose::built_in("nightly").unwrap_err();
    assert_eq!(error.rule(), "unknown-purpose");
    let message = error.to_string();
    assert!(
        message.contains("\"nightly\"") && message.contains("releases, crates-io, bors"),
        "{message}"
    );
}

#[test]
fn policy_with_bad_eku_is_an_error_naming_the_file() {
    let files = Files::new();
    let path = files.write(
        "policy.toml",
        "version = 1\n[purposes.releases]\neku = \"1.40.1\"\n",
    );
    let error = Purpose::from_policy(&path, "releases").unwrap_err();
    assert_eq!(error.rule(), "malformed-policy");
    assert_eq!(error.file(), Some(path.display().to_string().as_str()));
    assert!(
        error.to_string().contains("purposes.releases.eku"),
        "{error}"
    );
}

/// Root rotation: a client pinned to the old root reaches a delegate of the new root through
/// the cross-certificate, which ends with the old root while the delegate runs longer. The
/// nesting rule does not apply under a cross-certificate; it still does under the root.
#[test]
fn cross_certificate_path_is_exempt_from_nesting_only_under_the_cross_certificate() {
    let old_root = Spec::ca("Old Root", 1)
        .valid(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2031-01-01 00:00 UTC),
        )
        .self_signed();
    let new_root = Spec::ca("New Root", 2).self_signed();
    let mut cross_params = new_root.params.clone();
    cross_params.not_after = old_root.params.not_after;
    cross_params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::Other(RELEASES.to_vec()));
    let cross = cross_params
        .signed_by(&new_root.key, &old_root.issuer())
        .unwrap();
    let delegate = Spec::ca("Rust Test Delegate", 0x0100)
        .path_len(0)
        .eku(RELEASES)
        .valid(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2033-01-01 00:00 UTC),
        )
        .signed_by(&new_root);
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let verified = verify_pems(
        &Files::new(),
        &old_root.pem(),
        &[&leaf.pem(), &delegate.pem(), &cross.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap();
    assert_eq!(verified.path.len(), 4);

    // The same delegate directly under the old root breaks the rule.
    let delegate = Spec::ca("Rust Test Delegate", 0x0100)
        .path_len(0)
        .eku(RELEASES)
        .valid(
            datetime!(2026-01-01 00:00 UTC),
            datetime!(2033-01-01 00:00 UTC),
        )
        .signed_by(&old_root);
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let error = verify_pems(
        &Files::new(),
        &old_root.pem(),
        &[&leaf.pem(), &delegate.pem()],
        &[],
        &releases(),
        AT,
    )
    .unwrap_err();
    assert_eq!(error.rule(), "validity-outside-issuer");
    assert_eq!(
        error.cert().unwrap().position,
        Position::Intermediate(1),
        "{error}"
    );
}
