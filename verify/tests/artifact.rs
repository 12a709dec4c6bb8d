//! Artifact signatures (docs/signatures.md), verifier side: real OpenSSL P-384 signatures,
//! Ed25519 and rule-breaking CMS built field by field, real log bundles with a witness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sign::{CmsBuilder, SHA256, TestLog, openssl_sign};
use common::{AT, Files, Issued, RELEASES, Spec, crl, crl_with, pem_encode, pki};
use rust_pki_verify::artifact::{ArtifactVerifier, LogTrust, VerifiedArtifact};
use rust_pki_verify::sig_file::{MAX_SIG_SIZE, SigFile};
use rust_pki_verify::{Crl, Error, Purpose, Root};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const CONTENT: &[u8] = b"rustc-1.99.0-x86_64-unknown-linux-gnu.tar.xz contents\n";
const NAME: &str = "rustc.tar.xz";
/// Inside the standard leaf's validity, before [`AT`].
const SIGNED_AT: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

fn verifier(root: &Issued, purpose: &str) -> ArtifactVerifier {
    let root = Root::from_bytes("root.pem", root.pem().as_bytes()).unwrap();
    ArtifactVerifier::new(root, Purpose::built_in(purpose).unwrap()).at(AT)
}

fn sig(text: &str) -> SigFile {
    SigFile::parse("rustc.tar.xz.sig", text.as_bytes()).unwrap()
}

fn check(v: &ArtifactVerifier, content: &[u8], sig: &SigFile) -> Result<VerifiedArtifact, Error> {
    v.verify(NAME, NAME, &mut &content[..], sig)
}

/// The error of verifying `text` over [`CONTENT`] with the standard PKI at [`AT`].
fn rejected(v: &ArtifactVerifier, text: &str) -> Error {
    let sig = match SigFile::parse("rustc.tar.xz.sig", text.as_bytes()) {
        Ok(sig) => sig,
        Err(e) => return e,
    };
    check(v, CONTENT, &sig).unwrap_err()
}

fn assert_rule(error: &Error, rule: &str, text: &str) {
    assert_eq!(error.rule(), rule, "{error}");
    assert!(error.to_string().contains(text), "{error}");
}

#[test]
fn openssl_p384_signature_verifies_and_a_changed_byte_does_not() {
    let now = OffsetDateTime::now_utc();
    let root = common::root();
    let delegate = common::delegate(&root, Some(RELEASES));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .valid(now - Duration::days(1), now + Duration::days(30))
        .signed_by(&delegate);
    let files = Files::new();
    let content = files.write(NAME, CONTENT);
    let text = openssl_sign(files.dir_path(), &leaf, &delegate, &content);
    assert!(text.starts_with("-----BEGIN CMS-----\n"), "{text}");
    let v = verifier(&root, "releases").at(now);
    let sig = sig(&text);
    let ok = v.verify_file(&content, &sig).unwrap();
    assert_eq!((ok.name.as_str(), ok.size), (NAME, CONTENT.len() as u64));
    assert_eq!((ok.key, ok.digest_algorithm), ("P-384", "SHA-384"));
    assert_eq!(ok.signer.subject, "CN=Rust Test Leaf,O=Rust Project Test");
    assert_eq!(ok.proven_time, None);
    assert_eq!(ok.chain.path.len(), 3);

    let mut changed = CONTENT.to_vec();
    changed[3] ^= 1;
    let e = check(&v, &changed, &sig).unwrap_err();
    assert_rule(
        &e,
        "message-digest-mismatch",
        "does not match the signed message digest",
    );
}

