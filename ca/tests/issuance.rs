//! Issuance with in-memory keys: profiles, lint-before-sign, CSRs and CRLs.
//! (The same code paths run against SoftHSM2 in tests/ at the workspace root.)
#![allow(clippy::unwrap_used, clippy::panic)]

use std::{
    cell::Cell,
    path::Path,
    str::FromStr,
    time::{Duration, SystemTime},
};

use der::{Decode, Encode};
use rust_pki_ca::{
    Error, KeyAlgorithm, Signer,
    authority::{issue_crl_for, issue_delegate, issue_leaf, issue_root},
    crl::{Revocation, parse_crl},
    csr::{build_csr, parse_csr},
    lint::Severity,
    policy::Policy,
    signer::MemorySigner,
};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::{Certificate, ext::pkix::CrlReason, name::Name};

const DAY: Duration = Duration::from_secs(86_400);

/// Issuance time for every test: fixed inside the policy's root validity, so the dates the
/// tests compare do not depend on the wall clock (the policy's root ends in 2031).
fn at() -> SystemTime {
    // 2026-06-01T00:00:00Z
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_272_000)
}

fn repo_policy_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policy/rust-root.toml"
    ))
    .unwrap()
}

fn policy() -> Policy {
    Policy::parse(&repo_policy_text(), Path::new("rust-root.toml")).unwrap()
}

/// A signer that counts how often it was asked to sign.
struct CountingSigner {
    inner: MemorySigner,
    calls: Cell<usize>,
}

impl CountingSigner {
    fn new(algorithm: KeyAlgorithm) -> Self {
        Self {
            inner: MemorySigner::generate(algorithm).unwrap(),
            calls: Cell::new(0),
        }
    }
}

impl Signer for CountingSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        self.inner.algorithm()
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.inner.public_key()
    }
    fn describe(&self) -> String {
        "counting signer".into()
    }
    fn sign(&self, message: &[u8]) -> rust_pki_ca::Result<Vec<u8>> {
        self.calls.set(self.calls.get() + 1);
        self.inner.sign(message)
    }
}

struct Pki {
    policy: Policy,
    root_key: CountingSigner,
    root: Certificate,
    delegate_key: MemorySigner,
    delegate: Certificate,
}

fn pki() -> Pki {
    let policy = policy();
    let now = at();
    let root_key = CountingSigner::new(KeyAlgorithm::EcdsaP384);
    let root = Certificate::from_der(&issue_root(&policy, &root_key, now).unwrap().der).unwrap();
    let delegate_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let csr = parse_csr(&build_csr(&delegate_key, Name::from_str("CN=ignored").unwrap()).unwrap())
        .unwrap();
    let purpose = policy.purpose("releases").unwrap().clone();
    let delegate = issue_delegate(
        &policy,
        &root,
        &root_key,
        &purpose,
        csr.public_key,
        now,
        None,
    )
    .unwrap();
    let delegate = Certificate::from_der(&delegate.der).unwrap();
    Pki {
        policy,
        root_key,
        root,
        delegate_key,
        delegate,
    }
}

#[test]
fn root_delegate_leaf_chain_verifies_and_follows_profiles() {
    let pki = pki();
    assert_eq!(
        pki.root_key.calls.get(),
        2,
        "one signature for the root, one for the delegate"
    );
    // Subject of the delegate comes from policy, not from the CSR.
    assert_eq!(
        pki.delegate.tbs_certificate().subject().to_string(),
        "CN=Rust Releases Delegate CA,O=The Rust Project"
    );
    assert_eq!(
        pki.root
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time(),
        pki.policy.root.not_after
    );
    let leaf_key = MemorySigner::generate(KeyAlgorithm::Ed25519).unwrap();
    let leaf = issue_leaf(
        &pki.policy,
        &pki.delegate,
        &pki.delegate_key,
        Name::from_str("CN=rust 1.95.0 release").unwrap(),
        leaf_key.public_key().clone(),
        at(),
        None,
    )
    .unwrap();
    // Example-arc EKUs are allowed but always warned about.
    assert!(
        leaf.warnings
            .iter()
            .any(|w| w.rule == "eku-example-arc" && w.severity == Severity::Warning)
    );
    let leaf = Certificate::from_der(&leaf.der).unwrap();
    let span = leaf
        .tbs_certificate()
        .validity()
        .not_after
        .to_system_time()
        .duration_since(
            leaf.tbs_certificate()
                .validity()
                .not_before
                .to_system_time(),
        )
        .unwrap();
    assert_eq!(span, pki.policy.leaf.default_validity);
}

