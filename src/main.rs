//! `rust-pki`: command-line front end. Parses, calls a library, prints; no logic here.
#![forbid(unsafe_code)]

mod cmd;
mod outcome;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Subcommand};
use rust_pki_ceremony::inert::inert;
use rust_pki_verify::envelope::{EXIT_STATUS_HELP, Envelope};

use crate::outcome::{Ending, Exit};

/// Tooling for the Rust project's public key infrastructure: an HSM-held P-384 root,
/// delegate CAs for releases, crates.io and bors, and an offline verifier.
#[derive(Debug, clap::Parser)]
#[command(name = "rust-pki", version, propagate_version = true)]
struct Cli {
    /// Log progress to stderr (-v: info, -vv: debug). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Print only results and errors: no warnings or progress on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Keys in a PKCS#11 token: generate, make a CSR, show attributes.
    #[command(subcommand)]
    Hsm(cmd::hsm::HsmCommand),
    /// Issue certificates and CRLs (root, delegate, leaf), linted before the HSM signs.
    #[command(subcommand)]
    Ca(cmd::ca::CaCommand),
    /// Quorum ceremonies: the roster, members' approvals (5 of 9 for every root operation).
    #[command(subcommand)]
    Ceremony(cmd::ceremony::CeremonyCommand),
    /// A delegate CA's day-to-day work on its state directory: leaves, revocations, CRLs
    /// re-signed with every revocation carried forward, what lapses next.
    #[command(subcommand)]
    Delegate(cmd::delegate::DelegateCommand),
    /// Lint a policy, certificate or CRL with the rules that run before every signature.
    #[command(
        after_help = "Examples:\n  rust-pki lint\n  rust-pki lint demo-out/root.pem\n  rust-pki lint demo-out/leaves/releases.pem --issuer demo-out/delegates/releases.pem\n  rust-pki lint --crl demo-out/root.crl --issuer demo-out/root.pem"
    )]
    Lint(cmd::lint::LintArgs),
    /// Verify a certificate chain against a pinned root, for a purpose.
    #[command(
        after_help = "Examples:\n  rust-pki verify --chain demo-out/leaves/releases.chain.pem --root demo-out/root.pem --purpose releases\n  rust-pki verify --bundle demo-out/leaves/releases.bundle --root demo-out/root.pem \\\n      --log-vkey demo-out/log/log.vkey --witness-vkey demo-out/witness.vkey --purpose releases --json\n  rust-pki verify --chain demo-out/leaves/releases.chain.pem --root demo-out/root.pem --purpose releases \\\n      --require-crl --crl-dir demo-out/log/crl"
    )]
    Verify(cmd::verify::VerifyArgs),
    /// Sign files (releases, crates, manifests) with a leaf key in a PKCS#11 token:
    /// FILE.sig next to each FILE, logged and stapled.
    #[command(
        after_help = "Examples:\n  KEY='pkcs11:token=leaf-owners;object=releases-2026-12?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/leaf.pin'\n  rust-pki sign --key \"$KEY\" --cert demo-out/leaves/releases.pem --chain demo-out/delegates/releases.pem \\\n      --purpose releases --log demo-out/log --log-skey demo-out/log.skey \\\n      --witness-url http://127.0.0.1:7380 --witness-vkey demo-out/witness.vkey dist/*.tar.xz\n  rust-pki sign --key \"$KEY\" --cert leaf.pem --chain delegate.pem --purpose crates-io foo-1.0.0.crate"
    )]
    Sign(cmd::sign::SignArgs),
    /// The transparency log: create, append entries, prove, verify checkpoints.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// The ceremony bastion and CloudHSM cluster on AWS: status, up, admit, down, backups.
    #[cfg(feature = "aws")]
    Bastion(cmd::bastion::BastionArgs),
    /// Print a shell completion script on stdout (e.g. `rust-pki completions bash >
    /// ~/.local/share/bash-completion/completions/rust-pki`).
    #[command(after_help = "Examples:\n  rust-pki completions bash\n  rust-pki completions zsh")]
    Completions(cmd::meta::CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one per command into a directory.
    #[command(after_help = "Examples:\n  rust-pki man\n  rust-pki man --out-dir man/")]
    Man(cmd::meta::ManArgs),
    /// The ceremony bastion and CloudHSM cluster on AWS: not in this build, which lacks
    /// the `aws` feature (build with `cargo build --release --features aws`).
    #[cfg(not(feature = "aws"))]
    Bastion {
        /// Whatever was given: the command is refused either way.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<std::ffi::OsString>,
    },
}

