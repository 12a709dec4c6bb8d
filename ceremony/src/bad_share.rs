//! Why a share was set aside when combining ([`BadShare`]), apart from the share code so
//! that the error type can name bad shares without depending on it. Re-exported by
//! [`crate::shares`].

use std::fmt;

/// Why [`combine`](crate::shares::combine) set a share aside. One approver's bad share never blocks the others:
/// it is named with its reason, and only too few good shares fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadShareReason {
    /// The share could not be read or decrypted (`reason` names the file; never the
    /// share). Set by callers that read share files, such as the ceremony gate.
    Unreadable {
        /// What failed.
        reason: String,
    },
    /// The share's name is no member of the share set.
    UnknownMember,
    /// The member's share was given before, under the name `other`.
    Duplicate {
        /// The name the member's share was first given under.
        other: String,
        /// The member both names refer to.
        member: String,
    },
    /// A share of another token, secret or share set (e.g. a set replaced by a roster
    /// change, or another token's).
    Foreign {
        /// `token`, `secret` or `share set`.
        field: &'static str,
        /// This share set's value.
        expected: String,
        /// The share's value.
        found: String,
    },
    /// The share's index is not the one its member holds (another member's share).
    IndexMismatch {
        /// The member the share was given as.
        member: String,
        /// The index that member holds.
        expected: u8,
        /// The share's index.
        found: u8,
    },
    /// The share does not match its member's digest in the manifest (corrupted, altered,
    /// or another member's).
    DigestMismatch,
    /// The share is in no subset that reconstructs the committed secret.
    Inconsistent,
}

/// A share that [`combine`](crate::shares::combine) did not use, named as it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadShare {
    /// The name the share was given under (member id or file name).
    pub share: String,
    /// Why.
    pub reason: BadShareReason,
}

impl fmt::Display for BadShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (", self.share)?;
        match &self.reason {
            BadShareReason::Unreadable { reason } => write!(f, "unreadable: {reason}"),
            BadShareReason::UnknownMember => write!(f, "names no member of this share set"),
            BadShareReason::Duplicate { other, member } => {
                write!(
                    f,
                    "member `{member}`'s share was already given as `{other}`"
                )
            }
            BadShareReason::Foreign {
                field,
                expected,
                found,
            } => write!(
                f,
                "belongs to {field} `{found}`, but this share set is for {field} `{expected}`"
            ),
            BadShareReason::IndexMismatch {
                member,
                expected,
                found,
            } => write!(
                f,
                "has index {found}, but member `{member}` holds share {expected}"
            ),
            BadShareReason::DigestMismatch => {
                write!(f, "does not match its digest in the manifest")
            }
            BadShareReason::Inconsistent => write!(f, "is not consistent with the others"),
        }?;
        write!(f, ")")
    }
}
