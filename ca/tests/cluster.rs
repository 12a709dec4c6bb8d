//! The AWS CloudHSM cluster certificate (`cluster-init`): the root certifies the cluster's
//! RSA key from its CSR. Profile, linter, CSR checks and policy rules, with in-memory keys.
//!
//! Fixtures in `tests/data/cluster/` were made with OpenSSL, like a CloudHSM cluster CSR:
//! `openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null -subj '…' -out rsa2048.csr`
//! (and `rsa:1024`, `-sha1`, `-newkey ec -pkeyopt ec_paramgen_curve:P-384`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use der::{Decode, Encode};
use rust_pki_ca::{
    Error, KeyAlgorithm, Signer,
    authority::{
        cluster_kind, issue_delegate, issue_root, prepare_cluster, sign_prepared_certificate,
    },
    csr::{ClusterCsr, parse_csr, read_cluster_csr},
    lint::{CertLintContext, lint_certificate},
    oid::certificate_ekus,
    pem,
    policy::Policy,
    profile::CertKind,
    signer::MemorySigner,
};
use x509_cert::{
    Certificate,
    ext::pkix::{
        AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
    },
    request::CertReq,
};

const DAY: Duration = Duration::from_secs(86_400);

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

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cluster")
        .join(name)
}

fn csr_der(name: &str) -> Vec<u8> {
    pem::read_der(&fixture(name), pem::label::CSR).unwrap()
}

/// A CSR's key and subject without any check (to feed the linter keys the CSR check
/// would have refused).
fn unchecked(name: &str) -> ClusterCsr {
    let csr = CertReq::from_der(&csr_der(name)).unwrap();
    ClusterCsr {
        subject: csr.info.subject,
        public_key: csr.info.public_key,
        rsa_bits: 0,
    }
}

struct Root {
    policy: Policy,
    key: MemorySigner,
    cert: Certificate,
}

fn root() -> Root {
    let policy = policy();
    let key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let cert =
        Certificate::from_der(&issue_root(&policy, &key, SystemTime::now()).unwrap().der).unwrap();
    Root { policy, key, cert }
}

/// Lint-error rules of a refused preparation.
fn refused_rules(
    result: rust_pki_ca::Result<rust_pki_ca::authority::Prepared>,
) -> Vec<&'static str> {
    match result {
        Err(Error::LintFailed { findings, .. }) => findings.iter().map(|f| f.rule).collect(),
        other => panic!("expected lint refusal, got {other:?}"),
    }
}

#[test]
fn cluster_certificate_follows_its_profile() {
    let root = root();
    let now = SystemTime::now();
    let csr = read_cluster_csr(&fixture("rsa2048.csr"), 2048).unwrap();
    assert_eq!(csr.rsa_bits, 2048);
    let prepared = prepare_cluster(&root.policy, &root.cert, &csr, now).unwrap();
    let kind = cluster_kind(&root.policy).unwrap();
    let signed =
        sign_prepared_certificate(&root.policy, &root.cert, &root.key, &kind, &prepared.tbs)
            .unwrap();
    let cert = Certificate::from_der(&signed.der).unwrap();
    let tbs = cert.tbs_certificate();

    // The subject is the cluster's own (from the CSR); the issuer is the root.
    assert_eq!(tbs.subject(), &csr.subject);
    assert!(
        tbs.subject()
            .to_string()
            .contains("PARTN:1\\, for FIPS mode")
    );
    assert_eq!(tbs.issuer(), root.cert.tbs_certificate().subject());
    assert_eq!(tbs.subject_public_key_info(), &csr.public_key);

    // Not a CA, critical.
    let (critical, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(critical);
    assert!(!bc.ca);
    assert_eq!(bc.path_len_constraint, None);
    // digitalSignature + keyEncipherment, critical.
    let (critical, ku) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(critical);
    assert_eq!(
        ku.0,
        KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
    );
    // The cluster EKU (and only it): present, as in every non-root certificate.
    let cluster_eku = root.policy.cluster.as_ref().unwrap().eku.clone();
    assert_eq!(certificate_ekus(&cert).unwrap(), Some(vec![cluster_eku]));
    // AKI = the root's SKI.
    let (_, aki) = tbs
        .get_extension::<AuthorityKeyIdentifier>()
        .unwrap()
        .unwrap();
    let (_, root_ski) = root
        .cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .unwrap()
        .unwrap();
    assert_eq!(aki.key_identifier, Some(root_ski.0));
    assert!(
        tbs.get_extension::<SubjectKeyIdentifier>()
            .unwrap()
            .is_some()
    );
    // Validity: at most cluster.max_validity_days, inside the root's.
    let validity = tbs.validity();
    let span = validity
        .not_after
        .to_system_time()
        .duration_since(validity.not_before.to_system_time())
        .unwrap();
    assert!(span <= 2557 * DAY, "{span:?}");
    assert!(
        validity.not_after.to_system_time()
            <= root
                .cert
                .tbs_certificate()
                .validity()
                .not_after
                .to_system_time()
    );
    // Signed by the root with ecdsa-with-SHA384.
    assert_eq!(
        cert.signature_algorithm(),
        &KeyAlgorithm::EcdsaP384.signature_algorithm()
    );
}

#[test]
fn rejects_rsa_1024_cluster_key() {
    let err = read_cluster_csr(&fixture("rsa1024.csr"), 2048)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cluster-rsa-bits") && err.contains("RSA 1024"),
        "{err}"
    );
    // The linter refuses it too, should the CSR check be bypassed.
    let root = root();
    let rules = refused_rules(prepare_cluster(
        &root.policy,
        &root.cert,
        &unchecked("rsa1024.csr"),
        SystemTime::now(),
    ));
    assert_eq!(rules, ["cluster-rsa-bits"]);
}

