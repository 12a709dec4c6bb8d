//! Human output of `lint` and `ceremony due`, and the built-in policy and roster they use
//! outside the repository (each test runs in an empty temporary directory).
// Test helpers outside #[test] functions: clippy.toml's allow-*-in-tests does not reach them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("verify/tests/data/cli")
        .join(name)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(dir)
        .env_remove("RUST_PKI_POLICY")
        .env_remove("RUST_PKI_ROSTER")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

const EXAMPLE_ARCS: &str = "warning[eku-example-arc]: the policy's purposes bors \
    (1.3.6.1.4.1.32473.1.3), crates-io (1.3.6.1.4.1.32473.1.2), releases \
    (1.3.6.1.4.1.32473.1.1) use EKUs under an example arc: register a PEN arc before a real \
    ceremony";

/// Outside the repository `lint` checks the built-in policy, shows its warning once and
/// says that it passed.
#[test]
fn lint_uses_the_built_in_policy_and_says_it_passed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["lint"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{EXAMPLE_ARCS}\n0 error(s), 1 warning(s)\nOK: the policy passes every lint rule\n"
        )
    );
    // --policy, then RUST_PKI_POLICY, replace it.
    let missing = dir.path().join("missing.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_rust-pki"))
        .current_dir(dir.path())
        .env("RUST_PKI_POLICY", &missing)
        .arg("lint")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).starts_with(&format!("error: reading {}", missing.display())),
        "{}",
        text(&out.stderr)
    );
}

/// A leaf without --issuer is not linted as a root (six misleading errors): the command
/// says what to give instead. A chain file is named as such.
#[test]
fn lint_refuses_a_non_root_without_issuer_and_a_chain_file() {
    let dir = tempfile::tempdir().unwrap();
    let chain = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let leaf = chain.split_inclusive(end).next().unwrap();
    std::fs::write(dir.path().join("leaf.pem"), leaf).unwrap();
    std::fs::write(dir.path().join("chain.pem"), &chain).unwrap();

    let out = run(dir.path(), &["lint", "leaf.pem"]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "", "no findings are printed");
    assert_eq!(
        text(&out.stderr),
        "error: leaf.pem is not a root certificate (it is issued by CN=Rust Test \
         Delegate,O=Rust Project Test): give the certificate that issued it with --issuer FILE\n"
    );

    for args in [
        &["lint", "chain.pem"][..],
        &["lint", "leaf.pem", "--issuer", "chain.pem"],
    ] {
        let out = run(dir.path(), args);
        assert!(!out.status.success());
        assert_eq!(
            text(&out.stderr),
            "error: chain.pem holds 2 certificates (a chain): lint takes one; split the file \
             and give the first as CERT and the one after it as --issuer\n",
            "{args:?}"
        );
    }
}

/// Findings on a certificate use plain words (no Rust debug output), and the policy's
/// example-arc warning is not repeated for the certificate's EKU.
#[test]
fn lint_findings_are_plain_and_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let chain = std::fs::read_to_string(fixture("chain.pem")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let mut blocks = chain.split_inclusive(end);
    let leaf = blocks.next().unwrap();
    let delegate = blocks.next().unwrap();
    std::fs::write(dir.path().join("leaf.pem"), leaf).unwrap();
    std::fs::write(dir.path().join("delegate.pem"), delegate).unwrap();
    // The delegate linted as a leaf of its issuer: wrong basicConstraints and keyUsage.
    let out = run(
        dir.path(),
        &["lint", "delegate.pem", "--issuer", "delegate.pem"],
    );
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert_eq!(stdout.matches("eku-example-arc").count(), 1, "{stdout}");
    for debug in ["FlagSet", "Some(", "None"] {
        assert!(!stdout.contains(debug), "{debug}: {stdout}");
    }
}

