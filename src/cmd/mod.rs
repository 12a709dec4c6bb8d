//! One module per subcommand: clap arguments and a `run` that calls the libraries.

#[cfg(feature = "aws")]
pub mod bastion;
pub mod ca;
pub mod ceremony;
mod common;
pub mod hsm;
pub mod lint;
pub mod log;
pub mod verify;
