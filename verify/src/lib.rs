//! rust-pki-verify: offline verification of chains to the pinned Rust root.
//!
//! ```no_run
//! # use std::path::Path;
//! use rust_pki_verify::{Chain, Crl, Oid, Purpose, Root, verify};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = Root::from_file(Path::new("rust-root.pem"))?;
//! let chain = Chain::from_file(Path::new("chain.pem"))?;
//! let crls = [Crl::from_file(Path::new("releases.crl"))?];
//! // The OID comes from policy (policy/rust-root.toml [purposes]).
//! let purpose = Purpose::new("releases", "2.999.1.1".parse::<Oid>()?);
//! let verified = verify(&root, &chain, &crls, &purpose, time::OffsetDateTime::now_utc())?;
//! # let _ = verified;
//! # Ok(())
//! # }
//! ```
//!
//! Path validation is rustls-webpki's (ring; ECDSA P-384/SHA-384, Ed25519). On top of it: a
//! strict RFC 5280 certificate profile on every certificate of the path, the pinned root
//! included (version, serial, basicConstraints, keyUsage, SKI/AKI, EKU, critical
//! extensions, nested validity, the policy's algorithms), the purpose EKU in every
//! certificate below the root, the root's own validity, strict checks of every supplied CRL,
//! and errors that name the certificate (or file) and the rule ([`Error`]).
//!
//! There are no implicit modes: [`verify`] checks a leaf and refuses a CA certificate in its
//! place; a delegate CA certificate itself is checked only when asked for, with [`verify_ca`]
//! (rustls-webpki refuses a CA as the end entity, so that is a direct, rule-by-rule check of a
//! short ordered CA path).
//!
//! Signed files (docs/signatures.md): [`artifact::ArtifactVerifier`] checks a file against its
//! `FILE.sig` ([`sig_file::SigFile`]: the CMS of [`cms`] and the stapled log bundle), the chain
//! at the time the log's witnesses prove, with the same rules as [`verify()`]. What a
//! rustup-like or cargo-like client checks after a download, signed channel manifest or
//! `Cargo.lock` and the files it pins, is [`clients`].
//!
//! With feature `cli`: module `cli`, the `verify` command line (chain, CRLs, stapled bundles,
//! JSON), run by the `rust-pki-verify` binary and by `rust-pki verify`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod artifact;
mod ca;
mod cert;
mod chain;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clients;
pub mod cms;
mod crl;
mod diagnose;
mod digest;
#[cfg(feature = "cli")]
pub mod envelope;
mod error;
mod intrinsic;
pub mod lockfile;
pub mod manifest;
mod oid;
mod pem;
mod profile;
mod purpose;
#[cfg(feature = "cli")]
pub mod renamed;
mod report;
pub mod sig_file;
mod signed;
mod times;
mod verify;

pub use ca::verify_ca;
pub use cert::{Chain, Root};
pub use crl::{Crl, CrlSummary};
pub use error::{CertRef, Error, Position};
pub use oid::{Oid, decode_eku};
pub use purpose::Purpose;
pub use report::{CertSummary, Check, VerifiedChain};
pub use verify::verify;
