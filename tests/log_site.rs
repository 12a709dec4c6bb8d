//! `rust-pki log publish`: the static site of a log, checked in headless Chromium (Debian's
//! `chromium` package, installed by scripts/install-deps): the DOM holds every ceremony,
//! approver and fingerprint, injected markup stays text, the page's Content Security
//! Policy stops scripts, and a screenshot is a rendered page. Also: a tampered log is not
//! published.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use der::Decode;
use rust_pki_ceremony::record::{KeyEvent, RECORD_FORMAT, Record, RecordApproval, RecordOutput};
use rust_pki_ceremony::request::Kind;
use sha2::{Digest, Sha256};

const INJECTION: &str = "<script>document.title=\"pwned-\"+(6*7)</script>";

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

fn fails(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "unexpected success: {stderr}");
    stderr
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The certificates of a PEM file, in order, as separate PEM blocks.
fn pem_blocks(pem: &str) -> Vec<String> {
    let end = "-----END CERTIFICATE-----";
    pem.split_inclusive(end)
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .map(|b| format!("{}\n", b.trim_start()))
        .collect()
}

fn der_of(pem: &str) -> Vec<u8> {
    rust_pki_ca::pem::decode_der(pem.as_bytes(), rust_pki_ca::pem::label::CERTIFICATE).unwrap()
}

fn common_name(der: &[u8]) -> String {
    let cert = x509_cert::Certificate::from_der(der).unwrap();
    let cn = cert
        .tbs_certificate()
        .subject()
        .common_name()
        .unwrap()
        .unwrap();
    cn.value().into_owned()
}

struct Ceremony {
    file_name: &'static str,
    record: Record,
}

#[allow(clippy::too_many_arguments)]
fn record(
    sequence: u32,
    kind: Kind,
    ceremony_id: &str,
    finished_at: &str,
    approved_by: &[&str],
    outputs: Vec<RecordOutput>,
    keys: Vec<KeyEvent>,
) -> Record {
    Record {
        format: RECORD_FORMAT.into(),
        sequence,
        ceremony_id: ceremony_id.into(),
        kind,
        hsm: rust_pki_ceremony::record::RecordHsm::of(&rust_pki_ceremony::request::RequestHsm {
            backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
            cluster_id: None,
        }),
        request_sha256: sha256_hex(ceremony_id.as_bytes()),
        previous_record_sha256: if sequence == 1 {
            String::new()
        } else {
            "22".repeat(32)
        },
        tool_sha256: "33".repeat(32),
        started_at: finished_at.replace(":30Z", ":00Z"),
        finished_at: finished_at.into(),
        approved_by: approved_by.iter().map(|m| (*m).to_owned()).collect(),
        request: "cmVxdWVzdA==".into(),
        approvals: approved_by
            .iter()
            .map(|m| RecordApproval {
                member: (*m).to_owned(),
                signature: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
                    .into(),
            })
            .collect(),
        outputs,
        keys,
    }
}

fn output(path: &str, contents: &str) -> RecordOutput {
    RecordOutput {
        path: path.into(),
        sha256: sha256_hex(contents.as_bytes()),
        contents: contents.into(),
    }
}

fn key(action: &str, name: &str, spki_sha256: &str) -> KeyEvent {
    KeyEvent {
        action: action.into(),
        key: name.into(),
        spki_sha256: spki_sha256.into(),
    }
}

