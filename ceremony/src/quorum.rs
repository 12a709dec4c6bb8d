//! The quorum rule: at least `threshold` valid approvals, over these exact bytes, from
//! distinct current roster members. Pure: no I/O beyond the approvals it is given.

use std::{collections::HashMap, path::PathBuf};

use crate::{
    Error, Result,
    approval::{Approval, verify_approvals},
    roster::{MemberId, Roster},
};

/// Check that `approvals` (file name, armored SSHSIG) make a quorum for `message`, and
/// return the approving members in the order given.
///
/// Every approval must verify — an invalid one is an error naming its file, never skipped
/// — and each member may approve once (the same member twice, with the same signature or
/// another one, is an error naming the member).
///
/// # Errors
/// [`Error::QuorumThresholdZero`]; [`Error::ApprovalFile`] for an approval that does not
/// verify; [`Error::DuplicateApproval`]; [`Error::QuorumNotMet`] with the number of valid
/// distinct approvals found and the number needed.
pub fn check_quorum(
    roster: &Roster,
    threshold: usize,
    message: &[u8],
    approvals: &[(PathBuf, String)],
) -> Result<Vec<MemberId>> {
    Ok(quorum_approvals(roster, threshold, message, approvals)?
        .into_iter()
        .map(|a| a.member)
        .collect())
}

/// As [`check_quorum`], returning the verified approvals themselves (for the ceremony
/// record).
///
/// # Errors
/// As [`check_quorum`].
pub fn quorum_approvals(
    roster: &Roster,
    threshold: usize,
    message: &[u8],
    approvals: &[(PathBuf, String)],
) -> Result<Vec<Approval>> {
    if threshold == 0 {
        return Err(Error::QuorumThresholdZero);
    }
    let verified = verify_approvals(roster, message, approvals)?;
    let mut seen: HashMap<&str, &PathBuf> = HashMap::new();
    for approval in &verified {
        if let Some(first) = seen.insert(&approval.member, &approval.path) {
            return Err(Error::DuplicateApproval {
                member: approval.member.clone(),
                first: first.clone(),
                second: approval.path.clone(),
            });
        }
    }
    if verified.len() < threshold {
        return Err(Error::QuorumNotMet {
            found: verified.len(),
            needed: threshold,
            members: verified.iter().map(|a| a.member.clone()).collect(),
        });
    }
    Ok(verified)
}
