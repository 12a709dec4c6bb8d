//! Keys, signed notes, checkpoints and cosignatures; interop with an independent Python
//! signed-note implementation (tests/interop/signed_note.py).
// The writer side (feature `writer`, on by default) builds the logs and keys used here.
#![cfg(feature = "writer")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_pki_tlog::Error;
use rust_pki_tlog::checkpoint::{SignedCheckpoint, checkpoint_body};
use rust_pki_tlog::cosignature::{Cosignature, cosign, signed_message, verify_cosignature};
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, sign_note, verify_note};

const ORIGIN: &str = "pki.rust-lang.org/log";
const ROOT: [u8; 32] = [7u8; 32];

fn log_key() -> SignerKey {
    SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap()
}

#[test]
fn key_text_round_trip_and_redaction() {
    let k = log_key();
    let skey = k.expose_secret();
    assert!(skey.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+")));
    let k2 = SignerKey::parse(&skey).unwrap();
    assert_eq!(k2.verifier(), k.verifier());
    let vkey = k.verifier().to_string();
    assert_eq!(VerifierKey::parse(&vkey).unwrap(), k.verifier());
    assert_eq!(
        VerifierKey::parse(&format!("{vkey}\n")).unwrap(),
        k.verifier()
    );
    // Base64 key material often contains '+': parse many keys (regression).
    for _ in 0..64 {
        let k = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
        assert_eq!(
            VerifierKey::parse(&k.verifier().to_string()).unwrap(),
            k.verifier()
        );
        assert_eq!(
            SignerKey::parse(&k.expose_secret()).unwrap().verifier(),
            k.verifier()
        );
    }
    // Secret never in Debug output.
    let dbg = format!("{k:?}");
    assert!(dbg.contains("redacted") && !dbg.contains(skey.rsplit('+').next().unwrap()));
}

/// Each kind of key given where the other belongs is named as such, and the secret one is
/// never parsed (or quoted) as a vkey.
#[test]
fn secret_and_public_keys_are_not_swapped() {
    let k = log_key();
    let skey = k.expose_secret();
    let error = VerifierKey::parse(&skey).unwrap_err();
    assert!(matches!(error, Error::SecretKeyAsPublic), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("keep the secret key out of CI"), "{text}");
    assert!(!text.contains(&skey[12..]), "{text}");
    let error = SignerKey::parse(&k.verifier().to_string()).unwrap_err();
    assert!(matches!(error, Error::PublicKeyAsSecret), "{error:?}");
    assert!(error.to_string().contains("public verifier key"), "{error}");
}

#[test]
fn vkey_parse_is_strict() {
    let vkey = log_key().verifier().to_string();
    let (name, rest) = vkey.split_once('+').unwrap();
    let (id, b64) = rest.split_once('+').unwrap();
    let cases = [
        (format!("{name}+{id}"), "3 fields"),
        (format!("{name}+{id}+{b64}+x"), "base64"),
        (format!("bad name+{id}+{b64}"), "invalid key name"),
        (format!("{name}+{}+{b64}", &id[..7]), "8 hex digits"),
        (format!("{name}+zzzzzzzz+{b64}"), "8 hex digits"),
        (format!("{name}+{id}+{}", &b64[..b64.len() - 1]), "base64"),
        (format!("{name}+00000000+{b64}"), "does not match"),
        (format!("other.example/log+{id}+{b64}"), "does not match"),
    ];
    for (text, want) in cases {
        let err = VerifierKey::parse(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err} (want {want})");
    }
    // Unknown signature type.
    let bad_type = format!("{name}+{id}+{}", {
        let mut raw = base64_decode(b64);
        raw[0] = 0x02;
        base64_encode(&raw)
    });
    let err = VerifierKey::parse(&bad_type).unwrap_err().to_string();
    assert!(err.contains("unsupported signature type 0x02"), "{err}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64ct::Encoding;
    base64ct::Base64::decode_vec(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(b)
}

#[test]
fn note_sign_verify_and_errors() {
    let k = log_key();
    let note = sign_note(b"hello\nworld\n", &k).unwrap();
    let v = verify_note(&note, &[k.verifier()]).unwrap();
    assert_eq!(v.text, b"hello\nworld\n");
    assert_eq!(v.verified_by, vec![k.verifier().label()]);

    // Tampered text byte: bad signature.
    let mut t = note.clone();
    t[0] = b'j';
    assert!(matches!(
        verify_note(&t, &[k.verifier()]),
        Err(Error::NoteBadSignature { .. })
    ));
    // Tampered signature byte (inside base64): bad signature or malformed, never accepted.
    let mut t = note.clone();
    let n = t.len();
    t[n - 10] = if t[n - 10] == b'A' { b'B' } else { b'A' };
    assert!(verify_note(&t, &[k.verifier()]).is_err());
    // Wrong key (same name, different key): unknown key.
    let other = log_key();
    let err = verify_note(&note, &[other.verifier()]).unwrap_err();
    assert!(matches!(err, Error::NoteUnknownKey { .. }), "{err}");
    assert!(err.to_string().contains(&k.verifier().label()), "{err}");
    // Malformed: no signature block, text without final newline.
    assert!(matches!(
        verify_note(b"hello\n", &[k.verifier()]),
        Err(Error::NoteMalformed(_))
    ));
    assert!(matches!(
        sign_note(b"no newline", &k),
        Err(Error::NoteMalformed(_))
    ));
    // A witness key cannot sign notes.
    let w = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    assert!(sign_note(b"x\n", &w).is_err());
}

#[test]
fn checkpoint_sign_verify_and_errors() {
    let k = log_key();
    let cp = SignedCheckpoint::sign(&k, 42, ROOT).unwrap();
    let text = String::from_utf8(cp.note.clone()).unwrap();
    assert!(text.starts_with(&format!(
        "{ORIGIN}\n42\n{}\n\n— {ORIGIN} ",
        base64_encode(&ROOT)
    )));
    let back = SignedCheckpoint::verify(&cp.note, &k.verifier()).unwrap();
    assert_eq!(back, cp);

    // Forged: size changed.
    let forged = text.replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        SignedCheckpoint::verify(forged.as_bytes(), &k.verifier()),
        Err(Error::NoteBadSignature { .. })
    ));
    // Origin mismatch: a note signed by the log key whose first line is another origin.
    let body = checkpoint_body("other.example/log", 42, ROOT).unwrap();
    let note = sign_note(&body, &k).unwrap();
    let err = SignedCheckpoint::verify(&note, &k.verifier()).unwrap_err();
    assert!(
        matches!(err, Error::CheckpointOriginMismatch { .. }),
        "{err}"
    );
    // Signed note that is not a checkpoint.
    let note = sign_note(b"not a checkpoint\n", &k).unwrap();
    assert!(matches!(
        SignedCheckpoint::verify(&note, &k.verifier()),
        Err(Error::CheckpointMalformed(_))
    ));
}

#[test]
fn cosignature_round_trip_and_tampering() {
    let k = log_key();
    let w = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let wv = VerifierKey::parse(&w.verifier().to_string()).unwrap();
    let cp = SignedCheckpoint::sign(&k, 5, ROOT).unwrap();
    let body = cp.body().unwrap();
    let line = cosign(&w, &body, 1_700_000_000).unwrap();
    let c = verify_cosignature(&line, &body, &wv).unwrap();
    assert_eq!(c.timestamp, 1_700_000_000);
    assert_eq!(c.to_line(), line);

    // Tampered timestamp.
    let mut t = Cosignature::parse(&line).unwrap();
    t.timestamp += 1;
    assert!(matches!(
        verify_cosignature(&t.to_line(), &body, &wv),
        Err(Error::CosignatureBadSignature { .. })
    ));
    // Other checkpoint.
    let body2 = checkpoint_body(ORIGIN, 6, ROOT).unwrap();
    assert!(matches!(
        verify_cosignature(&line, &body2, &wv),
        Err(Error::CosignatureBadSignature { .. })
    ));
    // Other witness.
    let w2 = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    assert!(matches!(
        verify_cosignature(&line, &body, &w2.verifier()),
        Err(Error::CosignatureWrongKey { .. })
    ));
    // A note (0x01) key is not a witness key, and vice versa.
    assert!(verify_cosignature(&line, &body, &k.verifier()).is_err());
    assert!(cosign(&k, &body, 1).is_err());

    // The cosigned checkpoint still verifies with the log key (cosignature line is an
    // ordinary note signature by an unknown key), and the line is kept.
    let cosigned = cp.clone().with_signature_lines(std::slice::from_ref(&line));
    let v = verify_note(&cosigned.note, &[k.verifier()]).unwrap();
    assert_eq!(v.other_signatures.len(), 1);
    assert_eq!(v.other_signatures[0].1, wv.id());
}

/// The example in C2SP tlog-cosignature (github.com/C2SP/C2SP, tlog-cosignature.md,
/// "Transparency Log Cosignatures" and "Ed25519 signed message"), carried over as data.
/// The spec gives no public key, so the signature itself cannot be checked: we check the
/// line's structure (key id, timestamp) and the signed-message construction.
#[test]
fn c2sp_tlog_cosignature_example() {
    let line = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    let c = Cosignature::parse(line).unwrap();
    assert_eq!(c.name, "witness.example.com/w1");
    assert_eq!(c.key_id, 0x8d66_cf3f);
    assert_eq!(c.timestamp, 1_679_315_147);
    assert_eq!(c.to_line(), format!("{line}\n"));

    let body =
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let expected = "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(signed_message(c.timestamp, body), expected.as_bytes());

    // Key id rule: SHA-256(name ‖ "\n" ‖ 0x04 ‖ pubkey)[:4] differs from the 0x01 id.
    let w = SignerKey::generate("witness.example.com/w1", KeyType::CosignatureV1).unwrap();
    let pk = *w.verifier().public_key();
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"witness.example.com/w1\n\x04");
    h.update(pk);
    let d = h.finalize();
    assert_eq!(w.id(), u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
    assert_ne!(
        w.id(),
        rust_pki_tlog::note::key_id("witness.example.com/w1", KeyType::Ed25519, &pk)
    );

    // Malformed lines.
    for bad in [
        "witness.example.com/w1 jWbP",
        "— witness.example.com/w1",
        "— witness.example.com/w1 jWbPPwAAAABkGFDL",
        "— witness.example.com/w1 !!!!",
    ] {
        assert!(
            matches!(Cosignature::parse(bad), Err(Error::CosignatureMalformed(_))),
            "{bad}"
        );
    }
}

// ---- interop with tests/interop/signed_note.py ----

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if !venv.exists() {
        panic!(
            "{} is missing: run scripts/install-deps (it creates the venv with pkilint, \
             which brings `cryptography`) to run the signed-note interop tests",
            venv.display()
        );
    }
    venv
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/signed_note.py")
}

