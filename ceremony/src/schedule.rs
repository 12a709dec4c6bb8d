//! The ceremony schedule (`rust-pki ceremony due`): which quorum ceremonies the policy
//! makes due, and when, read from the ceremony records — so that ceremonies are
//! scheduled, not discovered.
//!
//! Every entry has a hard **deadline** (a CRL's nextUpdate, a certificate's notAfter, a
//! member's re-appointment date) and a **due** time: the deadline minus the policy's lead
//! time (`[schedule]` in the policy). Something that is missing altogether (no root, no
//! root CRL, no delegate for a purpose) is due at once, with the evaluation time as both
//! due time and deadline.

use std::collections::BTreeMap;

use der::Decode;
use rust_pki_ca::{
    crl::parse_crl,
    pem,
    policy::{Policy, SchedulePolicy},
};
use serde::{Serialize, Serializer};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::well_known::Rfc3339};
use x509_cert::{Certificate, crl::CertificateList};

use crate::{Error, Result, roster::Roster, state::State};

/// Kind of the ceremony that creates the root.
pub const ROOT_INIT: &str = "root-init";
/// Kind of the ceremony that re-signs the root CRL.
pub const ROOT_CRL: &str = "root-crl";
/// Kind of the ceremony that certifies a delegate for a purpose that has none.
pub const DELEGATE_ISSUE: &str = "delegate-issue";
/// Kind of the ceremony that renews a delegate certificate ahead of its expiry.
pub const DELEGATE_RENEW: &str = "delegate-renew";
/// Kind of the ceremony that rotates the root (new root, cross-certificates both ways).
pub const ROOT_ROTATE: &str = "root-rotate";
/// Kind of the ceremony that changes the roster (re-appoints or replaces members).
pub const ROSTER_CHANGE: &str = "roster-change";

/// Output paths in ceremony records.
const ROOT_CERT: &str = "root.pem";
const ROOT_CRL_FILE: &str = "root.crl";

/// One ceremony that policy makes due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The ceremony kind (`root-init`, `root-crl`, `delegate-issue`, `delegate-renew`,
    /// `root-rotate`, `roster-change`).
    pub kind: String,
    /// What it is about: `root`, `root CRL`, `delegate releases`, `member alice`.
    pub subject: String,
    /// When the ceremony should take place: the deadline minus the policy's lead time.
    #[serde(serialize_with = "rfc3339")]
    pub due_at: OffsetDateTime,
    /// The hard limit: the CRL's nextUpdate, the certificate's notAfter, the start (UTC)
    /// of the member's `reappoint_by` date.
    #[serde(serialize_with = "rfc3339")]
    pub deadline: OffsetDateTime,
    /// The evaluation time is past the deadline.
    pub overdue: bool,
    /// Why, for humans: what expires when, and which policy field set the lead time.
    pub reason: String,
}

