//! Every subcommand's `--help` ends with an Examples section, and every example there
//! uses flags that exist under their current names: each flag is one the help shows, and
//! run with `--help` appended, clap would reject an unknown flag before printing it.
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const SUBCOMMANDS: &[&[&str]] = &[
    &["hsm", "keygen"],
    &["hsm", "csr"],
    &["hsm", "show"],
    &["ca", "root"],
    &["ca", "delegate"],
    &["ca", "leaf"],
    &["ca", "crl"],
    &["ceremony", "roster", "check"],
    &["ceremony", "prepare"],
    &["ceremony", "show"],
    &["ceremony", "approve"],
    &["ceremony", "execute"],
    &["ceremony", "due"],
    &["delegate", "init"],
    &["delegate", "leaf"],
    &["delegate", "revoke"],
    &["delegate", "crl"],
    &["delegate", "due"],
    &["delegate", "rotate"],
    &["lint"],
    &["verify"],
    &["verify", "artifact"],
    &["verify", "manifest"],
    &["verify", "lockfile"],
    &["log", "init"],
    &["log", "append"],
    &["log", "prove"],
    &["log", "verify-checkpoint"],
    &["log", "audit"],
    &["log", "publish"],
    &["log", "cosign"],
    &["log", "restaple"],
    &["log", "witness", "init"],
    &["log", "witness", "add-checkpoint"],
    &["log", "witness", "serve"],
    &["completions"],
    &["man"],
];

