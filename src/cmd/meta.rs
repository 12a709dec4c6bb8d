//! What the binary says about itself: `--version` with the commit, features and SHA-256,
//! and shell completions and man pages generated from the clap definitions.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use rust_pki_fs::durable::{self, Mode};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (rust-pki.1, rust-pki-verify.1, rust-pki-log-audit.1, …)
    /// into this directory instead of printing the top-level page on stdout.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// `command` with the long version (`--version`) filled in. Hashing the binary takes a
/// moment, so only when `--version` is asked for.
pub fn with_long_version(command: clap::Command) -> clap::Command {
    if std::env::args_os().skip(1).any(|arg| arg == "--version") {
        command.long_version(long_version())
    } else {
        command
    }
}

/// The version, the commit it was built from, the cargo features and the binary's
/// SHA-256, which ceremony requests pin as `tool_sha256`.
fn long_version() -> String {
    let features: Vec<&str> = [
        ("aws", cfg!(feature = "aws")),
        ("fault-injection", cfg!(feature = "fault-injection")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let features = if features.is_empty() {
        "none".to_owned()
    } else {
        features.join(", ")
    };
    let sha256 =
        super::ceremony::tool_sha256().unwrap_or_else(|error| format!("unavailable ({error:#})"));
    format!(
        "{}\ncommit:   {}\nfeatures: {features}\nsha256:   {sha256} (the tool_sha256 ceremony requests pin)",
        env!("CARGO_PKG_VERSION"),
        option_env!("RUST_PKI_COMMIT").unwrap_or("unknown (built outside git)"),
    )
}

/// Prints the completion script for `shell` on stdout.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    // Into memory first: the generator panics on a write error (e.g. a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "rust-pki", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the page of `command` as `NAME.1`, then those of its subcommands as
/// `NAME-SUB.1`, … (the names `clap_mangen` gives them).
fn write_pages(command: &clap::Command, name: String, dir: &Path) -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone().name(name.clone())).render(&mut page)?;
    durable::create_new(&dir.join(format!("{name}.1")), &page, Mode::Public)?;
    for sub in command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        write_pages(sub, format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

/// Prints the man page, or writes one per command into `--out-dir`.
pub fn man(args: &ManArgs, command: clap::Command) -> anyhow::Result<ExitCode> {
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            // Not clap_mangen::generate_to, which replaces existing files: outputs are never
            // overwritten, and each page is complete or absent after a crash.
            let mut command = command;
            command.build();
            write_pages(&command, command.get_name().to_owned(), dir)?;
            writeln!(
                std::io::stdout().lock(),
                "wrote the man pages to {}",
                dir.display()
            )?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            std::io::stdout().lock().write_all(&page)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
