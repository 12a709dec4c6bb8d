//! `rust-pki log audit`: the monitor (`rust_pki_monitor::audit`) run against a directory
//! or, through [`HttpSource`], a static HTTP server; prints its report.
//!
//! Findings are a verdict (exit 1, `INVALID [audit]`) naming the rule, the entry and the
//! file; the state file is updated only after an audit without findings.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use rust_pki_tlog::replica::{DirSource, Source};
use rust_pki_verify::envelope::Envelope;
use serde_json::Value;

use super::http_source::HttpSource;
use crate::outcome::Invalid;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The log: a directory, or the http:// or https:// URL its files are served under.
    #[arg(value_name = "SOURCE")]
    source: String,
    /// The log's verifier key file (signed-note vkey text), obtained independently of
    /// SOURCE.
    #[arg(long = "log-vkey", alias = "log-key", value_name = "VKEY")]
    log_key: PathBuf,
    /// The last checkpoint this monitor saw (created if missing, replaced only after an
    /// audit without findings). A smaller log is a rollback, a different root for the
    /// same entries a split view: both are errors, and the file is kept as evidence.
    #[arg(long = "state-file", alias = "state", value_name = "FILE")]
    state: Option<PathBuf>,
    /// The roster in force before the first ceremony: replay every ceremony record from
    /// genesis and check its approvals against the roster in force when it ran.
    #[arg(long, value_name = "ROSTER", requires = "policies")]
    genesis_roster: Option<PathBuf>,
    /// A policy ceremony requests pin (its quorum threshold and roster rules); each request
    /// must pin one of those given. Repeatable, in order of adoption: the policy changes
    /// over the root's life (e.g. a new [root] section before a root rotation).
    #[arg(long = "policy", value_name = "POLICY", requires = "genesis_roster")]
    policies: Vec<PathBuf>,
    /// The Rust root certificate (PEM or DER). Repeatable (root rotation).
    #[arg(long = "root", value_name = "ROOT")]
    roots: Vec<PathBuf>,
    /// A directory of certificates (*.pem, *.crt, *.der, searched recursively): each one
    /// chaining to the root that no log entry names is flagged. Repeatable.
    #[arg(long = "certs", value_name = "DIR", requires = "roots")]
    certs: Vec<PathBuf>,
    /// Seconds each HTTP request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Print the report as JSON, in the envelope of docs/cli-json.md (the report is its
    /// `result`).
    #[arg(long)]
    json: bool,
}

impl AuditArgs {
    /// Whether the report is asked for as JSON (the envelope of errors, too).
    pub fn json(&self) -> bool {
        self.json
    }
}

pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    let vkey = super::read_vkey(&args.log_key)?;
    let source: Box<dyn Source> = if HttpSource::is_url(&args.source) {
        Box::new(HttpSource::new(
            &args.source,
            Duration::from_secs(args.timeout),
        ))
    } else {
        Box::new(DirSource(PathBuf::from(&args.source)))
    };
    let options = rust_pki_monitor::Options {
        state: args.state.clone(),
        genesis_roster: args.genesis_roster.clone(),
        policies: args.policies.clone(),
        roots: args.roots.clone(),
        certs: args.certs.clone(),
    };
    let audit = rust_pki_monitor::audit(source.as_ref(), &args.source, &vkey, &options)?;

    let mut out = std::io::stdout().lock();
    if !audit.findings.is_empty() {
        let problems: Vec<String> = audit.findings.iter().map(ToString::to_string).collect();
        if !args.json {
            print_report(&mut out, &audit)?;
        }
        // A verdict (exit 1): under --json, main prints the envelope with the report.
        return Err(Invalid {
            rule: "audit",
            message: format!(
                "the audit found {} problem(s):\n  {}",
                problems.len(),
                problems.join("\n  ")
            ),
            details: Some(serde_json::json!({ "findings": audit.report["findings"] })),
            result: Some(audit.report),
            checked: audit.checked,
            skipped: audit.skipped,
        }
        .into());
    }
    if args.json {
        Envelope::success("log audit", audit.report.clone())
            .with_checks(audit.checked.clone(), audit.skipped.clone())
            .write(&mut out)?;
    } else {
        print_report(&mut out, &audit)?;
    }
    Ok(())
}

/// The text report, then what was and was not checked.
fn print_report(out: &mut impl Write, audit: &rust_pki_monitor::Audit) -> anyhow::Result<()> {
    // The report quotes the log's entries (record names, members, resources): each line
    // is printed inert, so an entry cannot forge or hide a line of the audit.
    let mut text = Vec::new();
    print_text(&mut text, &audit.report)?;
    for check in &audit.checked {
        writeln!(text, "checked: {check}")?;
    }
    for check in &audit.skipped {
        writeln!(text, "not checked: {check}")?;
    }
    for line in String::from_utf8_lossy(&text).lines() {
        writeln!(out, "{}", rust_pki_ceremony::inert::inert(line))?;
    }
    Ok(())
}

