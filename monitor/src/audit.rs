//! The audit: anyone can run it against the published log (a directory or a static HTTP
//! server, through a [`Source`]) to check that
//!
//! * the log verifies: checkpoint signature, every entry bundle and hash tile, the root;
//! * it is consistent with the checkpoint this monitor saw last ([`Options::state`]): no
//!   rollback, no split view;
//! * every root or delegate operation is listed, with who approved it;
//! * replayed from genesis ([`Options::genesis_roster`], [`Options::policies`]), every
//!   ceremony record had its quorum from the roster in force at the time;
//! * no certificate chaining to the Rust root ([`Options::roots`], [`Options::certs`]) is
//!   missing from the log.
//!
//! A failure of the first two stops the audit ([`Error`]); every other
//! broken rule is a [`Finding`] naming the rule, the entry and the file. The state file is
//! updated only after an audit without findings.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use der::Decode;
use rust_pki_ceremony::record::Record;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::VerifierKey;
use rust_pki_tlog::replica::{Replica, Source};
use rust_pki_verify::Check;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::crls::LogCrls;
use crate::error::{Error, Result};
use crate::finding::{Finding, rule};
use crate::logged::LoggedRecord;
use crate::site::RECORDS_DIR;
use crate::{certificates, history, state};

/// What to check beyond the log itself.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The last checkpoint this monitor saw (created if missing, replaced only after an
    /// audit without findings).
    pub state: Option<PathBuf>,
    /// The roster in force before the first ceremony: replay every ceremony record.
    pub genesis_roster: Option<PathBuf>,
    /// The policies ceremony requests may pin, in order of adoption (needed for a replay).
    pub policies: Vec<PathBuf>,
    /// The Rust root certificates (PEM or DER).
    pub roots: Vec<PathBuf>,
    /// Directories of certificates (*.pem, *.crt, *.der, recursively) to check.
    pub certs: Vec<PathBuf>,
}

/// The result of an audit that ran to the end.
#[derive(Debug)]
pub struct Audit {
    /// The report as `--json` prints it: the checkpoint, every entry by kind, the replay,
    /// the certificates, `findings` (serialised [`Finding`]s), `problems` (their text),
    /// `ok`, and `state_updated` when the state file was replaced.
    pub report: Value,
    /// The checks that ran (checkpoint signature and tiles always; the others with their
    /// options), for the JSON envelope's `checked` and the text report.
    pub checked: Vec<Check>,
    /// The checks that did not run, each with the option that would run it.
    pub skipped: Vec<Check>,
    /// Every broken rule, in the order found; empty when the audit is OK.
    pub findings: Vec<Finding>,
}

