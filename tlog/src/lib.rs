//! rust-pki-tlog: the transparency log of the Rust PKI (DESIGN §5).
//!
//! RFC 6962 hashing and proofs come from `tlog_tiles`, signed notes from `signed_note`;
//! this crate adds what they lack: C2SP tile paths, entry bundles, tlog-cosignature/v1,
//! and an on-disk writer whose appends are atomic.
#![forbid(unsafe_code)]

mod error;

pub mod bundle;
pub mod bundle_file;
pub mod entry;
pub mod replica;
pub mod tiles;
pub mod writer;

pub mod checkpoint;
pub mod cosignature;
pub mod note;
pub mod witness;
pub mod witness_protocol;

pub use error::{Error, Result};
