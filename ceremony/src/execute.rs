//! `ceremony execute`: every check first, then the HSM, then an atomic record.
//!
//! Before the HSM is touched: the policy and roster files are the ones the request pins;
//! the window is open; the request was never executed (the record chain) and builds on the
//! latest record; at least `threshold` distinct current members approved these exact
//! bytes; production policies use no example-arc OIDs; every planned TBS still lints.
//! Then the quorum gate unlocks the root key (the PIN is rebuilt from the approvers'
//! shares, in memory only), the outputs are signed and checked, and the record is written
//! atomically. Outputs are published from the record, so a rerun after a crash either
//! re-executes (no record yet: nothing was issued) or only republishes (record written,
//! checked against the request first: [`crate::publish::check_record`]).
//!
//! One execution at a time: the caller holds the state's lock across all of it, the
//! request must sit in its folder inside the state directory, and the record chain refuses
//! a request already executed or built on a record that is no longer the latest.

use std::{path::Path, time::SystemTime};

use rust_pki_ca::{
    Signer,
    authority::{
        cluster_kind, issue_cross, issue_root, lint_prepared_certificate, lint_prepared_crl,
        sign_prepared_certificate, sign_prepared_crl,
    },
    pem,
    policy::{HsmBackend, Policy},
    profile::CertKind,
};
use x509_cert::Certificate;

use crate::{
    Error, Result,
    approval::{Approval, read_approval_dir},
    gate::{Hsm, root_init_parameters},
    in_force::{check_roster_in_force, current_root},
    policy_source::PolicySource,
    publish::{allowed_record_paths, check_output_paths, check_record},
    quorum::quorum_approvals,
    record::{KeyEvent, RECORD_FORMAT, Record, RecordApproval, RecordHsm, RecordOutput},
    request::{Kind, OutputType, Request, rfc3339, sha256_hex},
    roster::Roster,
    state::{CEREMONY_KEY_FILE, CeremonyDir, State, StateLock},
    validate::{CLUSTER_PROFILE, CROSS_NEW_BY_OLD, CROSS_OLD_BY_NEW},
};

/// Where a ceremony's inputs come from and its outputs go.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The policy (must be the one the request pins): a file, or the built-in one.
    pub policy: PolicySource<'a>,
    /// The roster file (must be the one the request pins).
    pub roster: &'a Path,
    /// The ceremony state directory.
    pub state: &'a State,
    /// Where certificates and CRLs are published.
    pub out: &'a Path,
    /// The HSM this run drives (`--hsm`): a request for another backend is refused
    /// before anything touches an HSM (rule `hsm-backend`).
    pub hsm: &'a dyn Hsm,
    /// SHA-256 of the running `rust-pki` binary.
    pub tool_sha256: &'a str,
    /// Now.
    pub now: SystemTime,
}

/// What `execute` did, with the record and its exact bytes (checked, not re-read).
#[derive(Debug)]
pub enum Outcome {
    /// The ceremony ran now.
    Executed(Record, Vec<u8>),
    /// It had run before: its record exists and matches the request (nothing was signed).
    AlreadyExecuted(Record, Vec<u8>),
}

