//! rust-pki-verify: offline verification of chains to the pinned Rust root.
#![forbid(unsafe_code)]
