//! rust-pki-fs: file-system primitives for every command that changes state.
//!
//! - [`lock`]: one writer at a time for a directory (the ceremony state, the log), held
//!   across every check and write of a command, waited for with a bound.
//! - [`durable`]: every file written is complete or absent after a crash, and outputs are
//!   never overwritten.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod durable;
pub mod lock;

pub use durable::WriteError;
pub use lock::{DEFAULT_LOCK_TIMEOUT, DirLock, LockError};