#[test]
fn ed25519_signature_verifies() {
    let p = pki();
    let leaf = Spec::leaf("Rust Ed25519 Leaf", 0x2001)
        .eku(RELEASES)
        .ed25519()
        .signed_by(&p.delegate);
    let text = CmsBuilder::new(&leaf, &p.delegate, SIGNED_AT).sig_text(CONTENT);
    let ok = check(&verifier(&p.root, "releases"), CONTENT, &sig(&text)).unwrap();
    assert_eq!((ok.key, ok.digest_algorithm), ("Ed25519", "SHA-512"));
    assert_eq!(ok.signing_time, SIGNED_AT);
    let mut changed = CONTENT.to_vec();
    changed.push(b'x');
    let e = check(&verifier(&p.root, "releases"), &changed, &sig(&text)).unwrap_err();
    assert_rule(&e, "message-digest-mismatch", NAME);
}

#[test]
fn releases_leaf_is_not_accepted_for_crates_io() {
    let p = pki();
    let text = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sig_text(CONTENT);
    assert!(check(&verifier(&p.root, "releases"), CONTENT, &sig(&text)).is_ok());
    let e = rejected(&verifier(&p.root, "crates-io"), &text);
    assert!(matches!(e.rule(), "missing-eku" | "wrong-eku"), "{e}");
    assert!(e.to_string().contains("crates-io"), "{e}");
}

#[test]
fn revoked_leaf_and_stale_crl_are_rejected() {
    let p = pki();
    let text = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sig_text(CONTENT);
    let revoking = Crl::from_bytes("releases.crl", crl(&p.delegate, &[0x1001]).as_bytes()).unwrap();
    let e = rejected(
        &verifier(&p.root, "releases").with_crls(vec![revoking]),
        &text,
    );
    assert_rule(&e, "revoked", "releases.crl");

    let stale = crl_with(
        &p.delegate,
        &[],
        datetime!(2026-10-01 00:00 UTC),
        datetime!(2026-11-15 00:00 UTC),
    );
    let stale = Crl::from_bytes("stale.crl", stale.as_bytes()).unwrap();
    let e = rejected(&verifier(&p.root, "releases").with_crls(vec![stale]), &text);
    assert_rule(&e, "crl-expired", "stale.crl");
}

/// A leaf valid 2026-06-01 .. 2026-09-01, which signed on 2026-08-01.
fn expired_leaf(delegate: &Issued) -> Issued {
    Spec::leaf("Rust Short Leaf", 0x3001)
        .eku(RELEASES)
        .valid(
            datetime!(2026-06-01 00:00 UTC),
            datetime!(2026-09-01 00:00 UTC),
        )
        .signed_by(delegate)
}

const OLD_SIGNING: OffsetDateTime = datetime!(2026-08-01 00:00 UTC);

#[test]
fn expired_leaf_without_log_proof_has_no_proof_of_time() {
    let p = pki();
    let leaf = expired_leaf(&p.delegate);
    let text = CmsBuilder::new(&leaf, &p.delegate, OLD_SIGNING).sig_text(CONTENT);
    let e = rejected(&verifier(&p.root, "releases"), &text);
    assert_rule(&e, "no-proof-of-time", "no proof of time");
    assert!(e.to_string().contains("--log-vkey"), "{e}");
}

/// The `.sig` text of `leaf`'s signature over `content`, stapled with a bundle cosigned at
/// `witnessed`.
fn logged_sig(
    log: &mut TestLog,
    leaf: &Issued,
    delegate: &Issued,
    name: &str,
    content: &[u8],
    signed: OffsetDateTime,
    witnessed: OffsetDateTime,
) -> String {
    let index = log.append(leaf, &[(name, content)])[0];
    let bundle = log.bundle(index, name, content, leaf, delegate, witnessed);
    CmsBuilder::new(leaf, delegate, signed).sig_text(content) + &bundle.to_text()
}

