//! rust-pki-ca: the Rust PKI's certificate authority core.
//!
//! Policy and certificate profiles, TBS building, the [`Signer`] seam (PKCS#11 HSM or an
//! in-memory key), lint-before-sign issuance, CSR and CRL handling.
#![forbid(unsafe_code)]

mod error;
pub mod signer;

pub use error::{Error, Result};
pub use signer::{KeyAlgorithm, Signer};