/// Everything `policy` makes due, as seen from the records in `state` and the members of
/// `roster`, evaluated at `at`; sorted by due time (then deadline, kind and subject).
/// Times are in UTC.
///
/// # Errors
/// The record chain is broken, or a recorded root certificate, root CRL or delegate
/// certificate cannot be parsed (the error names the record and output).
pub fn due(
    policy: &Policy,
    roster: &Roster,
    state: &State,
    at: OffsetDateTime,
) -> Result<Vec<Due>> {
    let at = at.to_offset(UtcOffset::UTC);
    let lead = &policy.schedule;
    let outputs = Outputs::read(state)?;
    let mut due = Vec::new();

    match outputs.certificate(ROOT_CERT)? {
        None => due.push(now(
            ROOT_INIT,
            "root",
            at,
            format!(
                "no root certificate in the ceremony records of {}",
                state.dir().display()
            ),
        )),
        Some(root) => {
            let root_not_after = not_after(&root);
            let crl = outputs.crl(ROOT_CRL_FILE)?;
            due.push(root_crl(&root, crl.as_ref(), lead, at));
            for purpose in policy.purposes.keys() {
                let path = format!("delegates/{purpose}.pem");
                due.push(delegate(
                    purpose,
                    outputs.certificate(&path)?.as_ref(),
                    crl.as_ref(),
                    root_not_after,
                    lead,
                    at,
                ));
            }
            due.push(entry(
                ROOT_ROTATE,
                "root",
                root_not_after,
                lead.root_rotate_before,
                at,
                format!(
                    "the root certificate ({}) expires {}; rotate it (new root, \
                     cross-certificates both ways) {} ahead (schedule.root_rotate_before_days)",
                    root.tbs_certificate().subject(),
                    show(root_not_after),
                    days(lead.root_rotate_before),
                ),
            ));
        }
    }

    for member in roster.members() {
        let deadline = member.reappoint_by.midnight().assume_utc();
        due.push(entry(
            ROSTER_CHANGE,
            &format!("member {}", member.id),
            deadline,
            lead.reappoint_notice,
            at,
            format!(
                "{} ({}) must be re-appointed or replaced by {} (roster {}); notice {} \
                 (schedule.reappoint_notice_days)",
                member.name,
                member.organisation,
                member.reappoint_by,
                roster.path().display(),
                days(lead.reappoint_notice),
            ),
        ));
    }

    due.sort_by(|a, b| {
        (a.due_at, a.deadline, &a.kind, &a.subject)
            .cmp(&(b.due_at, b.deadline, &b.kind, &b.subject))
    });
    Ok(due)
}

/// The root CRL entry: re-sign before nextUpdate, or sign one now.
fn root_crl(
    root: &Certificate,
    crl: Option<&CertificateList>,
    lead: &SchedulePolicy,
    at: OffsetDateTime,
) -> Due {
    let root_subject = root.tbs_certificate().subject();
    let Some(crl) = crl else {
        return now(
            ROOT_CRL,
            "root CRL",
            at,
            "the root has no CRL yet: sign one so relying parties can check revocation".into(),
        );
    };
    let tbs = &crl.tbs_cert_list;
    if &tbs.issuer != root_subject {
        return now(
            ROOT_CRL,
            "root CRL",
            at,
            format!(
                "the latest root CRL was issued by {}, not by the current root {root_subject}",
                tbs.issuer
            ),
        );
    }
    let this_update = OffsetDateTime::from(tbs.this_update.to_system_time());
    let Some(next_update) = &tbs.next_update else {
        return now(
            ROOT_CRL,
            "root CRL",
            at,
            format!(
                "the root CRL of {} has no nextUpdate: re-sign it",
                show(this_update)
            ),
        );
    };
    let next_update = OffsetDateTime::from(next_update.to_system_time());
    entry(
        ROOT_CRL,
        "root CRL",
        next_update,
        lead.root_crl_resign_before,
        at,
        format!(
            "the root CRL of {} has nextUpdate {}; re-sign it {} ahead \
             (schedule.root_crl_resign_before_days)",
            show(this_update),
            show(next_update),
            days(lead.root_crl_resign_before),
        ),
    )
}

