//! The ceremony schedule (`ceremony due`) over state directories built by hand: record
//! files chained by digest whose outputs are real certificates and CRLs made with
//! in-memory keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use der::Decode;
use rust_pki_ca::{
    KeyAlgorithm, Signer,
    authority::{issue_crl_for, issue_delegate, issue_root},
    crl::Revocation,
    pem,
    policy::Policy,
    signer::MemorySigner,
};
use rust_pki_ceremony::{
    Error, Roster,
    record::{RECORD_FORMAT, Record, RecordOutput},
    request::Kind,
    schedule::{Due, due},
    state::State,
};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339, macros::datetime};
use x509_cert::Certificate;

/// When the test PKI's ceremonies take place.
const BASE: OffsetDateTime = datetime!(2027-01-01 00:00:00 UTC);
/// The repository policy's root notAfter.
const ROOT_NOT_AFTER: OffsetDateTime = datetime!(2031-12-31 23:59:59 UTC);

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../policy")
            .join(name),
    )
    .unwrap()
}

/// The repository policy: leads of 30 (root CRL), 90 (delegate), 365 (root), 60 (member) days.
fn policy() -> Policy {
    Policy::parse(&repo_file("rust-root.toml"), Path::new("rust-root.toml")).unwrap()
}

/// The repository roster (placeholder members, re-appointed 2028-12-01 or later).
fn roster(policy: &Policy) -> Roster {
    Roster::parse(
        &repo_file("roster.toml"),
        Path::new("roster.toml"),
        &policy.quorum,
    )
    .unwrap()
}

/// The repository roster with placeholder-1 due for re-appointment on `date`.
fn roster_reappointing_first_member(policy: &Policy, date: &str) -> Roster {
    let from = "reappoint_by = \"2028-12-01\"";
    let text = repo_file("roster.toml").replacen(from, &format!("reappoint_by = \"{date}\""), 1);
    Roster::parse(&text, Path::new("roster.toml"), &policy.quorum).unwrap()
}

fn system(time: OffsetDateTime) -> SystemTime {
    SystemTime::from(time)
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// A state directory with records appended by hand, and the keys behind them.
struct Pki {
    _dir: TempDir,
    path: PathBuf,
    policy: Policy,
    root_key: MemorySigner,
    root: Option<Certificate>,
}

impl Pki {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("ceremonies");
        std::fs::create_dir(&path).unwrap();
        Self {
            _dir: dir,
            path,
            policy: policy(),
            root_key: MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap(),
            root: None,
        }
    }

    fn state(&self) -> State {
        State::open(&self.path).unwrap()
    }

    /// Append a record: sequence after the last, `previous_record_sha256` = SHA-256 of
    /// the last record file's bytes, folder `NNN-<kind>`.
    fn append(&self, kind: Kind, outputs: &[(&str, String)]) -> PathBuf {
        let records = self.state().records().unwrap();
        let (sequence, previous) = records.last().map_or((1, String::new()), |(_, r, bytes)| {
            (r.sequence + 1, hex::encode(Sha256::digest(bytes)))
        });
        let folder = self.path.join(format!("{sequence:03}-{kind}"));
        std::fs::create_dir_all(folder.join("approvals")).unwrap();
        let stamp = BASE.format(&Rfc3339).unwrap();
        let record = Record {
            format: RECORD_FORMAT.to_owned(),
            sequence,
            ceremony_id: format!("{sequence:032x}"),
            kind,
            hsm: rust_pki_ceremony::record::RecordHsm::of(
                &rust_pki_ceremony::request::RequestHsm {
                    backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
                    cluster_id: None,
                },
            ),
            request_sha256: hex::encode(Sha256::digest(b"request")),
            previous_record_sha256: previous,
            tool_sha256: hex::encode(Sha256::digest(b"rust-pki")),
            started_at: stamp.clone(),
            finished_at: stamp,
            approved_by: (1..=5).map(|i| format!("placeholder-{i}")).collect(),
            request: String::new(),
            approvals: Vec::new(),
            outputs: outputs
                .iter()
                .map(|(path, contents)| RecordOutput {
                    path: (*path).to_owned(),
                    sha256: hex::encode(Sha256::digest(contents.as_bytes())),
                    contents: contents.clone(),
                })
                .collect(),
            keys: Vec::new(),
        };
        let path = folder.join("record.toml");
        record.write_atomically(&path).unwrap();
        path
    }

    /// root-init at BASE: a root valid to the policy's root.not_after.
    fn root_init(&mut self) {
        let signed = issue_root(&self.policy, &self.root_key, system(BASE)).unwrap();
        self.root = Some(Certificate::from_der(&signed.der).unwrap());
        let pem = pem::encode(pem::label::CERTIFICATE, &signed.der).unwrap();
        self.append(Kind::RootInit, &[("root.pem", pem)]);
    }

    fn root(&self) -> &Certificate {
        self.root.as_ref().expect("root_init first")
    }

    /// A root CRL signed at `at` (nextUpdate = at + root.crl_lifetime_days), in a record.
    fn root_crl(&self, at: OffsetDateTime, revoked: Vec<Revocation>) {
        let signed = issue_crl_for(
            &self.policy,
            self.root(),
            &self.root_key,
            revoked,
            system(at),
            None,
        )
        .unwrap();
        let pem = pem::encode(pem::label::CRL, &signed.der).unwrap();
        self.append(Kind::RootCrl, &[("root.crl", pem)]);
    }

    /// A delegate for `purpose` issued at BASE, valid until `not_after`, in a record.
    fn delegate(&self, purpose: &str, not_after: OffsetDateTime) -> Certificate {
        let key = MemorySigner::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let purpose = self.policy.purpose(purpose).unwrap().clone();
        let signed = issue_delegate(
            &self.policy,
            self.root(),
            &self.root_key,
            &purpose,
            key.public_key().clone(),
            system(BASE),
            Some(system(not_after)),
        )
        .unwrap();
        let pem = pem::encode(pem::label::CERTIFICATE, &signed.der).unwrap();
        self.append(
            Kind::DelegateIssue,
            &[(&format!("delegates/{}.pem", purpose.name), pem)],
        );
        Certificate::from_der(&signed.der).unwrap()
    }

    fn due(&self, at: OffsetDateTime) -> Vec<Due> {
        due(&self.policy, &roster(&self.policy), &self.state(), at).unwrap()
    }
}

