//! rust-pki-ceremony: nothing uses the root key except through a ceremony that a quorum
//! of distinct roster members approved (DESIGN §4).
//!
//! - [`roster`]: the members, checked against the policy's quorum rules.
//! - [`approval`]: SSHSIG approvals over the exact request bytes.
//! - [`shares`]: the token PINs, which exist only as Shamir shares encrypted to members.
#![forbid(unsafe_code)]

mod error;

pub use error::{Error, Result};