#[test]
fn lint_failure_means_the_real_key_never_signs() {
    // A policy whose root would outlive its own maximum validity: root.not_after is
    // 20 years out while max_validity_days stays at 7 years.
    let far = time::OffsetDateTime::from(at()) + time::Duration::days(20 * 365);
    let text = repo_policy_text().replace(
        "not_after = \"2031-12-31T23:59:59Z\"",
        &format!(
            "not_after = \"{}\"",
            far.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        ),
    );
    let policy = Policy::parse(&text, Path::new("long-root.toml")).unwrap();
    let key = CountingSigner::new(KeyAlgorithm::EcdsaP384);
    let err = issue_root(&policy, &key, at()).unwrap_err();
    match err {
        Error::LintFailed { findings, .. } => assert!(
            findings.iter().any(|f| f.rule == "validity-max"),
            "{findings:?}"
        ),
        other => panic!("expected LintFailed, got {other}"),
    }
    assert_eq!(key.calls.get(), 0, "the HSM must not be asked to sign");
}

#[test]
fn delegate_outliving_root_is_refused_before_signing() {
    let pki = pki();
    let calls = pki.root_key.calls.get();
    let purpose = pki.policy.purpose("bors").unwrap().clone();
    let key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let late = pki.policy.root.not_after + DAY;
    let err = issue_delegate(
        &pki.policy,
        &pki.root,
        &pki.root_key,
        &purpose,
        key.public_key().clone(),
        at(),
        Some(late),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::LintFailed { findings, .. } if findings.iter().any(|f| f.rule == "validity-nested")),
        "{err}"
    );
    assert_eq!(pki.root_key.calls.get(), calls);
}

#[test]
fn delegate_key_algorithm_not_in_policy_is_refused_before_signing() {
    let text = repo_policy_text().replace(
        "max_validity_days = 2557\nkey_algorithms = [\"P-384\", \"Ed25519\"]",
        "max_validity_days = 2557\nkey_algorithms = [\"P-384\"]",
    );
    let policy = Policy::parse(&text, Path::new("p384-only.toml")).unwrap();
    let root_key = CountingSigner::new(KeyAlgorithm::EcdsaP384);
    let root = Certificate::from_der(&issue_root(&policy, &root_key, at()).unwrap().der).unwrap();
    let ed = MemorySigner::generate(KeyAlgorithm::Ed25519).unwrap();
    let purpose = policy.purpose("releases").unwrap().clone();
    let err = issue_delegate(
        &policy,
        &root,
        &root_key,
        &purpose,
        ed.public_key().clone(),
        at(),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::LintFailed { findings, .. } if findings.iter().any(|f| f.rule == "key-algorithm")),
        "{err}"
    );
    assert_eq!(root_key.calls.get(), 1, "only the root was signed");
}