/// The entries of `kind` about `subject`.
fn find<'a>(due: &'a [Due], kind: &str, subject: &str) -> &'a Due {
    let found: Vec<&Due> = due
        .iter()
        .filter(|d| d.kind == kind && d.subject == subject)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} for {subject} in {due:#?}");
    found[0]
}

fn kinds(due: &[Due]) -> Vec<(&str, &str)> {
    due.iter()
        .map(|d| (d.kind.as_str(), d.subject.as_str()))
        .collect()
}

fn assert_sorted(due: &[Due]) {
    assert!(
        due.windows(2).all(|w| w[0].due_at <= w[1].due_at),
        "not sorted by due_at: {due:#?}"
    );
}

// ---------------------------------------------------------------- tests

#[test]
fn empty_state_makes_root_init_due_now() {
    let pki = Pki::new();
    let due = pki.due(BASE);
    let first = &due[0];
    assert_eq!(
        (first.kind.as_str(), first.subject.as_str()),
        ("root-init", "root")
    );
    assert_eq!(first.due_at, BASE);
    assert!(!first.overdue);
    assert!(
        first.reason.contains("no root certificate"),
        "{}",
        first.reason
    );
    // Without a root nothing else about the root or delegates is due; the members still are.
    for d in &due[1..] {
        assert_eq!(d.kind, "roster-change", "{d:#?}");
    }
    assert_eq!(due.len(), 1 + 9);
    assert_sorted(&due);
}

#[test]
fn root_without_crl_makes_root_crl_and_delegates_due_now() {
    let mut pki = Pki::new();
    pki.root_init();
    let at = BASE + days(1);
    let due = pki.due(at);

    let crl = find(&due, "root-crl", "root CRL");
    assert_eq!(crl.due_at, at);
    assert!(!crl.overdue);
    assert!(crl.reason.contains("no CRL yet"), "{}", crl.reason);
    for purpose in ["releases", "crates-io", "bors"] {
        let issue = find(&due, "delegate-issue", &format!("delegate {purpose}"));
        assert_eq!(issue.due_at, at);
    }
    assert!(due.iter().all(|d| d.kind != "root-init"), "{due:#?}");

    // Root rotation: a year (root_rotate_before_days = 365) before the root's notAfter.
    let rotate = find(&due, "root-rotate", "root");
    assert_eq!(rotate.deadline, ROOT_NOT_AFTER);
    assert_eq!(rotate.due_at, ROOT_NOT_AFTER - days(365));
    assert!(!rotate.overdue);
    assert!(rotate.reason.contains("schedule.root_rotate_before_days"));
    assert_sorted(&due);
}

