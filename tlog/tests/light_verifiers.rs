//! The verifier side's own implementations (on ring: Ed25519 points and signatures, signed
//! notes, cosignatures, checkpoints) give the same verdicts as the crates the writer uses
//! (ed25519-dalek 3, signed_note 0.2 with ed25519-dalek 2, tlog_tiles) on the same inputs,
//! valid and must-fail. Inclusion proofs are compared on the transparency-dev known answers
//! in tests/vectors_merkle.rs.
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64, Encoding};
use rust_pki_tlog::Error;
use rust_pki_tlog::checkpoint::{SignedCheckpoint, checkpoint_body};
use rust_pki_tlog::cosignature::{Cosignature, cosign, signed_message, verify_cosignature};
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, key_id, sign_note, verify_note};
use sha2::{Digest, Sha256};
use signed_note::{Note, StandardVerifier, Verifier, VerifierList};

const ORIGIN: &str = "pki.rust-lang.org/log";

/// Deterministic pseudo-random 32 bytes.
fn bytes32(i: u64, tag: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

fn vkey_text(name: &str, key_type: KeyType, public: &[u8; 32]) -> String {
    let mut material = vec![key_type.byte()];
    material.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        key_id(name, key_type, public),
        Base64::encode_string(&material)
    )
}

/// The small-order encodings (canonical and not, both signs) that dalek decodes.
fn small_order_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    let mut order8 = [0u8; 32];
    hex_into(
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        &mut order8,
    );
    let mut order8b = [0u8; 32];
    hex_into(
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        &mut order8b,
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut p = [0xffu8; 32];
    p[31] = 0x7f;
    for base in [[0u8; 32], one, order8, order8b] {
        out.push(base);
    }
    for low in [0xec, 0xed, 0xee] {
        let mut e = p;
        e[0] = low;
        out.push(e);
    }
    let signed: Vec<[u8; 32]> = out
        .iter()
        .map(|e| {
            let mut s = *e;
            s[31] |= 0x80;
            s
        })
        .collect();
    out.extend(signed);
    out
}

fn hex_into(s: &str, out: &mut [u8; 32]) {
    out.copy_from_slice(&hex::decode(s).unwrap());
}

#[test]
fn key_parsing_accepts_exactly_the_points_dalek_decodes() {
    let mut candidates: Vec<[u8; 32]> = (0..4000).map(|i| bytes32(i, "point")).collect();
    candidates.extend(small_order_encodings());
    // Small values of y, and values at and above p (non-canonical y).
    for k in 0..=40u8 {
        let mut small = [0u8; 32];
        small[0] = k;
        candidates.push(small);
        let mut high = [0xffu8; 32];
        high[31] = 0x7f;
        high[0] = 0xd0 + (k % 0x30);
        candidates.push(high);
    }
    let (mut valid, mut invalid) = (0, 0);
    for c in &candidates {
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(c).is_ok();
        let ours = VerifierKey::parse(&vkey_text(ORIGIN, KeyType::Ed25519, c));
        assert_eq!(
            ours.is_ok(),
            dalek,
            "{}: dalek {dalek}, ours {ours:?}",
            hex::encode(c)
        );
        if let Err(e) = ours {
            assert!(
                e.to_string().contains("not a valid Ed25519 public key"),
                "{e}"
            );
            invalid += 1;
        } else {
            valid += 1;
        }
        // signed_note's own key parser agrees too.
        assert_eq!(
            StandardVerifier::new(&vkey_text(ORIGIN, KeyType::Ed25519, c)).is_ok(),
            dalek
        );
    }
    // Both outcomes are exercised (about half of all y values are on the curve).
    assert!(
        valid > 1000 && invalid > 1000,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn small_order_list_is_dalek_s_weak_keys() {
    for e in small_order_encodings() {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&e).unwrap();
        assert!(key.is_weak(), "{}", hex::encode(e));
    }
    for i in 0..200 {
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&bytes32(i, "weak")) {
            assert!(!key.is_weak());
        }
    }
}

/// What a verifier made of a note: the labels it verified, or the error class.
#[derive(Debug, PartialEq, Eq)]
enum NoteVerdict {
    Verified(Vec<String>, usize),
    Malformed,
    BadSignature(String),
    Unverified,
}

