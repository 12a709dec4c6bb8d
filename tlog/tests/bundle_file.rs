//! Stapled bundles: a real log, signed checkpoints, witnesses, tampering, strict parsing.
// The writer side (feature `writer`, on by default) builds the logs and keys used here.
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64, Encoding};
use rust_pki_tlog::Error;
use rust_pki_tlog::bundle_file::{self, StapledBundle, verify_bundle};
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::cosign;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, sign_note};
use rust_pki_tlog::writer::Log;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "example.com/bundle-log";

/// Stand-in certificates: the bundle treats them as opaque DER.
const LEAF: &[u8] = b"\x30\x03leaf certificate DER";
const DELEGATE: &[u8] = b"\x30\x03delegate certificate DER";

struct Fixture {
    _dir: tempfile::TempDir,
    log: Log,
    log_key: VerifierKey,
    index: u64,
}

/// The ceremony record that issued `DELEGATE`.
fn delegate_record() -> Vec<u8> {
    Entry::ceremony_record("002-delegate-issue.toml", b"record", &[DELEGATE])
        .unwrap()
        .encode()
        .unwrap()
}

/// The leaf-issuance entry of `LEAF`.
fn leaf_entry() -> Vec<u8> {
    Entry::leaf_issuance(LEAF, DELEGATE)
        .unwrap()
        .encode()
        .unwrap()
}

fn log_with_entry() -> Fixture {
    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let log_key = key.verifier();
    let dir = tempfile::tempdir().unwrap();
    let signer = move |body: &[u8]| sign_note(body, &key);
    let mut log = Log::create(dir.path().join("log"), ORIGIN, signer).unwrap();
    log.append(&[
        b"before 0".to_vec(),
        delegate_record(),
        b"before 2".to_vec(),
    ])
    .unwrap();
    log.append(&[leaf_entry()]).unwrap();
    log.append(&[b"after 4".to_vec(), b"after 5".to_vec()])
        .unwrap();
    Fixture {
        _dir: dir,
        log,
        log_key,
        index: 3,
    }
}

/// The leaf's bundle, with the delegate's ceremony record (index 1) proven in the same
/// checkpoint.
fn bundle(f: &Fixture) -> StapledBundle {
    let certificates = vec![LEAF.to_vec(), DELEGATE.to_vec()];
    let mut b = StapledBundle::from_log(&f.log, f.index, &leaf_entry(), certificates).unwrap();
    b.add_delegate(&f.log, &delegate_record()).unwrap();
    b
}

#[test]
fn good_bundle_round_trips_and_verifies() {
    let f = log_with_entry();
    let b = bundle(&f);
    let text = b.to_text();
    assert!(text.starts_with("rust-pki-bundle/v2\n-----BEGIN CERTIFICATE-----\n"));
    assert!(text.contains("\ndelegate-index: 1\n"), "{text}");
    let parsed = StapledBundle::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed, b);
    let v = verify_bundle(&parsed, &f.log_key, &[], 0).unwrap();
    assert_eq!((v.index, v.tree_size, v.origin.as_str()), (3, 6, ORIGIN));
    assert_eq!(v.delegate_index, Some(1));
    assert_eq!(
        bundle_file::pem_certificates(&v.chain_pem).unwrap(),
        vec![LEAF.to_vec(), DELEGATE.to_vec()]
    );
}

#[test]
fn entries_match_the_certificates_they_name_and_no_other() {
    assert!(bundle_file::entry_matches_leaf(&leaf_entry(), LEAF));
    assert!(!bundle_file::entry_matches_leaf(&leaf_entry(), DELEGATE));
    // A ceremony record names the certificates it issued by SHA-256.
    let record = Entry::ceremony_record("0001.toml", b"record", &[DELEGATE])
        .unwrap()
        .encode()
        .unwrap();
    assert!(bundle_file::entry_matches_leaf(&record, DELEGATE));
    assert!(!bundle_file::entry_matches_leaf(&record, LEAF));
    // Text that merely contains the digest or the DER is not an entry naming it.
    let loose = format!(
        "{} {}",
        hex::encode(Sha256::digest(LEAF)),
        Base64::encode_string(LEAF)
    );
    assert!(!bundle_file::entry_matches_leaf(loose.as_bytes(), LEAF));
}