#[test]
fn expired_leaf_with_witnessed_bundle_verifies_at_the_proven_time() {
    let p = pki();
    let leaf = expired_leaf(&p.delegate);
    let mut log = TestLog::new(&p.delegate);
    let witnessed = datetime!(2026-08-01 00:03 UTC);
    let text = logged_sig(
        &mut log,
        &leaf,
        &p.delegate,
        NAME,
        CONTENT,
        OLD_SIGNING,
        witnessed,
    );
    let v = verifier(&p.root, "releases").with_log(log.trust(1));
    let ok = check(&v, CONTENT, &sig(&text)).unwrap();
    assert_eq!(ok.proven_time, Some(witnessed));
    assert_eq!(ok.chain.at, witnessed);
    assert_eq!(ok.witnesses, vec![log.witness.verifier().label()]);
    assert_eq!(ok.log_index, Some(1));

    // Witnessed after the leaf expired: the chain fails at the proven time.
    let later = b"another build of the file";
    let late = logged_sig(
        &mut log,
        &leaf,
        &p.delegate,
        NAME,
        later,
        OLD_SIGNING,
        datetime!(2026-10-01 00:00 UTC),
    );
    let e = check(&v, later, &sig(&late)).unwrap_err();
    assert_rule(&e, "expired", "Rust Short Leaf");

    // The CRL is judged now: current at the proven time but stale now is refused.
    let stale = crl_with(
        &p.delegate,
        &[],
        datetime!(2026-07-01 00:00 UTC),
        datetime!(2026-10-01 00:00 UTC),
    );
    let v = v.with_crls(vec![
        Crl::from_bytes("stale.crl", stale.as_bytes()).unwrap(),
    ]);
    assert_rule(&rejected(&v, &text), "crl-expired", "stale.crl");
}

#[test]
fn signing_time_after_the_proven_time_is_rejected() {
    let p = pki();
    let mut log = TestLog::new(&p.delegate);
    let text = logged_sig(
        &mut log,
        &p.leaf,
        &p.delegate,
        NAME,
        CONTENT,
        SIGNED_AT,
        SIGNED_AT - Duration::hours(1),
    );
    let v = verifier(&p.root, "releases").with_log(log.trust(1));
    assert_rule(
        &rejected(&v, &text),
        "signing-time",
        "by more than 5 minutes",
    );
}

#[test]
fn edited_bundles_and_foreign_entries_are_rejected() {
    let p = pki();
    let mut log = TestLog::new(&p.delegate);
    let text = logged_sig(
        &mut log,
        &p.leaf,
        &p.delegate,
        NAME,
        CONTENT,
        SIGNED_AT,
        SIGNED_AT,
    );
    let v = verifier(&p.root, "releases").with_log(log.trust(1));
    check(&v, CONTENT, &sig(&text)).unwrap();

    // No bundle at all, while the log's key is given.
    let cms_only = text.split("rust-pki-bundle/v2").next().unwrap();
    assert_rule(&rejected(&v, cms_only), "no-log-proof", "no log bundle");

    // The entry edited: its hash no longer leads to the checkpoint.
    let good = sig(&text);
    let mut bundle = good.bundle().unwrap().clone();
    bundle.entry[10] ^= 1;
    let edited = format!("{cms_only}{}", bundle.to_text());
    let e = rejected(&v, &edited);
    assert_rule(&e, "log-proof", "[inclusion]");

    // A proof hash edited.
    let mut bundle = good.bundle().unwrap().clone();
    bundle.proof[0].0[0] ^= 1;
    let e = rejected(&v, &format!("{cms_only}{}", bundle.to_text()));
    assert_rule(&e, "log-proof", "[inclusion]");

    // The checkpoint edited: the log's signature fails.
    let edited = text.replacen(
        &format!("{}\n", common::sign::ORIGIN),
        "example.com/other\n",
        1,
    );
    assert_ne!(edited, text);
    let e = rejected(&v, &edited);
    assert_rule(&e, "log-proof", "[log-signature]");

    // The witness's cosignature missing.
    let v2 = verifier(&p.root, "releases").with_log(LogTrust {
        witness_keys: vec![],
        ..log.trust(1)
    });
    assert_rule(&rejected(&v2, &text), "log-proof", "[witnesses]");

    // An entry naming another file, signed by the same leaf.
    let other = logged_sig(
        &mut log,
        &p.leaf,
        &p.delegate,
        "cargo.tar.xz",
        CONTENT,
        SIGNED_AT,
        SIGNED_AT,
    );
    let e = rejected(&v, &other);
    assert_rule(
        &e,
        "log-entry-mismatch",
        "name is cargo.tar.xz, expected rustc.tar.xz",
    );

    // The bundle of another leaf's signature, stapled to this CMS.
    let leaf2 = Spec::leaf("Rust Other Leaf", 0x1002)
        .eku(RELEASES)
        .signed_by(&p.delegate);
    let index = log.append(&leaf2, &[(NAME, CONTENT)])[0];
    let foreign = log.bundle(index, NAME, CONTENT, &leaf2, &p.delegate, SIGNED_AT);
    let e = rejected(&v, &format!("{cms_only}{}", foreign.to_text()));
    assert_rule(&e, "bundle-certificates", "the leaf is another certificate");
}

