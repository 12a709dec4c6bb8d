//! `rust-pki log witness` (C2SP tlog-witness) and `rust-pki log cosign`, run as the binary:
//! a witness served on 127.0.0.1, real logs made with `log init`/`log append`, and the
//! attacks the witness stops (split view, rollback, forged checkpoint) with the spec's
//! status codes.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::WitnessServer;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::verify_cosignature;
use rust_pki_tlog::note::VerifierKey;

const ORIGIN: &str = "example.com/log";
const WITNESS: &str = "witness.example/w1";

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
    assert!(!stdout.contains("PRIVATE+KEY") && !stderr.contains("PRIVATE+KEY"));
    stdout
}

fn fails(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "unexpected success: {stderr}");
    assert!(!stderr.contains("PRIVATE+KEY"));
    stderr
}

/// A `log witness serve` process, killed when dropped.
struct Log {
    dir: PathBuf,
    skey: PathBuf,
    vkey: PathBuf,
}

struct Fixture {
    tmp: tempfile::TempDir,
    log: Log,
    state: PathBuf,
    wskey: PathBuf,
    wvkey: PathBuf,
    server: WitnessServer,
}

fn init_log(root: &Path, name: &str, origin: &str) -> Log {
    let dir = root.join(name);
    let skey = root.join(format!("{name}.skey"));
    ok(&[
        &"log",
        &"init",
        &dir,
        &"--origin",
        &origin,
        &"--log-skey-out",
        &skey,
    ]);
    Log {
        vkey: dir.join("log.vkey"),
        dir,
        skey,
    }
}

/// Appends `n` artifact entries named after `tag`; returns the new size.
fn append(log: &Log, tag: &str, n: usize) -> u64 {
    let files: Vec<PathBuf> = (0..n)
        .map(|i| {
            let f = log.dir.with_extension(format!("{tag}-{i}.txt"));
            std::fs::write(&f, format!("{tag} {i}")).unwrap();
            f
        })
        .collect();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        vec![&"log", &"append", &log.dir, &"--log-skey"];
    args.push(&log.skey);
    for f in &files {
        args.push(&"--artifact");
        args.push(f);
    }
    let out = ok(&args);
    out.lines()
        .find_map(|l| l.strip_prefix("size: "))
        .unwrap()
        .parse()
        .unwrap()
}

fn init_witness(root: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let state = root.join(format!("{name}-state"));
    let wskey = root.join(format!("{name}.skey"));
    let out = ok(&[
        &"log",
        &"witness",
        &"init",
        &"--state-dir",
        &state,
        &"--name",
        &WITNESS,
        &"--witness-skey-out",
        &wskey,
    ]);
    let wvkey = state.join("witness.vkey");
    let printed = out.lines().find_map(|l| l.strip_prefix("vkey: ")).unwrap();
    assert_eq!(std::fs::read_to_string(&wvkey).unwrap().trim_end(), printed);
    (state, wskey, wvkey)
}

fn setup() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let log = init_log(tmp.path(), "log", ORIGIN);
    let (state, wskey, wvkey) = init_witness(tmp.path(), "w1");
    let server = WitnessServer::start(&state, &wskey, &[&log.vkey]);
    Fixture {
        tmp,
        log,
        state,
        wskey,
        wvkey,
        server,
    }
}

fn cosign(f: &Fixture, log: &Log) -> Output {
    run(&[
        &"log",
        &"cosign",
        &log.dir,
        &"--log-skey",
        &log.skey,
        &"--witness-url",
        &f.server.url,
        &"--witness-vkey",
        &f.wvkey,
    ])
}

