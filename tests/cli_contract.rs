//! The command line's contract with scripts (docs/cli-json.md), table-driven: for each
//! subcommand a valid call, a usage error, a missing file and, where there is one, an
//! invalid verdict, with the exit status (0 valid, 1 invalid, 2 error, 3 refused), the
//! stderr prefix (`INVALID [rule]:` or `error:`) and, with `--json`, the envelope, which
//! is validated against docs/cli-json.schema.json. Then every subcommand into a closed
//! pipe: no panic, no "Broken pipe" message.
//!
//! Fixtures: verify/tests/data/cli (root → releases delegate → leaf, valid on
//! 2026-12-01, a CRL revoking the leaf), the repository's policy and roster, and a log
//! made here with `log init`. Nothing needs an HSM.
// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const AT: &str = "2026-12-01T00:00:00Z";

fn fixture(name: &str) -> String {
    Path::new(REPO)
        .join("verify/tests/data/cli")
        .join(name)
        .display()
        .to_string()
}

fn rust_pki(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(REPO)
        .env_remove("RUST_PKI_LOG")
        .args(args)
        .output()
        .unwrap()
}

/// What a call must end with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit 0; stdout contains this.
    Ok(&'static str),
    /// Exit 1; stderr starts with `INVALID [rule]:`.
    Invalid(&'static str),
    /// Exit 2; stderr starts with `error:` and contains this.
    Error(&'static str),
    /// Exit 3; stderr starts with `error:` and contains this.
    Refused(&'static str),
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    expect: Expect,
}

fn case(name: &'static str, args: &[&str], expect: Expect) -> Case {
    Case {
        name,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        expect,
    }
}

/// A scratch directory with a log (`log/`, its secret key `log.skey`), an empty ceremony
/// state folder (`state/`) and a bundle-looking file.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let scratch = Self { dir };
        let out = rust_pki(&[
            "log".into(),
            "init".into(),
            scratch.path("log"),
            "--origin".into(),
            "example.com/contract".into(),
            "--log-skey-out".into(),
            scratch.path("log.skey"),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        // Another log, whose key must not verify the first one's checkpoint.
        let out = rust_pki(&[
            "log".into(),
            "init".into(),
            scratch.path("other"),
            "--origin".into(),
            "example.com/other".into(),
            "--log-skey-out".into(),
            scratch.path("other.skey"),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::create_dir(scratch.dir.path().join("state")).unwrap();
        // The repository's roster without its last member: 8 of the 9 the policy needs.
        let roster = std::fs::read_to_string(Path::new(REPO).join("policy/roster.toml")).unwrap();
        let last = roster.rfind("[[member]]").unwrap();
        std::fs::write(
            scratch.dir.path().join("short-roster.toml"),
            &roster[..last],
        )
        .unwrap();
        // A root-init request (prepared with a throwaway key: no HSM), in its own state.
        let out = rust_pki(&[
            "ceremony".into(),
            "prepare".into(),
            "policy/ceremonies/root-init.toml".into(),
            "--state-dir".into(),
            scratch.path("prepared"),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::write(
            scratch.dir.path().join("fake.bundle"),
            "rust-pki-bundle/v2\nnot really\n",
        )
        .unwrap();
        // A directory of certificates the log does not name: the delegate of the fixture
        // chain (the second certificate), which the fixture root issued.
        let certs = scratch.dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        let chain = std::fs::read_to_string(fixture("chain.pem")).unwrap();
        let begin = "-----BEGIN CERTIFICATE-----";
        let delegate = &chain[chain.rfind(begin).unwrap()..];
        std::fs::write(certs.join("delegate.pem"), delegate).unwrap();
        scratch
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `case`, checks its status, prefix and (under `--json`) envelope; returns the
/// envelope if there is one.
fn check(case: &Case) -> Option<Value> {
    let out = rust_pki(&case.args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let context = format!(
        "{}: rust-pki {}\nstdout: {stdout}\nstderr: {stderr}",
        case.name,
        case.args.join(" ")
    );
    let (code, prefix, needle) = match case.expect {
        Expect::Ok(needle) => (0, None, needle),
        Expect::Invalid(rule) => (1, Some(format!("INVALID [{rule}]: ")), ""),
        Expect::Error(needle) => (2, Some("error: ".to_owned()), needle),
        Expect::Refused(needle) => (3, Some("error: ".to_owned()), needle),
    };
    assert_eq!(out.status.code(), Some(code), "{context}");
    assert!(!stderr.contains("panicked"), "{context}");
    match &prefix {
        // Warnings may come first; the verdict or error is the first line with a prefix.
        Some(prefix) => {
            assert!(
                stderr.lines().any(|line| line.starts_with(prefix.as_str())),
                "expected a line starting with {prefix:?}: {context}"
            );
            if code == 2 || code == 3 {
                assert!(!stderr.contains("INVALID"), "{context}");
            }
            assert!(stderr.contains(needle), "expected {needle:?}: {context}");
        }
        None => assert!(
            stdout.contains(needle) || (code == 1 && stderr.contains(needle)),
            "expected {needle:?}: {context}"
        ),
    }
    // clap's own usage errors print no envelope; every other --json call prints one.
    let json = case.args.iter().any(|a| a == "--json") && !stderr.contains("Usage:");
    if !json {
        return None;
    }
    let envelope: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {context}"));
    assert_eq!(envelope["version"], 1, "{context}");
    assert_eq!(envelope["ok"], code == 0, "{context}");
    if code == 0 {
        assert!(envelope["error"].is_null(), "{context}");
        assert!(envelope["result"].is_object(), "{context}");
    } else {
        assert_eq!(envelope["error"]["exit"], code, "{context}");
        assert!(envelope["error"]["message"].is_string(), "{context}");
        if let Expect::Invalid(rule) = case.expect {
            assert_eq!(envelope["error"]["rule"], rule, "{context}");
        }
    }
    Some(envelope)
}

fn cases(s: &Scratch) -> Vec<Case> {
    let (root, chain, crl) = (
        fixture("root.pem"),
        fixture("chain.pem"),
        fixture("revoked-leaf.crl.pem"),
    );
    let (root, chain, crl) = (root.as_str(), chain.as_str(), crl.as_str());
    let missing = s.path("missing.pem");
    let missing = missing.as_str();
    let (log, skey, state, certs, bundle) = (
        s.path("log"),
        s.path("log.skey"),
        s.path("state"),
        s.path("certs"),
        s.path("fake.bundle"),
    );
    let vkey = s.path("log/log.vkey");
    let other_vkey = s.path("other/log.vkey");
    let prepared = s.path("prepared");
    let short_roster = s.path("short-roster.toml");
    let request = s.path("prepared/001-root-init/request.toml");
    let (log, skey, state, certs, bundle, vkey) = (
        log.as_str(),
        skey.as_str(),
        state.as_str(),
        certs.as_str(),
        bundle.as_str(),
        vkey.as_str(),
    );
    let tmp = s.dir.path().display().to_string();
    let tmp = tmp.as_str();
    let v = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "verify",
            "--root",
            root,
            "--at",
            AT,
            "--purpose",
            "releases",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let with = |mut args: Vec<String>, more: &[&str]| {
        args.extend(more.iter().map(|a| (*a).to_owned()));
        args
    };
    use Expect::*;
    let mut table = vec![
        // ---- verify ----
        Case {
            name: "verify valid",
            args: with(v(&[]), &["--chain", chain]),
            expect: Ok("not checked: revocation of"),
        },
        Case {
            name: "verify valid json",
            args: with(v(&["--json"]), &["--chain", chain]),
            expect: Ok("\"ok\":true"),
        },
        Case {
            name: "verify revoked",
            args: with(v(&[]), &["--chain", chain, "--crl", crl]),
            expect: Invalid("revoked"),
        },
        Case {
            name: "verify revoked json",
            args: with(v(&["--json"]), &["--chain", chain, "--crl", crl]),
            expect: Invalid("revoked"),
        },
        Case {
            name: "verify missing chain",
            args: with(v(&["--json"]), &["--chain", missing]),
            expect: Error("missing.pem"),
        },
        Case {
            name: "verify directory as chain",
            args: with(v(&["--json"]), &["--chain", tmp]),
            expect: Error("cannot read"),
        },
        Case {
            name: "verify missing root",
            args: with(
                vec!["verify".into(), "--root".into(), missing.into()],
                &["--chain", chain, "--purpose", "releases", "--json"],
            ),
            expect: Error("missing.pem"),
        },
        Case {
            name: "verify missing crl",
            args: with(v(&[]), &["--chain", chain, "--crl", missing]),
            expect: Error("missing.pem"),
        },
        case(
            "verify unknown purpose",
            &[
                "verify",
                "--root",
                root,
                "--chain",
                chain,
                "--purpose",
                "nope",
                "--json",
            ],
            Error("nope"),
        ),
        Case {
            name: "verify bundle as chain",
            args: with(v(&["--json"]), &["--chain", bundle]),
            expect: Error("--bundle"),
        },
        case(
            "verify usage: no chain",
            &["verify", "--root", root, "--purpose", "releases"],
            Error("--chain"),
        ),
        Case {
            name: "verify usage: log key without bundle",
            args: with(v(&[]), &["--chain", chain, "--log-vkey", vkey]),
            expect: Error("--bundle"),
        },
        Case {
            name: "verify usage: witness without bundle",
            args: with(v(&[]), &["--chain", chain, "--witness-vkey", vkey]),
            expect: Error("--bundle"),
        },
        // ---- lint ----
        case("lint policy", &["lint"], Ok("")),
        case("lint invalid root", &["lint", root], Invalid("lint")),
        case("lint missing", &["lint", missing], Error("missing.pem")),
        case(
            "lint usage",
            &["lint", "--no-such-flag"],
            Error("--no-such-flag"),
        ),
        // ---- ceremony ----
        case(
            "ceremony due",
            &["ceremony", "due", "--state-dir", state, "--at", AT],
            Ok("root-init"),
        ),
        case(
            "ceremony due json",
            &[
                "ceremony",
                "due",
                "--state-dir",
                state,
                "--at",
                AT,
                "--json",
            ],
            Ok("\"command\":\"ceremony due\""),
        ),
        case(
            "ceremony due missing state json",
            &["ceremony", "due", "--state-dir", missing, "--json"],
            Error("missing.pem"),
        ),
        case(
            "ceremony due missing policy json",
            &[
                "ceremony",
                "due",
                "--state-dir",
                state,
                "--policy",
                missing,
                "--json",
            ],
            Error("missing.pem"),
        ),
        case(
            "ceremony due usage",
            &["ceremony", "due", "--at", "tomorrow"],
            Error("RFC 3339"),
        ),
        // ---- delegate (a valid state needs a token: tests/delegate_softhsm.rs) ----
        case(
            "delegate due missing state json",
            &["delegate", "due", "--state", missing, "--json"],
            Error("missing.pem"),
        ),
        case(
            "delegate due usage",
            &["delegate", "due", "--state", state, "--at", "tomorrow"],
            Error("RFC 3339"),
        ),
        case(
            "delegate revoke usage",
            &[
                "delegate",
                "revoke",
                "--state",
                state,
                "--reason",
                "superseded",
            ],
            Error("SERIAL"),
        ),
        case(
            "ceremony roster check",
            &["ceremony", "roster", "check"],
            Ok("threshold"),
        ),
        case(
            "ceremony roster breaks a rule",
            &["ceremony", "roster", "check", "--roster", &short_roster],
            Invalid("roster"),
        ),
        case(
            "ceremony roster missing",
            &["ceremony", "roster", "check", "--roster", missing],
            Error("missing.pem"),
        ),
        case(
            "ceremony show",
            &["ceremony", "show", &request],
            Ok("root-init"),
        ),
        case(
            "ceremony prepare",
            &[
                "ceremony",
                "prepare",
                "policy/ceremonies/root-init.toml",
                "--state-dir",
                state,
            ],
            Ok("ceremony show"),
        ),
        // Refused before any HSM is touched: no approvals, no quorum.
        case(
            "ceremony execute without quorum",
            &[
                "ceremony",
                "execute",
                &request,
                "--out",
                &format!("{tmp}/out"),
                "--log",
                log,
                "--log-skey",
                skey,
                "--state-dir",
                &prepared,
            ],
            Refused("quorum not met"),
        ),
        case(
            "ceremony show missing",
            &["ceremony", "show", missing],
            Error("missing.pem"),
        ),
        case(
            "ceremony show usage",
            &["ceremony", "show"],
            Error("REQUEST"),
        ),
        case(
            "ceremony approve missing",
            &[
                "ceremony",
                "approve",
                missing,
                "--key",
                missing,
                "--out",
                &format!("{tmp}/a.sig"),
            ],
            Error("missing.pem"),
        ),
        case(
            "ceremony execute missing",
            &[
                "ceremony",
                "execute",
                missing,
                "--out",
                &format!("{tmp}/out"),
                "--log",
                log,
                "--log-skey",
                skey,
                "--state-dir",
                state,
            ],
            Error("missing.pem"),
        ),
        case(
            "ceremony execute without log",
            &[
                "ceremony",
                "execute",
                missing,
                "--out",
                &format!("{tmp}/out"),
                "--state-dir",
                state,
            ],
            Error("--log"),
        ),
        case(
            "ceremony prepare missing",
            &["ceremony", "prepare", missing, "--state-dir", state],
            Error("missing.pem"),
        ),
        case(
            "ceremony approve usage",
            &["ceremony", "approve"],
            Error("Usage"),
        ),
        case(
            "ceremony execute usage",
            &["ceremony", "execute"],
            Error("Usage"),
        ),
        case(
            "ceremony prepare usage",
            &["ceremony", "prepare"],
            Error("Usage"),
        ),
        // ---- log ----
        case(
            "log verify-checkpoint",
            &["log", "verify-checkpoint", log, "--log-vkey", vkey],
            Ok(""),
        ),
        case(
            "log verify-checkpoint other key",
            &["log", "verify-checkpoint", log, "--log-vkey", &other_vkey],
            Invalid("log-signature"),
        ),
        case(
            "log verify-checkpoint missing",
            &["log", "verify-checkpoint", missing, "--log-vkey", vkey],
            Error("missing.pem"),
        ),
        case(
            "log verify-checkpoint usage",
            &["log", "verify-checkpoint", log],
            Error("--log-vkey"),
        ),
        case(
            "log audit",
            &["log", "audit", log, "--log-vkey", vkey],
            Ok("not checked: history-replay"),
        ),
        case(
            "log audit json",
            &["log", "audit", log, "--log-vkey", vkey, "--json"],
            Ok("\"skipped\""),
        ),
        case(
            "log audit finding json",
            &[
                "log",
                "audit",
                log,
                "--log-vkey",
                vkey,
                "--root",
                root,
                "--certs",
                certs,
                "--json",
            ],
            Invalid("audit"),
        ),
        case(
            "log audit missing json",
            &["log", "audit", missing, "--log-vkey", vkey, "--json"],
            Error("missing.pem"),
        ),
        case(
            "log audit missing key",
            &["log", "audit", log, "--log-vkey", missing],
            Error("missing.pem"),
        ),
        case(
            "log audit usage",
            &["log", "audit", log],
            Error("--log-vkey"),
        ),
        case(
            "log init exists",
            &[
                "log",
                "init",
                log,
                "--origin",
                "example.com/contract",
                "--log-skey-out",
                skey,
            ],
            Refused("refusing to overwrite"),
        ),
        case("log init usage", &["log", "init"], Error("Usage")),
        case(
            "log append missing",
            &[
                "log",
                "append",
                log,
                "--log-skey",
                skey,
                "--artifact",
                missing,
            ],
            Error("missing.pem"),
        ),
        case("log append usage", &["log", "append", log], Error("Usage")),
        case(
            "log prove",
            &["log", "prove", log, "--index", "0"],
            Error(""),
        ),
        case(
            "log prove missing",
            &["log", "prove", missing, "--index", "0"],
            Error("missing.pem"),
        ),
        case(
            "log restaple invalid",
            &[
                "log",
                "restaple",
                log,
                bundle,
                "--out",
                &format!("{tmp}/restapled"),
            ],
            Invalid("bundle-format"),
        ),
        case(
            "log restaple missing",
            &[
                "log",
                "restaple",
                log,
                missing,
                "--out",
                &format!("{tmp}/restapled"),
            ],
            Error("missing.pem"),
        ),
        case(
            "log restaple usage",
            &["log", "restaple", log, "--out", tmp],
            Error("Usage"),
        ),
        case(
            "log witness init usage",
            &["log", "witness", "init"],
            Error("Usage"),
        ),
        // ---- ca and hsm (the HSM is never reached) ----
        case("ca root usage", &["ca", "root"], Error("Usage")),
        case("ca delegate usage", &["ca", "delegate"], Error("Usage")),
        case("ca leaf usage", &["ca", "leaf"], Error("Usage")),
        case("ca crl usage", &["ca", "crl"], Error("Usage")),
        case(
            "ca crl missing",
            &[
                "ca",
                "crl",
                "--issuer-cert",
                missing,
                "--issuer-key",
                "pkcs11:token=x;object=y",
                "--out",
                &format!("{tmp}/out.crl"),
            ],
            Error("missing.pem"),
        ),
        case("hsm show usage", &["hsm", "show"], Error("--key")),
        case(
            "hsm show bad uri",
            &["hsm", "show", "--key", "not-a-uri"],
            Error(""),
        ),
        case("unknown subcommand", &["frobnicate"], Error("frobnicate")),
    ];
    // The log append after the others: it changes the log.
    table.push(case(
        "log append valid",
        &["log", "append", log, "--log-skey", skey, "--artifact", root],
        Ok(""),
    ));
    table
}

#[test]
fn every_subcommand_keeps_the_contract() {
    // The calls run in the repository (for its policy and roster) and must not write
    // there: every state, log and output is in the scratch directory.
    let state = Path::new(REPO).join("ceremonies");
    let had_state = state.exists();
    let scratch = Scratch::new();
    let mut envelopes = Vec::new();
    for case in cases(&scratch) {
        if let Some(envelope) = check(&case) {
            envelopes.push((case.name, envelope));
        }
    }

    // What each envelope must say beyond its shape.
    let find = |name: &str| -> &Value {
        &envelopes
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no envelope for {name}"))
            .1
    };
    let valid = find("verify valid json");
    assert_eq!(valid["command"], "verify");
    assert_eq!(valid["result"]["path"][0]["position"], 0);
    assert_eq!(valid["result"]["path"][1]["position"], 1);
    assert_eq!(valid["result"]["path"][2]["position"], Value::Null);
    assert_eq!(valid["result"]["path"][2]["role"], "root");
    let skipped = valid["skipped"].as_array().unwrap();
    let revocation: Vec<&Value> = skipped
        .iter()
        .filter(|c| c["check"] == "revocation")
        .collect();
    assert_eq!(revocation.len(), 2, "{valid}");
    assert_eq!(revocation[0]["level"], 0);
    assert_eq!(revocation[1]["level"], 1);
    for check in [
        "log-inclusion",
        "checkpoint-signature",
        "witness-cosignatures",
        "history-replay",
    ] {
        assert!(
            skipped.iter().any(|c| c["check"] == check),
            "{check}: {valid}"
        );
    }
    assert!(
        valid["checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "purpose")
    );

    let revoked = find("verify revoked json");
    assert_eq!(revoked["error"]["cert"]["position"], 0);
    assert_eq!(revoked["error"]["cert"]["role"], "leaf");
    assert!(revoked["result"].is_null());

    let missing = find("verify missing chain");
    assert_eq!(missing["error"]["rule"], "read");
    assert!(missing["result"].is_null());

    let audit = find("log audit json");
    let skipped: Vec<&Value> = audit["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["check"])
        .collect();
    for check in ["consistency", "history-replay", "certificate-scan"] {
        assert!(skipped.iter().any(|c| *c == check), "{check}: {audit}");
    }
    let finding = find("log audit finding json");
    let rules: Vec<&Value> = finding["error"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["rule"])
        .collect();
    assert!(
        rules.iter().any(|r| *r == "unlogged-certificate"),
        "{finding}"
    );
    assert!(
        finding["checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "certificate-scan"),
        "{finding}"
    );
    assert_eq!(finding["result"]["ok"], false);

    let due = find("ceremony due json");
    assert!(due["result"]["due"].is_array());

    validate_against_schema(&envelopes);
    assert_eq!(
        state.exists(),
        had_state,
        "a call wrote {}",
        state.display()
    );
}

/// Validates every envelope against docs/cli-json.schema.json with the `jsonschema`
/// Python package of the repository's venv (scripts/requirements.txt pins it; the tests
/// already run pkilint from there, so no Rust validator is built for this one test).
fn validate_against_schema(envelopes: &[(&str, Value)]) {
    let python = Path::new(REPO).join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} missing: run scripts/install-deps",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = envelopes
        .iter()
        .map(|(name, envelope)| {
            serde_json::json!({ "name": name, "envelope": envelope }).to_string()
        })
        .collect();
    let file = dir.path().join("envelopes.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = Command::new(&python)
        .arg(PathBuf::from(REPO).join("tests/scripts/check_envelopes.py"))
        .arg(PathBuf::from(REPO).join("docs/cli-json.schema.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "envelopes do not match docs/cli-json.schema.json:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The schema rejects what the envelope must not be: the old `verify` shape, a string
/// position, a success with an error (so the validation above cannot pass vacuously).
#[test]
fn schema_rejects_other_shapes() {
    let old = serde_json::json!({ "valid": true, "purpose": {}, "path": [] });
    let string_position = serde_json::json!({
        "version": 1, "ok": false, "command": "verify", "result": null,
        "error": { "rule": "revoked", "message": "m", "exit": 1,
                   "cert": { "position": "leaf", "role": "leaf", "subject": "CN=x", "serial": "01" } },
        "checked": [], "skipped": []
    });
    let ok_with_error = serde_json::json!({
        "version": 1, "ok": true, "command": "ceremony due", "result": {},
        "error": { "rule": null, "message": "m", "exit": 2 }, "checked": [], "skipped": []
    });
    let skipped_without_reason = serde_json::json!({
        "version": 1, "ok": true, "command": "log audit", "result": {}, "error": null,
        "checked": [], "skipped": [{ "check": "history-replay" }]
    });
    for (name, envelope) in [
        ("old", old),
        ("string position", string_position),
        ("ok with error", ok_with_error),
        ("skipped without reason", skipped_without_reason),
    ] {
        let result =
            std::panic::catch_unwind(|| validate_against_schema(&[(name, envelope.clone())]));
        assert!(result.is_err(), "the schema accepted {name}: {envelope}");
    }
}

/// Every subcommand path, from the `Commands:` sections of the help.
fn subcommands(prefix: &[String]) -> Vec<Vec<String>> {
    let mut args = prefix.to_vec();
    args.push("--help".into());
    let help = text(&rust_pki(&args).stdout);
    let mut found = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            let Some(name) = line
                .strip_prefix("  ")
                .and_then(|l| l.split_whitespace().next())
            else {
                break;
            };
            if name == "help" || line.starts_with("   ") {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(name.to_owned());
            found.extend(subcommands(&path));
            found.push(path);
        }
    }
    found
}

/// Runs rust-pki with stdout (and, with `close_stderr`, stderr) a pipe whose reader is
/// already gone: every write fails with EPIPE.
fn into_closed_pipe(args: &[String], close_stderr: bool) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let stderr = if close_stderr {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    } else {
        Stdio::piped()
    };
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(REPO)
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(stderr)
        .output()
        .unwrap()
}

#[test]
fn closed_pipes_end_quietly() {
    let scratch = Scratch::new();
    let paths = subcommands(&[]);
    // The tree has every top-level command and the nested ones.
    for expected in [
        &["verify"][..],
        &["log", "audit"],
        &["ceremony", "roster", "check"],
        &["log", "witness", "serve"],
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected:?} not found in {paths:?}"
        );
    }
    let mut calls: Vec<Vec<String>> = paths
        .into_iter()
        .map(|mut p| {
            p.push("--help".into());
            p
        })
        .collect();
    calls.push(vec!["--help".into()]);
    calls.push(vec!["--version".into()]);
    // The commands that print a lot, valid and invalid.
    for case in cases(&scratch) {
        if matches!(case.expect, Expect::Ok(_) | Expect::Invalid(_))
            && !case.name.contains("append")
        {
            calls.push(case.args);
        }
    }
    for args in &calls {
        let out = into_closed_pipe(args, false);
        let stderr = text(&out.stderr);
        let context = format!("rust-pki {}: {:?}\n{stderr}", args.join(" "), out.status);
        assert_ne!(out.status.code(), Some(101), "{context}");
        assert!(!stderr.contains("panicked"), "{context}");
        assert!(!stderr.contains("Broken pipe"), "{context}");
        assert!(!stderr.contains("os error 32"), "{context}");
        // A closed stdout is not a failure of the command.
        if args.last().is_some_and(|a| a == "--help") {
            assert_eq!(out.status.code(), Some(0), "{context}");
        }
        let both = into_closed_pipe(args, true);
        assert_ne!(
            both.status.code(),
            Some(101),
            "both pipes closed: {context}"
        );
    }
}
