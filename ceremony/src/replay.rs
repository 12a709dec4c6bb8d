//! Replaying the ceremony history from genesis, as a monitor of the transparency log does:
//! every record is checked with the rules `ceremony execute` applied before it touched the
//! HSM, against the roster in force when it ran — so anyone holding the genesis roster and
//! the policy can verify that each root operation had its quorum.
//!
//! Roster changes are ceremonies: a `roster-change` record's `roster.toml` output becomes
//! the roster in force for the records after it. Per record, in order:
//!
//! 1. `sequence`: records are numbered 1, 2, 3… with no gap;
//! 2. `previous-record`: `previous_record_sha256` is the SHA-256 of the previous record's
//!    bytes (empty for the first), and the request built on the same record;
//! 3. `request-digest`: the embedded request hashes to `request_sha256` and parses; its id
//!    and kind are the record's, and no id appears twice;
//! 4. `policy-pin`, `roster-pin`: the request pins the policy and the roster in force;
//! 5. `window`: the ceremony started inside the request's execution window;
//! 6. `quorum`: the approvals verify (SSHSIG over the request bytes) for at least the
//!    policy's threshold of distinct members of the roster in force; `approved-by`: the
//!    record's `approved_by` and each approval's `member` are the verified members;
//! 7. `output-digest`: every output's `sha256` is that of its contents;
//! 8. `new-roster` (roster changes): the `roster.toml` output is the roster the request
//!    carried, and it meets the policy.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use base64ct::{Base64, Encoding};
use rust_pki_ca::policy::{Policy, parse_rfc3339};

use crate::{
    execute::new_roster,
    quorum::quorum_approvals,
    record::Record,
    request::{Kind, Request, sha256_hex},
    roster::{MemberId, Roster},
};

/// The output of a roster-change record that installs the new roster.
pub const ROSTER_OUTPUT: &str = "roster.toml";

/// A record that breaks a rule of the replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: rule {rule}: {reason}")]
pub struct ReplayError {
    /// Which record (as the caller named it, e.g. the log entry and file name).
    pub record: String,
    /// The rule broken (see the module documentation).
    pub rule: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// What one record was found to be.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The parsed record.
    pub record: Record,
    /// The members whose approvals verified against the roster in force, in record order.
    pub approved_by: Vec<MemberId>,
    /// SHA-256 (hex) of the roster the record was approved under.
    pub roster_sha256: String,
    /// For a roster change: SHA-256 (hex) of the roster it installed.
    pub installed_roster_sha256: Option<String>,
}

/// The state of a replay: the roster in force and the head of the record chain.
#[derive(Debug)]
pub struct Replay {
    /// The policies requests may pin, by SHA-256 (hex) of their file bytes: the policy
    /// changes over the root's life (e.g. a new [root] section before a root rotation).
    policies: Vec<(String, Policy)>,
    roster: Roster,
    roster_sha256: String,
    head: Option<(u32, String)>,
    ids: HashSet<String>,
}