/// Four ceremonies: root-init and delegate-issue with real certificates (the latter with
/// markup in its text fields), and two root-crl records too large to fit in a log entry,
/// so that they are logged by digest only.
fn ceremonies() -> Vec<Ceremony> {
    let root = fixture("verify/tests/data/cli/root.pem");
    let chain = pem_blocks(&fixture("verify/tests/data/cli/chain.pem"));
    let big_crl = format!(
        "-----BEGIN X509 CRL-----\n{}-----END X509 CRL-----\n",
        format!("{}\n", "QUJD".repeat(16)).repeat(1000)
    );
    vec![
        Ceremony {
            file_name: "0001-root-init.toml",
            record: record(
                1,
                Kind::RootInit,
                "3f2a9c0d4b1e5f60718293a4b5c6d7e8",
                "2026-01-15T09:12:30Z",
                &["alice", "bob", "carol", "dave", "erin"],
                vec![output("root.pem", &root)],
                vec![key("created", "root rust-root-2026", &"a1".repeat(32))],
            ),
        },
        Ceremony {
            file_name: "0002-delegate-issue.toml",
            record: record(
                2,
                Kind::DelegateIssue,
                &format!("b7c1{INJECTION}"),
                "2026-02-03T14:40:30Z",
                &[
                    "alice",
                    "carol",
                    "frank",
                    "grace",
                    &format!("mallory{INJECTION}"),
                ],
                vec![output("delegates/releases.pem", &chain[1])],
                vec![
                    key("used", "root rust-root-2026", &"a1".repeat(32)),
                    key(
                        "created",
                        &format!("delegate releases {INJECTION}"),
                        &"b2".repeat(32),
                    ),
                ],
            ),
        },
        Ceremony {
            file_name: "0003-root-crl.toml",
            record: record(
                3,
                Kind::RootCrl,
                "c0ffee00c0ffee00c0ffee00c0ffee00",
                "2026-03-01T08:00:30Z",
                &["bob", "dave", "erin", "heidi", "ivan"],
                vec![output("root.crl.pem", &big_crl)],
                vec![key("used", "root rust-root-2026", &"a1".repeat(32))],
            ),
        },
        Ceremony {
            file_name: "0004-root-crl.toml",
            record: record(
                4,
                Kind::RootCrl,
                "d00dd00dd00dd00dd00dd00dd00dd00d",
                "2026-06-01T08:00:30Z",
                &["alice", "judy", "erin", "heidi", "ivan"],
                vec![output("root.crl.pem", &big_crl)],
                vec![key("used", "root rust-root-2026", &"c3".repeat(32))],
            ),
        },
    ]
}

struct Built {
    _tmp: tempfile::TempDir,
    log: PathBuf,
    /// Where the ceremony records were written (all of them).
    records: PathBuf,
    /// Holds only the first large record (0003): 0004 is never published.
    published_records: PathBuf,
    ceremonies: Vec<Ceremony>,
    leaf_der: Vec<u8>,
    delegate_der: Vec<u8>,
    artifact: (String, Vec<u8>),
}

/// A log with the four ceremonies, a leaf issuance and an artifact.
fn build_log() -> Built {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let skey = tmp.path().join("log.skey");
    ok(&[
        &"log",
        &"init",
        &log,
        &"--origin",
        &"pki.example.org/log",
        &"--log-skey-out",
        &skey,
    ]);
    let records = tmp.path().join("ceremonies");
    let published_records = tmp.path().join("published-records");
    std::fs::create_dir_all(&records).unwrap();
    std::fs::create_dir_all(&published_records).unwrap();
    let ceremonies = ceremonies();
    let mut args: Vec<Box<dyn AsRef<std::ffi::OsStr>>> = vec![
        Box::new("log"),
        Box::new("append"),
        Box::new(log.clone()),
        Box::new("--log-skey"),
        Box::new(skey.clone()),
    ];
    for c in &ceremonies {
        let path = records.join(c.file_name);
        let text = toml::to_string(&c.record).unwrap();
        std::fs::write(&path, &text).unwrap();
        if c.file_name == "0003-root-crl.toml" {
            std::fs::write(published_records.join(c.file_name), &text).unwrap();
        }
        args.push(Box::new("--ceremony-record"));
        args.push(Box::new(path));
    }
    let chain = pem_blocks(&fixture("verify/tests/data/cli/chain.pem"));
    let (leaf, delegate) = (tmp.path().join("leaf.pem"), tmp.path().join("delegate.pem"));
    std::fs::write(&leaf, &chain[0]).unwrap();
    std::fs::write(&delegate, &chain[1]).unwrap();
    let artifact_name = "rust-1.95.0-x86_64-unknown-linux-gnu.tar.xz".to_owned();
    let artifact_bytes = b"not really a tarball\n".repeat(100);
    let artifact = tmp.path().join(&artifact_name);
    std::fs::write(&artifact, &artifact_bytes).unwrap();
    for arg in [
        Box::new("--leaf") as Box<dyn AsRef<std::ffi::OsStr>>,
        Box::new(leaf),
        Box::new("--delegate"),
        Box::new(delegate),
        Box::new("--artifact"),
        Box::new(artifact),
    ] {
        args.push(arg);
    }
    let refs: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|a| a.as_ref()).collect();
    let out = ok(&refs);
    assert!(out.contains("size: 6"), "{out}");
    Built {
        _tmp: tmp,
        log,
        records,
        published_records,
        ceremonies,
        leaf_der: der_of(&chain[0]),
        delegate_der: der_of(&chain[1]),
        artifact: (artifact_name, artifact_bytes),
    }
}

fn publish(built: &Built, records: &Path) -> String {
    ok(&[
        &"log",
        &"publish",
        &built.log,
        &"--log-vkey",
        &built.log.join("log.vkey"),
        &"--records",
        &records,
    ])
}