#[test]
fn root_crl_is_due_its_lead_time_before_next_update() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.root_crl(BASE, Vec::new());
    let due = pki.due(BASE + days(2));
    let crl = find(&due, "root-crl", "root CRL");
    // root.crl_lifetime_days = 365, root_crl_resign_before_days = 30.
    assert_eq!(crl.deadline, BASE + days(365));
    assert_eq!(crl.due_at, BASE + days(365 - 30));
    assert!(!crl.overdue);
    assert!(
        crl.reason.contains("schedule.root_crl_resign_before_days"),
        "{}",
        crl.reason
    );

    // A later CRL replaces the earlier one in the schedule.
    pki.root_crl(BASE + days(100), Vec::new());
    let due = pki.due(BASE + days(101));
    let crl = find(&due, "root-crl", "root CRL");
    assert_eq!(crl.deadline, BASE + days(465));
    assert_eq!(crl.due_at, BASE + days(435));
}

#[test]
fn delegate_renewal_is_due_the_overlap_before_not_after() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.root_crl(BASE, Vec::new());
    let expiry = BASE + days(100);
    pki.delegate("releases", expiry);
    let due = pki.due(BASE);

    let renew = find(&due, "delegate-renew", "delegate releases");
    assert_eq!(renew.deadline, expiry);
    // delegate_renew_before_days = 90
    assert_eq!(renew.due_at, expiry - days(90));
    assert!(!renew.overdue);
    assert!(renew.reason.contains("schedule.delegate_renew_before_days"));
    // The purposes without a delegate still need one.
    assert_eq!(find(&due, "delegate-issue", "delegate bors").due_at, BASE);
    assert_eq!(
        find(&due, "delegate-issue", "delegate crates-io").due_at,
        BASE
    );
    assert!(
        due.iter()
            .all(|d| !(d.kind == "delegate-issue" && d.subject == "delegate releases"))
    );
}

#[test]
fn delegate_ending_with_the_root_says_the_root_must_rotate_first() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.delegate("bors", ROOT_NOT_AFTER);
    let due = pki.due(BASE);
    let renew = find(&due, "delegate-renew", "delegate bors");
    assert_eq!(renew.deadline, ROOT_NOT_AFTER);
    assert!(
        renew.reason.contains("root must be rotated first"),
        "{}",
        renew.reason
    );
}

#[test]
fn revoked_delegate_makes_delegate_issue_due_now() {
    let mut pki = Pki::new();
    pki.root_init();
    let delegate = pki.delegate("crates-io", BASE + days(1000));
    pki.root_crl(
        BASE + days(1),
        vec![Revocation {
            serial: delegate.tbs_certificate().serial_number().clone(),
            date: system(BASE + days(1)),
            reason: None,
        }],
    );
    let at = BASE + days(2);
    let due = pki.due(at);
    let issue = find(&due, "delegate-issue", "delegate crates-io");
    assert_eq!(issue.due_at, at);
    assert!(issue.reason.contains("revoked"), "{}", issue.reason);
    assert!(
        due.iter()
            .all(|d| !(d.kind == "delegate-renew" && d.subject == "delegate crates-io"))
    );
}

#[test]
fn member_reappointment_is_due_the_notice_before_reappoint_by() {
    let pki = Pki::new();
    let roster = roster_reappointing_first_member(&pki.policy, "2027-02-01");
    let at = BASE;
    let due = due(&pki.policy, &roster, &pki.state(), at).unwrap();
    let member = find(&due, "roster-change", "member placeholder-1");
    assert_eq!(member.deadline, datetime!(2027-02-01 00:00:00 UTC));
    // reappoint_notice_days = 60
    assert_eq!(member.due_at, datetime!(2027-02-01 00:00:00 UTC) - days(60));
    assert!(member.due_at < at, "already due");
    assert!(!member.overdue);
    assert!(
        member.reason.contains("Placeholder Member 1"),
        "{}",
        member.reason
    );
    // Due earliest of all: first in the list (root-init is due at `at`, later).
    assert_eq!(kinds(&due)[0], ("roster-change", "member placeholder-1"));
    assert_eq!(kinds(&due)[1], ("root-init", "root"));

    // The others are re-appointed from 2028-12-01 on.
    let other = find(&due, "roster-change", "member placeholder-2");
    assert_eq!(other.deadline, datetime!(2028-12-01 00:00:00 UTC));

    // A day after the date: overdue.
    let late = due_at(&pki, &roster, datetime!(2027-02-02 00:00:00 UTC));
    assert!(find(&late, "roster-change", "member placeholder-1").overdue);
    assert!(!find(&late, "roster-change", "member placeholder-2").overdue);
}