/// Audits the log served by `source` (named `location` in the report and messages) with
/// its verifier key `vkey`.
///
/// # Errors
/// The log does not verify (rule `log-verify`), the state file is not a checkpoint of this
/// log (`state`), the log is inconsistent with it (`rollback`, `split-view`), the replay
/// cannot start (`genesis-roster`), or a file given in `options` cannot be read.
pub fn audit(
    source: &dyn Source,
    location: &str,
    vkey: &VerifierKey,
    options: &Options,
) -> Result<Audit> {
    let replica = Replica::fetch(source, vkey).map_err(|source| Error::LogVerify {
        location: location.to_owned(),
        source: Box::new(source),
    })?;
    let cp = &replica.checkpoint;

    // ---- consistency with the checkpoint last seen ----
    let previous = match &options.state {
        Some(path) => state::load(path, vkey)?,
        None => None,
    };
    if let (Some(seen), Some(path)) = (&previous, &options.state) {
        state::check_consistency(&replica, seen, location, path)?;
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut report = json!({
        "source": location,
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
    let mut revocations = Vec::new();
    let mut crls = Vec::new();
    let mut log_crls = LogCrls::default();
    // SHA-256 of every leaf logged so far: a signature must come after its leaf's issuance.
    let mut logged_leaves: HashSet<[u8; 32]> = HashSet::new();
    for (index, bytes) in (0u64..).zip(&replica.entries) {
        let entry = match Entry::parse(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                findings.push(Finding {
                    rule: rule::ENTRY_FORMAT,
                    entry: Some(index),
                    file: None,
                    message: format!("entry {index}: {e}"),
                });
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
                let logged = LoggedBytes {
                    index,
                    file_name,
                    size: *size,
                    sha256,
                };
                match record_bytes(source, &logged, record.as_deref()) {
                    Err(finding) => findings.push(finding),
                    Ok(bytes) => {
                        match Record::parse(&bytes, Path::new(file_name)) {
                            Err(e) => findings.push(logged.finding(
                                rule::RECORD_FORMAT,
                                PathBuf::from(file_name),
                                e.to_string(),
                            )),
                            Ok(parsed) => {
                                describe_record(&mut op, &parsed);
                                log_crls.record(index, &parsed);
                                let issued: Vec<[u8; 32]> = parsed
                                    .certificates()
                                    .iter()
                                    .map(|(_, der)| Sha256::digest(der).into())
                                    .collect();
                                if &issued != certificates {
                                    findings.push(logged.finding(
                                    rule::RECORD_CERTIFICATES,
                                    PathBuf::from(file_name),
                                    "the entry names other certificates than the record issued"
                                        .to_owned(),
                                ));
                                }
                                records.push(LoggedRecord {
                                    index,
                                    file_name: file_name.clone(),
                                    bytes,
                                    record: parsed,
                                });
                            }
                        }
                    }
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
                logged_leaves.insert(Sha256::digest(certificate).into());
                leaves.push(json!({
                    "index": index,
                    "subject": subject,
                    "sha256": hex::encode(Sha256::digest(certificate)),
                    "delegate_sha256": hex::encode(delegate_sha256),
                }));
            }
            Entry::Artifact {
                name,
                size,
                sha256,
                signer_sha256,
            } => {
                if let Some(signer) = signer_sha256
                    && !logged_leaves.contains(signer)
                {
                    findings.push(Finding {
                        rule: rule::ARTIFACT_SIGNER,
                        entry: Some(index),
                        file: None,
                        message: format!(
                            "entry {index}: {} was signed by the leaf {}, which no earlier \
                             leaf-issuance entry logged",
                            name,
                            hex::encode(signer)
                        ),
                    });
                }
                artifacts.push(json!({
                    "index": index,
                    "name": name,
                    "size": size,
                    "sha256": hex::encode(sha256),
                    "signer_sha256": signer_sha256.map(hex::encode),
                }));
            }
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
            Entry::Revocation {
                issuer_sha256,
                serial,
                reason,
                revoked_at,
                certificate_sha256,
            } => revocations.push(json!({
                "index": index,
                "issuer_sha256": hex::encode(issuer_sha256),
                "serial": hex::encode(serial),
                "reason": reason,
                "revoked_at": revoked_at,
                "certificate_sha256": certificate_sha256.map(hex::encode),
            })),
            Entry::Crl {
                issuer_sha256,
                number,
                crl,
            } => {
                log_crls.entry(index, *issuer_sha256, *number, crl);
                crls.push(crl_report(index, issuer_sha256, *number, crl));
            }
        }
        entries.push(entry);
    }

    for (crl, earlier) in log_crls.numbers_not_growing() {
        findings.push(Finding {
            rule: rule::CRL_NUMBER,
            entry: Some(crl.index),
            file: None,
            message: format!(
                "entry {}: CRL number {} is not higher than {}, the number of the same \
                 issuer's CRL at entry {}",
                crl.index, crl.number, earlier.number, earlier.index
            ),
        });
    }

    // ---- history replay from genesis ----
    let replay = match &options.genesis_roster {
        Some(roster) => Some(history::replay(
            roster,
            &options.policies,
            &records,
            &mut findings,
        )?),
        None => None,
    };

    // ---- certificates chaining to the root that the log does not name ----
    let certs = if options.roots.is_empty() {
        None
    } else {
        Some(certificates::check(
            &options.roots,
            &options.certs,
            &entries,
            &records,
            &mut findings,
        )?)
    };

    let ok = findings.is_empty();
    report["ceremony_records"] = Value::from(operations);
    report["leaf_issuances"] = Value::from(leaves);
    report["artifacts"] = Value::from(artifacts);
    report["bastion_events"] = Value::from(bastion_events);
    report["revocations"] = Value::from(revocations);
    report["crls"] = Value::from(crls);
    report["replay"] = replay.unwrap_or(Value::Null);
    report["certificates"] = certs.unwrap_or(Value::Null);
    report["findings"] = json!(findings);
    report["problems"] = findings.iter().map(|f| f.to_string()).collect();
    report["ok"] = Value::from(ok);

    // ---- the state: only after an audit without findings ----
    if ok && let Some(path) = &options.state {
        rust_pki_fs::durable::replace(path, &replica.note)?;
        report["state_updated"] = Value::from(path.display().to_string());
    }
    let (checked, skipped) = coverage(options, previous.is_some());
    Ok(Audit {
        report,
        findings,
        checked,
        skipped,
    })
}

/// What an audit with these options checks and what it leaves out: nothing is skipped
/// silently (a bare `log audit DIR --log-key K` checks only the log's own integrity).
fn coverage(options: &Options, had_previous: bool) -> (Vec<Check>, Vec<Check>) {
    let mut checked = vec![
        Check::new("checkpoint-signature"),
        Check::new("tiles").reason("every tile and the root hash"),
        Check::new("entries").reason("every entry parsed and sorted by kind"),
    ];
    let mut skipped = Vec::new();
    match (&options.state, had_previous) {
        (Some(path), true) => checked.push(
            Check::new("consistency").reason(format!("with the checkpoint in {}", path.display())),
        ),
        (Some(path), false) => skipped.push(Check::new("consistency").reason(format!(
            "no checkpoint seen before ({} is new)",
            path.display()
        ))),
        (None, _) => skipped.push(
            Check::new("consistency").reason("no --state: rollback and split view not checked"),
        ),
    }
    if options.genesis_roster.is_some() {
        checked.push(Check::new("history-replay").reason("every ceremony from the genesis roster"));
    } else {
        skipped.push(
            Check::new("history-replay").reason(
                "no --genesis-roster and --policy: ceremony quorums and rosters not replayed",
            ),
        );
    }
    if options.roots.is_empty() {
        skipped.push(Check::new("certificate-scan").reason("no --root: certificates not checked"));
    } else {
        checked.push(Check::new("certificates").reason("logged certificates against the root"));
        if options.certs.is_empty() {
            skipped.push(Check::new("certificate-scan").reason(
                "no --certs DIR: no certificate directory scanned for certificates missing from the log",
            ));
        } else {
            checked.push(
                Check::new("certificate-scan")
                    .reason(format!("{} director(y/ies) scanned", options.certs.len())),
            );
        }
    }
    (checked, skipped)
}

/// A ceremony record entry, as the findings about it name it.
struct LoggedBytes<'a> {
    index: u64,
    file_name: &'a str,
    size: u64,
    sha256: &'a [u8; 32],
}

impl LoggedBytes<'_> {
    /// A finding about this entry, its message prefixed with the entry and file name.
    fn finding(&self, rule: &'static str, file: PathBuf, what: String) -> Finding {
        Finding {
            rule,
            entry: Some(self.index),
            file: Some(file),
            message: format!("entry {} ({}): {what}", self.index, self.file_name),
        }
    }
}

/// The bytes of a ceremony record: from its entry, or published beside the log.
fn record_bytes(
    source: &dyn Source,
    logged: &LoggedBytes<'_>,
    inline: Option<&[u8]>,
) -> std::result::Result<Vec<u8>, Finding> {
    if let Some(bytes) = inline {
        return Ok(bytes.to_vec());
    }
    let path = format!("{RECORDS_DIR}/{}", logged.file_name);
    let location = source.location(&path);
    let bytes = source.fetch(&path).map_err(|e| {
        logged.finding(
            rule::RECORD_PUBLISHED,
            location.clone(),
            format!("record not published at {}: {e}", location.display()),
        )
    })?;
    if bytes.len() as u64 != logged.size
        || <[u8; 32]>::from(Sha256::digest(&bytes)) != *logged.sha256
    {
        return Err(logged.finding(
            rule::RECORD_DIGEST,
            location.clone(),
            format!(
                "{} is not the record the log commits to (size or SHA-256 differs)",
                location.display()
            ),
        ));
    }
    Ok(bytes)
}

/// A `crl` entry as the report lists it: its number, and what its DER says of itself
/// (thisUpdate, nextUpdate, how many entries), or why it does not parse.
fn crl_report(index: u64, issuer_sha256: &[u8; 32], number: u64, crl: &[u8]) -> Value {
    let mut value = json!({
        "index": index,
        "issuer_sha256": hex::encode(issuer_sha256),
        "number": number,
        "sha256": hex::encode(Sha256::digest(crl)),
    });
    match <x509_cert::crl::CertificateList>::from_der(crl) {
        Ok(parsed) => {
            let tbs = &parsed.tbs_cert_list;
            value["issuer"] = Value::from(tbs.issuer.to_string());
            value["this_update"] = Value::from(tbs.this_update.to_string());
            value["next_update"] = tbs
                .next_update
                .map_or(Value::Null, |t| Value::from(t.to_string()));
            value["entries"] = Value::from(tbs.revoked_certificates.as_ref().map_or(0, Vec::len));
        }
        Err(e) => value["malformed"] = Value::from(e.to_string()),
    }
    value
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

#[cfg(test)]
mod tests {
    use rust_pki_tlog::note::{KeyType, SignerKey, sign_note};
    use rust_pki_tlog::replica::DirSource;
    use rust_pki_tlog::writer::Log;

    use super::*;

    const ORIGIN: &str = "monitor.example/log";

    /// A log in `dir` with `entries` (raw bytes, so that a test can log a broken entry);
    /// returns its verifier key.
    fn log_with(dir: &Path, entries: &[Vec<u8>]) -> VerifierKey {
        let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
        signed_log(dir, &key, entries);
        key.verifier()
    }

    /// A log in `dir` with `entries`, signed by `key`.
    fn signed_log(dir: &Path, key: &SignerKey, entries: &[Vec<u8>]) {
        let key = SignerKey::parse(&key.expose_secret()).unwrap();
        let mut log = Log::create(dir, ORIGIN, move |body: &[u8]| sign_note(body, &key)).unwrap();
        log.append(entries).unwrap();
    }

    /// A ceremony record entry logged by digest only (its bytes published beside the log).
    fn digest_only(file_name: &str, record: &[u8]) -> Vec<u8> {
        Entry::CeremonyRecord {
            file_name: file_name.into(),
            size: record.len() as u64,
            sha256: Sha256::digest(record).into(),
            certificates: Vec::new(),
            record: None,
        }
        .encode()
        .unwrap()
    }

    fn run(dir: &Path, vkey: &VerifierKey, options: &Options) -> Audit {
        audit(&DirSource(dir.to_owned()), "the log", vkey, options).unwrap()
    }

    #[test]
    fn a_crl_number_that_does_not_grow_is_a_finding() {
        let tmp = tempfile::tempdir().unwrap();
        // The entries' CRL bytes are opaque here: the rule reads the logged numbers.
        let crl = |issuer: &[u8], number| {
            Entry::crl(issuer, number, b"crl bytes")
                .unwrap()
                .encode()
                .unwrap()
        };
        let entries = [
            crl(b"releases delegate", 5),
            crl(b"bors delegate", 1),
            crl(b"releases delegate", 5),
            crl(b"releases delegate", 6),
            crl(b"releases delegate", 4),
            crl(b"bors delegate", 2),
        ];
        let vkey = log_with(tmp.path(), &entries);
        let audit = run(tmp.path(), &vkey, &Options::default());
        let found: Vec<(&str, Option<u64>)> =
            audit.findings.iter().map(|f| (f.rule, f.entry)).collect();
        assert_eq!(
            found,
            [(rule::CRL_NUMBER, Some(2)), (rule::CRL_NUMBER, Some(4))]
        );
        assert_eq!(
            audit.findings[1].to_string(),
            "rule crl-number: entry 4: CRL number 4 is not higher than 6, the number of the \
             same issuer's CRL at entry 3"
        );
        assert_eq!(audit.report["ok"], false);
    }

    #[test]
    fn a_clean_log_has_no_findings_and_saves_the_state() {
        let tmp = tempfile::tempdir().unwrap();
        let artifact = Entry::artifact("rust-1.95.0.tar.xz", 5, [9; 32])
            .unwrap()
            .encode()
            .unwrap();
        let vkey = log_with(tmp.path(), &[artifact]);
        let state = tmp.path().join("seen");
        let options = Options {
            state: Some(state.clone()),
            ..Options::default()
        };
        let audit = run(tmp.path(), &vkey, &options);
        assert_eq!(audit.findings, Vec::new());
        assert_eq!(audit.report["ok"], true);
        assert_eq!(audit.report["artifacts"][0]["name"], "rust-1.95.0.tar.xz");
        assert!(state.exists());
    }

    #[test]
    fn an_artifact_signed_by_a_leaf_the_log_never_issued_is_a_finding() {
        let tmp = tempfile::tempdir().unwrap();
        let issued = Entry::leaf_issuance(b"leaf one", b"delegate").unwrap();
        let by_logged = Entry::signed_artifact("a.tar.xz", 1, [1; 32], b"leaf one").unwrap();
        let by_unlogged = Entry::signed_artifact("b.tar.xz", 1, [2; 32], b"leaf two").unwrap();
        // Signed before its leaf was logged: also a finding (order matters).
        let too_early = Entry::signed_artifact("c.tar.xz", 1, [3; 32], b"leaf three").unwrap();
        let issued_late = Entry::leaf_issuance(b"leaf three", b"delegate").unwrap();
        let entries: Vec<Vec<u8>> = [issued, by_logged, by_unlogged, too_early, issued_late]
            .iter()
            .map(|e| e.encode().unwrap())
            .collect();
        let vkey = log_with(tmp.path(), &entries);
        let audit = run(tmp.path(), &vkey, &Options::default());
        let found: Vec<(&str, Option<u64>)> =
            audit.findings.iter().map(|f| (f.rule, f.entry)).collect();
        assert_eq!(
            found,
            [
                (rule::ARTIFACT_SIGNER, Some(2)),
                (rule::ARTIFACT_SIGNER, Some(3))
            ]
        );
        assert!(
            audit.findings[0].message.contains("b.tar.xz"),
            "{}",
            audit.findings[0]
        );
        assert_eq!(audit.report["ok"], false);
    }

    #[test]
    fn broken_entries_are_findings_naming_rule_entry_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        let inline = Entry::CeremonyRecord {
            file_name: "002-bad.toml".into(),
            size: 12,
            sha256: Sha256::digest(b"not a record").into(),
            certificates: Vec::new(),
            record: Some(b"not a record".to_vec()),
        }
        .encode()
        .unwrap();
        let vkey = log_with(
            tmp.path(),
            &[
                digest_only("000-missing.toml", b"record zero"),
                b"garbage".to_vec(),
                inline,
                digest_only("003-tampered.toml", b"record three"),
            ],
        );
        let records = tmp.path().join(RECORDS_DIR);
        std::fs::create_dir(&records).unwrap();
        std::fs::write(records.join("003-tampered.toml"), b"record 3").unwrap();
        let state = tmp.path().join("seen");
        let options = Options {
            state: Some(state.clone()),
            ..Options::default()
        };

        let audit = run(tmp.path(), &vkey, &options);
        let found: Vec<(&str, Option<u64>, Option<PathBuf>)> = audit
            .findings
            .iter()
            .map(|f| (f.rule, f.entry, f.file.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    rule::RECORD_PUBLISHED,
                    Some(0),
                    Some(records.join("000-missing.toml"))
                ),
                (rule::ENTRY_FORMAT, Some(1), None),
                (
                    rule::RECORD_FORMAT,
                    Some(2),
                    Some(PathBuf::from("002-bad.toml"))
                ),
                (
                    rule::RECORD_DIGEST,
                    Some(3),
                    Some(records.join("003-tampered.toml"))
                ),
            ]
        );
        assert!(
            audit.findings[3]
                .to_string()
                .starts_with("rule record-digest: entry 3 (003-tampered.toml): "),
            "{}",
            audit.findings[3]
        );
        // The JSON form: the typed fields, and the text in `problems`.
        assert_eq!(audit.report["ok"], false);
        let json = &audit.report["findings"][2];
        assert_eq!(json["rule"], "record-format");
        assert_eq!(json["entry"], 2);
        assert_eq!(json["file"], "002-bad.toml");
        assert_eq!(
            audit.report["problems"][1],
            format!("rule entry-format: {}", audit.findings[1].message)
        );
        assert_eq!(audit.report["findings"][1]["file"], Value::Null);
        // Not saved: the next audit compares with the checkpoint seen before the findings.
        assert!(!state.exists());
    }

    #[test]
    fn an_inconsistent_log_stops_the_audit_on_its_rule() {
        let tmp = tempfile::tempdir().unwrap();
        let artifact = |name: &str| Entry::artifact(name, 1, [1; 32]).unwrap().encode().unwrap();
        let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
        let vkey = key.verifier();
        // Three logs signed by the same key: the one seen, a shorter one (rolled back) and
        // one of the same size with another last entry (a split view).
        let seen = tmp.path().join("seen-log");
        let rolled_back = tmp.path().join("rolled-back");
        let split = tmp.path().join("split");
        signed_log(&seen, &key, &[artifact("a"), artifact("b")]);
        signed_log(&rolled_back, &key, &[artifact("a")]);
        signed_log(&split, &key, &[artifact("a"), artifact("c")]);
        let state = tmp.path().join("state");
        let options = Options {
            state: Some(state.clone()),
            ..Options::default()
        };
        run(&seen, &vkey, &options);
        let saved = std::fs::read(&state).unwrap();
        for (dir, rule) in [(rolled_back, "rollback"), (split, "split-view")] {
            let error = audit(&DirSource(dir), "the log", &vkey, &options).unwrap_err();
            assert_eq!(error.rule(), Some(rule), "{error}");
            // The state file is kept as evidence.
            assert_eq!(std::fs::read(&state).unwrap(), saved);
        }
        // A log the key did not sign does not verify.
        let other = tmp.path().join("other");
        log_with(&other, &[artifact("a")]);
        let error = audit(&DirSource(other), "the log", &vkey, &options).unwrap_err();
        assert_eq!(error.rule(), Some("log-verify"), "{error}");
    }
}
