//! `rust-pki log audit`: the monitor. Anyone can run it against the published log (a
//! directory or a static HTTP server) to check that
//!
//! * the log verifies: checkpoint signature, every entry bundle and hash tile, the root;
//! * it is consistent with the checkpoint this monitor saw last (`--state`): no rollback,
//!   no split view;
//! * every root or delegate operation is listed, with who approved it;
//! * replayed from genesis (`--genesis-roster`, `--policy`), every ceremony record had its
//!   quorum from the roster in force at the time (`rust_pki_ceremony::replay`);
//! * no certificate chaining to the Rust root (`--root`, `--certs`) is missing from the log.
//!
//! Any failure or flagged certificate is an error (non-zero exit) naming the rule, the
//! entry and the file; the state file is updated only after an audit without findings.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use der::{Decode, Encode};
use rust_pki_ca::policy::Policy;
use rust_pki_ceremony::record::Record;
use rust_pki_ceremony::replay::Replay;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::replica::{DirSource, Replica, Source};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::http_source::HttpSource;

/// Where digest-only ceremony records (`record: -`) are published, beside the log.
pub const RECORDS_DIR: &str = "records";

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The log: a directory, or the http:// or https:// URL its files are served under.
    #[arg(value_name = "SOURCE")]
    source: String,
    /// The log's verifier key file (signed-note vkey text), obtained independently of
    /// SOURCE.
    #[arg(long, value_name = "VKEY")]
    log_key: PathBuf,
    /// The last checkpoint this monitor saw (created if missing, replaced only after an
    /// audit without findings). A smaller log is a rollback, a different root for the
    /// same entries a split view: both are errors, and the file is kept as evidence.
    #[arg(long, value_name = "FILE")]
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
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// A ceremony record found in the log.
struct LoggedRecord {
    index: u64,
    file_name: String,
    bytes: Vec<u8>,
    record: Record,
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
    let source = source.as_ref();
    let replica = Replica::fetch(source, &vkey).with_context(|| {
        format!(
            "rule log-verify: the log at {} does not verify",
            args.source
        )
    })?;
    let cp = &replica.checkpoint;

    // ---- consistency with the checkpoint last seen ----
    let previous = match &args.state {
        Some(path) => load_state(path, &vkey)?,
        None => None,
    };
    if let Some(seen) = &previous {
        check_consistency(&replica, seen, args)?;
    }

    let mut problems: Vec<String> = Vec::new();
    let mut report = json!({
        "source": args.source,
        "origin": cp.origin,
        "size": cp.size,
        "root_hash": Base64::encode_string(&cp.root_hash),
        "previous": previous.as_ref().map(|seen| json!({
            "size": seen.size,
            "root_hash": Base64::encode_string(&seen.root_hash),
        })),
    });