fn due_at(pki: &Pki, roster: &Roster, at: OffsetDateTime) -> Vec<Due> {
    due(&pki.policy, roster, &pki.state(), at).unwrap()
}

#[test]
fn past_the_deadline_is_overdue() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.root_crl(BASE, Vec::new());
    pki.delegate("releases", BASE + days(200));

    // Between due and deadline: due, not overdue.
    let due = pki.due(BASE + days(340));
    let crl = find(&due, "root-crl", "root CRL");
    assert!(crl.due_at < BASE + days(340) && !crl.overdue);

    // Exactly at the deadline: not yet overdue.
    let due = pki.due(BASE + days(365));
    assert!(!find(&due, "root-crl", "root CRL").overdue);

    let due = pki.due(BASE + days(400));
    assert!(find(&due, "root-crl", "root CRL").overdue);
    assert!(find(&due, "delegate-renew", "delegate releases").overdue);
    assert!(!find(&due, "root-rotate", "root").overdue);
    // Things due now are never overdue.
    assert!(!find(&due, "delegate-issue", "delegate bors").overdue);

    let due = pki.due(ROOT_NOT_AFTER + days(1));
    assert!(find(&due, "root-rotate", "root").overdue);
}

#[test]
fn output_is_sorted_by_due_time() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.root_crl(BASE, Vec::new());
    pki.delegate("releases", BASE + days(500));
    pki.delegate("crates-io", BASE + days(200));
    let due = pki.due(BASE);
    assert_sorted(&due);
    let order: Vec<(&str, &str)> = kinds(&due)
        .into_iter()
        .filter(|(kind, _)| *kind != "roster-change")
        .collect();
    assert_eq!(
        order,
        [
            ("delegate-issue", "delegate bors"),      // now
            ("delegate-renew", "delegate crates-io"), // +110 days
            ("root-crl", "root CRL"),                 // +335 days
            ("delegate-renew", "delegate releases"),  // +410 days
            ("root-rotate", "root"),                  // 2030-12-31
        ]
    );
    assert_eq!(due.len(), 5 + 9);
}

#[test]
fn json_shape() {
    let mut pki = Pki::new();
    pki.root_init();
    pki.root_crl(BASE, Vec::new());
    let due = pki.due(BASE + days(400));
    let json = serde_json::to_value(&due).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), due.len());
    let crl = entries
        .iter()
        .find(|e| e["kind"] == "root-crl")
        .unwrap()
        .as_object()
        .unwrap();
    let mut keys: Vec<&str> = crl.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["deadline", "due_at", "kind", "overdue", "reason", "subject"]
    );
    assert_eq!(crl["subject"], "root CRL");
    assert_eq!(crl["due_at"], "2027-12-02T00:00:00Z");
    assert_eq!(crl["deadline"], "2028-01-01T00:00:00Z");
    assert_eq!(crl["overdue"], true);
    assert!(crl["reason"].as_str().unwrap().contains("nextUpdate"));
}

#[test]
fn broken_record_chain_is_an_error() {
    let mut pki = Pki::new();
    pki.root_init();
    // A second record that does not name the first one's digest.
    let folder = pki.path.join("002-root-crl");
    std::fs::create_dir(&folder).unwrap();
    let first = std::fs::read(pki.path.join("001-root-init/record.toml")).unwrap();
    let mut record = Record::parse(&first, Path::new("record.toml")).unwrap();
    record.sequence = 2;
    record.previous_record_sha256 = hex::encode([0u8; 32]);
    record
        .write_atomically(&folder.join("record.toml"))
        .unwrap();
    let err = due(&pki.policy, &roster(&pki.policy), &pki.state(), BASE).unwrap_err();
    assert!(matches!(err, Error::RecordChain { .. }), "{err}");
}