#[test]
fn rejects_p384_csr_for_the_cluster() {
    let err = read_cluster_csr(&fixture("p384.csr"), 2048)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cluster-key-rsa"), "{err}");
    let root = root();
    let rules = refused_rules(prepare_cluster(
        &root.policy,
        &root.cert,
        &unchecked("p384.csr"),
        SystemTime::now(),
    ));
    assert_eq!(rules, ["cluster-key-rsa"]);
    // The P-384 CSR is still a good delegate CSR: the existing parser is unchanged…
    assert_eq!(
        parse_csr(&csr_der("p384.csr")).unwrap().algorithm,
        KeyAlgorithm::EcdsaP384
    );
    // …and still refuses RSA.
    let err = parse_csr(&csr_der("rsa2048.csr")).unwrap_err();
    assert!(err.contains("unsupported key algorithm"), "{err}");
}

#[test]
fn rejects_tampered_cluster_csr_signature() {
    let good = csr_der("rsa2048.csr");
    assert!(rust_pki_ca::csr::parse_cluster_csr(&good, 2048).is_ok());
    // A changed subject byte ("FIPS" -> "GIPS"): the signature no longer covers it.
    let at = good.windows(4).position(|w| w == b"FIPS").unwrap();
    let mut subject = good.clone();
    subject[at] = b'G';
    // A flipped bit in the signature value (its last byte).
    let mut signature = good.clone();
    *signature.last_mut().unwrap() ^= 1;
    for tampered in [subject, signature] {
        let err = rust_pki_ca::csr::parse_cluster_csr(&tampered, 2048).unwrap_err();
        assert!(
            err.contains("cluster-csr-signature") && err.contains("does not verify"),
            "{err}"
        );
    }
}

#[test]
fn rejects_sha1_cluster_csr() {
    let err = rust_pki_ca::csr::parse_cluster_csr(&csr_der("rsa2048-sha1.csr"), 2048).unwrap_err();
    assert!(
        err.contains("cluster-csr-signature") && err.contains("not sha256WithRSAEncryption"),
        "{err}"
    );
}

