//! rust-pki-fs: file-system primitives for every command that changes state.
//!
//! - [`lock`]: one writer at a time for a directory (the ceremony state, the log), held
//!   across every check and write of a command, waited for with a bound.
#![forbid(unsafe_code)]

pub mod lock;

pub use lock::{DEFAULT_LOCK_TIMEOUT, DirLock, LockError};