fn main() -> ExitCode {
    let cli = parse();
    cmd::set_quiet(cli.quiet);
    init_tracing(if cli.quiet { None } else { Some(cli.verbose) });
    let json = json_command(&cli.command);
    let result = match cli.command {
        Command::Hsm(command) => cmd::hsm::run(command),
        Command::Ca(command) => cmd::ca::run(command),
        Command::Ceremony(command) => cmd::ceremony::run(command),
        Command::Delegate(command) => cmd::delegate::run(command),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Log(command) => cmd::log::run(command),
        Command::Sign(args) => cmd::sign::run(args),
        #[cfg(feature = "aws")]
        Command::Bastion(args) => cmd::bastion::run(args),
        Command::Completions(args) => cmd::meta::completions(&args, Cli::command()),
        Command::Man(args) => cmd::meta::man(&args, with_exit_status_help(Cli::command())),
        #[cfg(not(feature = "aws"))]
        Command::Bastion { .. } => Err(anyhow::anyhow!(
            "this rust-pki was built without the `aws` feature, which `bastion` needs \
             (it pulls the AWS SDK): build one with `cargo build --release --features aws`"
        )),
    };
    match result {
        Ok(code) => code,
        Err(error) => fail(&error, json),
    }
}

/// Appends [`EXIT_STATUS_HELP`] to the help of `command` and of all its subcommands,
/// after any text they already show there.
fn with_exit_status_help(command: clap::Command) -> clap::Command {
    let text = match command.get_after_help() {
        Some(existing) => format!("{existing}\n\n{EXIT_STATUS_HELP}"),
        None => EXIT_STATUS_HELP.to_owned(),
    };
    let long = command
        .get_after_long_help()
        .map(|existing| format!("{existing}\n\n{EXIT_STATUS_HELP}"));
    let mut command = command.after_help(text);
    if let Some(long) = long {
        command = command.after_long_help(long);
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, with_exit_status_help);
    }
    command
}

/// The `command` of the JSON envelope when the command was given `--json` (commands
/// print their own envelope on success; errors before a result get one here).
fn json_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Log(cmd::log::LogCommand::Audit(args)) if args.json() => Some("log audit"),
        Command::Ceremony(cmd::ceremony::CeremonyCommand::Due(args)) if args.json() => {
            Some("ceremony due")
        }
        Command::Delegate(cmd::delegate::DelegateCommand::Due(args)) if args.json() => {
            Some("delegate due")
        }
        _ => None,
    }
}

/// Prints a failed command's error (and its envelope under `--json`) and returns its
/// status (see [`outcome`]).
fn fail(error: &anyhow::Error, json: Option<&str>) -> ExitCode {
    let (exit, rule, message, details, result, checks) = match outcome::classify(error) {
        Ending::BrokenPipe => return Exit::Success.into(),
        Ending::Invalid(invalid) => (
            Exit::Invalid,
            Some(invalid.rule),
            invalid.message.clone(),
            invalid.details.clone(),
            invalid.result.clone(),
            (invalid.checked.clone(), invalid.skipped.clone()),
        ),
        Ending::Error(exit) => (
            exit,
            None,
            format!("{error:#}"),
            None,
            None,
            (Vec::new(), Vec::new()),
        ),
    };
    // Errors quote files (TOML snippets, paths, names): printed inert, line by line, so a
    // file cannot move the cursor or forge a line on the terminal. Write failures are
    // ignored: a closed stderr must not become a panic.
    let lines: Vec<String> = message.lines().map(inert).collect();
    let prefix = match rule {
        Some(rule) => format!("INVALID [{rule}]"),
        None => "error".to_owned(),
    };
    let _ = writeln!(std::io::stderr().lock(), "{prefix}: {}", lines.join("\n"));
    if let Some(command) = json {
        let mut envelope = Envelope::failure(command, exit, rule, message, details)
            .with_checks(checks.0, checks.1);
        if let Some(result) = result {
            envelope = envelope.with_result(result);
        }
        if let Err(error) = envelope.write(&mut std::io::stdout().lock())
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            let _ = writeln!(
                std::io::stderr().lock(),
                "error: writing to stdout: {error}"
            );
        }
    }
    exit.into()
}

/// Parses the command line (with the exit statuses in every help and the long
/// `--version`), then warns about renamed flags unless `--quiet` (see
/// `rust_pki_verify::renamed`).
fn parse() -> Cli {
    let command = cmd::meta::with_long_version(with_exit_status_help(Cli::command()));
    let matches = command.clone().get_matches();
    if !matches.get_flag("quiet") {
        rust_pki_verify::renamed::warn_renamed_flags(&command, &matches);
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Progress to stderr: `None` (--quiet) for errors only, else by the -v count.
fn init_tracing(verbose: Option<u8>) {
    let level = match verbose {
        None => "error",
        Some(0) => "warn",
        Some(1) => "info",
        Some(_) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_PKI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and subcommand shows the exit statuses in its help.
    #[test]
    fn every_help_documents_the_exit_statuses() {
        fn check(command: &clap::Command, path: &str) {
            let help = command
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(help.contains("Exit status:"), "{path}: {help}");
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        check(
            &super::with_exit_status_help(super::Cli::command()),
            "rust-pki",
        );
    }

    /// clap checks argument ids, groups and defaults only when a subcommand is parsed;
    /// this checks every subcommand at once.
    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
