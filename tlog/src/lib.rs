//! rust-pki-tlog: the transparency log of the Rust PKI (docs/architecture.md).
//!
//! Two halves. The verifier's (always built, light: `ring`, `base64ct`, `hex`):
//! stapled bundles, log entries, checkpoints, signed notes and cosignatures, RFC 6962
//! inclusion proofs ([`merkle`]). The writer's (feature `writer`, on by default): the
//! on-disk log, verified replicas, the witness and its HTTP protocol, key generation and
//! signing; it stores and proves with `tlog_tiles` and signs notes with `signed_note`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ed25519;
mod error;

pub mod bundle;
pub mod bundle_file;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod merkle;
pub mod note;
pub mod tiles;

#[cfg(feature = "writer")]
mod layout;
#[cfg(feature = "writer")]
pub mod replica;
#[cfg(feature = "writer")]
pub mod witness;
#[cfg(feature = "writer")]
pub mod witness_protocol;
#[cfg(feature = "writer")]
pub mod writer;

pub use error::{Error, Result};

/// SHA-256 of `data`.
pub(crate) fn sha256_of(data: &[u8]) -> [u8; 32] {
    merkle::sha256_parts(&[data])
}
