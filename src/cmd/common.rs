//! Small helpers shared by subcommands: loading inputs, printing, writing outputs.

use std::{
    io::Write,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
    time::SystemTime,
};

use anyhow::Context;
use der::Decode;
use rust_pki_ca::{Pkcs11Uri, issue::Signed, pem, policy::Policy, signer::Pkcs11Signer};
use x509_cert::Certificate;

/// The policy built into this binary: the default of every other command.
pub const BUILT_IN_POLICY: &str = include_str!("../../policy/rust-root.toml");

/// How the built-in policy is named in messages (and in `ceremony show`'s comparison).
pub const BUILT_IN_POLICY_NAME: &str = "built-in policy (policy/rust-root.toml)";

/// Environment variable naming the policy file when `--policy` is not given.
pub const POLICY_ENV: &str = rust_pki_verify::cli::POLICY_ENV;

pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    Ok(Policy::load(path)?)
}

pub fn load_certificate(path: &Path) -> anyhow::Result<Certificate> {
    let der = pem::read_der(path, pem::label::CERTIFICATE)?;
    Certificate::from_der(&der)
        .with_context(|| format!("{}: malformed certificate", path.display()))
}

/// Parse a PKCS#11 URI given as `flag`. Done here rather than by clap: clap quotes a
/// rejected value in its error, and a rejected URI may contain a PIN (`pin-value=`).
pub fn parse_key_uri(text: &str, flag: &str) -> anyhow::Result<Pkcs11Uri> {
    text.parse().context(flag.to_owned())
}

/// Open the key named by the URI given as `flag`.
pub fn open_key(text: &str, flag: &str) -> anyhow::Result<Pkcs11Signer> {
    Ok(Pkcs11Signer::open(&parse_key_uri(text, flag)?)?)
}

pub fn parse_time(text: &str) -> anyhow::Result<SystemTime> {
    rust_pki_ca::policy::parse_rfc3339(text).map_err(anyhow::Error::msg)
}

/// Whether `--quiet` was given: no warnings on stderr.
static QUIET: AtomicBool = AtomicBool::new(false);

/// clap value parser for `--at` and other RFC 3339 times given as `time::OffsetDateTime`.
pub fn parse_rfc3339_arg(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2027-06-01T00:00:00Z): {e}"))
}

/// Records `--quiet` for [`warn`], once, before the command runs.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given (no progress on stderr either).
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a warning line on stderr, unless `--quiet`.
pub fn warn(warning: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        rust_pki_verify::envelope::warn(format_args!("{warning}"));
    }
}

/// Print lint warnings (never errors: those stop issuance earlier) to stderr.
pub fn print_warnings(signed: &Signed) {
    for warning in &signed.warnings {
        warn(warning);
    }
}

/// Write a signed object as PEM to a new file and print a one-line summary to stdout.
pub fn write_output(
    path: &Path,
    label: &str,
    signed: &Signed,
    summary: &str,
) -> anyhow::Result<()> {
    rust_pki_ca::output::write_new(path, pem::encode(label, &signed.der)?.as_bytes())?;
    print_warnings(signed);
    let mut out = std::io::stdout().lock();
    writeln!(out, "wrote {}: {summary}", path.display())?;
    Ok(())
}

/// "subject, serial, SHA-256 fingerprint" of a certificate, for summaries.
pub fn describe_certificate(der: &[u8]) -> anyhow::Result<String> {
    use sha2::Digest;
    let cert = Certificate::from_der(der)?;
    let tbs = cert.tbs_certificate();
    Ok(format!(
        "{} (serial {}, sha256 {})",
        tbs.subject(),
        hex::encode(tbs.serial_number().as_bytes()),
        hex::encode(sha2::Sha256::digest(der))
    ))
}

/// Write a table with columns padded to their widest cell, two spaces apart.
pub fn write_table<const N: usize>(
    out: &mut impl Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(header))?;
    for row in rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

/// One line of a `due` schedule (`ceremony due`, `delegate due`).
pub struct DueRow<'a> {
    pub due_at: time::OffsetDateTime,
    pub deadline: time::OffsetDateTime,
    pub overdue: bool,
    pub kind: &'a str,
    pub subject: &'a str,
    pub reason: &'a str,
}

/// A schedule as a table, one row each, OVERDUE next to a passed deadline.
pub fn write_due_table<'a>(
    out: &mut impl Write,
    due: impl IntoIterator<Item = DueRow<'a>>,
) -> anyhow::Result<()> {
    use time::format_description::well_known::Rfc3339;

    let rows = due
        .into_iter()
        .map(|d| {
            let deadline = d.deadline.format(&Rfc3339)?;
            Ok([
                d.due_at.format(&Rfc3339)?,
                if d.overdue {
                    format!("{deadline} OVERDUE")
                } else {
                    deadline
                },
                d.kind.to_owned(),
                d.subject.to_owned(),
                d.reason.to_owned(),
            ])
        })
        .collect::<anyhow::Result<Vec<[String; 5]>>>()?;
    write_table(out, ["DUE", "DEADLINE", "KIND", "WHAT", "REASON"], &rows)?;
    Ok(())
}
