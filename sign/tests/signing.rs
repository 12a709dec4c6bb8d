//! Signing with in-memory keys: the CMS has exactly the shape of docs/signatures.md, every
//! leaf check refuses before the key signs, and a key that returns a bad signature gets
//! nothing written. (The same flow with SoftHSM2 and OpenSSL: tests/sign_softhsm.rs of
//! the `rust-pki` package.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode, Encode};
use rust_pki_ca::authority::{issue_delegate, issue_leaf, issue_root};
use rust_pki_ca::policy::Policy;
use rust_pki_ca::signer::{MemorySigner, Signer};
use rust_pki_ca::{KeyAlgorithm, Result as CaResult};
use rust_pki_sign::check::signature_verifies;
use rust_pki_sign::cms::{ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, digest_algorithm};
use rust_pki_sign::sigfile::git_armor;
use rust_pki_sign::sigfile::{refuse_existing, signature_path};
use rust_pki_sign::{Error, SigningLeaf, check_files, sign_files, sign_payload};
use rust_pki_verify::Purpose;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::name::Name;

struct Pki {
    delegate_der: Vec<u8>,
    leaf_der: Vec<u8>,
    leaf_key: MemorySigner,
    other_delegate_der: Vec<u8>,
}

fn policy() -> Policy {
    Policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/rust-root.toml")).unwrap()
}

/// A root, a delegate for `purpose`, and a leaf with a key of `algorithm`.
fn pki(purpose: &str, algorithm: KeyAlgorithm, now: SystemTime) -> Pki {
    let policy = policy();
    let root_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let root = issue_root(&policy, &root_key, now).unwrap().der;
    let root = Certificate::from_der(&root).unwrap();
    let delegate = |purpose: &str| {
        let key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let der = issue_delegate(
            &policy,
            &root,
            &root_key,
            policy.purpose(purpose).unwrap(),
            key.public_key().clone(),
            now,
            None,
        )
        .unwrap()
        .der;
        (der, key)
    };
    let (delegate_der, delegate_key) = delegate(purpose);
    let (other_delegate_der, _) = delegate(purpose);
    let leaf_key = MemorySigner::generate(algorithm).unwrap();
    let leaf_der = issue_leaf(
        &policy,
        &Certificate::from_der(&delegate_der).unwrap(),
        &delegate_key,
        Name::from_str("CN=signer").unwrap(),
        leaf_key.public_key().clone(),
        now,
        None,
    )
    .unwrap()
    .der;
    Pki {
        delegate_der,
        leaf_der,
        leaf_key,
        other_delegate_der,
    }
}

fn files(dir: &Path, count: usize) -> Vec<PathBuf> {
    (0..count)
        .map(|i| {
            let path = dir.join(format!("file-{i}.txt"));
            std::fs::write(&path, format!("contents of file {i}\n").repeat(i * 1000)).unwrap();
            path
        })
        .collect()
}

fn purpose(name: &str) -> Purpose {
    Purpose::built_in(name).unwrap()
}

