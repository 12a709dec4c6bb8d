//! One module per subcommand: clap arguments and a `run` that calls the libraries.

pub mod hsm;
pub mod verify;