fn cosign_ok(f: &Fixture, log: &Log) -> String {
    let out = cosign(f, log);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn cosign_fails(f: &Fixture, log: &Log) -> String {
    let out = cosign(f, log);
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

fn read_vkey(path: &Path) -> VerifierKey {
    VerifierKey::parse(std::fs::read_to_string(path).unwrap().trim_end()).unwrap()
}

/// The log's checkpoint: verified with the log key; returns it and its valid cosignatures
/// by the witness.
fn cosignatures(f: &Fixture, log: &Log) -> (SignedCheckpoint, Vec<String>) {
    let note = std::fs::read(log.dir.join("checkpoint")).unwrap();
    let cp = SignedCheckpoint::verify(&note, &read_vkey(&log.vkey)).unwrap();
    let body = cp.body().unwrap();
    let witness = read_vkey(&f.wvkey);
    let lines = String::from_utf8(note)
        .unwrap()
        .lines()
        .filter(|l| verify_cosignature(l, &body, &witness).is_ok())
        .map(str::to_owned)
        .collect();
    (cp, lines)
}

/// A POST of a raw body; returns status, content type, body.
fn post(url: &str, path: &str, body: &[u8]) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.post(format!("{url}{path}")).send(body).unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        ct,
        r.body_mut().read_to_string().unwrap(),
    )
}

fn request(old: u64, proof: &[String], checkpoint: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old}\n").into_bytes();
    for h in proof {
        body.extend_from_slice(format!("{h}\n").as_bytes());
    }
    body.push(b'\n');
    body.extend_from_slice(checkpoint);
    body
}

/// The consistency proof lines printed by `log prove --old-size`.
fn consistency_proof(log: &Log, old: u64) -> Vec<String> {
    let out = ok(&[
        &"log",
        &"prove",
        &log.dir,
        &"--index",
        &"0",
        &"--old-size",
        &old.to_string(),
    ]);
    let (_, rest) = out.split_once("consistency-proof: ").unwrap();
    rest.lines().skip(1).map(str::to_owned).collect()
}

fn checkpoint(log: &Log) -> Vec<u8> {
    std::fs::read(log.dir.join("checkpoint")).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A copy of the log (same key and origin) in another directory.
fn fork(f: &Fixture, name: &str) -> Log {
    let dir = f.tmp.path().join(name);
    copy_dir(&f.log.dir, &dir);
    Log {
        vkey: dir.join("log.vkey"),
        dir,
        skey: f.log.skey.clone(),
    }
}

#[test]
fn witness_init_writes_a_secret_key_0600_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, wskey, _) = init_witness(tmp.path(), "w");
    let mode = std::fs::metadata(&wskey).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&wskey)
            .unwrap()
            .starts_with(&format!("PRIVATE+KEY+{WITNESS}+"))
    );
    let err = fails(&[
        &"log",
        &"witness",
        &"init",
        &"--state-dir",
        &state,
        &"--name",
        &WITNESS,
        &"--witness-skey-out",
        &wskey,
    ]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn cosign_then_grow_then_cosign_with_a_consistency_proof() {
    let f = setup();
    append(&f.log, "a", 3);
    let out = cosign_ok(&f, &f.log);
    assert!(out.contains(&format!("cosigned by {WITNESS}+")), "{out}");
    assert!(out.contains("size 3"), "{out}");
    let (cp, lines) = cosignatures(&f, &f.log);
    assert_eq!((cp.size, lines.len()), (3, 1));
    // The log's checkpoint still verifies as a whole.
    ok(&[
        &"log",
        &"verify-checkpoint",
        &f.log.dir,
        &"--log-vkey",
        &f.log.vkey,
    ]);
    // Again at the same size: nothing to ask.
    let out = cosign_ok(&f, &f.log);
    assert!(out.contains("already cosigned"), "{out}");

    // The log grows: old size 0 gets 409 with 3, then a consistency proof from 3 to 7.
    append(&f.log, "b", 4);
    let out = cosign_ok(&f, &f.log);
    assert!(out.contains("size 7"), "{out}");
    let (cp, lines) = cosignatures(&f, &f.log);
    assert_eq!((cp.size, lines.len()), (7, 1));

    // And once more, by several steps.
    append(&f.log, "c", 300);
    cosign_ok(&f, &f.log);
    assert_eq!(cosignatures(&f, &f.log).0.size, 307);

    // The witness remembers across restarts (its state directory).
    drop(f.server);
    let server = WitnessServer::start(&f.state, &f.wskey, &[&f.log.vkey]);
    let (status, ct, body) = post(
        &server.url,
        "/add-checkpoint",
        &request(0, &[], &checkpoint(&f.log)),
    );
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "307\n")
    );
}