/// Runs headless Chromium; a missing browser fails the test (it is a test dependency).
fn chromium(profile: &Path, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `chromium` ({e}): install the test dependencies with \
                 scripts/install-deps (Debian package `chromium`)"
            )
        });
    assert!(
        out.status.success(),
        "chromium {:?} failed: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

fn dump_dom(profile: &Path, page: &Path) -> String {
    let out = chromium(profile, &[&"--dump-dom", &file_url(page)]);
    let dom = String::from_utf8(out.stdout).unwrap();
    assert!(dom.contains("</html>"), "no DOM from chromium: {dom:?}");
    dom
}

/// Screenshot of `page` at 1280×1024; returns the PNG bytes after checking the signature
/// and the size in the IHDR chunk.
fn screenshot(profile: &Path, page: &Path, png: &Path) -> Vec<u8> {
    let _ = std::fs::remove_file(png);
    chromium(
        profile,
        &[
            &format!("--screenshot={}", png.display()),
            &"--window-size=1280,1024",
            &"--hide-scrollbars",
            &file_url(page),
        ],
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        png.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 1024), "{}", png.display());
    bytes
}

#[test]
fn publish_renders_in_headless_chromium() {
    let built = build_log();
    let out = publish(&built, &built.published_records);
    assert!(
        out.contains("4 ceremonies (1 records copied to records/, 0 already there, 1 not published), 1 leaf issuances, 1 artifacts"),
        "{out}"
    );
    let index = built.log.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    // The large record given with --records is published beside the log, byte for byte.
    assert_eq!(
        std::fs::read(built.log.join("records/0003-root-crl.toml")).unwrap(),
        std::fs::read(built.records.join("0003-root-crl.toml")).unwrap()
    );
    assert!(!built.log.join("records/0004-root-crl.toml").exists());
    // Static: no script element, no external resource.
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("src="), "{html}");
    assert!(
        !lower.contains("http://") && !lower.contains("https://"),
        "{html}"
    );

    // Publishing again is idempotent: same page, the copied record is found in place.
    let again = publish(&built, &built.published_records);
    assert!(
        again.contains("(0 records copied to records/, 1 already there, 1 not published)"),
        "{again}"
    );
    assert_eq!(std::fs::read_to_string(&index).unwrap(), html);
    // Without --records, the earlier copy still counts.
    let no_records = ok(&[&"log", &"publish", &built.log]);
    assert!(
        no_records.contains("1 already there, 1 not published"),
        "{no_records}"
    );
    assert_eq!(std::fs::read_to_string(&index).unwrap(), html);
    let leftovers: Vec<_> = std::fs::read_dir(&built.log)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("log_site");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let profile = work.join("chromium-profile");

    let dom = dump_dom(&profile, &index);
    for c in &built.ceremonies {
        let r = &c.record;
        assert!(
            dom.contains(c.file_name),
            "{} missing from the DOM",
            c.file_name
        );
        if c.file_name == "0004-root-crl.toml" {
            // Logged by digest only and never published: the page can only say so.
            continue;
        }
        for text in [r.kind.name(), &r.finished_at, &r.ceremony_id[..4]] {
            assert!(dom.contains(text), "{text} missing from the DOM");
        }
        assert!(
            dom.contains(&format!("sequence {}", r.sequence)),
            "sequence {} missing",
            r.sequence
        );
        for member in &r.approved_by {
            let shown = member.replace('<', "&lt;").replace('>', "&gt;");
            assert!(
                dom.contains(&shown),
                "approver {shown} missing from the DOM"
            );
        }
        for k in &r.keys {
            assert!(
                dom.contains(&k.spki_sha256),
                "fingerprint {} missing",
                k.spki_sha256
            );
        }
        for (_, der) in r.certificates() {
            assert!(
                dom.contains(&sha256_hex(&der)),
                "certificate of {} missing",
                c.file_name
            );
        }
    }
    assert!(dom.contains("record not published"));
    assert!(dom.contains("href=\"records/0003-root-crl.toml\""));
    assert!(
        dom.contains("Rust Test Delegate"),
        "issued certificate subject missing"
    );
    // The markup in the record is text in the DOM, never an element: no script anywhere.
    assert!(
        dom.contains("&lt;script&gt;document.title="),
        "escaped injection missing"
    );
    assert!(!dom.to_ascii_lowercase().contains("<script"), "{dom}");
    assert!(!dom.contains("pwned-42"));
    // Leaf issuance and artifact.
    assert!(dom.contains(&common_name(&built.leaf_der)));
    assert!(dom.contains(&sha256_hex(&built.leaf_der)));
    assert!(dom.contains(&sha256_hex(&built.delegate_der)));
    assert!(dom.contains(&built.artifact.0));
    assert!(dom.contains(&sha256_hex(&built.artifact.1)));
    // The checkpoint's origin and root.
    assert!(dom.contains("pki.example.org/log"));

    // Defence in depth, checked in the browser: the page's Content Security Policy stops a
    // script that escaping had let through (here: spliced into a copy of the page).
    let spliced = work.join("spliced.html");
    std::fs::write(
        &spliced,
        html.replace("</body>", &format!("{INJECTION}</body>")),
    )
    .unwrap();
    let spliced_dom = dump_dom(&profile, &spliced);
    assert!(
        spliced_dom.contains("document.title="),
        "the splice is in the page"
    );
    assert!(
        !spliced_dom.contains("pwned-42"),
        "a script ran despite the CSP"
    );

    // A screenshot of the page, compared with one of an empty page of the same size: the
    // rendered tables make the PNG several times larger.
    let blank = work.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>\n").unwrap();
    let blank_png = screenshot(&profile, &blank, &work.join("blank.png"));
    let png_path = work.join("index.png");
    let png = screenshot(&profile, &index, &png_path);
    println!(
        "screenshot: {} ({} bytes; empty page: {} bytes)",
        png_path.display(),
        png.len(),
        blank_png.len()
    );
    assert!(
        png.len() > 3 * blank_png.len() && png.len() > 30_000,
        "{} ({} bytes) looks empty next to an empty page ({} bytes)",
        png_path.display(),
        png.len(),
        blank_png.len()
    );
}