#[test]
fn signatures_have_the_documented_cms_shape_and_verify() {
    for algorithm in [KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
        let now = SystemTime::now();
        let pki = pki("releases", algorithm, now);
        let leaf = SigningLeaf::check(
            &pki.leaf_der,
            &pki.delegate_der,
            pki.leaf_key.public_key(),
            &purpose("releases"),
            now,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path(), 5);
        let mut seen = Vec::new();
        let signed = sign_files(&pki.leaf_key, &leaf, &files, now, &mut |n| seen.push(n)).unwrap();
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        assert_eq!(signed.len(), 5);
        for (file, signed) in files.iter().zip(&signed) {
            assert_eq!(&signed.path, file);
            let content = std::fs::read(file).unwrap();
            assert_eq!(signed.digest.size, content.len() as u64);
            let info = ContentInfo::from_der(&signed.cms_der(&leaf).unwrap()).unwrap();
            assert_eq!(info.content_type, ID_SIGNED_DATA);
            let data: SignedData = info.content.decode_as().unwrap();
            assert_eq!(data.version as u8, 1);
            assert_eq!(
                data.digest_algorithms.as_slice(),
                [digest_algorithm(algorithm)]
            );
            assert_eq!(data.encap_content_info.econtent_type, ID_DATA);
            assert!(data.encap_content_info.econtent.is_none());
            assert!(data.crls.is_none());
            let certs: Vec<Vec<u8>> = data
                .certificates
                .unwrap()
                .0
                .iter()
                .map(|c| c.to_der().unwrap())
                .collect();
            assert_eq!(certs.len(), 2);
            assert!(certs.contains(&pki.leaf_der) && certs.contains(&pki.delegate_der));
            let [info] = data.signer_infos.0.as_slice() else {
                panic!("not one signer");
            };
            assert_eq!(info.version as u8, 1);
            let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
                panic!("sid is not issuerAndSerialNumber");
            };
            let leaf_cert = Certificate::from_der(&pki.leaf_der).unwrap();
            assert_eq!(&sid.issuer, leaf_cert.tbs_certificate().issuer());
            assert_eq!(
                &sid.serial_number,
                leaf_cert.tbs_certificate().serial_number()
            );
            assert_eq!(info.digest_alg, digest_algorithm(algorithm));
            assert_eq!(info.signature_algorithm, algorithm.signature_algorithm());
            assert!(info.unsigned_attrs.is_none());
            let attrs = info.signed_attrs.as_ref().unwrap();
            assert_eq!(attrs.len(), 3);
            let digest = attrs.iter().find(|a| a.oid == ID_MESSAGE_DIGEST).unwrap();
            let digest: der::asn1::OctetString = digest.values.get(0).unwrap().decode_as().unwrap();
            assert_eq!(digest.as_bytes(), signed.digest.message_digest);
            // The signature covers the attributes' DER with the SET OF tag.
            let attrs_der = attrs.to_der().unwrap();
            assert_eq!(attrs_der[0], 0x31);
            assert!(signature_verifies(
                pki.leaf_key.public_key(),
                algorithm,
                &attrs_der,
                info.signature.as_bytes()
            ));
        }
        // The log entry does not depend on the signing time: a rerun finds it.
        let later = sign_files(
            &pki.leaf_key,
            &leaf,
            &files[..1],
            now + Duration::from_secs(60),
            &mut |_| {},
        )
        .unwrap();
        assert_ne!(
            later[0].cms_der(&leaf).unwrap(),
            signed[0].cms_der(&leaf).unwrap()
        );
        assert_eq!(
            later[0].log_entry(&pki.leaf_der).unwrap(),
            signed[0].log_entry(&pki.leaf_der).unwrap()
        );
    }
}

#[test]
fn a_payload_in_memory_gets_the_same_cms_as_a_file_with_those_bytes() {
    let now = SystemTime::now();
    let pki = pki("bors", KeyAlgorithm::EcdsaP384, now);
    let leaf = SigningLeaf::check(
        &pki.leaf_der,
        &pki.delegate_der,
        pki.leaf_key.public_key(),
        &purpose("bors"),
        now,
    )
    .unwrap();
    let payload = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor bors\n\nMerge\n";
    let cms = sign_payload(&pki.leaf_key, &leaf, payload, now, Path::new("commit")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("commit");
    std::fs::write(&file, payload).unwrap();
    let from_file = sign_files(&pki.leaf_key, &leaf, &[file], now, &mut |_| {}).unwrap();
    // ECDSA signatures differ; the signed attributes (digest, time) are the same.
    let attrs = |der: &[u8]| {
        let data: SignedData = ContentInfo::from_der(der)
            .unwrap()
            .content
            .decode_as()
            .unwrap();
        data.signer_infos.0.get(0).unwrap().signed_attrs.clone()
    };
    assert_eq!(attrs(&cms), attrs(&from_file[0].cms_der(&leaf).unwrap()));
    let armored = git_armor(&cms).unwrap();
    assert!(
        armored.starts_with("-----BEGIN SIGNED MESSAGE-----\n"),
        "{armored}"
    );
    let corrupting = CorruptingSigner(pki.leaf_key);
    let error = sign_payload(&corrupting, &leaf, payload, now, Path::new("commit")).unwrap_err();
    assert!(matches!(error, Error::BadSignature { .. }), "{error}");
}

#[test]
fn files_that_cannot_be_signed_or_logged_are_named_before_any_key_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "x").unwrap();
    check_files(std::slice::from_ref(&good)).unwrap();
    let missing = dir.path().join("missing.txt");
    let error = check_files(&[good.clone(), missing.clone()]).unwrap_err();
    assert!(
        matches!(&error, Error::Read { path, .. } if *path == missing),
        "{error}"
    );
    let error = check_files(&[good.clone(), good.clone()]).unwrap_err();
    assert!(matches!(error, Error::Duplicate { .. }), "{error}");
    let error = check_files(&[dir.path().to_owned()]).unwrap_err();
    assert!(matches!(error, Error::NotAFile { .. }), "{error}");
    let spaced = dir.path().join(" leading space");
    std::fs::write(&spaced, "x").unwrap();
    let error = check_files(&[spaced]).unwrap_err();
    assert!(matches!(error, Error::Entry { .. }), "{error}");
}