fn rust_pki(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The examples of a help text: `rust-pki …` commands, `\` continuations joined.
fn examples(help: &str) -> Vec<String> {
    let section = help
        .split("\nExamples:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Examples section in\n{help}"));
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in section.lines() {
        if !line.starts_with("  ") {
            break;
        }
        let line = line.trim();
        current.push_str(line.trim_end_matches('\\'));
        current.push(' ');
        if !line.ends_with('\\') {
            if current.starts_with("rust-pki ") {
                commands.push(current.trim().to_owned());
            }
            current.clear();
        }
    }
    commands
}

/// Splits a shell word list with quotes (no expansions: `"$KEY"` stays a word).
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn every_subcommand_has_examples_that_parse() {
    for subcommand in SUBCOMMANDS {
        let (ok, help, stderr) = rust_pki(&[subcommand, &["--help"][..]].concat());
        assert!(ok, "{subcommand:?}: {stderr}");
        let examples = examples(&help);
        assert!(!examples.is_empty(), "{subcommand:?}: {help}");
        for example in examples {
            let mut args = words(&example);
            args.remove(0);
            assert!(
                args.starts_with(
                    &subcommand
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect::<Vec<_>>()
                ),
                "{subcommand:?} shows an example of another command: {example}"
            );
            // Hidden old names parse too: each flag must be one the help shows.
            for flag in args.iter().filter(|a| a.starts_with("--")) {
                assert!(
                    help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                    "{example}: {flag} is not in the help of {subcommand:?}"
                );
            }
            args.push("--help".to_owned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, _, stderr) = rust_pki(&args);
            assert!(ok, "{example}: {stderr}");
        }
    }
}

/// `--version` names the commit, the features and the binary's SHA-256 (what ceremony
/// requests pin); `-V` stays one line.
#[test]
fn version_names_commit_features_and_binary_digest() {
    use sha2::Digest;
    let (ok, stdout, stderr) = rust_pki(&["--version"]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], concat!("rust-pki ", env!("CARGO_PKG_VERSION")));
    let commit = lines[1].strip_prefix("commit:   ").unwrap();
    assert!(
        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())
            || commit.starts_with("unknown"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("features: "), "{stdout}");
    let binary = std::fs::read(env!("CARGO_BIN_EXE_rust-pki")).unwrap();
    assert_eq!(
        lines[3],
        format!(
            "sha256:   {} (the tool_sha256 ceremony requests pin)",
            hex::encode(sha2::Sha256::digest(&binary))
        )
    );
    let (ok, stdout, _) = rust_pki(&["-V"]);
    assert!(ok);
    assert_eq!(
        stdout,
        concat!("rust-pki ", env!("CARGO_PKG_VERSION"), "\n")
    );
}

#[test]
fn completions_and_man_pages_are_generated_from_the_flags() {
    // Each command's one-line summary is its own (a doc comment once slid onto the next).
    let (ok, help, _) = rust_pki(&["--help"]);
    assert!(ok);
    let summary = |name: &str| {
        help.lines()
            .find_map(|l| l.trim_start().strip_prefix(name).map(str::trim_start))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        summary("completions").starts_with("Print a shell completion script"),
        "{help}"
    );
    assert!(
        summary("bastion").starts_with("The ceremony bastion and CloudHSM cluster on AWS"),
        "{help}"
    );
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (ok, stdout, stderr) = rust_pki(&["completions", shell]);
        assert!(ok, "{shell}: {stderr}");
        assert!(stdout.contains("log-vkey"), "{shell}");
    }
    let (ok, stdout, stderr) = rust_pki(&["man"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(".TH rust-pki 1"), "{stdout}");
    assert!(stdout.contains("\\-\\-quiet"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man");
    let (ok, _, stderr) = rust_pki(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    for page in ["rust-pki.1", "rust-pki-verify.1", "rust-pki-log-audit.1"] {
        let text = std::fs::read_to_string(out_dir.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    // Pages are outputs: a second run refuses, and a page put there is left as it was.
    std::fs::write(out_dir.join("rust-pki-verify.1"), "mine").unwrap();
    std::fs::remove_file(out_dir.join("rust-pki.1")).unwrap();
    let (ok, _, stderr) = rust_pki(&["man", "--out-dir", out_dir.to_str().unwrap()]);
    assert!(!ok && stderr.contains("already exists"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("rust-pki-verify.1")).unwrap(),
        "mine"
    );
}

/// `--quiet` leaves stderr to errors: no deprecation warning, no overdue warning.
#[test]
fn quiet_silences_warnings_but_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, _, stderr) = rust_pki(&["-q", "ceremony", "due", "--state", &format!("{d}/x")]);
    assert!(!ok);
    assert!(!stderr.contains("deprecated"), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    std::fs::create_dir(dir.path().join("st")).unwrap();
    let st = format!("{d}/st");
    let due = [
        "ceremony",
        "due",
        "--state-dir",
        &st,
        "--at",
        "2029-01-01T00:00:00Z",
    ];
    let (ok, _, stderr) = rust_pki(&due);
    assert!(ok && stderr.contains("OVERDUE"), "{stderr}");
    let (ok, stdout, stderr) = rust_pki(&[&["--quiet"][..], &due].concat());
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    assert!(stdout.contains("OVERDUE"), "{stdout}");
    let (ok, _, stderr) = rust_pki(&["-q", "-v", "lint"]);
    assert!(!ok && stderr.contains("cannot be used with"), "{stderr}");
}

/// `-v` shows progress on stderr; without it the same command is silent there.
#[test]
fn verbose_shows_progress() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).display().to_string();
    let init = [
        "log",
        "init",
        &d("log"),
        "--origin",
        "example.com/log",
        "--log-skey-out",
        &d("log.skey"),
    ];
    assert!(rust_pki(&init).0);
    std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
    let append = ["log", "append", &d("log"), "--log-skey", &d("log.skey")];
    let (ok, _, stderr) = rust_pki(&[&append[..], &["--artifact", &d("a.txt")]].concat());
    assert!(ok, "{stderr}");
    assert_eq!(stderr, "");
    let (ok, _, stderr) = rust_pki(&[&["-v"][..], &append, &["--artifact", &d("a.txt")]].concat());
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("opening and checking the log") && stderr.contains("appending"),
        "{stderr}"
    );
}