#[test]
fn signer_must_hold_the_issuer_certificates_key() {
    let pki = pki();
    let stranger = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let purpose = pki.policy.purpose("releases").unwrap().clone();
    let err = issue_delegate(
        &pki.policy,
        &pki.root,
        &stranger,
        &purpose,
        stranger.public_key().clone(),
        at(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
}

#[test]
fn csr_with_bad_signature_is_refused() {
    let key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let mut csr = build_csr(&key, Name::from_str("CN=crates.io").unwrap()).unwrap();
    assert!(parse_csr(&csr).is_ok());
    let last = csr.len() - 5;
    csr[last] ^= 0x01;
    let err = parse_csr(&csr).unwrap_err();
    assert!(err.contains("signature"), "{err}");
    assert!(
        parse_csr(b"\x30\x03\x02\x01\x00")
            .unwrap_err()
            .contains("malformed")
    );
}

#[test]
fn crl_lists_revocations_with_reason_number_and_aki() {
    let pki = pki();
    let revoked = vec![Revocation {
        serial: pki.delegate.tbs_certificate().serial_number().clone(),
        date: at(),
        reason: Some(CrlReason::KeyCompromise),
    }];
    let signed = issue_crl_for(
        &pki.policy,
        &pki.root,
        &pki.root_key,
        revoked,
        at(),
        Some(7),
    )
    .unwrap();
    let crl = parse_crl(&signed.der).unwrap();
    let entries = crl.tbs_cert_list.revoked_certificates.as_ref().unwrap();
    assert_eq!(entries.len(), 1);
    let span = crl
        .tbs_cert_list
        .next_update
        .unwrap()
        .to_system_time()
        .duration_since(crl.tbs_cert_list.this_update.to_system_time())
        .unwrap();
    assert_eq!(span, pki.policy.root.crl_lifetime);
    // A delegate CRL gets the (short) delegate lifetime.
    let delegate_crl = issue_crl_for(
        &pki.policy,
        &pki.delegate,
        &pki.delegate_key,
        vec![],
        at(),
        None,
    )
    .unwrap();
    let crl = parse_crl(&delegate_crl.der).unwrap();
    let span = crl
        .tbs_cert_list
        .next_update
        .unwrap()
        .to_system_time()
        .duration_since(crl.tbs_cert_list.this_update.to_system_time())
        .unwrap();
    assert_eq!(span, pki.policy.delegate.crl_lifetime);
    assert!(crl.tbs_cert_list.to_der().is_ok());
}

/// Bad policies, by name: each must fail with an error naming the field.
#[test]
fn bad_policies_are_refused_naming_the_field() {
    let good = repo_policy_text();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "unknown-field",
            "crl_lifetime_days = 365",
            "crl_lifetime_days = 365\ncolour = \"red\"",
            "unknown field `colour`",
        ),
        (
            "missing-field",
            "crl_lifetime_days = 7\n",
            "\n",
            "missing field `crl_lifetime_days`",
        ),
        (
            "uuid-oid",
            "eku = \"1.3.6.1.4.1.32473.1.1\"",
            "eku = \"2.25.329800735698586629295641978511506172918\"",
            "purposes.releases.eku",
        ),
        (
            "duplicate-eku",
            "eku = \"1.3.6.1.4.1.32473.1.2\"",
            "eku = \"1.3.6.1.4.1.32473.1.1\"",
            "same eku",
        ),
        (
            "bad-subject",
            "CN=bors Delegate CA",
            "bors Delegate CA",
            "purposes.bors.delegate_subject",
        ),
        (
            "bad-time",
            "2031-12-31T23:59:59Z",
            "2031-12-31",
            "root.not_after",
        ),
        (
            "ed25519-root",
            "key_algorithms = [\"P-384\"]\n",
            "key_algorithms = [\"Ed25519\"]\n",
            "root.key_algorithms",
        ),
        (
            "unknown-algorithm",
            "key_algorithms = [\"P-384\"]\n",
            "key_algorithms = [\"RSA\"]\n",
            "unknown variant `RSA`",
        ),
        (
            "zero-days",
            "default_validity_days = 30",
            "default_validity_days = 0",
            "leaf.default_validity_days",
        ),
        (
            "leaf-longer-than-max",
            "default_validity_days = 30",
            "default_validity_days = 91",
            "leaf.default_validity_days",
        ),
        (
            "threshold-above-members",
            "threshold = 5",
            "threshold = 10",
            "quorum.threshold",
        ),
        (
            "one-organisation-could-approve-alone",
            "max_per_organisation = 3",
            "max_per_organisation = 5",
            "quorum.max_per_organisation",
        ),
        (
            "missing-genesis-roster-pin",
            "genesis_roster_sha256 = ",
            "# genesis_roster_sha256 = ",
            "missing field `genesis_roster_sha256`",
        ),
        (
            "genesis-roster-pin-not-a-digest",
            "genesis_roster_sha256 = \"",
            "genesis_roster_sha256 = \"X",
            "quorum.genesis_roster_sha256",
        ),
        (
            "missing-test-policy-flag",
            "test_policy = true\n",
            "\n",
            "missing field `test_policy`",
        ),
        (
            "wrong-version",
            "version = 1",
            "version = 2",
            "field `version`",
        ),
        (
            "bad-purpose-name",
            "[purposes.bors]",
            "[purposes.Bors]",
            "purposes.Bors",
        ),
        (
            "missing-schedule-field",
            "reappoint_notice_days = 60\n",
            "\n",
            "missing field `reappoint_notice_days`",
        ),
        (
            "unknown-schedule-field",
            "reappoint_notice_days = 60",
            "reappoint_notice_days = 60\nroot_crl_remind_days = 3",
            "unknown field `root_crl_remind_days`",
        ),
        (
            "zero-delegate-crl-lead",
            "delegate_crl_resign_before_days = 2",
            "delegate_crl_resign_before_days = 0",
            "schedule.delegate_crl_resign_before_days",
        ),
        (
            "delegate-crl-lead-as-long-as-the-crl",
            "delegate_crl_resign_before_days = 2",
            "delegate_crl_resign_before_days = 7",
            "schedule.delegate_crl_resign_before_days",
        ),
        (
            "leaf-rotation-lead-as-long-as-the-leaf",
            "leaf_rotate_before_days = 7",
            "leaf_rotate_before_days = 30",
            "schedule.leaf_rotate_before_days",
        ),
        (
            "missing-delegate-crl-lead",
            "delegate_crl_resign_before_days = 2\n",
            "",
            "missing field `delegate_crl_resign_before_days`",
        ),
        (
            "zero-root-crl-lead",
            "root_crl_resign_before_days = 30",
            "root_crl_resign_before_days = 0",
            "schedule.root_crl_resign_before_days",
        ),
        (
            "root-crl-lead-as-long-as-the-crl",
            "root_crl_resign_before_days = 30",
            "root_crl_resign_before_days = 365",
            "schedule.root_crl_resign_before_days",
        ),
        (
            "zero-delegate-renewal-overlap",
            "delegate_renew_before_days = 90",
            "delegate_renew_before_days = 0",
            "schedule.delegate_renew_before_days",
        ),
        (
            "delegate-renewal-overlap-beyond-validity",
            "delegate_renew_before_days = 90",
            "delegate_renew_before_days = 3000",
            "schedule.delegate_renew_before_days",
        ),
        (
            "zero-root-rotation-lead",
            "root_rotate_before_days = 365",
            "root_rotate_before_days = 0",
            "schedule.root_rotate_before_days",
        ),
        (
            "root-rotation-lead-beyond-validity",
            "root_rotate_before_days = 365",
            "root_rotate_before_days = 2557",
            "schedule.root_rotate_before_days",
        ),
        (
            "zero-reappointment-notice",
            "reappoint_notice_days = 60",
            "reappoint_notice_days = 0",
            "schedule.reappoint_notice_days",
        ),
        (
            "negative-reappointment-notice",
            "reappoint_notice_days = 60",
            "reappoint_notice_days = -1",
            "reappoint_notice_days",
        ),
    ];
    let base = "crl_base_url = \"https://pki.rust-lang.org/log/crl/\"";
    let bad_urls: &[(&str, &str)] = &[
        (
            "crl-url-scheme",
            "crl_base_url = \"ftp://pki.example/crl/\"",
        ),
        (
            "crl-url-slash",
            "crl_base_url = \"https://pki.example/crl\"",
        ),
        (
            "crl-url-user",
            "crl_base_url = \"https://me@pki.example/crl/\"",
        ),
        (
            "crl-url-query",
            "crl_base_url = \"https://pki.example/crl/?x=/\"",
        ),
        (
            "crl-url-space",
            "crl_base_url = \"https://pki.example/c rl/\"",
        ),
        ("crl-url-host", "crl_base_url = \"https:///crl/\""),
    ];
    let cases: Vec<(&str, &str, &str, &str)> = cases
        .iter()
        .copied()
        .chain(
            bad_urls
                .iter()
                .map(|(name, to)| (*name, base, *to, "publication.crl_base_url")),
        )
        .chain([("crl-url-missing", base, "", "missing field `crl_base_url`")])
        .collect();
    for (name, from, to, expected) in cases {
        assert!(good.contains(from), "{name}: fixture text not found");
        let text = good.replacen(from, to, 1);
        let err = Policy::parse(&text, Path::new("bad.toml"))
            .expect_err(name)
            .to_string();
        assert!(
            err.contains(expected),
            "{name}: `{err}` should mention `{expected}`"
        );
        assert!(
            err.starts_with("bad.toml"),
            "{name}: `{err}` should name the file"
        );
    }
}