#[test]
fn rejects_split_view_at_the_same_size() {
    let f = setup();
    append(&f.log, "a", 2);
    cosign_ok(&f, &f.log);
    let other = fork(&f, "fork");
    append(&f.log, "a", 2);
    append(&other, "evil", 2);
    cosign_ok(&f, &f.log);
    // Same origin, key and size 4, another root: 409 (size 4) then 422 with old size 4.
    let err = cosign_fails(&f, &other);
    assert!(err.contains("422"), "{err}");
    assert!(err.contains("split view"), "{err}");
    let (status, _, body) = post(
        &f.server.url,
        "/add-checkpoint",
        &request(4, &[], &checkpoint(&other)),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("split view"), "{body}");
    // No cosignature was added to the fork.
    assert!(cosignatures(&f, &other).1.is_empty());
}

#[test]
fn rejects_split_view_at_a_bigger_size() {
    let f = setup();
    append(&f.log, "a", 2);
    cosign_ok(&f, &f.log);
    let other = fork(&f, "fork");
    append(&f.log, "a", 2);
    append(&other, "evil", 5);
    cosign_ok(&f, &f.log);
    // The fork (size 7) has no valid consistency proof from the cosigned size 4: 422.
    let err = cosign_fails(&f, &other);
    assert!(err.contains("422"), "{err}");
    let proof = consistency_proof(&other, 4);
    let (status, _, body) = post(
        &f.server.url,
        "/add-checkpoint",
        &request(4, &proof, &checkpoint(&other)),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("consistency proof"), "{body}");
    // The real log still grows normally afterwards.
    append(&f.log, "a", 1);
    cosign_ok(&f, &f.log);
}