fn print_text(out: &mut impl Write, report: &Value) -> anyhow::Result<()> {
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    writeln!(
        out,
        "log {} at {}: size {}, root {} (checkpoint signature, every tile and the root verified)",
        s(&report["origin"]),
        s(&report["source"]),
        report["size"],
        s(&report["root_hash"])
    )?;
    match &report["previous"] {
        Value::Null => writeln!(out, "no checkpoint seen before")?,
        seen => writeln!(
            out,
            "consistent with the checkpoint last seen: size {}, root {}",
            seen["size"],
            s(&seen["root_hash"])
        )?,
    }
    let empty = Vec::new();
    let list = |v: &Value| v.as_array().unwrap_or(&empty).clone();

    let records = list(&report["ceremony_records"]);
    writeln!(
        out,
        "\nroot operations (ceremony records): {}",
        records.len()
    )?;
    for op in &records {
        let approved: Vec<String> = list(&op["approved_by"]).iter().map(s).collect();
        writeln!(
            out,
            "  entry {:>3}  #{} {}  finished {}  approved by {}  ({}, record {})",
            op["index"],
            s(&op["sequence"]),
            s(&op["kind"]),
            s(&op["finished_at"]),
            approved.join(", "),
            s(&op["file_name"]),
            s(&op["published"])
        )?;
        for cert in list(&op["issued"]) {
            writeln!(
                out,
                "             issued {} ({}) sha256 {}",
                s(&cert["path"]),
                s(&cert["subject"]),
                s(&cert["sha256"])
            )?;
        }
    }
    let leaves = list(&report["leaf_issuances"]);
    writeln!(out, "\nleaf issuances: {}", leaves.len())?;
    for leaf in &leaves {
        writeln!(
            out,
            "  entry {:>3}  {} sha256 {} (delegate sha256 {})",
            leaf["index"],
            s(&leaf["subject"]),
            s(&leaf["sha256"]),
            s(&leaf["delegate_sha256"])
        )?;
    }
    let events = list(&report["bastion_events"]);
    writeln!(out, "\nbastion and HSM access: {}", events.len())?;
    for event in &events {
        let join = |v: &Value| {
            let items: Vec<String> = list(v).iter().map(s).collect();
            if items.is_empty() {
                "-".to_owned()
            } else {
                items.join(", ")
            }
        };
        writeln!(
            out,
            "  entry {:>3}  {} {} members {} resources {}",
            event["index"],
            s(&event["time"]),
            s(&event["action"]),
            join(&event["members"]),
            join(&event["resources"])
        )?;
    }
    let artifacts = list(&report["artifacts"]);
    writeln!(out, "\nartifacts: {}", artifacts.len())?;
    for artifact in &artifacts {
        writeln!(
            out,
            "  entry {:>3}  {} ({} bytes) sha256 {}",
            artifact["index"],
            s(&artifact["name"]),
            artifact["size"],
            s(&artifact["sha256"])
        )?;
    }
    // Only when there are any, so that the output of logs without them is unchanged.
    let revocations = list(&report["revocations"]);
    if !revocations.is_empty() {
        writeln!(out, "\nrevocations: {}", revocations.len())?;
        for r in &revocations {
            writeln!(
                out,
                "  entry {:>3}  serial {} revoked at {} ({}) by issuer sha256 {}",
                r["index"],
                s(&r["serial"]),
                s(&r["revoked_at"]),
                s(&r["reason"]),
                s(&r["issuer_sha256"])
            )?;
        }
    }
    let crls = list(&report["crls"]);
    if !crls.is_empty() {
        writeln!(out, "\nCRLs: {}", crls.len())?;
        for c in &crls {
            writeln!(
                out,
                "  entry {:>3}  number {} of {} thisUpdate {} nextUpdate {}, {} entries",
                c["index"],
                c["number"],
                s(&c["issuer"]),
                s(&c["this_update"]),
                s(&c["next_update"]),
                c["entries"]
            )?;
        }
    }

    let replay = &report["replay"];
    if !replay.is_null() {
        let checked = list(&replay["records"]);
        writeln!(
            out,
            "\nhistory replay from the genesis roster {} (threshold {}): {} of {} records had \
             their quorum",
            s(&replay["genesis_roster_sha256"]),
            replay["threshold"],
            checked.len(),
            records.len()
        )?;
        for r in &checked {
            let approved: Vec<String> = list(&r["approved_by"]).iter().map(s).collect();
            writeln!(
                out,
                "  #{} {}: quorum OK ({}) under roster {}",
                r["sequence"],
                s(&r["kind"]),
                approved.join(", "),
                s(&r["roster_sha256"])
            )?;
            if !r["installed_roster_sha256"].is_null() {
                writeln!(
                    out,
                    "      installed roster {}",
                    s(&r["installed_roster_sha256"])
                )?;
            }
        }
        writeln!(
            out,
            "  roster in force now: {}",
            s(&replay["roster_in_force_sha256"])
        )?;
    }

    let certs = &report["certificates"];
    if !certs.is_null() {
        writeln!(
            out,
            "\ncertificates: {} checked in {} files, {} chain to the root, {} not in the log",
            certs["certificates_checked"],
            certs["files_scanned"],
            certs["chaining_to_root"],
            list(&certs["flagged"]).len()
        )?;
        for flagged in list(&certs["flagged"]) {
            writeln!(
                out,
                "  FLAGGED {}: {} sha256 {}",
                s(&flagged["file"]),
                s(&flagged["subject"]),
                s(&flagged["sha256"])
            )?;
        }
        for skipped in list(&certs["skipped"]) {
            writeln!(out, "  skipped {}", s(&skipped))?;
        }
    }

    let problems = list(&report["problems"]);
    if problems.is_empty() {
        writeln!(out, "\naudit OK")?;
        if !report["state_updated"].is_null() {
            writeln!(out, "state: {}", s(&report["state_updated"]))?;
        }
    } else {
        writeln!(out, "\naudit FAILED: {} problem(s)", problems.len())?;
        for p in &problems {
            writeln!(out, "  {}", s(p))?;
        }
    }
    Ok(())
}
