//! The one error type of rust-pki-ca.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the CA core. Variants carry the file, field or
/// PKCS#11 function involved so that a message is actionable on its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- PKCS#11 / HSM ----
    /// A PKCS#11 call failed; `function` names the C_* function.
    #[error("PKCS#11 {function} failed: {source}")]
    Pkcs11 {
        function: &'static str,
        #[source]
        source: cryptoki::error::Error,
    },

    // ---- signing ----
    /// A signer produced or was given something unusable.
    #[error("signing with {key} failed: {reason}")]
    Signing { key: String, reason: String },

    // ---- files ----
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