#[test]
fn cluster_lint_names_each_broken_rule() {
    let root = root();
    let kind = cluster_kind(&root.policy).unwrap();
    let rules = |cert: &Certificate, kind: &CertKind| -> Vec<&'static str> {
        let ctx = CertLintContext {
            policy: &root.policy,
            kind,
            issuer: Some(&root.cert),
        };
        let mut rules: Vec<_> = lint_certificate(cert, &ctx)
            .into_iter()
            .filter(|f| f.severity == rust_pki_ca::lint::Severity::Error)
            .map(|f| f.rule)
            .collect();
        rules.sort_unstable();
        rules
    };
    // A delegate (a CA, P-384, a purpose EKU) is no cluster certificate.
    let delegate_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let purpose = root.policy.purpose("releases").unwrap().clone();
    let delegate = issue_delegate(
        &root.policy,
        &root.cert,
        &root.key,
        &purpose,
        delegate_key.public_key().clone(),
        SystemTime::now(),
        None,
    )
    .unwrap();
    let delegate = Certificate::from_der(&delegate.der).unwrap();
    assert_eq!(
        rules(&delegate, &kind),
        [
            "basic-constraints-ca",
            "cluster-key-rsa",
            "eku-purpose",
            // Its CRL distribution point is not in the cluster profile.
            "extension-profile",
            "key-usage-bits",
            "path-len"
        ]
    );
    // A cluster certificate is no leaf (RSA, keyEncipherment, the cluster EKU).
    let csr = read_cluster_csr(&fixture("rsa2048.csr"), 2048).unwrap();
    let prepared = prepare_cluster(&root.policy, &root.cert, &csr, SystemTime::now()).unwrap();
    let cluster = Certificate::from_der(
        &sign_prepared_certificate(&root.policy, &root.cert, &root.key, &kind, &prepared.tbs)
            .unwrap()
            .der,
    )
    .unwrap();
    assert!(rules(&cluster, &kind).is_empty());
    let as_leaf = rules(
        &cluster,
        &CertKind::Leaf {
            eku: purpose.eku.clone(),
        },
    );
    assert!(as_leaf.contains(&"key-algorithm"), "{as_leaf:?}");
    assert!(as_leaf.contains(&"key-usage-bits"), "{as_leaf:?}");
    assert!(as_leaf.contains(&"eku-purpose"), "{as_leaf:?}");
    // Another EKU than the policy's cluster EKU.
    let wrong = rules(
        &cluster,
        &CertKind::Cluster {
            eku: purpose.eku.clone(),
        },
    );
    assert_eq!(wrong, ["cluster-policy", "eku-purpose"]);
    // Under a policy without [cluster], nothing is a cluster certificate.
    let without = Policy::parse(
        &without_cluster_section(&repo_policy_text()),
        Path::new("no-cluster.toml"),
    )
    .unwrap();
    let ctx = CertLintContext {
        policy: &without,
        kind: &kind,
        issuer: Some(&root.cert),
    };
    assert!(
        lint_certificate(&cluster, &ctx)
            .iter()
            .any(|f| f.rule == "cluster-policy")
    );
}

fn without_cluster_section(policy: &str) -> String {
    let at = policy.find("\n[cluster]").unwrap();
    let end = policy[at + 1..]
        .find("\n[")
        .map_or(policy.len(), |e| at + 1 + e);
    format!("{}{}", &policy[..at], &policy[end..])
}

#[test]
fn cluster_init_needs_a_cluster_section() {
    let root = root();
    let without = Policy::parse(
        &without_cluster_section(&repo_policy_text()),
        Path::new("no-cluster.toml"),
    )
    .unwrap();
    assert!(without.cluster.is_none());
    let csr = read_cluster_csr(&fixture("rsa2048.csr"), 2048).unwrap();
    let err = prepare_cluster(&without, &root.cert, &csr, SystemTime::now())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no-cluster.toml") && err.contains("`cluster`") && err.contains("[cluster]"),
        "{err}"
    );
}

#[test]
fn bad_cluster_policies_are_refused_naming_the_field() {
    let good = repo_policy_text();
    let cases: &[(&str, &str, &str)] = &[
        (
            "eku = \"1.3.6.1.4.1.32473.1.4\"",
            "eku = \"1.3.6.1.4.1.32473.1.1\"",
            "cluster.eku",
        ),
        (
            "eku = \"1.3.6.1.4.1.32473.1.4\"",
            "eku = \"2.25.329800735698586629295641978511506172918\"",
            "cluster.eku",
        ),
        (
            "min_rsa_bits = 2048",
            "min_rsa_bits = 1024",
            "cluster.min_rsa_bits",
        ),
        (
            "min_rsa_bits = 2048",
            "min_rsa_bits = 8192",
            "cluster.min_rsa_bits",
        ),
        (
            "max_validity_days = 2557\n# The cluster key",
            "max_validity_days = 3652\n# The cluster key",
            "cluster.max_validity_days",
        ),
        (
            "min_rsa_bits = 2048",
            "min_rsa_bits = 2048\nsubject = \"CN=x\"",
            "unknown field `subject`",
        ),
        ("min_rsa_bits = 2048", "", "missing field `min_rsa_bits`"),
    ];
    for (from, to, expected) in cases {
        assert_eq!(good.matches(from).count(), 1, "{from}");
        let text = good.replace(from, to);
        let err = Policy::parse(&text, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{to}: {err}");
    }
    // The repository policy's cluster section, as documented.
    let cluster = policy().cluster.unwrap();
    assert_eq!(cluster.eku.to_string(), "1.3.6.1.4.1.32473.1.4");
    assert_eq!(cluster.min_rsa_bits, 2048);
    assert_eq!(cluster.max_validity, 2557 * DAY);
    // The DER of the rsaEncryption SPKI round-trips (what the request digests).
    assert!(
        read_cluster_csr(&fixture("rsa2048.csr"), 2048)
            .unwrap()
            .public_key
            .to_der()
            .is_ok()
    );
}
