//! `rust-pki delegate …` end to end on SoftHSM2: the state carries every revocation
//! forward across many CRLs (checked with `openssl crl`), CRL numbers only grow even
//! across crashes, one command at a time holds a state, refusals leave the state byte for
//! byte unchanged, an edited state is refused naming its rule, `delegate due` exits by
//! the clock, and revocations and CRLs are logged.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use common::{Lab, tool};

/// A lab with a root, a releases delegate (key in the `delegate-owners` token) and its
/// state in `state/`; with `log`, a log in `log/` where the delegate is logged as its
/// ceremony would have.
struct Delegate {
    lab: Lab,
    log: bool,
}

impl Delegate {
    fn new(log: bool) -> Self {
        let lab = Lab::new(&["rust-root", "delegate-owners", "leaf-owners"]);
        let root_key = lab.root();
        let key = lab.keygen("delegate-owners", "releases");
        let p = |name: &str| lab.path(name).to_str().unwrap().to_owned();
        lab.ok([
            "ca",
            "delegate",
            "--root-cert",
            &p("root.pem"),
            "--root-key",
            &root_key,
            "--purpose",
            "releases",
            "--subject-key",
            &key,
            "--out",
            &p("releases.pem"),
        ]);
        if log {
            lab.ok([
                "log",
                "init",
                &p("log"),
                "--origin",
                "pki.example/log",
                "--log-skey-out",
                &p("log.skey"),
            ]);
            common::log_as_ceremony_output(
                &lab.path("releases.pem"),
                &lab.path("log"),
                &lab.path("log.skey"),
            );
        }
        let out = lab.ok([
            "delegate",
            "init",
            "--state",
            &p("state"),
            "--cert",
            &p("releases.pem"),
            "--key",
            &key,
        ]);
        assert!(out.contains("initialised"), "{out}");
        // A second init on the same state is refused.
        let again = lab.rust_pki([
            "delegate",
            "init",
            "--state",
            &p("state"),
            "--cert",
            &p("releases.pem"),
            "--key",
            &key,
        ]);
        assert_eq!(again.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&again.stderr).contains("state-exists"));
        Self { lab, log }
    }

    fn p(&self, name: &str) -> String {
        self.lab.path(name).to_str().unwrap().to_owned()
    }

    fn state(&self) -> PathBuf {
        self.lab.path("state")
    }

    /// `delegate SUB --state state ARGS` (+ the log arguments for leaf, revoke, crl).
    fn run(&self, sub: &str, args: &[&str]) -> Output {
        self.run_env(sub, args, &[])
    }

    fn run_env(&self, sub: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all: Vec<String> = vec![
            "delegate".into(),
            sub.into(),
            "--state".into(),
            self.p("state"),
        ];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        if self.log && matches!(sub, "leaf" | "revoke" | "crl" | "rotate") {
            all.extend([
                "--log".into(),
                self.p("log"),
                "--log-skey".into(),
                self.p("log.skey"),
            ]);
        }
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .env("SOFTHSM2_CONF", self.lab.hsm_dir().join("softhsm2.conf"))
            .envs(env.iter().copied())
            .args(&all)
            .output()
            .unwrap()
    }

    fn ok(&self, sub: &str, args: &[&str]) -> String {
        let out = self.run(sub, args);
        assert!(
            out.status.success(),
            "delegate {sub} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `delegate SUB …` must fail with `code`; returns stderr.
    fn fails(&self, sub: &str, args: &[&str], code: i32) -> String {
        let out = self.run(sub, args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "delegate {sub} {args:?}: {stderr}"
        );
        stderr
    }

    /// A new leaf `name` with a new key in the leaf token; returns its serial.
    fn leaf(&self, name: &str) -> String {
        let key = self.lab.keygen("leaf-owners", name);
        let out = self.ok(
            "leaf",
            &[
                "--subject",
                &format!("CN={name},O=The Rust Project"),
                "--subject-key",
                &key,
                "--out",
                &self.p(&format!("{name}.pem")),
            ],
        );
        serial_of(&out)
    }

    /// Signs the next CRL into `name`; returns its `openssl crl -text` output.
    fn crl(&self, name: &str) -> String {
        self.ok("crl", &["--out", &self.p(name)]);
        let (ok, text) = tool(
            "openssl",
            &[&"crl", &"-in", &self.lab.path(name), &"-text", &"-noout"],
        );
        assert!(ok, "{text}");
        let (ok, verified) = tool(
            "openssl",
            &[
                &"crl",
                &"-in",
                &self.lab.path(name),
                &"-CAfile",
                &self.lab.path("releases.pem"),
                &"-noout",
                &"-verify",
            ],
        );
        assert!(ok && verified.contains("verify OK"), "{verified}");
        text
    }
}

/// The serial `delegate leaf` registered.
fn serial_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("registered serial "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no serial in {stdout}"))
        .to_owned()
}

/// The cRLNumber of `openssl crl -text` output.
fn crl_number(text: &str) -> u64 {
    let after = text
        .split("X509v3 CRL Number:")
        .nth(1)
        .expect("a CRL number");
    after.split_whitespace().next().unwrap().parse().unwrap()
}

/// Serial (lowercase hex, as the state spells it) → (revocation date, reason) of
/// `openssl crl -text` output.
fn crl_entries(text: &str) -> BTreeMap<String, (String, String)> {
    let mut entries = BTreeMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(serial) = line.trim().strip_prefix("Serial Number: ") else {
            continue;
        };
        let date = lines
            .next()
            .unwrap()
            .trim()
            .strip_prefix("Revocation Date: ")
            .unwrap()
            .to_owned();
        let mut reason = "unspecified".to_owned();
        if lines
            .peek()
            .is_some_and(|l| l.contains("CRL entry extensions"))
        {
            lines.next();
            lines.next();
            reason = lines.next().unwrap().trim().to_owned();
        }
        entries.insert(serial.to_ascii_lowercase(), (date, reason));
    }
    entries
}