#[test]
fn rejects_rollback() {
    let f = setup();
    append(&f.log, "a", 2);
    let old = fork(&f, "old-copy");
    append(&f.log, "a", 3);
    cosign_ok(&f, &f.log);
    // A stale copy of the log (size 2) asks after the witness cosigned 5.
    let err = cosign_fails(&f, &old);
    assert!(err.contains("has cosigned size 5"), "{err}");
    // On the wire: old size 0 gets 409 with the cosigned size...
    let stale = checkpoint(&old);
    let (status, ct, body) = post(&f.server.url, "/add-checkpoint", &request(0, &[], &stale));
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
    // ...and old size 5 above the checkpoint's size 2 is a bad request.
    let (status, _, body) = post(&f.server.url, "/add-checkpoint", &request(5, &[], &stale));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn rejects_unknown_origin_with_404() {
    let f = setup();
    let stranger = init_log(f.tmp.path(), "stranger", "example.org/other");
    append(&stranger, "x", 1);
    let err = cosign_fails(&f, &stranger);
    assert!(err.contains("404"), "{err}");
    assert!(
        err.contains("does not witness the log example.org/other"),
        "{err}"
    );
    let (status, _, _) = post(
        &f.server.url,
        "/add-checkpoint",
        &request(0, &[], &checkpoint(&stranger)),
    );
    assert_eq!(status, 404);
}

#[test]
fn rejects_forged_checkpoint_signature_with_403() {
    let f = setup();
    append(&f.log, "a", 2);
    // The body altered under the log's signature.
    let note = String::from_utf8(checkpoint(&f.log)).unwrap();
    let forged = note.replacen(&format!("{ORIGIN}\n2\n"), &format!("{ORIGIN}\n3\n"), 1);
    assert_ne!(forged, note);
    let (status, _, body) = post(
        &f.server.url,
        "/add-checkpoint",
        &request(0, &[], forged.as_bytes()),
    );
    assert_eq!(status, 403, "{body}");
    // A log with the same origin but another key.
    let impostor = init_log(f.tmp.path(), "impostor", ORIGIN);
    append(&impostor, "a", 2);
    let (status, _, body) = post(
        &f.server.url,
        "/add-checkpoint",
        &request(0, &[], &checkpoint(&impostor)),
    );
    assert_eq!(status, 403, "{body}");
    let out = run(&[
        &"log",
        &"cosign",
        &impostor.dir,
        &"--log-skey",
        &impostor.skey,
        &"--witness-url",
        &f.server.url,
        &"--witness-vkey",
        &f.wvkey,
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("403"), "{err}");
    // Nothing was recorded: the real log is still cosigned from size 0.
    cosign_ok(&f, &f.log);
}

#[test]
fn rejects_malformed_requests_and_keeps_serving() {
    let f = setup();
    append(&f.log, "a", 2);
    let cp = checkpoint(&f.log);
    let url = &f.server.url;
    let mut no_newline = request(0, &[], &cp);
    no_newline.truncate(no_newline.len() - 1);
    for (what, body) in [
        ("empty", Vec::new()),
        (
            "leading zero",
            request(0, &[], &cp).splice(4..4, *b"0").collect::<Vec<_>>(),
        ),
        ("no empty line", b"old 0\n".to_vec()),
        ("no checkpoint", b"old 0\n\n".to_vec()),
        ("bad proof line", request(0, &["AAAA".into()], &cp)),
        (
            "CRLF",
            b"old 0\r\n\r\n".iter().chain(&cp).copied().collect(),
        ),
        ("binary", vec![0xff; 100]),
        ("checkpoint garbage", request(0, &[], b"\n\n\n")),
        (
            "64 proof lines",
            request(
                0,
                &vec!["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(); 64],
                &cp,
            ),
        ),
    ] {
        let (status, _, text) = post(url, "/add-checkpoint", &body);
        assert_eq!(status, 400, "{what}: {text}");
    }
    let (status, _, text) = post(url, "/add-checkpoint", &no_newline);
    assert!(status == 400 || status == 403, "{status} {text}");
    // Too large, wrong path, wrong method.
    let (status, _, _) = post(url, "/add-checkpoint", &vec![b'a'; 70_000]);
    assert_eq!(status, 413);
    let (status, _, _) = post(url, "/other", b"old 0\n\n");
    assert_eq!(status, 404);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent.get(format!("{url}/add-checkpoint")).call().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    // Bad old-size 0 proof: non-empty proof from size 0 is 422.
    let (status, _, _) = post(
        url,
        "/add-checkpoint",
        &request(
            0,
            &["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()],
            &cp,
        ),
    );
    assert_eq!(status, 422);
    // Still serving, and the state is untouched by all of the above.
    let (status, _, body) = post(url, "/add-checkpoint", &request(0, &[], &cp));
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(&format!("\u{2014} {WITNESS} ")) && body.ends_with('\n'));
}

#[test]
fn offline_add_checkpoint_follows_the_same_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let log = init_log(tmp.path(), "log", ORIGIN);
    let (state, wskey, wvkey) = init_witness(tmp.path(), "w");
    append(&log, "a", 3);
    let req = tmp.path().join("req");
    let add = |body: &[u8]| {
        std::fs::write(&req, body).unwrap();
        run(&[
            &"log",
            &"witness",
            &"add-checkpoint",
            &"--state-dir",
            &state,
            &"--witness-skey",
            &wskey,
            &"--log-vkey",
            &log.vkey,
            &"--request",
            &req,
        ])
    };
    let out = add(&request(0, &[], &checkpoint(&log)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let cp = SignedCheckpoint::verify(&checkpoint(&log), &read_vkey(&log.vkey)).unwrap();
    verify_cosignature(&line, &cp.body().unwrap(), &read_vkey(&wvkey)).unwrap();

    append(&log, "b", 2);
    let state_files = || -> Vec<Vec<u8>> {
        let mut files: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    let before = state_files();
    // A checkpoint the witness must not cosign (here from a stale old size) is a refusal
    // for safety (exit 3); a malformed request is an input error (exit 2).
    let out = add(&request(0, &[], &checkpoint(&log)));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("409 Conflict (cosigned size 3)"), "{err}");
    let out = add(b"not a request\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused, HTTP 400"), "{err}");
    assert_eq!(
        state_files(),
        before,
        "a refused request changed the witness state"
    );
    let out = add(&request(3, &consistency_proof(&log, 3), &checkpoint(&log)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // While a server holds the state directory, the offline mode refuses to touch it.
    let _server = WitnessServer::start(&state, &wskey, &[&log.vkey]);
    let out = add(&request(5, &[], &checkpoint(&log)));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("in use by another process"), "{err}");
}

#[test]
fn serve_refuses_a_public_address_without_public() {
    let tmp = tempfile::tempdir().unwrap();
    let log = init_log(tmp.path(), "log", ORIGIN);
    let (state, wskey, _) = init_witness(tmp.path(), "w");
    let err = fails(&[
        &"log",
        &"witness",
        &"serve",
        &"--state-dir",
        &state,
        &"--witness-skey",
        &wskey,
        &"--log-vkey",
        &log.vkey,
        &"--listen",
        &"0.0.0.0:0",
    ]);
    assert!(err.contains("not a loopback address"), "{err}");
}

#[test]
fn cosign_needs_one_witness_key_per_witness() {
    let f = setup();
    let err = fails(&[
        &"log",
        &"cosign",
        &f.log.dir,
        &"--log-skey",
        &f.log.skey,
        &"--witness-url",
        &f.server.url,
        &"--witness-url",
        &f.server.url,
        &"--witness-vkey",
        &f.wvkey,
    ]);
    assert!(
        err.contains("2 --witness-url but 1 --witness-vkey"),
        "{err}"
    );
    // A log key is not a witness key.
    let err = fails(&[
        &"log",
        &"cosign",
        &f.log.dir,
        &"--log-skey",
        &f.log.skey,
        &"--witness-url",
        &f.server.url,
        &"--witness-vkey",
        &f.log.vkey,
    ]);
    assert!(err.contains("not a witness"), "{err}");
}

#[test]
fn verify_accepts_a_bundle_cosigned_by_the_served_witness() {
    use rust_pki_tlog::bundle_file::{StapledBundle, pem_certificates};
    use rust_pki_tlog::entry::Entry;

    let f = setup();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("verify/tests/data/cli");
    let chain = std::fs::read_to_string(fixtures.join("chain.pem")).unwrap();
    let certificates = pem_certificates(&chain).unwrap();
    let (leaf, delegate) = (f.tmp.path().join("leaf.der"), f.tmp.path().join("ca.der"));
    std::fs::write(&leaf, &certificates[0]).unwrap();
    std::fs::write(&delegate, &certificates[1]).unwrap();
    append(&f.log, "a", 2);
    // The delegate's ceremony record (entry 2), which the leaf's bundle must prove too.
    let key = rust_pki_tlog::note::SignerKey::parse(
        std::fs::read_to_string(&f.log.skey).unwrap().trim_end(),
    )
    .unwrap();
    let record = Entry::ceremony_record("002-delegate-issue.toml", b"record", &[&certificates[1]])
        .unwrap()
        .encode()
        .unwrap();
    rust_pki_tlog::writer::Log::open(&f.log.dir, ORIGIN, move |body: &[u8]| {
        rust_pki_tlog::note::sign_note(body, &key)
    })
    .unwrap()
    .append(std::slice::from_ref(&record))
    .unwrap();
    ok(&[
        &"log",
        &"append",
        &f.log.dir,
        &"--log-skey",
        &f.log.skey,
        &"--leaf",
        &leaf,
        &"--delegate",
        &delegate,
    ]);
    cosign_ok(&f, &f.log);

    let no_signer =
        |_: &[u8]| -> rust_pki_tlog::Result<Vec<u8>> { Err(rust_pki_tlog::Error::EntryNoSigner) };
    let log = rust_pki_tlog::writer::Log::open(&f.log.dir, ORIGIN, no_signer).unwrap();
    let entry = Entry::leaf_issuance(&certificates[0], &certificates[1])
        .unwrap()
        .encode()
        .unwrap();
    let mut bundle = StapledBundle::from_log(&log, 3, &entry, certificates).unwrap();
    bundle.add_delegate(&log, &record).unwrap();
    drop(log);
    let path = f.tmp.path().join("leaf.bundle");
    std::fs::write(&path, bundle.to_text()).unwrap();
    let verify = |min: &str| {
        run(&[
            &"verify",
            &"--bundle",
            &path,
            &"--root",
            &fixtures.join("root.pem"),
            &"--log-vkey",
            &f.log.vkey,
            &"--at",
            &"2026-12-01T00:00:00Z",
            &"--purpose",
            &"releases",
            &"--witness-vkey",
            &f.wvkey,
            &"--min-witnesses",
            &min,
        ])
    };
    let out = verify("1");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("1 witness cosignature(s) ({WITNESS}+")),
        "{stdout}"
    );
    let out = verify("2");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("INVALID [witnesses]: 1 valid witness cosignature(s), 2 required"),
        "{stderr}"
    );
}
