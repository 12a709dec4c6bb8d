//! Fault points for the crash tests. Only with the `fault-injection` feature does
//! `FAULT_ENV` exist and `point` read it; a default (release) build has no abort switch.

/// Environment variable naming a step at which `delegate crl` aborts the process (as
/// `kill -9` would): `crl-reserved` (number reserved, nothing signed), `crl-signed` (the
/// CRL signed, nothing written), `crl-saved` (its copy in the state, the state not yet
/// updated).
#[cfg(feature = "fault-injection")]
pub const FAULT_ENV: &str = "RUST_PKI_DELEGATE_FAULT";

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
