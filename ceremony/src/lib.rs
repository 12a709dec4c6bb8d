//! rust-pki-ceremony: nothing uses the root key except through a ceremony that a quorum
//! of distinct roster members approved (docs/threat-model.md).
//!
//! - [`roster`]: the members, checked against the policy's quorum rules.
//! - [`approval`]: SSHSIG approvals over the exact request bytes.
//! - [`shares`]: the token PINs, which exist only as Shamir shares encrypted to members.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod approval;
mod bad_share;
pub mod bounded;
pub mod contribute;
mod error;
pub mod execute;
pub mod fault;
pub mod gate;
pub mod history;
pub mod in_force;
pub mod inert;
pub mod policy_source;
pub mod prepare;
pub mod publish;
pub mod quorum;
pub mod record;
pub mod replay;
pub mod request;
pub mod roster;
pub mod schedule;
pub mod shares;
pub mod show;
pub mod state;
pub mod template;
pub mod validate;

pub use approval::{Approval, NAMESPACE, sign_with_ssh_keygen, verify_approval};
pub use error::{Error, Result};
pub use quorum::check_quorum;
pub use roster::{Member, MemberId, Roster};