#[test]
fn malformed_output_names_the_record_and_output() {
    let pki = Pki::new();
    let record = pki.append(Kind::RootInit, &[("root.pem", "not a certificate".into())]);
    let err = due(&pki.policy, &roster(&pki.policy), &pki.state(), BASE)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&record.display().to_string()), "{err}");
    assert!(err.contains("root.pem"), "{err}");
}

/// A root-crl request for `crl` (a prepared TBS), stating its serials as prepare does.
fn root_crl_request(tbs: &[u8], serials: Vec<String>) -> rust_pki_ceremony::request::Request {
    use rust_pki_ceremony::request::{OutputType, Parameters, PlannedOutput, Request};
    Request {
        format: rust_pki_ceremony::request::REQUEST_FORMAT.to_owned(),
        id: "0".repeat(32),
        kind: Kind::RootCrl,
        hsm: rust_pki_ceremony::request::RequestHsm {
            backend: rust_pki_ca::policy::HsmBackend::SoftHsm2,
            cluster_id: None,
        },
        summary: "re-sign".into(),
        prepared_at: String::new(),
        not_before: String::new(),
        not_after: String::new(),
        policy_sha256: String::new(),
        roster_sha256: String::new(),
        previous_record_sha256: String::new(),
        tool_sha256: String::new(),
        ceremony_recipient: String::new(),
        parameters: Parameters {
            revoked_serials: serials,
            ..Parameters::default()
        },
        outputs: vec![PlannedOutput::new(
            "root.crl",
            OutputType::Crl,
            "root-crl",
            tbs,
        )],
    }
}

/// The root's CRLs carry revocations forward with their own date and reason, and their
/// number only grows, even with the clock set back: `revocation-kept` and `crl-number`.
#[test]
fn root_crls_keep_revocation_dates_and_reasons_and_numbers_only_grow() {
    use rust_pki_ca::authority::prepare_crl;
    use rust_pki_ceremony::history::{check_history, next_root_crl_number};
    use x509_cert::ext::pkix::CrlReason;

    let mut pki = Pki::new();
    pki.root_init();
    let delegate = pki.delegate("releases", BASE + days(400));
    let revoked_at = BASE + days(3);
    let revocation = Revocation::of(
        &delegate,
        pki.root(),
        system(revoked_at),
        Some(CrlReason::KeyCompromise),
    )
    .unwrap();
    pki.root_crl(BASE + days(10), vec![revocation.clone()]);
    let state = pki.state();
    let latest = (BASE + days(10)).unix_timestamp() as u64;
    let serial = hex::encode(revocation.serial.as_bytes());

    // A clock set back: the number is still one more than the latest.
    assert_eq!(
        next_root_crl_number(&state, latest - 100).unwrap(),
        latest + 1
    );
    let later = (BASE + days(20)).unix_timestamp() as u64;
    assert_eq!(next_root_crl_number(&state, later).unwrap(), later);

    let request = |revoked: Vec<Revocation>, number: u64| {
        let prepared = prepare_crl(
            &pki.policy,
            pki.root(),
            revoked,
            system(BASE + days(20)),
            Some(number),
        )
        .unwrap();
        root_crl_request(&prepared.tbs, vec![serial.clone()])
    };
    // The re-signed CRL as prepare builds it passes.
    check_history(&state, &request(vec![revocation.clone()], later)).unwrap();

    let rule_of = |result: Result<(), Error>| match result {
        Err(Error::History { rule, reason }) => (rule, reason),
        other => panic!("{other:?}"),
    };
    // The same serial with a later date, or another reason, is refused.
    let moved = Revocation {
        date: system(BASE + days(15)),
        ..revocation.clone()
    };
    let (rule, reason) = rule_of(check_history(&state, &request(vec![moved], later)));
    assert_eq!(rule, "revocation-kept");
    assert!(
        reason.contains(&format!(
            "serial {serial} was revoked on 2027-01-04T00:00:00Z"
        )),
        "{reason}"
    );
    let softened = Revocation {
        reason: Some(CrlReason::Superseded),
        ..revocation.clone()
    };
    assert_eq!(
        rule_of(check_history(&state, &request(vec![softened], later))).0,
        "revocation-kept"
    );
    // A number that does not exceed the latest is refused, equal or lower.
    for number in [latest, latest - 1] {
        let (rule, reason) = rule_of(check_history(
            &state,
            &request(vec![revocation.clone()], number),
        ));
        assert_eq!(rule, "crl-number");
        assert!(
            reason.contains(&format!("CRL number {number} is not higher than {latest}")),
            "{reason}"
        );
    }
}