/// `[hsm]`: the backend is required and one of two; CloudHSM needs its cluster id in
/// AWS's format, SoftHSM2 has none. Each refusal names the file, the field and the rule.
#[test]
fn hsm_section_names_the_backend_and_its_cluster() {
    use rust_pki_ca::policy::HsmBackend;
    let good = repo_policy_text();
    let production = "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-replacewithid\"\n";
    assert!(
        good.contains(production),
        "policy/rust-root.toml names CloudHSM"
    );
    let policy = Policy::parse(&good, Path::new("rust-root.toml")).unwrap();
    assert_eq!(policy.hsm.backend, HsmBackend::CloudHsm);
    assert_eq!(
        policy.hsm.cluster_id.as_deref(),
        Some("cluster-replacewithid")
    );
    let soft = Policy::parse(
        &good.replace(production, "[hsm]\nbackend = \"softhsm2\"\n"),
        Path::new("soft.toml"),
    )
    .unwrap();
    assert_eq!(
        (soft.hsm.backend, soft.hsm.cluster_id),
        (HsmBackend::SoftHsm2, None)
    );
    for (name, section, field, rule) in [
        ("no-section", "", "missing field `hsm`", ""),
        (
            "unknown-backend",
            "[hsm]\nbackend = \"yubihsm\"\n",
            "hsm.backend",
            "rule hsm-backend",
        ),
        (
            "cloudhsm-without-cluster",
            "[hsm]\nbackend = \"cloudhsm\"\n",
            "hsm.cluster_id",
            "rule cluster-id-required",
        ),
        (
            "cluster-id-too-short",
            "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-abc\"\n",
            "hsm.cluster_id",
            "rule cluster-id-format",
        ),
        (
            "cluster-id-not-base32",
            "[hsm]\nbackend = \"cloudhsm\"\ncluster_id = \"cluster-jxhlf7644n0\"\n",
            "hsm.cluster_id",
            "rule cluster-id-format",
        ),
        (
            "softhsm2-with-cluster",
            "[hsm]\nbackend = \"softhsm2\"\ncluster_id = \"cluster-jxhlf7644ne\"\n",
            "hsm.cluster_id",
            "rule cluster-id-refused",
        ),
        (
            "unknown-field",
            "[hsm]\nbackend = \"softhsm2\"\nslot = 1\n",
            "unknown field `slot`",
            "",
        ),
    ] {
        let text = good.replace(production, section);
        let err = Policy::parse(&text, Path::new("bad.toml"))
            .expect_err(name)
            .to_string();
        assert!(
            err.starts_with("bad.toml") && err.contains(field) && err.contains(rule),
            "{name}: `{err}` should name bad.toml, {field} and {rule}"
        );
    }
}