/// Every file under `dir` (the lock file aside) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != ".lock" {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The entries of the log in `lab/log`, as `log audit --json` reports them by kind.
fn audit(d: &Delegate) -> serde_json::Value {
    let out = d.lab.rust_pki([
        "log",
        "audit",
        &d.p("log"),
        "--log-vkey",
        &d.p("log/log.vkey"),
        "--json",
    ]);
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The delegate's ceremony record is a stand-in (common::log_as_ceremony_output): the
    // audit's only finding.
    let findings = envelope["result"]["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["rule"] == "record-format"),
        "{envelope}"
    );
    envelope["result"].clone()
}

#[test]
fn ten_crls_carry_every_revocation_forward_with_its_date_and_reason_and_are_logged() {
    let d = Delegate::new(true);
    let serials: Vec<String> = (1..=5).map(|i| d.leaf(&format!("leaf{i}"))).collect();
    assert_eq!(d.leaf("leaf1-again").len() % 2, 0);

    // Two revocations before the first CRL: by serial (with `:` separators, as openssl
    // prints them) and by certificate, each back-dated to its own time.
    let colons: Vec<String> = serials[0]
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap().to_ascii_uppercase())
        .collect();
    // Revocation dates are given explicitly (not before the leaves' notBefore, not in
    // the future): the CRLs must keep exactly these.
    let now = || {
        time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let out = d.ok(
        "revoke",
        &[
            &colons.join(":"),
            "--reason",
            "key-compromise",
            "--at",
            &now(),
        ],
    );
    assert!(
        out.contains(&format!("revoked serial {}", serials[0])),
        "{out}"
    );
    assert!(out.contains("logged as entry"), "{out}");
    d.ok(
        "revoke",
        &["--cert", &d.p("leaf2.pem"), "--reason", "superseded"],
    );

    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    expected.insert(serials[0].clone(), "Key Compromise");
    expected.insert(serials[1].clone(), "Superseded");
    let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
    let mut numbers = Vec::new();
    for i in 0..10 {
        match i {
            3 => {
                d.ok(
                    "revoke",
                    &[
                        &serials[2],
                        "--reason",
                        "cessation-of-operation",
                        "--at",
                        // Not earlier: the leaves may have been issued this second.
                        &now(),
                    ],
                );
                expected.insert(serials[2].clone(), "Cessation Of Operation");
            }
            6 => {
                d.ok("revoke", &[&serials[3], "--reason", "unspecified"]);
                expected.insert(serials[3].clone(), "unspecified");
            }
            _ => {}
        }
        let text = d.crl(&format!("crl-{i}.crl"));
        numbers.push(crl_number(&text));
        let entries = crl_entries(&text);
        assert_eq!(entries.len(), expected.len(), "CRL {i}: {text}");
        for (serial, reason) in &expected {
            let (date, listed_reason) = entries
                .get(serial)
                .unwrap_or_else(|| panic!("CRL {i} dropped {serial}: {text}"));
            assert_eq!(listed_reason, reason, "CRL {i}: {text}");
            // The date never changes from one CRL to the next.
            let first = first_seen
                .entry(serial.clone())
                .or_insert_with(|| date.clone());
            assert_eq!(first, date, "CRL {i} moved the date of {serial}");
        }
    }
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(!expected.contains_key(&serials[4]));

    // Revoking twice is refused, the state unchanged.
    let before = snapshot(&d.state());
    let err = d.fails("revoke", &[&serials[0], "--reason", "superseded"], 3);
    assert!(err.contains("already-revoked"), "{err}");
    assert_eq!(snapshot(&d.state()), before);

    // The log holds every revocation and every CRL, in order, and the audit lists them.
    let report = audit(&d);
    let revocations = report["revocations"].as_array().unwrap();
    assert_eq!(revocations.len(), 4, "{report}");
    let logged: Vec<&str> = revocations
        .iter()
        .map(|r| r["serial"].as_str().unwrap())
        .collect();
    for serial in &serials[..4] {
        assert!(
            logged.contains(&serial.as_str()),
            "{serial} not logged: {logged:?}"
        );
    }
    assert_eq!(revocations[0]["reason"], "key-compromise");
    let crls = report["crls"].as_array().unwrap();
    let logged_numbers: Vec<u64> = crls.iter().map(|c| c["number"].as_u64().unwrap()).collect();
    assert_eq!(logged_numbers, numbers);
    assert_eq!(crls.last().unwrap()["entries"], 4);
    assert_eq!(report["leaf_issuances"].as_array().unwrap().len(), 6);
    // Each entry parses as its kind: the site lists them too.
    let site = d.lab.rust_pki([
        "log",
        "publish",
        &d.p("log"),
        "--log-vkey",
        &d.p("log/log.vkey"),
    ]);
    assert!(
        site.status.success(),
        "{}",
        String::from_utf8_lossy(&site.stderr)
    );
    let html = std::fs::read_to_string(d.lab.path("log/index.html")).unwrap();
    assert!(html.contains("Revocations and CRLs (14)"), "{html}");

    // `delegate due`: the CRL is fresh, nothing is due now.
    let out = d.ok("due", &["--fail-if-overdue"]);
    assert!(out.contains("0 due now (0 overdue)"), "{out}");
}

