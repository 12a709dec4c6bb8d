//! One module per subcommand: clap arguments and a `run` that calls the libraries.

#[cfg(feature = "aws")]
pub mod bastion;
pub mod ca;
pub mod ceremony;
mod common;
pub mod delegate;
pub use common::set_quiet;
pub mod hsm;
pub mod lint;
pub mod log;
pub mod meta;
pub mod sign;
pub mod verify;