/// Execute the ceremony in `ceremony`, holding the state's `lock` (see
/// [`State::lock`]): the caller keeps it until the outputs are logged and published.
///
/// The record is written but nothing is published: the caller logs the record and
/// staples its certificates first, then calls [`crate::publish::publish`], so that no
/// certificate exists outside the state before its log entry does.
///
/// # Errors
/// Any failed check (nothing touched the HSM then), HSM failures, lint or signature
/// failures, I/O failures.
pub fn execute(inputs: Inputs<'_>, ceremony: &CeremonyDir, lock: &StateLock) -> Result<Outcome> {
    if !inputs.state.is_locked_by(lock) {
        return Err(Error::Request {
            field: "state".into(),
            reason: "execute needs the lock of its own state directory".into(),
        });
    }
    check_in_state(inputs.state, ceremony)?;
    let request_path = ceremony.request();
    let bytes = crate::validate::read_request(&request_path)?;
    let request = Request::parse(&bytes, &request_path)?;
    let folder = ceremony.folder_name();
    check_folder_name(&folder, &request, &request_path)?;

    if ceremony.record().exists() {
        let record_bytes = read(&ceremony.record())?;
        let record = Record::parse(&record_bytes, &ceremony.record())?;
        check_record(&record, &ceremony.record(), &request, &bytes, &folder)?;
        check_record_approvals(inputs, &request, &bytes, &record, &ceremony.record())?;
        // The chain from the first record to this one must hold too: a record edited in
        // place breaks the digest its successor (or the log entry) names.
        inputs.state.records()?;
        return Ok(Outcome::AlreadyExecuted(record, record_bytes));
    }

    // ---- every check, before the HSM ----
    let policy = check_pinned_files(inputs, &request)?;
    check_hsm(&request, &policy, inputs.hsm.backend(), &request_path)?;
    check_roster_in_force(inputs.state, inputs.roster, &policy.quorum)?;
    let roster = Roster::load(inputs.roster, &policy.quorum)?;
    roster.check_hsm(&policy.hsm)?;
    check_window(&request, inputs.now)?;
    let (sequence, head) = check_chain(inputs.state, &request)?;
    let approvals = quorum_approvals(
        &roster,
        policy.quorum.threshold,
        &bytes,
        &read_approval_dir(&ceremony.approvals())?,
    )?;
    let approvals = in_term(&roster, approvals, policy.quorum.threshold, inputs.now)?;
    crate::history::check_history(inputs.state, &request)?;
    check_example_arcs(&policy, &request)?;
    let root = current_root(inputs.state)?;
    lint_outputs(&policy, root.as_ref(), &request)?;
    // Outputs are never overwritten, nor written through a symlink: refuse now rather
    // than after the HSM has signed. Bundles go next to the certificates, in the same
    // directories.
    let publishes = allowed_record_paths(&request, &folder);
    check_output_paths(
        inputs.out,
        publishes.iter().map(String::as_str),
        &request_path,
    )?;
    let planned: Vec<_> = publishes.iter().map(|p| inputs.out.join(p)).collect();
    rust_pki_ca::output::ensure_absent(planned.iter().map(|p| p.as_path()))?;
    crate::fault::point("checked");

    // ---- the HSM ----
    let started_at = rfc3339(inputs.now);
    let (outputs, keys) = match request.kind {
        Kind::RootInit => root_init(
            inputs.hsm,
            inputs.now,
            ceremony,
            (&policy, &roster),
            &request,
            &approvals,
        )?,
        Kind::RootRotate => root_rotate(
            inputs,
            ceremony,
            &policy,
            root.as_ref(),
            &request,
            &approvals,
            &roster,
        )?,
        Kind::RosterChange => {
            roster_change(inputs, ceremony, (&policy, &roster), &request, &approvals)?
        }
        Kind::DelegateIssue
        | Kind::DelegateRenew
        | Kind::DelegateRevoke
        | Kind::RootCrl
        | Kind::ClusterInit => {
            let root = root.ok_or_else(no_root)?;
            let signer = inputs
                .hsm
                .gate(inputs.state, &roster)?
                .unlock(ceremony, &approvals)?;
            sign_outputs(&policy, &root, signer.as_ref(), &request)?
        }
    };
    crate::fault::point("signed");

    let record = Record {
        format: RECORD_FORMAT.into(),
        sequence: sequence + 1,
        ceremony_id: request.id.clone(),
        kind: request.kind,
        hsm: RecordHsm::of(&request.hsm),
        request_sha256: sha256_hex(&bytes),
        previous_record_sha256: head,
        tool_sha256: inputs.tool_sha256.to_owned(),
        started_at,
        finished_at: rfc3339(SystemTime::now()),
        approved_by: approvals.iter().map(|a| a.member.clone()).collect(),
        request: <base64ct::Base64 as base64ct::Encoding>::encode_string(&bytes),
        approvals: approvals
            .iter()
            .map(|a| RecordApproval {
                member: a.member.clone(),
                signature: a.armored.clone(),
            })
            .collect(),
        outputs,
        keys,
    };
    check_record(&record, &ceremony.record(), &request, &bytes, &folder)?;
    let record_bytes = record.write_atomically(&ceremony.record())?;
    crate::fault::point("recorded");
    let journal = ceremony.path.join(crate::gate::PENDING_PINS_FILE);
    if journal.exists() {
        std::fs::remove_file(&journal).map_err(|source| Error::Io {
            path: journal,
            source,
        })?;
    }
    // The one-time key has done its job; the re-encrypted shares are useless without it.
    let key_file = ceremony.path.join(CEREMONY_KEY_FILE);
    if key_file.exists() {
        std::fs::remove_file(&key_file).map_err(|source| Error::Io {
            path: key_file,
            source,
        })?;
    }
    Ok(Outcome::Executed(record, record_bytes))
}