/// `ceremony due` outside the repository (built-in policy and roster): what is due now,
/// overdue ones marked, and what is upcoming, in two sections; --fail-if-overdue makes an
/// overdue ceremony exit 1, the schedule printed either way.
#[test]
fn due_splits_now_and_upcoming_and_can_fail_when_overdue() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ceremonies")).unwrap();
    let at = ["ceremony", "due", "--at", "2029-01-01T00:00:00.75Z"];
    let out = run(dir.path(), &at);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "ceremonies as of 2029-01-01T00:00:00Z (state ceremonies): 4 due now (3 overdue), 6 upcoming"
    );
    assert_eq!(lines[2], "Due now:");
    assert!(lines[4].starts_with(
        "2028-10-02T00:00:00Z  2028-12-01T00:00:00Z OVERDUE  roster-change  member placeholder-1"
    ));
    assert!(
        lines[7]
            .starts_with("2029-01-01T00:00:00Z  2029-01-01T00:00:00Z          root-init      root")
    );
    assert_eq!(lines[9], "Upcoming:");
    assert!(lines[11].starts_with("2029-04-02T00:00:00Z  2029-06-01T00:00:00Z  roster-change"));
    assert!(stdout.contains("(roster built-in roster (policy/roster.toml))"));
    assert_eq!(
        text(&out.stderr),
        "warning: 3 ceremony(ies) past their deadline (marked OVERDUE): hold them now\n"
    );

    let out = run(dir.path(), &[&at[..], &["--fail-if-overdue"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), stdout);
    assert_eq!(
        text(&out.stderr),
        "INVALID [overdue]: 3 ceremony(ies) past their deadline (marked OVERDUE): hold them now\n"
    );

    // Nothing overdue yet: --fail-if-overdue succeeds; an empty section says so.
    let out = run(
        dir.path(),
        &[
            "ceremony",
            "due",
            "--at",
            "2026-12-01T00:00:00Z",
            "--fail-if-overdue",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\nDue now:\n"), "{stdout}");
    assert!(
        stdout.starts_with("ceremonies as of 2026-12-01T00:00:00Z (state ceremonies): 1 due now (0 overdue), 9 upcoming\n"),
        "{stdout}"
    );
}

/// A build without the `aws` feature still knows `bastion`, and says how to get it.
#[cfg(not(feature = "aws"))]
#[test]
fn bastion_without_the_aws_feature_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["bastion", "status", "--region", "eu-west-1"]);
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        "error: this rust-pki was built without the `aws` feature, which `bastion` needs (it \
         pulls the AWS SDK): build one with `cargo build --release --features aws`\n"
    );
}

/// `ceremony prepare` and `show` pin and compare the built-in policy's exact bytes: the
/// same digest as the repository's file, which `--policy` may still name.
#[test]
fn ceremony_steps_pin_the_built_in_policy() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        repo.join("policy/ceremonies/root-init.toml"),
        dir.path().join("root-init.toml"),
    )
    .unwrap();
    std::fs::copy(
        repo.join("policy/roster.toml"),
        dir.path().join("roster.toml"),
    )
    .unwrap();
    let policy = std::fs::read(repo.join("policy/rust-root.toml")).unwrap();
    let digest = hex::encode(sha2::Sha256::digest(&policy));
    let out = run(
        dir.path(),
        &[
            "ceremony",
            "prepare",
            "root-init.toml",
            "--roster",
            "roster.toml",
            "--state-dir",
            "st",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = format!(
        "  policy sha256:     {digest} (matches your built-in policy (policy/rust-root.toml))\n"
    );
    assert!(
        text(&out.stdout).contains(&expected),
        "{}",
        text(&out.stdout)
    );
    let policy_path = repo.join("policy/rust-root.toml");
    let out = run(
        dir.path(),
        &[
            "ceremony",
            "show",
            "st/001-root-init/request.toml",
            "--roster",
            "roster.toml",
            "--policy",
            policy_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = format!(
        "  policy sha256:     {digest} (matches your {})\n",
        policy_path.display()
    );
    assert!(
        text(&out.stdout).contains(&expected),
        "{}",
        text(&out.stdout)
    );
}

/// `verify` reads RUST_PKI_POLICY like the other commands, for purpose names only: `--eku`
/// needs no policy.
#[test]
fn verify_reads_the_policy_variable_for_purposes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rust-pki"))
            .env("RUST_PKI_POLICY", &missing)
            .arg("verify")
            .arg("--root")
            .arg(fixture("root.pem"))
            .arg("--chain")
            .arg(fixture("chain.pem"))
            .args(["--at", "2026-12-01T00:00:00Z"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = verify(&["--purpose", "releases"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&missing.display().to_string()),
        "{}",
        text(&out.stderr)
    );
    let out = verify(&["--eku", "1.3.6.1.4.1.32473.1.1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