/// A key whose signatures are corrupted, as a faulty HSM's would be.
#[derive(Debug)]
struct CorruptingSigner(MemorySigner);

impl Signer for CorruptingSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        self.0.algorithm()
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.0.public_key()
    }
    fn describe(&self) -> String {
        "a faulty token".into()
    }
    fn sign(&self, message: &[u8]) -> CaResult<Vec<u8>> {
        let mut signature = self.0.sign(message)?;
        let last = signature.len() - 1;
        signature[last] ^= 0x40;
        Ok(signature)
    }
}

#[test]
fn a_bad_signature_from_the_key_writes_nothing() {
    for algorithm in [KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
        let now = SystemTime::now();
        let pki = pki("releases", algorithm, now);
        let signer = CorruptingSigner(pki.leaf_key);
        let leaf = SigningLeaf::check(
            &pki.leaf_der,
            &pki.delegate_der,
            signer.public_key(),
            &purpose("releases"),
            now,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path(), 3);
        let error = sign_files(&signer, &leaf, &files, now, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, Error::BadSignature { path, key } if *path == files[0] && key == "a faulty token"),
            "{error}"
        );
        assert!(error.is_refusal());
        assert!(error.to_string().contains("nothing was written"), "{error}");
        // No .sig appeared, and none can be claimed to exist.
        refuse_existing(&files).unwrap();
        for file in &files {
            assert!(!signature_path(file).exists());
        }
    }
}

#[test]
fn leaf_checks_refuse_before_signing() {
    let now = SystemTime::now();
    let pki = pki("releases", KeyAlgorithm::EcdsaP384, now);
    let check = |leaf: &[u8], delegate: &[u8], key: &SubjectPublicKeyInfoOwned, p: &str, at| {
        SigningLeaf::check(leaf, delegate, key, &purpose(p), at).unwrap_err()
    };
    let key = pki.leaf_key.public_key();

    // A releases leaf cannot sign for crates-io.
    let error = check(&pki.leaf_der, &pki.delegate_der, key, "crates-io", now);
    assert!(
        matches!(&error, Error::WrongPurpose { what: "leaf", purpose, .. } if purpose == "crates-io"),
        "{error}"
    );
    assert!(error.is_refusal());
    assert!(
        error.to_string().contains("1.3.6.1.4.1.32473.1.2"),
        "{error}"
    );

    // Another key than the leaf's.
    let other = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let error = check(
        &pki.leaf_der,
        &pki.delegate_der,
        other.public_key(),
        "releases",
        now,
    );
    assert!(matches!(error, Error::KeyMismatch { .. }), "{error}");
    assert!(error.is_refusal());

    // A delegate with the same name that did not sign the leaf.
    let error = check(&pki.leaf_der, &pki.other_delegate_der, key, "releases", now);
    assert!(
        matches!(error, Error::NotIssuedByDelegate { .. }),
        "{error}"
    );

    // Expired, and not yet valid.
    for at in [
        now + Duration::from_secs(365 * 86400),
        now - Duration::from_secs(86400),
    ] {
        let error = check(&pki.leaf_der, &pki.delegate_der, key, "releases", at);
        assert!(matches!(error, Error::LeafNotValid { .. }), "{error}");
        assert!(error.to_string().contains("not valid now"), "{error}");
    }
}
