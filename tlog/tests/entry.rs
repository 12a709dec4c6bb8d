//! The `rust-pki-log-entry/v1` encoding: round trips, the size rule for ceremony records,
//! and strict parsing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_pki_tlog::Error;
use rust_pki_tlog::entry::Entry;
use sha2::{Digest, Sha256};

const NO_CERTS: &[&[u8]] = &[];

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn samples() -> Vec<Entry> {
    vec![
        Entry::ceremony_record(
            "2026-01-02-root-key.toml",
            b"kind = \"root-key\"\n",
            &[b"root DER".as_slice(), b"cross DER"],
        )
        .unwrap(),
        Entry::ceremony_record("big.toml", &vec![b'x'; 70_000], NO_CERTS).unwrap(),
        Entry::leaf_issuance(&[0x30, 0x03, 0x02, 0x01, 0x07], b"delegate der").unwrap(),
        Entry::artifact(
            "rustc-1.90.0-x86_64-unknown-linux-gnu.tar.xz",
            123_456,
            sha(b"a"),
        )
        .unwrap(),
        Entry::artifact("empty file", 0, sha(b"")).unwrap(),
        Entry::signed_artifact("serde-1.0.0.crate", 42, sha(b"crate"), b"leaf DER").unwrap(),
        Entry::bastion_event(
            "admit",
            "2026-11-26T10:00:00Z",
            &["m1".into(), "m2".into()],
            &["i-0123456789abcdef0".into()],
        )
        .unwrap(),
        Entry::bastion_event("down", "2026-11-26T12:00:00Z", &[], &[]).unwrap(),
        Entry::revocation(
            b"delegate DER",
            &[0x5d, 0x0f, 0x6e],
            "key-compromise",
            "2026-12-05T19:27:46Z",
            Some(b"leaf DER"),
        )
        .unwrap(),
        Entry::revocation(
            b"d",
            &[0x00, 0x80],
            "unspecified",
            "2049-12-31T23:59:59Z",
            None,
        )
        .unwrap(),
        Entry::crl(b"delegate DER", 7, b"\x30\x03\x02\x01\x07").unwrap(),
        Entry::crl(b"delegate DER", u64::MAX, &vec![0x30; 40_000]).unwrap(),
    ]
}

#[test]
fn round_trips() {
    for entry in samples() {
        let bytes = entry.encode().unwrap();
        assert!(bytes.len() <= 65535);
        assert_eq!(Entry::parse(&bytes).unwrap(), entry, "{}", entry.kind());
        // Encoding is deterministic: parse then encode gives the same bytes.
        assert_eq!(Entry::parse(&bytes).unwrap().encode().unwrap(), bytes);
    }
}

#[test]
fn exact_texts() {
    let e = Entry::ceremony_record("r.toml", b"hi", NO_CERTS).unwrap();
    assert_eq!(
        String::from_utf8(e.encode().unwrap()).unwrap(),
        format!(
            "rust-pki-log-entry/v1 ceremony-record\nfile-name: r.toml\nsize: 2\nsha256: {}\ncertificates: -\nrecord: aGk=\n",
            hex::encode(sha(b"hi"))
        )
    );
    let e = Entry::leaf_issuance(b"\x30\x00", b"d").unwrap();
    assert_eq!(
        String::from_utf8(e.encode().unwrap()).unwrap(),
        format!(
            "rust-pki-log-entry/v1 leaf-issuance\ncertificate: MAA=\ndelegate-sha256: {}\n",
            hex::encode(sha(b"d"))
        )
    );
}