fn ours(msg: &[u8], keys: &[VerifierKey]) -> NoteVerdict {
    match verify_note(msg, keys) {
        Ok(v) => NoteVerdict::Verified(v.verified_by, v.other_signatures.len()),
        Err(Error::NoteMalformed(_)) => NoteVerdict::Malformed,
        Err(Error::NoteBadSignature { key }) => NoteVerdict::BadSignature(key),
        Err(Error::NoteUnknownKey { .. }) => NoteVerdict::Unverified,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn theirs(msg: &[u8], keys: &[VerifierKey]) -> NoteVerdict {
    let Ok(note) = Note::from_bytes(msg) else {
        return NoteVerdict::Malformed;
    };
    let list: Vec<Box<dyn Verifier>> = keys
        .iter()
        .map(|k| Box::new(StandardVerifier::new(&k.to_string()).unwrap()) as Box<dyn Verifier>)
        .collect();
    match note.verify(&VerifierList::new(list)) {
        Ok((verified, others)) => NoteVerdict::Verified(
            verified
                .iter()
                .map(|s| format!("{}+{:08x}", s.name(), s.id()))
                .collect(),
            others.len(),
        ),
        Err(signed_note::NoteError::InvalidSignature { name, id }) => {
            NoteVerdict::BadSignature(format!("{name}+{id:08x}"))
        }
        Err(signed_note::NoteError::UnverifiedNote) => NoteVerdict::Unverified,
        Err(_) => NoteVerdict::Malformed,
    }
}

fn sig_line(name: &str, id: u32, sig: &[u8]) -> String {
    let mut raw = id.to_be_bytes().to_vec();
    raw.extend_from_slice(sig);
    format!("— {name} {}\n", Base64::encode_string(&raw))
}

/// Adds the group order L to the S half of a signature (a non-canonical S).
fn non_canonical_s(sig: &[u8]) -> Vec<u8> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = sig.to_vec();
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(out[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = v as u8;
        carry = v >> 8;
    }
    out
}

#[test]
fn note_verification_agrees_with_signed_note() {
    let k = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let other = SignerKey::generate("other.example/log", KeyType::Ed25519).unwrap();
    let text = checkpoint_body(ORIGIN, 5, [9; 32]).unwrap();
    let note = sign_note(&text, &k).unwrap();
    let note_s = String::from_utf8(note.clone()).unwrap();
    let other_note = sign_note(&text, &other).unwrap();
    let other_line = String::from_utf8(other_note[text.len() + 1..].to_vec()).unwrap();
    let own_line = note_s[text.len() + 1..].to_owned();
    let raw_sig = Base64::decode_vec(own_line.trim_end().rsplit(' ').next().unwrap()).unwrap();
    let sig = &raw_sig[4..];

    // A key of small order (the identity) and a signature that passes cofactorless
    // verification: R = identity, S = 0.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak_vkey = vkey_text("weak.example/log", KeyType::Ed25519, &identity);
    let weak = VerifierKey::parse(&weak_vkey).unwrap();
    let mut weak_sig = identity.to_vec();
    weak_sig.extend_from_slice(&[0; 32]);
    let weak_note = format!(
        "{}\n{}",
        String::from_utf8(text.clone()).unwrap(),
        sig_line(weak.name(), weak.id(), &weak_sig)
    );

    let body = String::from_utf8(text.clone()).unwrap();
    let id = k.id();
    let cases: Vec<(&str, Vec<u8>, Vec<VerifierKey>)> = vec![
        ("valid", note.clone(), vec![k.verifier()]),
        (
            "valid, two keys known",
            note.clone(),
            vec![k.verifier(), other.verifier()],
        ),
        (
            "cosigned by another key",
            format!("{note_s}{other_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "other signature first",
            format!("{body}\n{other_line}{own_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "unknown signature repeated",
            format!("{note_s}{other_line}{other_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "own signature repeated",
            format!("{note_s}{own_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "only an unknown key",
            other_note.clone(),
            vec![k.verifier()],
        ),
        ("no key given", note.clone(), vec![]),
        (
            "same key twice",
            note.clone(),
            vec![k.verifier(), k.verifier()],
        ),
        (
            "altered text",
            note_s.replacen('5', "6", 1).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "signature 63 bytes",
            format!("{body}\n{}", sig_line(ORIGIN, id, &sig[..63])).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "signature 65 bytes",
            format!("{body}\n{}", sig_line(ORIGIN, id, &[sig, &[0]].concat())).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "non-canonical S",
            format!("{body}\n{}", sig_line(ORIGIN, id, &non_canonical_s(sig))).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "good then bad by the same key",
            format!("{note_s}{}", sig_line(ORIGIN, id, &[0; 64])).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "bad then good by the same key",
            format!("{body}\n{}{own_line}", sig_line(ORIGIN, id, &[0; 64])).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "signature too short to hold an id",
            format!("{body}\n{}", sig_line(ORIGIN, id, &[])).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "no blank line",
            format!("{body}{own_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "no final newline",
            note_s.trim_end().as_bytes().to_vec(),
            vec![k.verifier()],
        ),
        (
            "empty signature block",
            format!("{body}\n").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "trailing blank line",
            format!("{note_s}\n").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "carriage return",
            note_s.replace('\n', "\r\n").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "tab in the text",
            format!("a\tb\n\n{own_line}").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "not UTF-8",
            [b"\xff\n\n".as_slice(), own_line.as_bytes()].concat(),
            vec![k.verifier()],
        ),
        (
            "plain dash",
            note_s.replace("— ", "- ").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "bad base64",
            format!("{note_s}— x !!!!\n").into_bytes(),
            vec![k.verifier()],
        ),
        (
            "unpadded base64",
            format!("{}\n", note_s.trim_end().trim_end_matches('=')).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "name with a plus",
            format!("{note_s}{}", sig_line("a+b", 1, &[0; 64])).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "extra field",
            format!("{}\n", note_s.trim_end())
                .replace("— pki", "— x pki")
                .into_bytes(),
            vec![k.verifier()],
        ),
        (
            "101 signatures",
            format!("{note_s}{}", other_line.repeat(100)).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "100 signatures",
            format!("{note_s}{}", other_line.repeat(99)).into_bytes(),
            vec![k.verifier()],
        ),
        (
            "small-order key, cofactorless",
            weak_note.into_bytes(),
            vec![weak.clone()],
        ),
    ];
    for (what, msg, keys) in cases {
        let (o, t) = (ours(&msg, &keys), theirs(&msg, &keys));
        assert_eq!(o, t, "{what}: ours vs signed_note");
    }
}

#[test]
fn cosignature_verification_agrees_with_dalek_verify_strict() {
    let w = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let body = checkpoint_body(ORIGIN, 7, [3; 32]).unwrap();
    let good = Cosignature::parse(&cosign(&w, &body, 1_700_000_000).unwrap()).unwrap();
    let public = ed25519_dalek::VerifyingKey::from_bytes(w.verifier().public_key()).unwrap();

    let with_sig = |signature: [u8; 64]| Cosignature {
        signature,
        ..good.clone()
    };
    let mut flipped = good.signature;
    flipped[40] ^= 1;
    let non_canonical: [u8; 64] = non_canonical_s(&good.signature).try_into().unwrap();
    let later = Cosignature {
        timestamp: good.timestamp + 1,
        ..good.clone()
    };
    let cases = [
        ("valid", good.clone(), body.clone()),
        (
            "other body",
            good.clone(),
            checkpoint_body(ORIGIN, 8, [3; 32]).unwrap(),
        ),
        ("flipped bit", with_sig(flipped), body.clone()),
        ("non-canonical S", with_sig(non_canonical), body.clone()),
        ("other timestamp", later, body.clone()),
    ];
    for (what, c, body) in cases {
        let msg = signed_message(c.timestamp, &body);
        let dalek = public
            .verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&c.signature))
            .is_ok();
        let ours = verify_cosignature(&c.to_line(), &body, &w.verifier());
        assert_eq!(ours.is_ok(), dalek, "{what}: {ours:?}");
        if let Err(e) = ours {
            assert!(
                matches!(e, Error::CosignatureBadSignature { .. }),
                "{what}: {e}"
            );
        }
    }

    // A small-order witness key with a signature that passes cofactorless verification:
    // verify_strict refuses it, and so do we.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifierKey::parse(&vkey_text(
        "weak.example/w",
        KeyType::CosignatureV1,
        &identity,
    ))
    .unwrap();
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let c = Cosignature {
        name: weak.name().to_owned(),
        key_id: weak.id(),
        timestamp: 1,
        signature: sig,
    };
    let msg = signed_message(1, &body);
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    assert!(dalek_key.verify_strict(&msg, &sig).is_err());
    // (Cofactorless verification accepts it: the check is what makes the difference.)
    assert!(ed25519_dalek::Verifier::verify(&dalek_key, &msg, &sig).is_ok());
    let e = verify_cosignature(&c.to_line(), &body, &weak).unwrap_err();
    assert!(matches!(e, Error::CosignatureBadSignature { .. }), "{e}");
}

#[test]
fn checkpoint_parsing_agrees_with_tlog_tiles() {
    let k = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
    let root = Base64::encode_string(&[4u8; 32]);
    let bodies = [
        format!("{ORIGIN}\n12\n{root}\n"),
        format!("{ORIGIN}\n0\n{root}\n"),
        format!("{ORIGIN}\n12\n{root}\nextension line\n"),
        format!("{ORIGIN}\n012\n{root}\n"),
        format!("{ORIGIN}\n+12\n{root}\n"),
        format!("{ORIGIN}\n-1\n{root}\n"),
        format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
        format!("{ORIGIN}\n12\n{}\n", Base64::encode_string(&[4u8; 31])),
        format!("{ORIGIN}\n12\n{}\n", root.trim_end_matches('=')),
        format!("{ORIGIN}\n12\n"),
        format!("{ORIGIN}\n12\n{root}\n\nafter a blank line\n"),
        format!("{ORIGIN}\n12\n{root}\n \n"),
    ];
    for body in bodies {
        let note = sign_note(body.as_bytes(), &k).unwrap();
        let ours = SignedCheckpoint::verify(&note, &k.verifier());
        let theirs = tlog_tiles::Checkpoint::from_bytes(body.as_bytes());
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{body:?}: {ours:?}");
        if let (Ok(o), Ok(t)) = (ours, theirs) {
            assert_eq!((o.size, o.root_hash), (t.size(), t.hash().0));
        }
    }
}