/// The linter on certificates that break their profile: each broken rule is named.
#[test]
fn linter_names_each_broken_rule() {
    use rust_pki_ca::{
        lint::{CertLintContext, lint_certificate},
        profile::CertKind,
    };
    let pki = pki();
    let releases = pki.policy.purpose("releases").unwrap().eku.clone();
    let bors = pki.policy.purpose("bors").unwrap().eku.clone();
    let rules =
        |cert: &Certificate, kind: CertKind, issuer: Option<&Certificate>| -> Vec<&'static str> {
            let ctx = CertLintContext {
                policy: &pki.policy,
                kind: &kind,
                issuer,
            };
            lint_certificate(cert, &ctx)
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.rule)
                .collect()
        };
    // The real thing passes.
    assert_eq!(
        rules(
            &pki.delegate,
            CertKind::Delegate {
                eku: releases.clone()
            },
            Some(&pki.root)
        ),
        Vec::<&str>::new()
    );
    // A delegate presented as a leaf: CA flag, pathLen and key usage are all wrong.
    let as_leaf = rules(
        &pki.delegate,
        CertKind::Leaf {
            eku: releases.clone(),
        },
        Some(&pki.root),
    );
    for rule in [
        "basic-constraints-ca",
        "path-len",
        "key-usage-bits",
        "eku-matches-issuer",
    ] {
        assert!(as_leaf.contains(&rule), "{rule} missing from {as_leaf:?}");
    }
    // A releases delegate checked as bors: wrong purpose EKU.
    assert_eq!(
        rules(
            &pki.delegate,
            CertKind::Delegate { eku: bors },
            Some(&pki.root)
        ),
        ["eku-purpose"]
    );
    // A delegate presented as a root: EKU present, pathLen set, not self-issued.
    let as_root = rules(&pki.delegate, CertKind::Root, None);
    for rule in [
        "eku-absent-in-root",
        "path-len",
        "issuer-name",
        "extension-profile",
        "aki-matches-issuer",
    ] {
        assert!(as_root.contains(&rule), "{rule} missing from {as_root:?}");
    }
    // The root checked against a policy whose root must end earlier.
    let mut strict = pki.policy.clone();
    strict.root.not_after = at() + DAY;
    let ctx = CertLintContext {
        policy: &strict,
        kind: &CertKind::Root,
        issuer: None,
    };
    let found: Vec<_> = lint_certificate(&pki.root, &ctx)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert!(found.contains(&"root-not-after"), "{found:?}");
    // A delegate linted against a different issuer: names and key identifiers differ.
    let other_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let mut other_policy = pki.policy.clone();
    other_policy.root.subject = Name::from_str("CN=Other Root").unwrap();
    let other_root =
        Certificate::from_der(&issue_root(&other_policy, &other_key, at()).unwrap().der).unwrap();
    let wrong_issuer = rules(
        &pki.delegate,
        CertKind::Delegate { eku: releases },
        Some(&other_root),
    );
    for rule in ["issuer-name", "aki-matches-issuer"] {
        assert!(
            wrong_issuer.contains(&rule),
            "{rule} missing from {wrong_issuer:?}"
        );
    }
}