/// The new roster a roster-change request carries, checked against its digest and the
/// policy.
///
/// # Errors
/// Missing, altered or rule-breaking roster.
pub fn new_roster(request: &Request, policy: &Policy) -> Result<(String, Roster)> {
    let (Some(encoded), Some(digest)) = (
        &request.parameters.new_roster,
        &request.parameters.new_roster_sha256,
    ) else {
        return Err(Error::Request {
            field: "parameters.new_roster".into(),
            reason: "missing".into(),
        });
    };
    let bytes =
        <base64ct::Base64 as base64ct::Encoding>::decode_vec(encoded).map_err(|source| {
            Error::RequestBase64 {
                field: "parameters.new_roster".into(),
                source,
            }
        })?;
    if &sha256_hex(&bytes) != digest {
        return Err(Error::Request {
            field: "parameters.new_roster_sha256".into(),
            reason: "does not match the roster".into(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| Error::Request {
        field: "parameters.new_roster".into(),
        reason: "not UTF-8".into(),
    })?;
    let roster = Roster::parse(
        &text,
        Path::new("new roster (in the request)"),
        &policy.quorum,
    )?;
    roster.check_hsm(&policy.hsm)?;
    Ok((text, roster))
}

/// Approvals of members whose term ended (`reappoint_by` before today) do not count: they
/// are set aside, named on stderr, and the rest must still reach the threshold.
///
/// # Errors
/// [`Error::QuorumNotMet`] when the members in term are too few.
fn in_term(
    roster: &Roster,
    approvals: Vec<Approval>,
    threshold: usize,
    now: SystemTime,
) -> Result<Vec<Approval>> {
    let today = time::OffsetDateTime::from(now).date();
    let (current, lapsed): (Vec<_>, Vec<_>) = approvals.into_iter().partition(|a| {
        roster
            .member(&a.member)
            .is_some_and(|m| m.reappoint_by >= today)
    });
    for approval in &lapsed {
        tracing::warn!(
            member = %approval.member,
            "approval set aside: the member's term ended (reappoint_by is before {today})"
        );
    }
    if current.len() < threshold {
        return Err(Error::QuorumNotMet {
            found: current.len(),
            needed: threshold,
            members: current.iter().map(|a| a.member.clone()).collect(),
        });
    }
    Ok(current)
}

/// A record found on a rerun vouches for itself only through its approvals (until it is in
/// the log): each must verify over the request bytes from the member it names, under the
/// roster the request pins, the threshold must be met, and `approved_by` must be exactly
/// those members. Key events name only the actions execute writes.
fn check_record_approvals(
    inputs: Inputs<'_>,
    request: &Request,
    bytes: &[u8],
    record: &Record,
    record_path: &Path,
) -> Result<()> {
    let mismatch = |reason: String| Error::RecordMismatch {
        path: record_path.to_owned(),
        against: "its approvals",
        reason,
    };
    let roster_bytes = read(inputs.roster)?;
    if sha256_hex(&roster_bytes) != request.roster_sha256 {
        return Err(mismatch(format!(
            "give --roster the roster this request pins (sha256 {}) to check the record's \
             approvals",
            request.roster_sha256
        )));
    }
    let policy = inputs.policy.parse()?;
    let roster = Roster::load(inputs.roster, &policy.quorum)?;
    let given: Vec<_> = record
        .approvals
        .iter()
        .map(|a| {
            (
                std::path::PathBuf::from(format!(
                    "record approval of {}",
                    crate::inert::inert(&a.member)
                )),
                a.signature.clone(),
            )
        })
        .collect();
    let verified = quorum_approvals(&roster, policy.quorum.threshold, bytes, &given)?;
    let members: Vec<&str> = verified.iter().map(|a| a.member.as_str()).collect();
    let named: Vec<&str> = record.approvals.iter().map(|a| a.member.as_str()).collect();
    let approved_by: Vec<&str> = record.approved_by.iter().map(String::as_str).collect();
    if members != named || members != approved_by {
        return Err(mismatch(format!(
            "approved_by and the approvals name [{}] and [{}], the signatures verify as [{}]",
            crate::inert::inert(&approved_by.join(", ")),
            crate::inert::inert(&named.join(", ")),
            members.join(", ")
        )));
    }
    if let Some(key) = record.keys.iter().find(|k| {
        !matches!(
            k.action.as_str(),
            "created" | "used" | "revoked" | "pin-changed" | "shared" | "quorum-set"
        )
    }) {
        return Err(mismatch(format!(
            "key event action `{}` is not one execute writes",
            crate::inert::inert(&key.action)
        )));
    }
    Ok(())
}

/// The request executes only from its own folder, a direct child of the state directory
/// (no symlinks on the way): a copy of the folder elsewhere would escape the record chain
/// and the lock.
fn check_in_state(state: &State, ceremony: &CeremonyDir) -> Result<()> {
    let outside = || Error::RequestOutsideState {
        request: ceremony.request(),
        state: state.dir().to_owned(),
    };
    let is_plain = |path: &Path, dir: bool| {
        path.symlink_metadata()
            .is_ok_and(|m| if dir { m.is_dir() } else { m.is_file() })
    };
    if !is_plain(&ceremony.path, true) || !is_plain(&ceremony.request(), false) {
        return Err(outside());
    }
    let folder = std::fs::canonicalize(&ceremony.path).map_err(|_| outside())?;
    let state_dir = std::fs::canonicalize(state.dir()).map_err(|_| outside())?;
    if folder.parent() != Some(state_dir.as_path()) {
        return Err(outside());
    }
    Ok(())
}

/// The folder is named `NNN-<kind>` after the request's kind: its name becomes the record's
/// name in the log, so it is never free text.
fn check_folder_name(folder: &str, request: &Request, request_path: &Path) -> Result<()> {
    let named = folder.split_once('-').is_some_and(|(number, kind)| {
        !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
            && kind == request.kind.name()
    });
    if named {
        return Ok(());
    }
    Err(Error::RequestRule {
        path: request_path.to_owned(),
        field: "folder".into(),
        rule: "folder-name",
        reason: format!(
            "a {} request lives in a folder named NNN-{}, not `{}`",
            request.kind,
            request.kind,
            crate::inert::inert(folder)
        ),
    })
}

fn check_pinned_files(inputs: Inputs<'_>, request: &Request) -> Result<Policy> {
    for (path, bytes, pinned, what) in [
        (
            inputs.policy.name,
            inputs.policy.bytes.to_vec(),
            &request.policy_sha256,
            "policy",
        ),
        (
            inputs.roster,
            read(inputs.roster)?,
            &request.roster_sha256,
            "roster",
        ),
    ] {
        let found = sha256_hex(&bytes);
        if &found != pinned {
            return Err(Error::PinnedFileChanged {
                what,
                path: path.to_owned(),
                pinned: pinned.clone(),
                found,
            });
        }
    }
    inputs.policy.parse()
}

fn no_root() -> Error {
    Error::Request {
        field: "kind".into(),
        reason: "there is no root yet: run root-init first".into(),
    }
}

/// The request runs on the HSM its pinned policy names (`hsm-policy`), and that is the
/// backend this run drives (`hsm-backend`).
fn check_hsm(
    request: &Request,
    policy: &Policy,
    driven: HsmBackend,
    request_path: &Path,
) -> Result<()> {
    let broken = |rule: &'static str, reason: String| Error::RequestRule {
        path: request_path.to_owned(),
        field: "hsm".into(),
        rule,
        reason,
    };
    if !request.hsm.matches(&policy.hsm) {
        return Err(broken(
            "hsm-policy",
            format!(
                "the request names {}, its pinned policy {} says {}",
                request.hsm.describe(),
                policy.path.display(),
                crate::request::RequestHsm::of(&policy.hsm).describe()
            ),
        ));
    }
    if request.hsm.backend != driven {
        return Err(broken(
            "hsm-backend",
            format!(
                "prepared for {}, this run drives {driven} (--hsm): a request executes only on \
                 the backend its policy pins",
                request.hsm.describe()
            ),
        ));
    }
    Ok(())
}

/// root-rotate: a new key next to the old one, the new root, cross-certificates both ways.
fn root_rotate(
    inputs: Inputs<'_>,
    ceremony: &CeremonyDir,
    policy: &Policy,
    old_root: Option<&Certificate>,
    request: &Request,
    approvals: &[Approval],
    roster: &Roster,
) -> Result<(Vec<RecordOutput>, Vec<KeyEvent>)> {
    let old_root = old_root.ok_or_else(no_root)?;
    let label = request
        .parameters
        .key_label
        .as_deref()
        .ok_or_else(|| Error::Request {
            field: "parameters.key_label".into(),
            reason: "missing".into(),
        })?;
    let (old, new) = inputs
        .hsm
        .gate(inputs.state, roster)?
        .rotate(ceremony, approvals, label)?;
    let new_root = issue_root(policy, new.as_ref(), inputs.now)?;
    let new_root_cert = parse_der_certificate(&new_root.der)?;
    let new_by_old = issue_cross(policy, old_root, old.as_ref(), &new_root_cert, inputs.now)?;
    let old_by_new = issue_cross(policy, &new_root_cert, new.as_ref(), old_root, inputs.now)?;
    let pem_of = |der: &[u8]| pem::encode(pem::label::CERTIFICATE, der);
    let outputs = vec![
        output("root.pem", &pem_of(&new_root.der)?),
        output(CROSS_NEW_BY_OLD, &pem_of(&new_by_old.der)?),
        output(CROSS_OLD_BY_NEW, &pem_of(&old_by_new.der)?),
    ];
    let keys = vec![
        KeyEvent {
            action: "created".into(),
            key: format!("root {label}"),
            spki_sha256: spki_sha256(new.as_ref())?,
        },
        KeyEvent {
            action: "used".into(),
            key: "previous root".into(),
            spki_sha256: spki_sha256(old.as_ref())?,
        },
    ];
    Ok((outputs, keys))
}

/// roster-change: the gate hands the key over to the new roster; the roster is published.
fn roster_change(
    inputs: Inputs<'_>,
    ceremony: &CeremonyDir,
    (policy, roster): (&Policy, &Roster),
    request: &Request,
    approvals: &[Approval],
) -> Result<(Vec<RecordOutput>, Vec<KeyEvent>)> {
    let (text, new_roster) = new_roster(request, policy)?;
    let mut outputs = vec![output("roster.toml", &text)];
    let handover = inputs.hsm.gate(inputs.state, roster)?.change_roster(
        ceremony,
        approvals,
        &new_roster,
        policy.quorum.threshold,
    )?;
    outputs.extend(
        handover
            .manifests
            .iter()
            .map(|(path, text)| output(path, text)),
    );
    Ok((outputs, handover.events))
}

fn parse_der_certificate(der: &[u8]) -> Result<Certificate> {
    use der::Decode;
    Certificate::from_der(der).map_err(|source| Error::RequestDer {
        field: "new root".into(),
        source,
    })
}

fn check_window(request: &Request, now: SystemTime) -> Result<()> {
    let parse = |field: &str, text: &str| {
        rust_pki_ca::policy::parse_rfc3339(text).map_err(|reason| Error::Request {
            field: field.into(),
            reason,
        })
    };
    let (not_before, not_after) = (
        parse("not_before", &request.not_before)?,
        parse("not_after", &request.not_after)?,
    );
    if now < not_before || now > not_after {
        return Err(Error::OutsideWindow {
            now: rfc3339(now),
            not_before: request.not_before.clone(),
            not_after: request.not_after.clone(),
        });
    }
    Ok(())
}

/// The request was never executed and builds on the latest record. Returns the latest
/// record's sequence and digest.
fn check_chain(state: &State, request: &Request) -> Result<(u32, String)> {
    let records = state.records()?;
    if let Some((dir, _, _)) = records
        .iter()
        .find(|(_, record, _)| record.ceremony_id == request.id)
    {
        return Err(Error::Replay {
            id: request.id.clone(),
            record: dir.record(),
        });
    }
    let (sequence, head) = records
        .last()
        .map(|(_, record, bytes)| (record.sequence, sha256_hex(bytes)))
        .unwrap_or((0, String::new()));
    if head != request.previous_record_sha256 {
        return Err(Error::StaleRequest {
            id: request.id.clone(),
        });
    }
    Ok((sequence, head))
}

fn check_example_arcs(policy: &Policy, request: &Request) -> Result<()> {
    if policy.test_policy {
        return Ok(());
    }
    let from_outputs = request
        .outputs
        .iter()
        .filter_map(|o| o.profile.strip_prefix("delegate:"));
    for name in request
        .parameters
        .purpose
        .as_deref()
        .into_iter()
        .chain(from_outputs)
    {
        let purpose = policy.purpose(name)?;
        if rust_pki_ca::oid::is_example_arc(&purpose.eku) {
            return Err(Error::ExampleArcInProduction {
                purpose: name.to_owned(),
                eku: purpose.eku.to_string(),
            });
        }
    }
    if request.outputs.iter().any(|o| o.profile == CLUSTER_PROFILE)
        && let Some(cluster) = &policy.cluster
        && rust_pki_ca::oid::is_example_arc(&cluster.eku)
    {
        return Err(Error::ExampleArcInProduction {
            purpose: "cluster".into(),
            eku: cluster.eku.to_string(),
        });
    }
    Ok(())
}

fn lint_outputs(policy: &Policy, root: Option<&Certificate>, request: &Request) -> Result<()> {
    for output in &request.outputs {
        let tbs = output.tbs_der()?;
        let root = root.ok_or_else(|| Error::Request {
            field: "output".into(),
            reason: "there is no root yet".into(),
        })?;
        match output.output_type {
            OutputType::Certificate => {
                lint_prepared_certificate(
                    policy,
                    root,
                    &cert_kind(policy, &output.profile)?,
                    &tbs,
                )?;
            }
            OutputType::Crl => {
                lint_prepared_crl(policy, root, &tbs)?;
            }
        }
    }
    Ok(())
}

fn cert_kind(policy: &Policy, profile: &str) -> Result<CertKind> {
    if profile == CLUSTER_PROFILE {
        return Ok(cluster_kind(policy)?);
    }
    let purpose = profile
        .strip_prefix("delegate:")
        .ok_or_else(|| Error::Request {
            field: "output.profile".into(),
            reason: format!("`{profile}` is not a certificate profile a ceremony signs"),
        })?;
    Ok(CertKind::Delegate {
        eku: policy.purpose(purpose)?.eku.clone(),
    })
}

fn sign_outputs(
    policy: &Policy,
    root: &Certificate,
    signer: &dyn Signer,
    request: &Request,
) -> Result<(Vec<RecordOutput>, Vec<KeyEvent>)> {
    let mut outputs = Vec::new();
    for planned in &request.outputs {
        let tbs = planned.tbs_der()?;
        let (signed, label) = match planned.output_type {
            OutputType::Certificate => {
                let kind = cert_kind(policy, &planned.profile)?;
                (
                    sign_prepared_certificate(policy, root, signer, &kind, &tbs)?,
                    pem::label::CERTIFICATE,
                )
            }
            OutputType::Crl => (
                sign_prepared_crl(policy, root, signer, &tbs)?,
                pem::label::CRL,
            ),
        };
        outputs.push(output(&planned.path, &pem::encode(label, &signed.der)?));
    }
    let keys = vec![KeyEvent {
        action: "used".into(),
        key: "root".into(),
        spki_sha256: spki_sha256(signer)?,
    }];
    Ok((outputs, keys))
}

/// root-init: the backend creates the root key (its secrets shared to the roster); the
/// root certificate is self-signed with it.
fn root_init(
    hsm: &dyn Hsm,
    now: SystemTime,
    ceremony: &CeremonyDir,
    (policy, roster): (&Policy, &Roster),
    request: &Request,
    approvals: &[Approval],
) -> Result<(Vec<RecordOutput>, Vec<KeyEvent>)> {
    let (_, key_label) = root_init_parameters(request)?;
    let created = hsm.create_root(
        ceremony,
        roster,
        policy.quorum.threshold,
        request,
        approvals,
    )?;
    let root = issue_root(policy, created.signer.as_ref(), now)?;
    let mut outputs = vec![output(
        "root.pem",
        &pem::encode(pem::label::CERTIFICATE, &root.der)?,
    )];
    outputs.extend(
        created
            .manifests
            .iter()
            .map(|(path, text)| output(path, text)),
    );
    let mut keys = vec![KeyEvent {
        action: "created".into(),
        key: format!("root {key_label}"),
        spki_sha256: spki_sha256(created.signer.as_ref())?,
    }];
    keys.extend(created.events);
    Ok((outputs, keys))
}

fn output(path: &str, contents: &str) -> RecordOutput {
    RecordOutput {
        path: path.to_owned(),
        sha256: sha256_hex(contents.as_bytes()),
        contents: contents.to_owned(),
    }
}

fn spki_sha256(signer: &dyn Signer) -> Result<String> {
    let der = der::Encode::to_der(signer.public_key()).map_err(|source| Error::RequestDer {
        field: "public key".into(),
        source,
    })?;
    Ok(sha256_hex(&der))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::bounded::read(path, crate::bounded::MAX_STATE_FILE_BYTES)
}
