//! Signatures on what people download: a detached CMS `SignedData` (RFC 5652) over a file,
//! made by a leaf key in a PKCS#11 token (any [`rust_pki_ca::Signer`]), checked against the
//! leaf certificate before it is written. The format is specified in `docs/signatures.md`.
//!
//! The flow of `rust-pki sign`, one module per step:
//! 1. [`batch::check_files`] (regular files whose names a log entry holds),
//!    [`sigfile::refuse_existing`] (no `FILE.sig` yet) and [`leaf::SigningLeaf::check`]
//!    (the leaf fits the key, the purpose, its delegate and the current time), before the
//!    token signs anything;
//! 2. [`batch::sign_files`]: each file hashed in one streaming pass ([`digest`]), its
//!    signed attributes built ([`cms`]), signed by the token and checked ([`check`]), the
//!    hashing and checking overlapping the token's next signature;
//! 3. the caller logs the [`batch::SignedFile::log_entry`]s in one append and staples the
//!    bundles;
//! 4. [`sigfile`] writes each `FILE.sig` (never overwriting one).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod check;
pub mod cms;
pub mod digest;
mod error;
pub mod leaf;
pub mod sigfile;

pub use batch::{SignedFile, check_files, sign_files, sign_payload};
pub use error::{Error, Result};
pub use leaf::SigningLeaf;