fn run_py(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(python())
        .arg(script())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn interop_our_checkpoint_verifies_in_python() {
    let dir = tempfile::tempdir().unwrap();
    let k = log_key();
    let w = SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap();
    let cp = SignedCheckpoint::sign(&k, 1234, ROOT).unwrap();
    let line = cosign(&w, &cp.body().unwrap(), 1_700_000_000).unwrap();
    let cp = cp.with_signature_lines(&[line]);
    let path = dir.path().join("checkpoint");
    std::fs::write(&path, &cp.note).unwrap();
    let vkey = k.verifier().to_string();
    let wkey = w.verifier().to_string();

    let out = run_py(&["verify".as_ref(), path.as_os_str(), vkey.as_ref()]);
    assert!(
        out.status.success(),
        "python verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_py(&["verify-cosig".as_ref(), path.as_os_str(), wkey.as_ref()]);
    assert!(
        out.status.success(),
        "python cosig: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Negative control: a forged checkpoint fails in Python too.
    let forged = String::from_utf8(cp.note.clone())
        .unwrap()
        .replacen("\n1234\n", "\n1235\n", 1);
    std::fs::write(&path, forged).unwrap();
    let out = run_py(&["verify".as_ref(), path.as_os_str(), vkey.as_ref()]);
    assert!(!out.status.success(), "python accepted a forged checkpoint");
}

#[test]
fn interop_python_note_verifies_here() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text");
    let body = checkpoint_body("python.example/log", 9, ROOT).unwrap();
    std::fs::write(&text, &body).unwrap();
    let note_path = dir.path().join("note");
    let vkey_path = dir.path().join("vkey");
    let out = run_py(&[
        "sign".as_ref(),
        "python.example/log".as_ref(),
        text.as_os_str(),
        note_path.as_os_str(),
        vkey_path.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "python sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = VerifierKey::parse(&std::fs::read_to_string(&vkey_path).unwrap()).unwrap();
    let note = std::fs::read(&note_path).unwrap();
    let v = verify_note(&note, std::slice::from_ref(&vkey)).unwrap();
    assert_eq!(v.text, body);
    let cp = SignedCheckpoint::verify(&note, &vkey).unwrap();
    assert_eq!(
        (cp.origin.as_str(), cp.size, cp.root_hash),
        ("python.example/log", 9, ROOT)
    );
}
