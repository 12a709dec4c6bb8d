//! What lapses next (`rust-pki delegate due`): the CRL to re-sign, leaves to replace, the
//! delegate certificate to renew through a ceremony. Each entry has a hard **deadline**
//! (the CRL's nextUpdate, a certificate's notAfter) and a **due** time: the deadline minus
//! the policy's lead time (`[schedule]`). What is missing (no CRL yet) or wrong now (a
//! revocation no CRL lists yet) is due at once.

use std::{collections::BTreeMap, time::SystemTime};

use rust_pki_ca::policy::Policy;
use serde::{Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Result,
    format::{format_time, parse_time},
    state::DelegateState,
};

/// Kind of the CRL re-signing (`rust-pki delegate crl`).
pub const CRL_RESIGN: &str = "crl-resign";
/// Kind of a leaf's replacement (`rust-pki delegate rotate`).
pub const LEAF_ROTATE: &str = "leaf-rotate";
/// Kind of the delegate certificate's renewal (a `delegate-renew` ceremony).
pub const DELEGATE_RENEW: &str = "delegate-renew";

/// One thing that lapses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// `crl-resign`, `leaf-rotate` or `delegate-renew`.
    pub kind: &'static str,
    /// What it is about: `CRL`, `leaf CN=…`, `delegate CN=…`.
    pub subject: String,
    /// When to act: the deadline minus the policy's lead time.
    #[serde(serialize_with = "rfc3339")]
    pub due_at: OffsetDateTime,
    /// The hard limit.
    #[serde(serialize_with = "rfc3339")]
    pub deadline: OffsetDateTime,
    /// The evaluation time is past the deadline.
    pub overdue: bool,
    /// Why, for humans, naming the policy field of the lead time.
    pub reason: String,
}

fn rfc3339<S: Serializer>(time: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

impl DelegateState {
    /// Everything that lapses, evaluated at `at`, sorted by due time (then deadline, kind
    /// and subject). Leaves: the newest registered leaf of each subject that is not
    /// revoked (revoke a retired one, e.g. `cessation-of-operation`, to drop it).
    ///
    /// # Errors
    /// A time in the state that does not parse (validated on open, so not expected).
    pub fn due(&self, policy: &Policy, at: SystemTime) -> Result<Vec<Due>> {
        let lead = &policy.schedule;
        let path = self.state_path();
        let mut due = Vec::new();

        let unlisted: Vec<&str> = self
            .revocations()
            .iter()
            .filter(|r| !self.listed_on_latest_crl(&r.serial))
            .filter(|r| parse_time(&path, "not_after", &r.not_after).is_ok_and(|t| t >= at))
            .map(|r| r.serial.as_str())
            .collect();
        match self.last_crl() {
            None => due.push(item(
                CRL_RESIGN,
                "CRL".into(),
                at,
                at,
                at,
                "no CRL signed yet: sign one (`rust-pki delegate crl`)".into(),
            )),
            Some(last) => {
                let resign = last
                    .next_update
                    .checked_sub(lead.delegate_crl_resign_before)
                    .unwrap_or(last.next_update);
                let (due_at, why) = if unlisted.is_empty() {
                    (
                        resign,
                        format!(
                            "CRL number {} has nextUpdate {}; re-sign it {} ahead \
                             (schedule.delegate_crl_resign_before_days)",
                            last.number,
                            format_time(last.next_update),
                            days(lead.delegate_crl_resign_before)
                        ),
                    )
                } else {
                    (
                        at.min(resign),
                        format!(
                            "revoked but on no CRL yet: {}; CRL number {} has nextUpdate {}",
                            unlisted.join(", "),
                            last.number,
                            format_time(last.next_update)
                        ),
                    )
                };
                due.push(item(
                    CRL_RESIGN,
                    "CRL".into(),
                    due_at,
                    last.next_update,
                    at,
                    why,
                ));
            }
        }

        let mut newest: BTreeMap<&str, &crate::format::LeafRecord> = BTreeMap::new();
        for leaf in self.leaves() {
            if let Some(n) = self.newest_leaf(&leaf.subject) {
                newest.insert(&n.subject, n);
            }
        }
        for leaf in newest.values() {
            if self.revocation(&leaf.serial).is_some() {
                continue;
            }
            let not_after = parse_time(&path, "not_after", &leaf.not_after)?;
            due.push(item(
                LEAF_ROTATE,
                format!("leaf {}", leaf.subject),
                not_after
                    .checked_sub(lead.leaf_rotate_before)
                    .unwrap_or(not_after),
                not_after,
                at,
                format!(
                    "leaf serial {} expires {}; issue its successor (`rust-pki delegate \
                     rotate`) {} ahead (schedule.leaf_rotate_before_days)",
                    leaf.serial,
                    leaf.not_after,
                    days(lead.leaf_rotate_before)
                ),
            ));
        }

        let tbs = self.certificate().tbs_certificate();
        let not_after = tbs.validity().not_after.to_system_time();
        due.push(item(
            DELEGATE_RENEW,
            format!("delegate {}", tbs.subject()),
            not_after
                .checked_sub(lead.delegate_renew_before)
                .unwrap_or(not_after),
            not_after,
            at,
            format!(
                "the delegate certificate expires {}; renew it in a delegate-renew ceremony \
                 {} ahead (schedule.delegate_renew_before_days)",
                format_time(not_after),
                days(lead.delegate_renew_before)
            ),
        ));
        due.sort_by(|a, b| {
            (a.due_at, a.deadline, a.kind, &a.subject)
                .cmp(&(b.due_at, b.deadline, b.kind, &b.subject))
        });
        Ok(due)
    }
}

fn item(
    kind: &'static str,
    subject: String,
    due_at: SystemTime,
    deadline: SystemTime,
    at: SystemTime,
    reason: String,
) -> Due {
    Due {
        kind,
        subject,
        due_at: OffsetDateTime::from(due_at),
        deadline: OffsetDateTime::from(deadline),
        overdue: at > deadline,
        reason,
    }
}

fn days(duration: std::time::Duration) -> String {
    format!("{} days", duration.as_secs() / 86_400)
}
