//! rust-pki-bastion: the ephemeral ceremony bastion and the CloudHSM cluster that holds
//! the root key (docs/ceremony-runbook.md).
//!
//! Every command is "plan, then act" (as tough's editor/signer split): read-only
//! `Describe*` calls observe the account ([`state`]), a pure planner turns what was seen
//! into a [`plan::Plan`] of the API calls that change something — or refuses — and only
//! then does the executor (module `aws`, feature `aws`) make those calls. `--dry-run` prints
//! the plan and stops.
//!
//! Without the `aws` feature this crate is the names shared with terraform ([`names`]), the
//! settings of `policy/aws.toml` ([`settings`]), the planners and the init-cluster
//! certificate checks ([`cert`]): no AWS SDK.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod anchor;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cert;
mod error;
pub mod names;
pub mod plan;
pub mod settings;
pub mod state;

pub use error::{Error, Result};
