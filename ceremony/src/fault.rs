//! Fault points for the crash tests. Only with the `fault-injection` feature does
//! `FAULT_ENV` exist and `point` read it; a default (release) build has no abort
//! switch: `point` is empty and the variable's name is not in the binary.

/// Environment variable naming a step at which `execute` aborts the process (as
/// `kill -9` would), for the crash tests: `checked`, `shared`, `token-initialised`,
/// `signed`, `recorded`, and for roster changes `reshared`, `user-pin-changed`. On
/// CloudHSM (`gate::cloudhsm_backend`) also `activated`, `user-created`, `registered`,
/// `quorum-set`, `key-generated`, `user-deleted`, `key-shared`, `password-changed`.
#[cfg(feature = "fault-injection")]
pub const FAULT_ENV: &str = "RUST_PKI_CEREMONY_FAULT";

/// Abort here if the crash tests asked for it (see [`FAULT_ENV`]).
#[cfg(feature = "fault-injection")]
pub(crate) fn point(step: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|wanted| wanted == step) {
        std::process::abort();
    }
}

/// Without `fault-injection`: nothing to abort on.
#[cfg(not(feature = "fault-injection"))]
pub(crate) fn point(_step: &str) {}