/// A purpose's entry: issue a delegate (none yet, or the latest one is revoked), or renew
/// the latest one before its notAfter.
fn delegate(
    purpose: &str,
    cert: Option<&Certificate>,
    root_crl: Option<&CertificateList>,
    root_not_after: OffsetDateTime,
    lead: &SchedulePolicy,
    at: OffsetDateTime,
) -> Due {
    let subject = format!("delegate {purpose}");
    let Some(cert) = cert else {
        return now(
            DELEGATE_ISSUE,
            &subject,
            at,
            format!("no delegate certificate for purpose `{purpose}` yet"),
        );
    };
    let serial = hex::encode(cert.tbs_certificate().serial_number().as_bytes());
    let revoked = root_crl
        .and_then(|crl| crl.tbs_cert_list.revoked_certificates.as_ref())
        .is_some_and(|entries| {
            entries.iter().any(|e| {
                e.serial_number.as_bytes() == cert.tbs_certificate().serial_number().as_bytes()
            })
        });
    if revoked {
        return now(
            DELEGATE_ISSUE,
            &subject,
            at,
            format!(
                "the latest `{purpose}` delegate certificate (serial {serial}) is revoked on \
                 the root CRL; issue a new one"
            ),
        );
    }
    let deadline = not_after(cert);
    let mut reason = format!(
        "the `{purpose}` delegate certificate (serial {serial}) expires {}; renew it {} ahead \
         so old and new overlap (schedule.delegate_renew_before_days)",
        show(deadline),
        days(lead.delegate_renew_before),
    );
    if deadline >= root_not_after {
        reason.push_str("; it ends with the root, so the root must be rotated first");
    }
    entry(
        DELEGATE_RENEW,
        &subject,
        deadline,
        lead.delegate_renew_before,
        at,
        reason,
    )
}

/// An entry due `lead` before `deadline`.
fn entry(
    kind: &str,
    subject: &str,
    deadline: OffsetDateTime,
    lead: std::time::Duration,
    at: OffsetDateTime,
    reason: String,
) -> Due {
    let due_at = time::Duration::try_from(lead)
        .ok()
        .and_then(|lead| deadline.checked_sub(lead))
        .unwrap_or(PrimitiveDateTime::MIN.assume_utc());
    Due {
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        due_at,
        deadline,
        overdue: at > deadline,
        reason,
    }
}

/// An entry due at once: something that should exist does not.
fn now(kind: &str, subject: &str, at: OffsetDateTime, reason: String) -> Due {
    Due {
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        due_at: at,
        deadline: at,
        overdue: false,
        reason,
    }
}

fn not_after(cert: &Certificate) -> OffsetDateTime {
    OffsetDateTime::from(cert.tbs_certificate().validity().not_after.to_system_time())
}

/// RFC 3339, or the debug form if the time cannot be formatted (years beyond 9999).
fn show(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

fn days(lead: std::time::Duration) -> String {
    match lead.as_secs() / 86_400 {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

fn rfc3339<S: Serializer>(time: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// The latest contents of each output path across the record chain, with the record
/// that produced it.
struct Outputs {
    latest: BTreeMap<String, (std::path::PathBuf, String)>,
}

impl Outputs {
    fn read(state: &State) -> Result<Self> {
        let mut latest = BTreeMap::new();
        for (ceremony, record, _) in state.records()? {
            for output in record.outputs {
                latest.insert(output.path, (ceremony.record(), output.contents));
            }
        }
        Ok(Self { latest })
    }

    fn der(&self, path: &str, label: &str) -> Result<Option<(std::path::PathBuf, Vec<u8>)>> {
        let Some((record, contents)) = self.latest.get(path) else {
            return Ok(None);
        };
        let der = pem::decode_der(contents.as_bytes(), label)
            .map_err(|reason| malformed(record, path, &reason))?;
        Ok(Some((record.clone(), der)))
    }

    fn certificate(&self, path: &str) -> Result<Option<Certificate>> {
        self.der(path, pem::label::CERTIFICATE)?
            .map(|(record, der)| {
                Certificate::from_der(&der).map_err(|e| undecodable(&record, path, e))
            })
            .transpose()
    }

    fn crl(&self, path: &str) -> Result<Option<CertificateList>> {
        self.der(path, pem::label::CRL)?
            .map(|(record, der)| parse_crl(&der).map_err(|e| undecodable(&record, path, e)))
            .transpose()
    }
}

fn undecodable(
    record: &std::path::Path,
    output: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::RecordOutput {
        path: record.to_owned(),
        output: output.to_owned(),
        source: Box::new(source),
    }
}

fn malformed(record: &std::path::Path, output: &str, reason: &str) -> Error {
    Error::RecordFile {
        path: record.to_owned(),
        reason: format!("output `{output}`: {reason}"),
    }
}