    // ---- the entries ----
    let mut entries = Vec::new();
    let mut records = Vec::new();
    let mut operations = Vec::new();
    let mut leaves = Vec::new();
    let mut artifacts = Vec::new();
    let mut bastion_events = Vec::new();
    for (i, bytes) in replica.entries.iter().enumerate() {
        let index = i as u64;
        let entry = match Entry::parse(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(format!("rule entry-format: entry {index}: {e}"));
                continue;
            }
        };
        match &entry {
            Entry::CeremonyRecord {
                file_name,
                size,
                sha256,
                certificates,
                record,
            } => {
                let mut op = json!({
                    "index": index,
                    "file_name": file_name,
                    "sha256": hex::encode(sha256),
                    "certificates": certificates.iter().map(hex::encode).collect::<Vec<_>>(),
                    "published": if record.is_some() { "in the entry" } else { RECORDS_DIR },
                });
                match record_bytes(source, index, file_name, *size, sha256, record.as_deref()) {
                    Err(problem) => problems.push(problem),
                    Ok(bytes) => match Record::parse(&bytes, Path::new(file_name)) {
                        Err(e) => problems.push(format!(
                            "rule record-format: entry {index} ({file_name}): {e}"
                        )),
                        Ok(parsed) => {
                            describe_record(&mut op, &parsed);
                            let issued: Vec<[u8; 32]> = parsed
                                .certificates()
                                .iter()
                                .map(|(_, der)| Sha256::digest(der).into())
                                .collect();
                            if &issued != certificates {
                                problems.push(format!(
                                    "rule record-certificates: entry {index} ({file_name}): the \
                                     entry names other certificates than the record issued"
                                ));
                            }
                            records.push(LoggedRecord {
                                index,
                                file_name: file_name.clone(),
                                bytes,
                                record: parsed,
                            });
                        }
                    },
                }
                operations.push(op);
            }
            Entry::LeafIssuance {
                certificate,
                delegate_sha256,
            } => {
                let subject = Certificate::from_der(certificate)
                    .map(|c| c.tbs_certificate().subject().to_string())
                    .unwrap_or_else(|e| format!("(malformed certificate: {e})"));
                leaves.push(json!({
                    "index": index,
                    "subject": subject,
                    "sha256": hex::encode(Sha256::digest(certificate)),
                    "delegate_sha256": hex::encode(delegate_sha256),
                }));
            }
            Entry::Artifact { name, size, sha256 } => artifacts.push(json!({
                "index": index,
                "name": name,
                "size": size,
                "sha256": hex::encode(sha256),
            })),
            Entry::BastionEvent {
                action,
                time,
                members,
                resources,
            } => bastion_events.push(json!({
                "index": index,
                "action": action,
                "time": time,
                "members": members,
                "resources": resources,
            })),
        }
        entries.push(entry);
    }

    // ---- history replay from genesis ----
    let replay = match &args.genesis_roster {
        Some(roster) => Some(replay(roster, &args.policies, &records, &mut problems)?),
        None => None,
    };

    // ---- certificates chaining to the root that the log does not name ----
    let certs = if args.roots.is_empty() {
        None
    } else {
        Some(check_certificates(args, &entries, &records, &mut problems)?)
    };

    let ok = problems.is_empty();
    report["ceremony_records"] = Value::from(operations);
    report["leaf_issuances"] = Value::from(leaves);
    report["artifacts"] = Value::from(artifacts);
    report["bastion_events"] = Value::from(bastion_events);
    report["replay"] = replay.unwrap_or(Value::Null);
    report["certificates"] = certs.unwrap_or(Value::Null);
    report["problems"] = Value::from(problems.clone());
    report["ok"] = Value::from(ok);

    // ---- the state: only after an audit without findings ----
    if ok && let Some(path) = &args.state {
        write_atomically(path, &replica.note)?;
        report["state_updated"] = Value::from(path.display().to_string());
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        // serde_json escapes every control character.
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        // The report quotes the log's entries (record names, members, resources): each line
        // is printed inert, so an entry cannot forge or hide a line of the audit.
        let mut text = Vec::new();
        print_text(&mut text, &report)?;
        for line in String::from_utf8_lossy(&text).lines() {
            writeln!(out, "{}", rust_pki_ceremony::inert::inert(line))?;
        }
    }
    drop(out);
    if !ok {
        bail!(
            "the audit found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// The checkpoint saved in `path`, verified with the log key; `None` if there is none yet.
fn load_state(path: &Path, vkey: &VerifierKey) -> anyhow::Result<Option<SignedCheckpoint>> {
    let note = match fs::read(path) {
        Ok(note) => note,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    let seen = SignedCheckpoint::verify(&note, vkey).with_context(|| {
        format!(
            "rule state: {} is not a checkpoint signed by {}",
            path.display(),
            vkey.name()
        )
    })?;
    Ok(Some(seen))
}

fn check_consistency(
    replica: &Replica,
    seen: &SignedCheckpoint,
    args: &AuditArgs,
) -> anyhow::Result<()> {
    let state = args
        .state
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let cp = &replica.checkpoint;
    if seen.origin != cp.origin {
        bail!(
            "rule state: {state} is a checkpoint of log {}, not of {}",
            seen.origin,
            cp.origin
        );
    }
    if seen.size > cp.size {
        bail!(
            "rule rollback: the log at {} has {} entries, fewer than the {} of the checkpoint \
             last seen ({state}): the log was rolled back (the state file is kept as evidence)",
            args.source,
            cp.size,
            seen.size
        );
    }
    let root = replica.root_at(seen.size)?;
    if root != seen.root_hash {
        bail!(
            "rule split-view: the checkpoint last seen ({state}) has size {} and root {}, but \
             the first {} entries of the log at {} have root {}: the log signed two \
             inconsistent checkpoints (both are evidence; the state file is kept)",
            seen.size,
            Base64::encode_string(&seen.root_hash),
            seen.size,
            args.source,
            Base64::encode_string(&root)
        );
    }
    Ok(())
}

/// The bytes of a ceremony record: from its entry, or published beside the log.
fn record_bytes(
    source: &dyn Source,
    index: u64,
    file_name: &str,
    size: u64,
    sha256: &[u8; 32],
    inline: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    if let Some(bytes) = inline {
        return Ok(bytes.to_vec());
    }
    let path = format!("{RECORDS_DIR}/{file_name}");
    let bytes = source.fetch(&path).map_err(|e| {
        format!(
            "rule record-published: entry {index} ({file_name}): record not published at {}: \
             {e}",
            source.location(&path).display()
        )
    })?;
    if bytes.len() as u64 != size || <[u8; 32]>::from(Sha256::digest(&bytes)) != *sha256 {
        return Err(format!(
            "rule record-digest: entry {index} ({file_name}): {} is not the record the log \
             commits to (size or SHA-256 differs)",
            source.location(&path).display()
        ));
    }
    Ok(bytes)
}

fn describe_record(op: &mut Value, record: &Record) {
    op["sequence"] = Value::from(record.sequence);
    op["kind"] = Value::from(record.kind.name());
    op["ceremony_id"] = Value::from(record.ceremony_id.as_str());
    op["finished_at"] = Value::from(record.finished_at.as_str());
    op["approved_by"] = Value::from(record.approved_by.clone());
    op["issued"] = Value::from(
        record
            .certificates()
            .iter()
            .map(|(path, der)| {
                let subject = Certificate::from_der(der)
                    .map(|c| c.tbs_certificate().subject().to_string())
                    .unwrap_or_default();
                json!({
                    "path": path,
                    "subject": subject,
                    "sha256": hex::encode(Sha256::digest(der)),
                })
            })
            .collect::<Vec<_>>(),
    );
}

fn replay(
    roster: &Path,
    policy_paths: &[PathBuf],
    records: &[LoggedRecord],
    problems: &mut Vec<String>,
) -> anyhow::Result<Value> {
    let mut policies = Vec::with_capacity(policy_paths.len());
    for path in policy_paths {
        let bytes = fs::read(path).with_context(|| format!("{}", path.display()))?;
        let policy = Policy::parse(
            std::str::from_utf8(&bytes)
                .with_context(|| format!("{}: not UTF-8", path.display()))?,
            path,
        )?;
        policies.push((policy, bytes));
    }
    let threshold = policies
        .first()
        .map(|(policy, _)| policy.quorum.threshold)
        .context("--genesis-roster needs at least one --policy")?;
    let roster_bytes = fs::read(roster).with_context(|| format!("{}", roster.display()))?;
    let mut replay = Replay::new(policies, &roster_bytes, roster)
        .map_err(|e| anyhow::anyhow!("history replay: {e}"))?;
    let genesis = replay.roster_sha256().to_owned();
    let mut checked = Vec::new();
    for logged in records {
        let name = format!("entry {} ({})", logged.index, logged.file_name);
        match replay.check(&logged.bytes, &name) {
            Ok(done) => checked.push(json!({
                "index": logged.index,
                "sequence": done.record.sequence,
                "kind": done.record.kind.name(),
                "approved_by": done.approved_by,
                "roster_sha256": done.roster_sha256,
                "installed_roster_sha256": done.installed_roster_sha256,
            })),
            Err(e) => {
                problems.push(format!(
                    "rule {}: history replay: {e} (later records were not replayed)",
                    e.rule
                ));
                break;
            }
        }
    }
    Ok(json!({
        "genesis_roster_sha256": genesis,
        "threshold": threshold,
        "roster_in_force_sha256": replay.roster_sha256(),
        "records": checked,
    }))
}

/// A certificate from the log or a --certs directory.
struct Candidate {
    origin: String,
    der: Vec<u8>,
    cert: Certificate,
    from_dir: bool,
    chains: bool,
}

fn check_certificates(
    args: &AuditArgs,
    entries: &[Entry],
    records: &[LoggedRecord],
    problems: &mut Vec<String>,
) -> anyhow::Result<Value> {
    let logged = |der: &[u8]| entries.iter().any(|e| e.names_certificate(der));
    let mut issuers: Vec<Certificate> = Vec::new();
    let mut roots = Vec::new();
    for path in &args.roots {
        let der = rust_pki_ca::pem::read_der(path, rust_pki_ca::pem::label::CERTIFICATE)?;
        let cert = Certificate::from_der(&der)
            .with_context(|| format!("{}: malformed certificate", path.display()))?;
        if !logged(&der) {
            problems.push(format!(
                "rule root-logged: {}: no log entry names this root (no root-init or \
                 root-rotate record issued it)",
                path.display()
            ));
        }
        roots.push(json!({
            "file": path.display().to_string(),
            "subject": cert.tbs_certificate().subject().to_string(),
            "sha256": hex::encode(Sha256::digest(&der)),
            "logged": logged(&der),
        }));
        issuers.push(cert);
    }

    // The log's own certificates can be issuers too (delegates, cross-certificates).
    let mut candidates = Vec::new();
    for logged_record in records {
        for (path, der) in logged_record.record.certificates() {
            if let Ok(cert) = Certificate::from_der(&der) {
                candidates.push(Candidate {
                    origin: format!("entry {} {path}", logged_record.index),
                    der,
                    cert,
                    from_dir: false,
                    chains: false,
                });
            }
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        if let Entry::LeafIssuance { certificate, .. } = entry
            && let Ok(cert) = Certificate::from_der(certificate)
        {
            candidates.push(Candidate {
                origin: format!("entry {i}"),
                der: certificate.clone(),
                cert,
                from_dir: false,
                chains: false,
            });
        }
    }
    let mut skipped = Vec::new();
    let mut files = Vec::new();
    for dir in &args.certs {
        collect_files(dir, &mut files)?;
    }
    files.sort();
    let scanned = files.len();
    for file in files {
        let bytes = fs::read(&file).with_context(|| format!("{}", file.display()))?;
        match certificates_in(&bytes) {
            Ok(ders) => {
                for (n, der) in ders.into_iter().enumerate() {
                    match Certificate::from_der(&der) {
                        Ok(cert) => candidates.push(Candidate {
                            origin: if n == 0 {
                                file.display().to_string()
                            } else {
                                format!("{} (certificate {})", file.display(), n + 1)
                            },
                            der,
                            cert,
                            from_dir: true,
                            chains: false,
                        }),
                        Err(e) => skipped.push(format!("{}: {e}", file.display())),
                    }
                }
            }
            Err(e) => skipped.push(format!("{}: {e}", file.display())),
        }
    }

    // Whatever a certificate known to chain to the root signed chains to it too.
    loop {
        let mut progress = false;
        for i in 0..candidates.len() {
            if candidates[i].chains {
                continue;
            }
            let by_root = issuers
                .iter()
                .any(|issuer| issued_by(&candidates[i], issuer));
            let by_chain = candidates
                .iter()
                .any(|c| c.chains && issued_by(&candidates[i], &c.cert));
            if by_root || by_chain {
                candidates[i].chains = true;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }

    let mut checked = 0usize;
    let mut chaining = 0usize;
    let mut flagged = Vec::new();
    for c in candidates.iter().filter(|c| c.from_dir) {
        checked += 1;
        if !c.chains {
            continue;
        }
        chaining += 1;
        if !logged(&c.der) {
            let subject = c.cert.tbs_certificate().subject().to_string();
            let sha256 = hex::encode(Sha256::digest(&c.der));
            problems.push(format!(
                "rule unlogged-certificate: {}: {subject} (SHA-256 {sha256}) chains to the \
                 Rust root but no log entry names it",
                c.origin
            ));
            flagged.push(json!({
                "file": c.origin,
                "subject": subject,
                "sha256": sha256,
            }));
        }
    }
    Ok(json!({
        "roots": roots,
        "files_scanned": scanned,
        "certificates_checked": checked,
        "chaining_to_root": chaining,
        "flagged": flagged,
        "skipped": skipped,
    }))
}

/// Whether `issuer` issued `child`: names match and the signature verifies.
fn issued_by(child: &Candidate, issuer: &Certificate) -> bool {
    let tbs = child.cert.tbs_certificate();
    if tbs.issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Ok(message) = tbs.to_der() else {
        return false;
    };
    let Some(signature) = child.cert.signature().as_bytes() else {
        return false;
    };
    rust_pki_ca::signature::verify_any_digest(
        issuer.tbs_certificate().subject_public_key_info(),
        child.cert.signature_algorithm(),
        &message,
        signature,
        &child.origin,
    )
    .is_ok()
}

/// Certificate files under `dir`, recursively.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry.with_context(|| format!("{}", dir.display()))?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "pem" | "crt" | "der"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The certificates of a DER file or of every CERTIFICATE block of a PEM file.
fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither DER nor PEM text".to_owned())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let Some(end) = block.find("-----END ") else {
            return Err("unterminated PEM block".to_owned());
        };
        let tail = &block[end + "-----END ".len()..];
        let close = tail.find("-----").map_or(tail.len(), |i| i + "-----".len());
        let len = end + "-----END ".len() + close;
        let (label, der) = der::pem::decode_vec(&block.as_bytes()[..len])
            .map_err(|e| format!("malformed PEM: {e}"))?;
        if label == rust_pki_ca::pem::label::CERTIFICATE {
            out.push(der);
        }
        rest = &block[len..];
    }
    Ok(out)
}

/// Replace `path` with `contents`: a temporary file beside it, fsync, rename.
fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    let temporary = dir.join(name);
    let mut file =
        fs::File::create(&temporary).with_context(|| format!("{}", temporary.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("{}", temporary.display()))?;
    drop(file);
    fs::rename(&temporary, path).with_context(|| format!("{}", path.display()))?;
    fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("{}", dir.display()))?;
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