#[test]
fn large_ceremony_records_log_the_digest_only() {
    // The largest record that still fits is included; one byte more and only the digest is.
    let fits = |n: usize| {
        let record = vec![b'r'; n];
        match Entry::ceremony_record("r.toml", &record, NO_CERTS).unwrap() {
            Entry::CeremonyRecord {
                record: Some(bytes),
                ..
            } => {
                assert_eq!(bytes, record);
                true
            }
            Entry::CeremonyRecord {
                record: None,
                size,
                sha256,
                ..
            } => {
                assert_eq!((size, sha256), (n as u64, sha(&record)));
                false
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(fits(1000));
    assert!(!fits(70_000));
    // Find the boundary and check both sides encode within the limit.
    let (mut lo, mut hi) = (1000, 70_000); // fits(lo), !fits(hi)
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let max = lo;
    assert!(!fits(max + 1));
    for n in [max, max + 1] {
        let e = Entry::ceremony_record("r.toml", &vec![b'r'; n], NO_CERTS).unwrap();
        assert!(e.encode().unwrap().len() <= 65535);
    }
    let big = Entry::ceremony_record("r.toml", &vec![b'r'; max + 1], NO_CERTS)
        .unwrap()
        .encode()
        .unwrap();
    assert!(String::from_utf8(big).unwrap().ends_with("\nrecord: -\n"));
}

#[test]
fn oversized_leaf_is_refused() {
    assert!(matches!(
        Entry::leaf_issuance(&vec![0u8; 60_000], b"d"),
        Err(Error::EntryTooLong { .. })
    ));
}

#[test]
fn invalid_values_are_refused() {
    for name in [
        "",
        "a\nb",
        "tab\there",
        " lead",
        "trail ",
        &"n".repeat(1025),
    ] {
        assert!(matches!(
            Entry::artifact(name, 1, [0; 32]),
            Err(Error::EntryInvalid(_))
        ));
        assert!(Entry::ceremony_record(name, b"x", NO_CERTS).is_err());
    }
    assert!(Entry::ceremony_record("r", b"", NO_CERTS).is_err());
    assert!(Entry::leaf_issuance(b"", b"d").is_err());
    let forged = Entry::CeremonyRecord {
        file_name: "r".into(),
        size: 1,
        sha256: [0; 32],
        certificates: Vec::new(),
        record: Some(b"x".to_vec()),
    };
    assert!(matches!(forged.encode(), Err(Error::EntryInvalid(_))));
}

fn artifact_text() -> String {
    String::from_utf8(
        Entry::artifact("f", 5, sha(b"hello"))
            .unwrap()
            .encode()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn strict_parsing() {
    let good = artifact_text();
    let h = hex::encode(sha(b"hello"));
    let bad: Vec<(String, &str)> = vec![
        (good.replace("v1", "v2"), "other version"),
        (good.replace("artifact\n", "artefact\n"), "unknown kind"),
        (
            good.replace("artifact\n", "artifact \n"),
            "trailing space in header",
        ),
        (good.trim_end_matches('\n').to_owned(), "no final newline"),
        (format!("{good}extra\n"), "trailing line"),
        (format!("{good}\n"), "trailing empty line"),
        (good.replace("size: 5\n", ""), "missing field"),
        (
            good.replace("name: f\nsize: 5\n", "size: 5\nname: f\n"),
            "reordered",
        ),
        (
            good.replace("name: f\n", "name: f\nname: f\n"),
            "duplicated",
        ),
        (good.replace("name: f\n", "nom: f\n"), "unknown field"),
        (good.replace("name: f\n", "name:f\n"), "no space"),
        (good.replace("name: f\n", "name:  f\n"), "two spaces"),
        (good.replace("name: f\n", "name: \n"), "empty name"),
        (good.replace("\n", "\r\n"), "CRLF"),
        (good.replace("size: 5", "size: 05"), "leading zero"),
        (good.replace("size: 5", "size: +5"), "sign"),
        (
            good.replace("size: 5", "size: 18446744073709551616"),
            "overflow",
        ),
        (good.replace(&h, &h.to_uppercase()), "uppercase hex"),
        (good.replace(&h, &h[2..]), "short digest"),
        (String::new(), "empty"),
    ];
    for (text, why) in bad {
        let err = Entry::parse(text.as_bytes()).expect_err(why);
        assert!(
            matches!(err, Error::EntryMalformed { .. }),
            "{why}: {err:?}"
        );
    }
    assert!(Entry::parse(&[0xff, 0xfe]).is_err());
    assert!(matches!(
        Entry::parse(&vec![b'a'; 65536]),
        Err(Error::EntryTooLong { .. })
    ));
}

#[test]
fn ceremony_records_name_their_certificates() {
    let e = Entry::ceremony_record("r", b"hi", &[b"one".as_slice(), b"two"]).unwrap();
    let text = String::from_utf8(e.encode().unwrap()).unwrap();
    assert!(
        text.contains(&format!(
            "\ncertificates: {},{}\n",
            hex::encode(sha(b"one")),
            hex::encode(sha(b"two"))
        )),
        "{text}"
    );
    assert!(e.names_certificate(b"one") && e.names_certificate(b"two"));
    assert!(!e.names_certificate(b"three"));
    // Even a record too large to include keeps naming its certificates.
    let big = Entry::ceremony_record("r", &vec![b'r'; 70_000], &[b"one"]).unwrap();
    assert!(matches!(big, Entry::CeremonyRecord { record: None, .. }));
    assert!(big.names_certificate(b"one"));
    let leaf = Entry::leaf_issuance(b"leaf", b"delegate").unwrap();
    assert!(leaf.names_certificate(b"leaf") && !leaf.names_certificate(b"delegate"));
    assert!(
        !Entry::artifact("a", 1, sha(b"a"))
            .unwrap()
            .names_certificate(b"a")
    );
    // A signed artifact names its signer (a stapled bundle proves the signature's entry).
    let signed = Entry::signed_artifact("a", 1, sha(b"a"), b"leaf").unwrap();
    assert!(signed.names_certificate(b"leaf") && !signed.names_certificate(b"a"));
    let text = String::from_utf8(signed.encode().unwrap()).unwrap();
    assert!(
        text.ends_with(&format!("signer-sha256: {}\n", hex::encode(sha(b"leaf")))),
        "{text}"
    );
    // The field is required: an artifact entry without it is refused, not read as unsigned.
    let unsigned = String::from_utf8(
        Entry::artifact("a", 1, sha(b"a"))
            .unwrap()
            .encode()
            .unwrap(),
    )
    .unwrap();
    let truncated = unsigned.replace("signer-sha256: -\n", "");
    assert!(Entry::parse(truncated.as_bytes()).is_err());
}

#[test]
fn bastion_events_are_exact_and_strict() {
    let e = Entry::bastion_event(
        "up",
        "2026-11-26T10:00:00Z",
        &["m3".into()],
        &["i-0abc".into(), "hsm-xyz".into()],
    )
    .unwrap();
    let text = String::from_utf8(e.encode().unwrap()).unwrap();
    assert_eq!(
        text,
        "rust-pki-log-entry/v1 bastion-event\naction: up\ntime: 2026-11-26T10:00:00Z\n\
         members: m3\nresources: i-0abc,hsm-xyz\n"
    );
    for bad in ["", "-", "a,b", " m1"] {
        assert!(
            Entry::bastion_event("up", "t", &[bad.to_owned()], &[]).is_err(),
            "{bad:?}"
        );
    }
    for (from, to) in [
        ("members: m3", "members: "),
        ("members: m3", "members: m3,"),
        ("members: m3", "members: -,m3"),
        ("resources: i-0abc,hsm-xyz", "resources: i-0abc,,hsm-xyz"),
    ] {
        let broken = text.replace(from, to);
        assert!(
            matches!(
                Entry::parse(broken.as_bytes()),
                Err(Error::EntryMalformed { .. })
            ),
            "{broken}"
        );
    }
}

#[test]
fn strict_base64_and_record_checks() {
    let good = String::from_utf8(
        Entry::ceremony_record("r", b"hi", NO_CERTS)
            .unwrap()
            .encode()
            .unwrap(),
    )
    .unwrap();
    for (from, to, why) in [
        ("record: aGk=", "record: aGk", "unpadded"),
        ("record: aGk=", "record: aGl=", "non-canonical bits"),
        ("record: aGk=", "record: ", "empty"),
        (
            "record: aGk=",
            "record: aGVsbG8=",
            "record not matching size/digest",
        ),
        ("size: 2", "size: 3", "size mismatch"),
        (
            "certificates: -",
            "certificates: ",
            "empty certificate list",
        ),
        ("certificates: -", "certificates: -,-", "dash in a list"),
        (
            "certificates: -",
            &format!("certificates: {},", "ab".repeat(32)),
            "trailing comma",
        ),
        (
            "certificates: -",
            &format!("certificates: {}", "AB".repeat(32)),
            "upper-case digest",
        ),
    ] {
        let text = good.replace(from, to);
        assert_ne!(text, good);
        assert!(
            matches!(
                Entry::parse(text.as_bytes()),
                Err(Error::EntryMalformed { .. })
            ),
            "{why}"
        );
    }
    // "-" (digest only) is accepted and means the bytes are not in the entry.
    let digest_only = good.replace("record: aGk=", "record: -");
    assert!(matches!(
        Entry::parse(digest_only.as_bytes()).unwrap(),
        Entry::CeremonyRecord {
            record: None,
            size: 2,
            ..
        }
    ));
}

#[test]
fn revocation_and_crl_texts_are_exact() {
    let e = Entry::revocation(
        b"d",
        &[0x01, 0xab],
        "superseded",
        "2026-12-05T10:00:00Z",
        Some(b"c"),
    )
    .unwrap();
    assert_eq!(e.kind(), "revocation");
    assert!(e.names_certificate(b"c"));
    assert_eq!(
        String::from_utf8(e.encode().unwrap()).unwrap(),
        format!(
            "rust-pki-log-entry/v1 revocation\nissuer-sha256: {}\nserial: 01ab\n\
             reason: superseded\nrevoked-at: 2026-12-05T10:00:00Z\ncertificate-sha256: {}\n",
            hex::encode(sha(b"d")),
            hex::encode(sha(b"c"))
        )
    );
    let e = Entry::revocation(b"d", &[1], "key-compromise", "2026-12-05T10:00:00Z", None).unwrap();
    assert!(
        String::from_utf8(e.encode().unwrap())
            .unwrap()
            .ends_with("certificate-sha256: -\n")
    );
    let e = Entry::crl(b"d", 12, b"\x30\x00").unwrap();
    assert_eq!(e.kind(), "crl");
    assert!(!e.names_certificate(b"d"));
    assert_eq!(
        String::from_utf8(e.encode().unwrap()).unwrap(),
        format!(
            "rust-pki-log-entry/v1 crl\nissuer-sha256: {}\nnumber: 12\ncrl: MAA=\n",
            hex::encode(sha(b"d"))
        )
    );
}

#[test]
fn revocation_and_crl_are_strict() {
    let t = "2026-12-05T10:00:00Z";
    // Refused when built.
    assert!(Entry::revocation(b"d", &[], "superseded", t, None).is_err());
    assert!(Entry::revocation(b"d", &[1; 21], "superseded", t, None).is_err());
    assert!(Entry::revocation(b"d", &[1], "keyCompromise", t, None).is_err());
    assert!(Entry::revocation(b"d", &[1], "remove-from-crl", t, None).is_err());
    for bad in [
        "2026-12-05T10:00:00",
        "2026-12-05T10:00:00.5Z",
        "2026-12-05T10:00:00+00:00",
        "2026-13-05T10:00:00Z",
        "2026-12-05 10:00:00Z",
        "2026-12-05T24:00:00Z",
        "",
    ] {
        assert!(
            Entry::revocation(b"d", &[1], "superseded", bad, None).is_err(),
            "{bad:?}"
        );
    }
    assert!(Entry::crl(b"d", 1, b"").is_err());
    assert!(matches!(
        Entry::crl(b"d", 1, &vec![0; 60_000]),
        Err(Error::EntryTooLong { .. })
    ));

    // Refused when parsed.
    let revocation = String::from_utf8(
        Entry::revocation(b"d", &[0x01, 0xab], "superseded", t, None)
            .unwrap()
            .encode()
            .unwrap(),
    )
    .unwrap();
    let crl =
        String::from_utf8(Entry::crl(b"d", 12, b"\x30\x00").unwrap().encode().unwrap()).unwrap();
    for broken in [
        revocation.replace("serial: 01ab", "serial: 01AB"),
        revocation.replace("serial: 01ab", "serial: 1ab"),
        revocation.replace("serial: 01ab", "serial: "),
        revocation.replace("serial: 01ab", &format!("serial: {}", "01".repeat(21))),
        revocation.replace("reason: superseded", "reason: Superseded"),
        revocation.replace("reason: superseded", "reason: -"),
        revocation.replace(t, "2026-12-05T10:00:00.000Z"),
        revocation.replace(t, "-"),
        revocation.replace("certificate-sha256: -", "certificate-sha256: "),
        revocation.replace("reason: superseded\n", ""),
        revocation.replace(
            "serial: 01ab\nreason: superseded",
            "reason: superseded\nserial: 01ab",
        ),
        format!("{revocation}extra: 1\n"),
        crl.replace("number: 12", "number: 012"),
        crl.replace("number: 12", "number: -1"),
        crl.replace("crl: MAA=", "crl: MAA"),
        crl.replace("crl: MAA=", "crl: -"),
        crl.replace("rust-pki-log-entry/v1 crl", "rust-pki-log-entry/v1 CRL"),
        crl.trim_end().to_owned(),
    ] {
        assert!(
            matches!(
                Entry::parse(broken.as_bytes()),
                Err(Error::EntryMalformed { .. })
            ),
            "{broken}"
        );
    }
}