#[test]
fn bad_sig_files_are_clear_errors() {
    let p = pki();
    let v = verifier(&p.root, "releases");
    let text = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sig_text(CONTENT);

    assert_rule(&rejected(&v, ""), "malformed-sig", "empty file");
    assert_rule(&rejected(&v, "garbage\n"), "malformed-sig", "BEGIN CMS");
    assert_rule(
        &rejected(&v, &text[..text.len() / 2]),
        "malformed-sig",
        "truncated",
    );
    assert_rule(
        &rejected(&v, &format!("{text}trailing words\n")),
        "malformed-sig",
        "unexpected text after the CMS block",
    );
    assert_rule(
        &rejected(&v, "-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n"),
        "malformed-sig",
        "malformed CMS PEM block",
    );
    let huge = "A".repeat(usize::try_from(MAX_SIG_SIZE).unwrap() + 1);
    assert_rule(&rejected(&v, &huge), "sig-too-large", "larger than");
    let files = Files::new();
    let path = files.write("huge.sig", &huge);
    let e = SigFile::from_file(&path).unwrap_err();
    assert_rule(&e, "sig-too-large", "huge.sig");

    // DER problems inside a good PEM block: truncated, trailing data, BER.
    let der = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sign(CONTENT);
    let truncated = pem_encode("CMS", &der[..der.len() - 10]);
    assert_rule(&rejected(&v, &truncated), "malformed-cms", "not valid DER");
    let trailing = pem_encode("CMS", &[der.as_slice(), &[0, 0]].concat());
    assert_rule(&rejected(&v, &trailing), "malformed-cms", "not valid DER");
    // The outer SEQUENCE with an indefinite length (BER), closed by end-of-contents.
    assert_eq!(&der[..2], &[0x30, 0x82]);
    let ber = [&[0x30, 0x80][..], &der[4..], &[0, 0]].concat();
    assert_rule(
        &rejected(&v, &pem_encode("CMS", &ber)),
        "malformed-cms",
        "not valid DER",
    );
}

#[test]
fn cms_structure_rules_are_named_errors() {
    let p = pki();
    let v = verifier(&p.root, "releases");
    let base = || CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT);

    let mut b = base();
    b.extra_signer = true;
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-signer-count",
        "2 signers",
    );

    let mut b = base();
    b.no_signed_attributes = true;
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-signed-attributes",
        "absent",
    );

    let mut b = base();
    b.extra_attribute = true;
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-signed-attributes",
        "unexpected attribute 1.2.840.113549.1.9.15",
    );

    let mut b = base();
    b.digest_oid = Some(SHA256);
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-digest-algorithm",
        "requires SHA-384",
    );

    let mut b = base();
    b.econtent = true;
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-content-present",
        "detached",
    );

    // Three certificates; one; the leaf with a CA that did not issue it.
    let mut b = base();
    b.certs.push(p.root.der());
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-certificates",
        "3 certificates",
    );
    let mut b = base();
    b.certs.truncate(1);
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-certificates",
        "1 certificates",
    );
    let mut b = base();
    b.certs[1] = p.root.der();
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-certificates",
        "not the issuer of the leaf",
    );

    // A signature whose key is not the leaf's: another leaf's certificate in its place.
    let impostor = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&p.delegate);
    let mut b = CmsBuilder::new(&impostor, &p.delegate, SIGNED_AT);
    b.certs[0] = p.leaf.der();
    assert_rule(
        &rejected(&v, &b.sig_text(CONTENT)),
        "cms-bad-signature",
        "does not verify with the leaf's P-384 key",
    );
}

