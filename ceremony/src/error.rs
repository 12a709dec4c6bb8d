//! The one error type of rust-pki-ceremony.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a ceremony. Variants name the file, member, share or
/// rule involved; none ever carries a PIN or a share.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CA core refused something.
    #[error(transparent)]
    Ca(#[from] rust_pki_ca::Error),

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    // ---- roster ----

    // ---- approvals ----

    // ---- shares ----

    // ---- requests and execution ----
}
