//! rust-pki-ca: the Rust PKI's certificate authority core.
//!
//! Policy and certificate profiles, TBS building, the [`Signer`] seam (PKCS#11 HSM or an
//! in-memory key), lint-before-sign issuance, CSR and CRL handling.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authority;
pub mod crl;
pub mod csr;
mod error;
mod finding;
pub mod hsm;
pub mod issue;
pub mod lint;
pub mod oid;
pub mod output;
pub mod pem;
pub mod pin;
pub mod pkcs11_uri;
pub mod policy;
pub mod profile;
pub mod serial;
pub mod signature;
pub mod signer;

pub use error::{Error, Result};
pub use pin::PinSource;
pub use pkcs11_uri::Pkcs11Uri;
pub use signer::{KeyAlgorithm, Signer};