impl Replay {
    /// Start from genesis: the policies requests may pin (each with its file bytes; the
    /// first is the one in force at genesis) and the roster file in force before the first
    /// ceremony.
    ///
    /// # Errors
    /// No policy, or the genesis roster is not the one the first policy pins
    /// (`quorum.genesis_roster_sha256`) or does not meet its rules (rule `genesis-roster`).
    pub fn new(
        policies: Vec<(Policy, Vec<u8>)>,
        genesis_roster: &[u8],
        roster_path: &Path,
    ) -> Result<Self, ReplayError> {
        let fail = |reason: String| ReplayError {
            record: roster_path.display().to_string(),
            rule: "genesis-roster",
            reason,
        };
        let policies: Vec<(String, Policy)> = policies
            .into_iter()
            .map(|(policy, bytes)| (sha256_hex(&bytes), policy))
            .collect();
        let (_, first) = policies
            .first()
            .ok_or_else(|| fail("no policy given".into()))?;
        // The genesis roster is the one the first policy pins, not whichever file is given.
        let digest = sha256_hex(genesis_roster);
        if digest != first.quorum.genesis_roster_sha256 {
            return Err(fail(format!(
                "SHA-256 {digest}, but the policy pins the genesis roster \
                 (quorum.genesis_roster_sha256) {}",
                first.quorum.genesis_roster_sha256
            )));
        }
        let text = std::str::from_utf8(genesis_roster).map_err(|_| fail("not UTF-8".into()))?;
        let roster =
            Roster::parse(text, roster_path, &first.quorum).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            policies,
            roster,
            roster_sha256: digest,
            head: None,
            ids: HashSet::new(),
        })
    }

    /// The roster in force now.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// SHA-256 (hex) of the roster in force now.
    pub fn roster_sha256(&self) -> &str {
        &self.roster_sha256
    }

    /// Check the next record (its exact bytes); `name` names it in errors. On success the
    /// record becomes the head of the chain, and a roster change installs its roster.
    ///
    /// # Errors
    /// [`ReplayError`] naming `name` and the rule; the replay state is then unchanged.
    pub fn check(&mut self, bytes: &[u8], name: &str) -> Result<Replayed, ReplayError> {
        let fail = |rule: &'static str, reason: String| ReplayError {
            record: name.to_owned(),
            rule,
            reason,
        };
        let record = Record::parse(bytes, Path::new(name))
            .map_err(|e| fail("record-format", e.to_string()))?;

        // 1, 2: the chain.
        let (expected_sequence, head) = match &self.head {
            Some((sequence, digest)) => (sequence.saturating_add(1), digest.clone()),
            None => (1, String::new()),
        };
        if record.sequence != expected_sequence {
            return Err(fail(
                "sequence",
                format!(
                    "sequence {} where {expected_sequence} was expected (a record is missing, \
                     repeated or out of order)",
                    record.sequence
                ),
            ));
        }
        if record.previous_record_sha256 != head {
            return Err(fail(
                "previous-record",
                format!(
                    "previous_record_sha256 is {:?}, the previous record's SHA-256 is {head:?}",
                    record.previous_record_sha256
                ),
            ));
        }

        // 3: the request.
        let request_bytes = Base64::decode_vec(&record.request)
            .map_err(|e| fail("request-digest", format!("request is not base64: {e}")))?;
        let digest = sha256_hex(&request_bytes);
        if digest != record.request_sha256 {
            return Err(fail(
                "request-digest",
                format!(
                    "the embedded request hashes to {digest}, the record says {}",
                    record.request_sha256
                ),
            ));
        }
        let request = Request::parse(&request_bytes, Path::new(&format!("{name} (request)")))
            .map_err(|e| fail("request-digest", e.to_string()))?;
        if request.id != record.ceremony_id || request.kind != record.kind {
            return Err(fail(
                "request-digest",
                format!(
                    "the request is {} {}, the record says {} {}",
                    request.kind, request.id, record.kind, record.ceremony_id
                ),
            ));
        }
        if self.ids.contains(&request.id) {
            return Err(fail(
                "request-digest",
                format!("ceremony {} was executed before", request.id),
            ));
        }
        if request.previous_record_sha256 != head {
            return Err(fail(
                "previous-record",
                format!(
                    "the request built on record {:?}, the previous record is {head:?}",
                    request.previous_record_sha256
                ),
            ));
        }

        // 4: pinned policy and roster.
        let Some((_, policy)) = self
            .policies
            .iter()
            .find(|(digest, _)| *digest == request.policy_sha256)
        else {
            let given: Vec<&str> = self.policies.iter().map(|(d, _)| d.as_str()).collect();
            return Err(fail(
                "policy-pin",
                format!(
                    "the request pins policy {}, the policies given are {}",
                    request.policy_sha256,
                    given.join(", ")
                ),
            ));
        };
        if request.roster_sha256 != self.roster_sha256 {
            return Err(fail(
                "roster-pin",
                format!(
                    "the request pins roster {}, the roster in force is {}",
                    request.roster_sha256, self.roster_sha256
                ),
            ));
        }

        // 5: the window.
        check_window(&record, &request).map_err(|reason| fail("window", reason))?;

        // 6: the quorum, against the roster in force.
        let approvals: Vec<(PathBuf, String)> = record
            .approvals
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    PathBuf::from(format!("{name} approval {} ({})", i + 1, a.member)),
                    a.signature.clone(),
                )
            })
            .collect();
        let verified = quorum_approvals(
            &self.roster,
            policy.quorum.threshold,
            &request_bytes,
            &approvals,
        )
        .map_err(|e| fail("quorum", e.to_string()))?;
        let approved_by: Vec<MemberId> = verified.iter().map(|a| a.member.clone()).collect();
        for (claimed, member) in record.approvals.iter().zip(&approved_by) {
            if &claimed.member != member {
                return Err(fail(
                    "approved-by",
                    format!(
                        "an approval labelled `{}` was signed by `{member}`",
                        claimed.member
                    ),
                ));
            }
        }
        if record.approved_by != approved_by {
            return Err(fail(
                "approved-by",
                format!(
                    "approved_by is [{}], the approvals verify for [{}]",
                    record.approved_by.join(", "),
                    approved_by.join(", ")
                ),
            ));
        }

        // 7: outputs.
        for output in &record.outputs {
            if sha256_hex(output.contents.as_bytes()) != output.sha256 {
                return Err(fail(
                    "output-digest",
                    format!("output {}: sha256 does not match its contents", output.path),
                ));
            }
        }

        // 8: a roster change installs the roster it carried.
        let mut installed = None;
        if record.kind == Kind::RosterChange {
            let (carried, _) =
                new_roster(&request, policy).map_err(|e| fail("new-roster", e.to_string()))?;
            let output = record
                .outputs
                .iter()
                .find(|o| o.path == ROSTER_OUTPUT)
                .ok_or_else(|| fail("new-roster", format!("no `{ROSTER_OUTPUT}` output")))?;
            if output.contents != carried {
                return Err(fail(
                    "new-roster",
                    format!("the `{ROSTER_OUTPUT}` output is not the roster the request carried"),
                ));
            }
            let roster = Roster::parse(
                &output.contents,
                Path::new(&format!("{name} output {ROSTER_OUTPUT}")),
                &policy.quorum,
            )
            .map_err(|e| fail("new-roster", e.to_string()))?;
            installed = Some((roster, sha256_hex(output.contents.as_bytes())));
        }

        // Every check passed: advance.
        let roster_sha256 = self.roster_sha256.clone();
        let installed_roster_sha256 = installed.as_ref().map(|(_, digest)| digest.clone());
        if let Some((roster, digest)) = installed {
            self.roster = roster;
            self.roster_sha256 = digest;
        }
        self.ids.insert(request.id.clone());
        self.head = Some((record.sequence, sha256_hex(bytes)));
        Ok(Replayed {
            record,
            approved_by,
            roster_sha256,
            installed_roster_sha256,
        })
    }
}

fn check_window(record: &Record, request: &Request) -> Result<(), String> {
    let not_before = parse_rfc3339(&request.not_before).map_err(|e| format!("not_before: {e}"))?;
    let not_after = parse_rfc3339(&request.not_after).map_err(|e| format!("not_after: {e}"))?;
    let started = parse_rfc3339(&record.started_at).map_err(|e| format!("started_at: {e}"))?;
    if started < not_before || started > not_after {
        return Err(format!(
            "started at {}, outside the request's window {} to {}",
            record.started_at, request.not_before, request.not_after
        ));
    }
    Ok(())
}