#[test]
fn certificates_of_another_chain_do_not_reach_the_pinned_root() {
    let p = pki();
    let other = pki();
    let text = CmsBuilder::new(&other.leaf, &other.delegate, SIGNED_AT).sig_text(CONTENT);
    let e = rejected(&verifier(&p.root, "releases"), &text);
    assert!(
        matches!(e.rule(), "unknown-issuer" | "bad-signature" | "path"),
        "{e}"
    );
}

#[test]
fn many_files_under_one_chain_validate_the_chain_once() {
    let p = pki();
    let mut log = TestLog::new(&p.delegate);
    let names: Vec<String> = (0..5).map(|i| format!("file-{i}.tar.xz")).collect();
    let contents: Vec<Vec<u8>> = (0..5).map(|i| vec![i; 100 + usize::from(i)]).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&contents)
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    // One batched append and one cosigned checkpoint, as `rust-pki sign` does.
    let indexes = log.append(&p.leaf, &files);
    let v = verifier(&p.root, "releases").with_log(log.trust(1));
    for ((name, content), index) in files.iter().zip(indexes) {
        let bundle = log.bundle(index, name, content, &p.leaf, &p.delegate, SIGNED_AT);
        let text =
            CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sig_text(content) + &bundle.to_text();
        let ok = v
            .verify(name, name, &mut &content[..], &sig(&text))
            .unwrap();
        assert_eq!(ok.name, *name);
    }
    assert_eq!(v.chain_validations(), 1);
}

#[test]
fn git_armor_carries_the_same_cms() {
    let p = pki();
    let der = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sign(CONTENT);
    let armored = pem_encode("SIGNED MESSAGE", &der);
    let parsed = SigFile::from_git_armor("commit", armored.as_bytes()).unwrap();
    assert_eq!(parsed.cms_der(), der.as_slice());
    assert!(parsed.bundle().is_none());
    check(&verifier(&p.root, "releases"), CONTENT, &parsed).unwrap();
    let e = SigFile::from_git_armor("commit", pem_encode("CMS", &der).as_bytes()).unwrap_err();
    assert_rule(&e, "malformed-sig", "SIGNED MESSAGE");
}

#[test]
fn check_signature_rechecks_a_fresh_signature_without_the_chain() {
    let p = pki();
    let der = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sign(CONTENT);
    let (cms, digests) =
        rust_pki_verify::cms::check_signature("new.sig", &der, &mut &CONTENT[..]).unwrap();
    assert_eq!(cms.leaf_der, p.leaf.der());
    assert_eq!(digests.size, CONTENT.len() as u64);
    let e = rust_pki_verify::cms::check_signature("new.sig", &der, &mut &b"other"[..]).unwrap_err();
    assert_rule(&e, "message-digest-mismatch", "new.sig");
}

/// Root rotation: a client pinned to the old root verifies a signature under a delegate of
/// the new root through the cross-certificate it holds (the CMS carries leaf and delegate).
#[test]
fn signature_under_a_new_root_verifies_through_the_cross_certificate() {
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
    let delegate = common::delegate(&new_root, Some(RELEASES));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    let text = CmsBuilder::new(&leaf, &delegate, SIGNED_AT).sig_text(CONTENT);
    let v = verifier(&old_root, "releases");
    let e = rejected(&v, &text);
    assert_eq!(e.rule(), "unknown-issuer", "{e}");
    let cross = rust_pki_verify::Chain::from_bytes("cross.pem", cross.pem().as_bytes()).unwrap();
    let ok = check(&v.with_cross_certificates(&cross), CONTENT, &sig(&text)).unwrap();
    assert_eq!(ok.chain.path.len(), 4);
}