#[test]
fn tampered_proof_hash_is_an_inclusion_error() {
    let f = log_with_entry();
    let mut b = bundle(&f);
    b.proof[1].0[7] ^= 1;
    let b = StapledBundle::parse(b.to_text().as_bytes()).unwrap();
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::StapledInclusion {
                index: 3,
                size: 6,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(bundle_file::rule(&e), "inclusion");
}

#[test]
fn tampered_entry_is_an_inclusion_error_and_wrong_leaf_an_entry_error() {
    let f = log_with_entry();
    let mut b = bundle(&f);
    b.entry.push(b'!');
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert_eq!(bundle_file::rule(&e), "inclusion", "{e}");

    let mut b = bundle(&f);
    b.certificates.swap(0, 1);
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert!(matches!(e, Error::StapledEntryMismatch { .. }), "{e}");
    assert_eq!(bundle_file::rule(&e), "entry");
}

#[test]
fn proof_for_another_tree_size_is_rejected() {
    let mut f = log_with_entry();
    let old = bundle(&f);
    f.log
        .append(&[b"later 6".to_vec(), b"later 7".to_vec()])
        .unwrap();
    let mut b = old.clone();
    b.checkpoint = f.log.head().note.clone();
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert!(matches!(e, Error::StapledInclusion { size: 8, .. }), "{e}");
    // A fresh proof for the later tree verifies.
    let (proof, head) = f.log.prove_inclusion(3).unwrap();
    b.proof = proof.into_iter().map(Into::into).collect();
    b.checkpoint = head.note;
    // ...once the delegate's proof is for that tree too.
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert_eq!(bundle_file::rule(&e), "delegate-entry", "{e}");
    b.add_delegate(&f.log, &delegate_record()).unwrap();
    verify_bundle(&b, &f.log_key, &[], 0).unwrap();
}

#[test]
fn forged_checkpoint_is_a_log_signature_error() {
    let f = log_with_entry();
    let mut b = bundle(&f);
    // Same origin, same tree, but signed by another key with the log's name.
    let forger = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let head = f.log.head();
    b.checkpoint = SignedCheckpoint::sign(&forger, head.size, head.root.0)
        .unwrap()
        .note;
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert!(matches!(e, Error::StapledLogSignature { .. }), "{e}");
    assert_eq!(bundle_file::rule(&e), "log-signature");

    // An altered root under the real signature.
    let mut b = bundle(&f);
    let text = String::from_utf8(b.checkpoint.clone()).unwrap();
    let root_line = text.lines().nth(2).unwrap().to_owned();
    let other = Base64::encode_string(&[7u8; 32]);
    b.checkpoint = text.replacen(&root_line, &other, 1).into_bytes();
    let e = verify_bundle(&b, &f.log_key, &[], 0).unwrap_err();
    assert_eq!(bundle_file::rule(&e), "log-signature", "{e}");
}

#[test]
fn witness_policy() {
    let f = log_with_entry();
    let witness = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let other = SignerKey::generate("witness.example/w2", KeyType::CosignatureV1).unwrap();
    let wkeys = [witness.verifier(), other.verifier()];

    let b = bundle(&f);
    let e = verify_bundle(&b, &f.log_key, &wkeys, 1).unwrap_err();
    assert!(
        matches!(
            e,
            Error::StapledWitnesses {
                valid: 0,
                required: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(bundle_file::rule(&e), "witnesses");
    assert!(
        e.to_string()
            .contains("0 valid witness cosignature(s), 1 required")
    );

    let cp = SignedCheckpoint::verify(&b.checkpoint, &f.log_key).unwrap();
    let line = cosign(&witness, &cp.body().unwrap(), 1_780_000_000).unwrap();
    let mut cosigned = b.clone();
    cosigned.checkpoint = cp.with_signature_lines(std::slice::from_ref(&line)).note;
    let cosigned = StapledBundle::parse(cosigned.to_text().as_bytes()).unwrap();
    let v = verify_bundle(&cosigned, &f.log_key, &wkeys, 1).unwrap();
    assert_eq!(v.witnesses, vec![witness.verifier().label()]);
    // The same cosignature does not count twice, and two are required.
    let e = verify_bundle(&cosigned, &f.log_key, &wkeys, 2).unwrap_err();
    assert!(
        matches!(
            e,
            Error::StapledWitnesses {
                valid: 1,
                required: 2,
                ..
            }
        ),
        "{e}"
    );

    // A tampered cosignature does not count, and is reported.
    let mut bad = b.clone();
    let mut raw = Base64::decode_vec(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
    raw[20] ^= 1;
    let bad_line = format!("— {} {}\n", witness.name(), Base64::encode_string(&raw));
    bad.checkpoint.extend_from_slice(bad_line.as_bytes());
    let e = verify_bundle(&bad, &f.log_key, &wkeys, 1).unwrap_err();
    assert!(e.to_string().contains("bad cosignature by"), "{e}");
}

fn parse_error_line(text: &str) -> (usize, String) {
    match StapledBundle::parse(text.as_bytes()).unwrap_err() {
        Error::StapledFormat {
            line,
            reason,
            source,
        } => (
            line,
            source.map_or(reason.clone(), |e| format!("{reason}: {e}")),
        ),
        other => panic!("not a format error: {other}"),
    }
}

#[test]
fn malformed_bundles_name_the_line() {
    let f = log_with_entry();
    let good = bundle(&f).to_text();
    let lines: Vec<&str> = good.lines().collect();
    let find = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap() + 1;
    let replace = |prefix: &str, new: &str| {
        let n = find(prefix);
        let mut out: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
        out[n - 1] = new.to_owned();
        (n, out.join("\n") + "\n")
    };

    let (n, text) = replace("index:", "index: three");
    assert_eq!(parse_error_line(&text).0, n);
    let (n, text) = replace("index:", "index: 03");
    assert_eq!(parse_error_line(&text).0, n);
    let (n, text) = replace("entry:", "entry: !!!");
    assert_eq!(parse_error_line(&text).0, n);
    let (n, text) = replace("proof:", "proof: AAAA");
    let (line, reason) = parse_error_line(&text);
    assert_eq!((line, reason.contains("not 32")), (n, true), "{reason}");
    let (n, text) = replace("index:", "size: 3");
    let (line, reason) = parse_error_line(&text);
    assert_eq!(line, n);
    assert!(reason.contains("expected \"index:\""), "{reason}");
    let (_, text) = replace("rust-pki-bundle", "rust-pki-bundle/v3");
    assert_eq!(parse_error_line(&text).0, 1);
    // v1 has no delegate lines.
    let (_, text) = replace("rust-pki-bundle", "rust-pki-bundle/v1");
    let (line, reason) = parse_error_line(&text);
    assert_eq!(line, find("delegate-entry:"));
    assert!(reason.contains("expected \"checkpoint:\""), "{reason}");
    let (n, text) = replace("delegate-index:", "delegate-index: x");
    assert_eq!(parse_error_line(&text).0, n);
    let (n, text) = replace("delegate-proof:", "delegate-proof: AAAA");
    assert_eq!(parse_error_line(&text).0, n);
    let (n, text) = replace("-----END CERTIFICATE-----", "entry: AAAA");
    assert_eq!(parse_error_line(&text).0, n);

    // No certificate, no checkpoint, no final newline, empty note.
    let no_cert = good.replacen(
        &good[good.find("-----BEGIN").unwrap()..good.find("entry:").unwrap()],
        "",
        1,
    );
    assert_eq!(parse_error_line(&no_cert).0, 2);
    let cut = &good[..good.find("checkpoint:").unwrap()];
    assert!(parse_error_line(cut).1.contains("checkpoint:"));
    assert!(parse_error_line("rust-pki-bundle/v1").1.contains("\\n"));
    let empty_note = &good[..good.find("checkpoint:").unwrap() + "checkpoint:\n".len()];
    assert!(parse_error_line(empty_note).1.contains("empty checkpoint"));
}

#[test]
fn leaf_bundle_must_prove_its_delegates_ceremony_record() {
    let f = log_with_entry();
    let delegate_rule = |b: &StapledBundle| {
        let e = verify_bundle(b, &f.log_key, &[], 0).unwrap_err();
        assert!(matches!(e, Error::StapledDelegate { .. }), "{e}");
        assert_eq!(bundle_file::rule(&e), "delegate-entry");
        e.to_string()
    };
    // No delegate section (what `ca leaf` wrote before v2, or a delegate never logged).
    let mut b = bundle(&f);
    b.delegate = None;
    let e = delegate_rule(&b);
    assert!(e.contains("carries no delegate entry"), "{e}");
    // A v1 file of the same leaf parses, and fails the same way.
    let v1 = b
        .to_text()
        .replacen("rust-pki-bundle/v2", "rust-pki-bundle/v1", 1);
    let parsed = StapledBundle::parse(v1.as_bytes()).unwrap();
    assert!(delegate_rule(&parsed).contains("carries no delegate entry"));

    // A delegate entry that is not a ceremony record naming the delegate: the leaf's own
    // entry, proven at its own index.
    let mut b = bundle(&f);
    let (proof, _) = f.log.prove_inclusion(3).unwrap();
    b.delegate = Some(bundle_file::DelegateProof {
        entry: leaf_entry(),
        index: 3,
        proof: proof.into_iter().map(Into::into).collect(),
    });
    assert!(delegate_rule(&b).contains("not a ceremony record naming"));

    // A tampered delegate proof, or one at another index.
    let mut b = bundle(&f);
    b.delegate.as_mut().unwrap().proof[0].0[0] ^= 1;
    assert!(delegate_rule(&b).contains("not proven included"));
    let mut b = bundle(&f);
    b.delegate.as_mut().unwrap().index = 2;
    assert!(delegate_rule(&b).contains("not proven included"));
    let mut b = bundle(&f);
    b.delegate.as_mut().unwrap().index = 6;
    assert!(delegate_rule(&b).contains("outside the tree"));

    // A ceremony record not in the log cannot be added.
    let mut b = bundle(&f);
    let other = Entry::ceremony_record("009-delegate-issue.toml", b"other", &[DELEGATE])
        .unwrap()
        .encode()
        .unwrap();
    let e = b.add_delegate(&f.log, &other).unwrap_err();
    assert!(e.to_string().contains("not in the log"), "{e}");
}

#[test]
fn leaf_issuance_must_name_the_chains_delegate() {
    let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let log_key = key.verifier();
    let dir = tempfile::tempdir().unwrap();
    let mut log =
        Log::create(dir.path(), ORIGIN, move |body: &[u8]| sign_note(body, &key)).unwrap();
    // The leaf was logged as issued by another delegate; the chain shows DELEGATE.
    let entry = Entry::leaf_issuance(LEAF, b"\x30\x03another delegate")
        .unwrap()
        .encode()
        .unwrap();
    log.append(&[delegate_record(), entry.clone()]).unwrap();
    let certificates = vec![LEAF.to_vec(), DELEGATE.to_vec()];
    let mut b = StapledBundle::from_log(&log, 1, &entry, certificates).unwrap();
    b.add_delegate(&log, &delegate_record()).unwrap();
    let e = verify_bundle(&b, &log_key, &[], 0).unwrap_err();
    assert_eq!(bundle_file::rule(&e), "delegate-entry", "{e}");
    assert!(e.to_string().contains("names another delegate"), "{e}");
}