#[test]
fn refused_revocations_leave_the_state_unchanged() {
    let d = Delegate::new(false);
    let serial = d.leaf("mine");
    // A leaf of another delegate (crates-io), issued with `ca leaf`.
    let root_key = d.lab.uri("rust-root", "root");
    let other_key = d.lab.keygen("delegate-owners", "crates-io");
    d.lab.ok([
        "ca",
        "delegate",
        "--root-cert",
        &d.p("root.pem"),
        "--root-key",
        &root_key,
        "--purpose",
        "crates-io",
        "--subject-key",
        &other_key,
        "--out",
        &d.p("crates-io.pem"),
    ]);
    let leaf_key = d.lab.keygen("leaf-owners", "theirs");
    d.lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &d.p("crates-io.pem"),
        "--issuer-key",
        &other_key,
        "--subject",
        "CN=theirs",
        "--subject-key",
        &leaf_key,
        "--out",
        &d.p("theirs.pem"),
    ]);
    let before = snapshot(&d.state());

    let err = d.fails("revoke", &["0badc0de", "--reason", "key-compromise"], 3);
    assert!(err.contains("unknown-serial"), "{err}");
    assert!(err.contains("state.toml"), "{err}");
    let err = d.fails(
        "revoke",
        &["--cert", &d.p("theirs.pem"), "--reason", "key-compromise"],
        3,
    );
    assert!(err.contains("other-issuer"), "{err}");
    assert!(err.contains("theirs.pem"), "{err}");
    let err = d.fails("revoke", &["not-hex", "--reason", "key-compromise"], 2);
    assert!(err.contains("serial-format"), "{err}");
    let err = d.fails("revoke", &[&serial, "--reason", "keyCompromise"], 2);
    assert!(err.contains("rule reason"), "{err}");
    let err = d.fails(
        "revoke",
        &[
            &serial,
            "--reason",
            "superseded",
            "--at",
            "2099-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(err.contains("revoked-at-in-future"), "{err}");
    let err = d.fails(
        "revoke",
        &[
            &serial,
            "--reason",
            "superseded",
            "--at",
            "2020-01-01T00:00:00Z",
        ],
        2,
    );
    assert!(err.contains("revoked-before-issued"), "{err}");
    assert_eq!(
        snapshot(&d.state()),
        before,
        "a refused revocation changed the state"
    );

    // The state is held by another process: refused after the wait, naming the lock.
    let held =
        rust_pki_fs::DirLock::acquire(&d.state(), "test", std::time::Duration::ZERO).unwrap();
    let err = d.fails(
        "revoke",
        &[&serial, "--reason", "superseded", "--lock-timeout", "1"],
        3,
    );
    assert!(
        err.contains("delegate state") && err.contains(".lock"),
        "{err}"
    );
    let err = d.fails(
        "crl",
        &["--out", &d.p("held.crl"), "--lock-timeout", "0"],
        3,
    );
    assert!(err.contains("locked by another rust-pki process"), "{err}");
    assert!(!d.lab.path("held.crl").exists());
    drop(held);
    assert_eq!(snapshot(&d.state()), before);
    d.ok("revoke", &[&serial, "--reason", "superseded"]);

    // A leaf this delegate issued outside the state (`ca leaf`): --cert registers it,
    // then revokes it.
    let delegate_key = d.lab.uri("delegate-owners", "releases");
    let outside_key = d.lab.keygen("leaf-owners", "outside");
    d.lab.ok([
        "ca",
        "leaf",
        "--issuer-cert",
        &d.p("releases.pem"),
        "--issuer-key",
        &delegate_key,
        "--subject",
        "CN=outside",
        "--subject-key",
        &outside_key,
        "--out",
        &d.p("outside.pem"),
    ]);
    d.ok(
        "revoke",
        &[
            "--cert",
            &d.p("outside.pem"),
            "--reason",
            "privilege-withdrawn",
        ],
    );
    let state = std::fs::read_to_string(d.state().join("state.toml")).unwrap();
    assert_eq!(state.matches("[[leaf]]").count(), 2, "{state}");
    assert_eq!(state.matches("[[revocation]]").count(), 2, "{state}");

    // init refuses a key that is not the certificate's.
    let out = d.lab.rust_pki([
        "delegate",
        "init",
        "--state",
        &d.p("state-2"),
        "--cert",
        &d.p("releases.pem"),
        "--key",
        &other_key,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key-mismatch"));
    assert!(!d.lab.path("state-2/state.toml").exists());
}

#[test]
fn concurrent_commands_on_one_state_one_waits_or_is_refused() {
    let d = Delegate::new(false);
    let serial = d.leaf("racer");
    // Two processes at once with no wait: one gets the state, the other is refused
    // naming the lock, or runs after it (never both at once: the numbers differ).
    let spawn = |name: &str| {
        let mut all: Vec<String> = vec![
            "delegate".into(),
            "crl".into(),
            "--state".into(),
            d.p("state"),
        ];
        all.extend([
            "--out".into(),
            d.p(name),
            "--lock-timeout".into(),
            "0".into(),
        ]);
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .env("SOFTHSM2_CONF", d.lab.hsm_dir().join("softhsm2.conf"))
            .args(&all)
            .spawn()
            .unwrap()
    };
    let mut refused = 0;
    let mut numbers = Vec::new();
    for round in 0..5 {
        let a = spawn(&format!("a{round}.crl"));
        let b = spawn(&format!("b{round}.crl"));
        for (child, name) in [(a, format!("a{round}.crl")), (b, format!("b{round}.crl"))] {
            let out = child.wait_with_output().unwrap();
            match out.status.code() {
                Some(0) => {
                    let (_, text) = tool(
                        "openssl",
                        &[&"crl", &"-in", &d.lab.path(&name), &"-text", &"-noout"],
                    );
                    numbers.push(crl_number(&text));
                }
                Some(3) => refused += 1,
                other => panic!("unexpected status {other:?}"),
            }
        }
    }
    numbers.sort_unstable();
    let mut unique = numbers.clone();
    unique.dedup();
    assert_eq!(unique, numbers, "two CRLs with one number");
    assert_eq!(numbers.len() + refused, 10);
    let _ = serial;
}

#[test]
fn edited_states_are_refused_naming_the_rule() {
    let d = Delegate::new(true);
    let serial = d.leaf("edited");
    d.ok("revoke", &[&serial, "--reason", "key-compromise"]);
    d.crl("one.crl");
    d.crl("two.crl");
    let state_file = d.state().join("state.toml");
    let good = std::fs::read_to_string(&state_file).unwrap();
    assert!(good.contains("reserved_number = 2"), "{good}");
    let attempt = |text: &str, rule: &str, with_log: bool| {
        std::fs::write(&state_file, text).unwrap();
        let out = if with_log {
            d.run("crl", &["--out", &d.p("never.crl")])
        } else {
            d.run("due", &[])
        };
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{rule}: accepted");
        assert!(err.contains(rule), "{rule}: {err}");
        assert!(!d.lab.path("never.crl").exists());
        std::fs::write(&state_file, &good).unwrap();
    };
    // The number lowered: below the CRL copies in the state.
    let lowered = good
        .replace("reserved_number = 2", "reserved_number = 1")
        .replace("last_number = 2", "last_number = 1");
    attempt(&lowered, "crl-number-lowered", true);
    // …and below the log, even with the copies removed.
    let copy = d.state().join("crls/2.crl");
    let saved = std::fs::read(&copy).unwrap();
    std::fs::remove_file(&copy).unwrap();
    let one_sha = {
        use sha2::Digest;
        let der = rust_pki_ca::pem::read_der(&d.state().join("crls/1.crl"), "X509 CRL").unwrap();
        hex::encode(sha2::Sha256::digest(der))
    };
    // The state as it was after CRL 1 (its digest, no log indexes), CRL 2's copy gone.
    let mut behind = lowered.clone();
    let start = behind.find("[crl]").unwrap()
        + behind[behind.find("[crl]").unwrap()..]
            .find("\nsha256 = \"")
            .unwrap()
        + 1;
    let end = start + behind[start..].find('\n').unwrap();
    behind.replace_range(start..end, &format!("sha256 = \"{one_sha}\""));
    let behind = behind
        .lines()
        .filter(|l| !l.starts_with("log_index"))
        .collect::<Vec<_>>()
        .join("\n");
    let err_text = {
        std::fs::write(&state_file, &behind).unwrap();
        let out = d.run("crl", &["--out", &d.p("never.crl")]);
        std::fs::write(&state_file, &good).unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(err_text.contains("crl-number-lowered"), "{err_text}");
    assert!(err_text.contains("log"), "{err_text}");
    std::fs::write(&copy, saved).unwrap();
    // A revocation deleted: the newest CRL still lists it.
    let start = good.find("[[revocation]]").unwrap();
    attempt(&good[..start], "revocation-removed", false);
    // Its date changed.
    let moved = good.replacen("revoked_at = \"2026", "revoked_at = \"2025", 1);
    attempt(&moved, "revocation-changed", false);
    // Garbage, an unknown field.
    attempt("this is not toml [", "state-syntax", false);
    attempt(
        &good.replace("[crl]\n", "[crl]\nextra = 1\n"),
        "state-syntax",
        false,
    );
    // A register entry for a certificate this delegate did not issue.
    let copy = d.state().join(format!("issued/{serial}.pem"));
    let mine = std::fs::read(&copy).unwrap();
    std::fs::copy(d.lab.path("releases.pem"), &copy).unwrap();
    let out = d.run("due", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("leaf-copy"), "{err}");
    std::fs::write(&copy, mine).unwrap();
    // The revocation deleted, and with it every trace in the state (CRL copies, CRL
    // section): the log still records it.
    let crls = d.state().join("crls");
    let saved: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&crls)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    for (path, _) in &saved {
        std::fs::remove_file(path).unwrap();
    }
    let start = good.find("[crl]").unwrap();
    let end = start + good[start..].find("\n\n").unwrap();
    let mut wiped = good.clone();
    wiped.replace_range(start..end, "[crl]\nreserved_number = 0\nlast_number = 0");
    let wiped = wiped[..wiped.find("[[revocation]]").unwrap()]
        .lines()
        .filter(|l| !l.starts_with("log_index"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&state_file, &wiped).unwrap();
    let out = d.run("crl", &["--out", &d.p("never.crl")]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("revocation-removed") && err.contains(&serial),
        "{err}"
    );
    std::fs::write(&state_file, &good).unwrap();
    for (path, bytes) in saved {
        std::fs::write(path, bytes).unwrap();
    }
    // Untouched, it still works, and the next number continues from 2.
    let text = d.crl("three.crl");
    assert_eq!(crl_number(&text), 3);
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_crash_around_signing_never_lets_a_number_be_reused() {
    use std::os::unix::process::ExitStatusExt;
    let d = Delegate::new(false);
    let serial = d.leaf("crash");
    d.ok("revoke", &[&serial, "--reason", "key-compromise"]);
    let mut highest = crl_number(&d.crl("first.crl"));
    for (i, step) in ["crl-reserved", "crl-signed", "crl-saved"]
        .iter()
        .enumerate()
    {
        let out = d.run_env(
            "crl",
            &["--out", &d.p(&format!("crashed-{i}.crl"))],
            &[("RUST_PKI_DELEGATE_FAULT", step)],
        );
        assert_eq!(
            out.status.signal(),
            Some(6),
            "{step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Whatever the crash left (a reserved number, a copy in the state), the rerun
        // signs a higher number, with the revocation still listed.
        let text = d.crl(&format!("rerun-{i}.crl"));
        let number = crl_number(&text);
        assert!(number > highest + 1, "{step}: {number} after {highest}");
        assert!(crl_entries(&text).contains_key(&serial), "{text}");
        highest = number;
    }
    // The number burnt at each crash is not reused by anything later either.
    let listing: Vec<String> = std::fs::read_dir(d.state().join("crls"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(listing.contains(&"6.crl".to_owned()), "{listing:?}");
}

#[test]
fn due_exits_by_the_clock_and_rotate_issues_the_successor() {
    let d = Delegate::new(false);
    // No CRL yet: due at once, not overdue.
    let out = d.ok("due", &["--fail-if-overdue"]);
    assert!(
        out.contains("crl-resign") && out.contains("no CRL signed yet"),
        "{out}"
    );
    let serial = d.leaf("rotating");
    d.crl("fresh.crl");
    let json = |at: &str, fail: bool| {
        let mut args = vec!["--at", at, "--json"];
        if fail {
            args.push("--fail-if-overdue");
        }
        let out = d.run("due", &args);
        let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), envelope)
    };
    let now = time::OffsetDateTime::now_utc();
    let at = |days: i64| {
        (now + time::Duration::days(days))
            .replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let kinds_due = |envelope: &serde_json::Value, at: &str| -> Vec<(String, bool)> {
        envelope["result"]["due"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["due_at"].as_str().unwrap() <= at)
            .map(|d| {
                (
                    d["kind"].as_str().unwrap().to_owned(),
                    d["overdue"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    // Now: nothing due.
    let (code, envelope) = json(&at(0), true);
    assert_eq!(code, Some(0), "{envelope}");
    assert_eq!(envelope["command"], "delegate due");
    assert!(kinds_due(&envelope, &at(0)).is_empty(), "{envelope}");
    // In 6 days (CRL nextUpdate in 7, margin 2): the CRL is due, not overdue.
    let (code, envelope) = json(&at(6), true);
    assert_eq!(code, Some(0), "{envelope}");
    assert_eq!(
        kinds_due(&envelope, &at(6)),
        vec![("crl-resign".to_owned(), false)]
    );
    // In 8 days: overdue, exit 1 with the envelope's verdict.
    let (code, envelope) = json(&at(8), true);
    assert_eq!(code, Some(1), "{envelope}");
    assert_eq!(envelope["error"]["rule"], "overdue");
    // Without --fail-if-overdue: exit 0, still marked.
    let (code, envelope) = json(&at(8), false);
    assert_eq!(code, Some(0));
    assert!(kinds_due(&envelope, &at(8)).contains(&("crl-resign".to_owned(), true)));
    // In 25 days (leaf notAfter in 30, lead 7): the leaf is due.
    let (_, envelope) = json(&at(25), false);
    assert!(
        kinds_due(&envelope, &at(25)).contains(&("leaf-rotate".to_owned(), false)),
        "{envelope}"
    );
    // Near the delegate's end (the root ends 2031-12-31): its renewal through a ceremony.
    let out = d.run(
        "due",
        &["--at", "2031-11-01T00:00:00Z", "--fail-if-overdue"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("delegate-renew") && text.contains("OVERDUE"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("INVALID [overdue]"));

    // Rotate: the same key is refused; a new key gives the successor, same subject.
    let old_key = d.lab.uri("leaf-owners", "rotating");
    let err = d.fails(
        "rotate",
        &[
            "--purpose-leaf",
            &serial,
            "--subject-key",
            &old_key,
            "--out",
            &d.p("same.pem"),
        ],
        3,
    );
    assert!(err.contains("same-key"), "{err}");
    let new_key = d.lab.keygen("leaf-owners", "rotating-2");
    let out = d.ok(
        "rotate",
        &[
            "--subject",
            "CN=rotating,O=The Rust Project",
            "--subject-key",
            &new_key,
            "--out",
            &d.p("next.pem"),
        ],
    );
    assert!(out.contains(&format!("succeeds serial {serial}")), "{out}");
    let (ok, text) = tool(
        "openssl",
        &[
            &"x509",
            &"-in",
            &d.lab.path("next.pem"),
            &"-noout",
            &"-subject",
        ],
    );
    assert!(ok && text.contains("CN = rotating"), "{text}");
    let state = std::fs::read_to_string(d.state().join("state.toml")).unwrap();
    assert_eq!(state.matches("[[leaf]]").count(), 2, "{state}");
}