#[test]
fn signing_time_must_be_utctime_before_2050() {
    use der::Encode;
    let p = pki();
    let der = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sign(CONTENT);
    // The UTCTime of the signing-time attribute, rewritten as the GeneralizedTime of the same
    // instant: the structure stays DER, the encoding rule is broken (and so is the signature).
    let utc = der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(
        u64::try_from(SIGNED_AT.unix_timestamp()).unwrap(),
    ))
    .unwrap()
    .to_der()
    .unwrap();
    let general = der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
        u64::try_from(SIGNED_AT.unix_timestamp()).unwrap(),
    ))
    .unwrap()
    .to_der()
    .unwrap();
    let at = der.windows(utc.len()).position(|w| w == utc).unwrap();
    let mut edited = [&der[..at], &general, &der[at + utc.len()..]].concat();
    // Two more content bytes: fix the length of every enclosing element.
    let grow = general.len() - utc.len();
    fix_lengths(&mut edited, at, grow);
    let e = rejected(&verifier(&p.root, "releases"), &pem_encode("CMS", &edited));
    assert_rule(&e, "cms-signed-attributes", "UTCTime before 2050");
}

/// Adds `grow` to the length of every DER element of `der` that encloses offset `at`.
fn fix_lengths(der: &mut Vec<u8>, at: usize, grow: usize) {
    fn walk(der: &mut Vec<u8>, start: usize, end: usize, at: usize, grow: usize) -> usize {
        // Returns how many bytes the headers inside [start, end) grew by.
        let mut pos = start;
        while pos < end {
            let tag = der[pos];
            let (len, len_bytes) = if der[pos + 1] < 0x80 {
                (usize::from(der[pos + 1]), 1)
            } else {
                let n = usize::from(der[pos + 1] & 0x7f);
                let len = der[pos + 2..pos + 2 + n]
                    .iter()
                    .fold(0, |acc, b| acc << 8 | usize::from(*b));
                (len, 1 + n)
            };
            let content = pos + 1 + len_bytes;
            if content <= at && at < content + len {
                let mut inner = 0;
                if tag & 0x20 != 0 {
                    inner = walk(der, content, content + len, at, grow);
                }
                let new_len = len + grow + inner;
                let mut header = Vec::new();
                if new_len < 0x80 {
                    header.push(u8::try_from(new_len).unwrap());
                } else {
                    let bytes: Vec<u8> = new_len
                        .to_be_bytes()
                        .into_iter()
                        .skip_while(|b| *b == 0)
                        .collect();
                    header.push(0x80 | u8::try_from(bytes.len()).unwrap());
                    header.extend(bytes);
                }
                let old_header = len_bytes;
                der.splice(pos + 1..pos + 1 + old_header, header.iter().copied());
                return inner + header.len() - old_header;
            }
            pos = content + len;
        }
        0
    }
    let len = der.len();
    walk(der, 0, len, at, grow);
}

#[test]
fn a_set_out_of_der_order_is_malformed() {
    let p = pki();
    let der = CmsBuilder::new(&p.leaf, &p.delegate, SIGNED_AT).sign(CONTENT);
    let (leaf, delegate) = (p.leaf.der(), p.delegate.der());
    let find = |needle: &[u8]| der.windows(needle.len()).position(|w| w == needle).unwrap();
    let (l, d) = (find(&leaf), find(&delegate));
    // The two certificates are adjacent in the SET: swap them (same length, reversed order).
    let (first, second) = if l < d {
        (&leaf, &delegate)
    } else {
        (&delegate, &leaf)
    };
    let start = l.min(d);
    assert_eq!(start + first.len(), l.max(d));
    let swapped = [
        &der[..start],
        second.as_slice(),
        first.as_slice(),
        &der[start + first.len() + second.len()..],
    ]
    .concat();
    let e = rejected(&verifier(&p.root, "releases"), &pem_encode("CMS", &swapped));
    assert_rule(&e, "malformed-cms", "not valid DER");
}