/// Flips one byte of `path`.
fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// The one file under `dir` (recursively).
fn only_file(dir: &Path) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                found.push(p)
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn publish_refuses_a_tampered_log() {
    let built = build_log();
    let index = built.log.join("index.html");

    // A tampered log is never published, not even the first time.
    let hash_tile = only_file(&built.log.join("tile/0"));
    flip(&hash_tile, 5);
    let err = fails(&[&"log", &"publish", &built.log]);
    let rel = hash_tile
        .strip_prefix(&built.log)
        .unwrap()
        .display()
        .to_string();
    assert!(err.contains(&rel), "{err}");
    assert!(err.contains("nothing was published"), "{err}");
    assert!(!index.exists());
    assert!(!built.log.join("records").exists());
    flip(&hash_tile, 5);

    let out = ok(&[&"log", &"publish", &built.log]);
    assert!(out.contains("2 not published"), "{out}");
    let published = std::fs::read(&index).unwrap();

    // An entry bundle changed after publication: refused, naming the file; the page stays.
    let bundle = only_file(&built.log.join("tile/entries"));
    flip(&bundle, 40);
    let err = fails(&[&"log", &"publish", &built.log, &"--records", &built.records]);
    assert!(err.contains("tile/"), "{err}");
    assert_eq!(std::fs::read(&index).unwrap(), published);
    assert!(!built.log.join("records").exists());
    flip(&bundle, 40);

    // A log verified with another log's key is refused too.
    let other = tempfile::tempdir().unwrap();
    ok(&[
        &"log",
        &"init",
        &other.path().join("log"),
        &"--origin",
        &"pki.example.org/log",
        &"--log-skey-out",
        &other.path().join("skey"),
    ]);
    let err = fails(&[
        &"log",
        &"publish",
        &built.log,
        &"--log-vkey",
        &other.path().join("log/log.vkey"),
    ]);
    assert!(err.contains("does not verify"), "{err}");
    assert_eq!(std::fs::read(&index).unwrap(), published);
}

#[test]
fn publish_refuses_a_record_that_differs_from_its_entry() {
    let built = build_log();
    // 0003 is right; 0004, logged after it, has been edited since it was logged.
    let name = "0004-root-crl.toml";
    let wrong = built.published_records.join(name);
    let text = std::fs::read_to_string(built.records.join(name)).unwrap();
    std::fs::write(&wrong, text.replace("heidi", "heidj")).unwrap();
    let err = fails(&[
        &"log",
        &"publish",
        &built.log,
        &"--records",
        &built.published_records,
    ]);
    assert!(err.contains(&wrong.display().to_string()), "{err}");
    assert!(err.contains("the log entry for this record"), "{err}");
    // Nothing is written: neither the page nor the good record before the bad one.
    assert!(!built.log.join("index.html").exists());
    assert!(!built.log.join("records").exists());
}