/// A token that answers with a signature from another key (faulty or tampered-with HSM):
/// issuance must refuse the result instead of handing out a certificate that won't verify.
#[test]
fn signature_that_does_not_verify_under_the_issuer_key_is_refused() {
    struct WrongKeySigner {
        claimed: MemorySigner,
        actual: MemorySigner,
    }
    impl Signer for WrongKeySigner {
        fn algorithm(&self) -> KeyAlgorithm {
            KeyAlgorithm::EcdsaP384
        }
        fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
            self.claimed.public_key()
        }
        fn describe(&self) -> String {
            "faulty token".into()
        }
        fn sign(&self, message: &[u8]) -> rust_pki_ca::Result<Vec<u8>> {
            self.actual.sign(message)
        }
    }
    let signer = WrongKeySigner {
        claimed: MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap(),
        actual: MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap(),
    };
    let err = issue_root(&policy(), &signer, at()).unwrap_err();
    assert!(
        matches!(&err, Error::BadSignature { reason, .. } if reason.contains("does not verify")),
        "{err}"
    );
}

/// Delegates carry `<crl_base_url>root.crl`, leaves `<crl_base_url><purpose>.crl`: one
/// non-critical distribution point with one URI; the linter refuses any other.
#[test]
fn crl_distribution_points_come_from_the_policy() {
    use rust_pki_ca::{
        lint::{CertLintContext, lint_certificate},
        profile::CertKind,
    };
    use x509_cert::ext::pkix::{
        crl::CrlDistributionPoints,
        name::{DistributionPointName, GeneralName},
    };
    let uris = |cert: &Certificate| -> Vec<(bool, String)> {
        let ext = cert
            .tbs_certificate()
            .extensions()
            .unwrap()
            .iter()
            .find(|e| e.extn_id == <CrlDistributionPoints as const_oid::AssociatedOid>::OID)
            .unwrap();
        let points = CrlDistributionPoints::from_der(ext.extn_value.as_bytes()).unwrap();
        points
            .0
            .iter()
            .flat_map(|p| match &p.distribution_point {
                Some(DistributionPointName::FullName(names)) => names.clone(),
                other => panic!("{other:?}"),
            })
            .map(|name| match name {
                GeneralName::UniformResourceIdentifier(uri) => (ext.critical, uri.to_string()),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let pki = pki();
    assert_eq!(
        uris(&pki.delegate),
        [(
            false,
            "https://pki.rust-lang.org/log/crl/root.crl".to_owned()
        )]
    );
    let leaf_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let leaf = issue_leaf(
        &pki.policy,
        &pki.delegate,
        &pki.delegate_key,
        Name::from_str("CN=rust 1.95.0 release").unwrap(),
        leaf_key.public_key().clone(),
        at(),
        None,
    )
    .unwrap();
    let leaf = Certificate::from_der(&leaf.der).unwrap();
    assert_eq!(
        uris(&leaf),
        [(
            false,
            "https://pki.rust-lang.org/log/crl/releases.crl".to_owned()
        )]
    );

    // Under a policy publishing elsewhere, the same certificates are refused by name.
    let moved = Policy::parse(
        &repo_policy_text().replacen(
            "https://pki.rust-lang.org/log/crl/",
            "http://mirror.example/crl/",
            1,
        ),
        Path::new("moved.toml"),
    )
    .unwrap();
    let releases = moved.purpose("releases").unwrap().eku.clone();
    let findings = |cert: &Certificate, kind: CertKind, issuer: &Certificate| {
        lint_certificate(
            cert,
            &CertLintContext {
                policy: &moved,
                kind: &kind,
                issuer: Some(issuer),
            },
        )
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (f.rule, f.message))
        .collect::<Vec<_>>()
    };
    let delegate = findings(
        &pki.delegate,
        CertKind::Delegate {
            eku: releases.clone(),
        },
        &pki.root,
    );
    assert_eq!(delegate.len(), 1, "{delegate:?}");
    assert_eq!(delegate[0].0, "crl-distribution-point");
    assert!(
        delegate[0].1.contains("http://mirror.example/crl/root.crl"),
        "{delegate:?}"
    );
    let leaf_findings = findings(&leaf, CertKind::Leaf { eku: releases }, &pki.delegate);
    assert_eq!(
        leaf_findings.iter().map(|f| f.0).collect::<Vec<_>>(),
        ["crl-distribution-point"]
    );
    assert!(
        leaf_findings[0]
            .1
            .contains("http://mirror.example/crl/releases.crl")
    );
}
