//! rust-pki-delegate: the state a delegate CA's owner keeps day to day, so that leaves,
//! revocations and CRLs are never issued from memory: the issuance register, every
//! revocation with its own date and reason, the CRL numbers, and what lapses next.
//!
//! # The state directory (format `rust-pki-delegate-state/v1`)
//!
//! ```text
//! STATE/
//!   .lock              the directory's lock (rust_pki_fs::DirLock): one command at a time
//!   state.toml         the state file below, replaced durably by each change
//!   delegate.pem       the delegate certificate, copied once by `init`
//!   issued/<serial>.pem  a copy of every registered certificate (written once)
//!   crls/<number>.crl    a copy of every CRL signed (written once, PEM)
//!   delegate.bundle    optional: the delegate's stapled bundle from its ceremony, which
//!                      the CLI's `init` copies when found next to the certificate
//!                      (`delegate leaf --log` proves the delegate's log entry with it)
//! ```
//!
//! `state.toml` is strict TOML (an unknown or missing field is an error); times are RFC
//! 3339 UTC in whole seconds (`2026-12-05T10:00:00Z`), serials the lowercase hex of the
//! serial number's DER content octets, digests lowercase hex SHA-256:
//!
//! ```toml
//! format = "rust-pki-delegate-state/v1"
//!
//! [delegate]
//! certificate_sha256 = "…"      # of delegate.pem's DER
//! key = "pkcs11:…"              # the delegate key (RFC 7512, pin-source only)
//! policy_sha256 = "…"           # of the policy the state was initialised with
//! initialised_at = "…"
//!
//! [crl]
//! reserved_number = 3           # highest number reserved; the next CRL gets one more
//! last_number = 3               # the last CRL saved (0: none yet)
//! this_update = "…"             # of the last CRL (absent when none)
//! next_update = "…"
//! sha256 = "…"                  # of its DER (crls/<last_number>.crl)
//! log_index = 7                 # its `crl` log entry, once logged
//!
//! [[leaf]]                      # the issuance register, in order of registration
//! serial = "5d0f6e…"
//! subject = "CN=…"
//! not_before = "…"
//! not_after = "…"
//! sha256 = "…"                  # of the certificate's DER (issued/<serial>.pem)
//! log_index = 4                 # its `leaf-issuance` entry, once logged
//!
//! [[revocation]]                # in order of recording; never removed
//! serial = "5d0f6e…"            # a registered serial
//! reason = "key-compromise"     # RFC 5280, kebab-case, or "unspecified"
//! revoked_at = "…"              # as given; every CRL carries it unchanged
//! not_after = "…"               # the certificate's: CRLs list it until then
//! certificate_sha256 = "…"
//! log_index = 5                 # its `revocation` log entry, once logged
//! ```
//!
//! # What every read checks
//!
//! A state may be edited between runs, so [`DelegateState::open`] re-validates it and
//! refuses ([`Error::Refused`], naming file, field and rule) when: `delegate.pem` is not
//! the recorded certificate (`delegate-certificate`); the policy is not the one recorded
//! (`policy-changed`); a register entry's copy is missing or other bytes (`leaf-copy`),
//! disagrees with its certificate (`leaf-mismatch`), or was not signed by this delegate's
//! key (`other-issuer`); a serial is registered or revoked twice; a revocation names an
//! unregistered serial or another certificate; a CRL in `crls/` has a number above the
//! reserved one, or the last number is above it (`crl-number-lowered`); the newest CRL
//! lists a revocation the state no longer has, or has with another date or reason
//! (`revocation-removed`, `revocation-changed`). [`DelegateState::check_log`] does the
//! same against the transparency log's `crl` and `revocation` entries of this delegate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod crl;
pub mod due;
mod error;
mod fault;
pub mod format;
pub mod register;
pub mod revoke;
pub mod state;

pub use error::{Error, Result};
#[cfg(feature = "fault-injection")]
pub use fault::FAULT_ENV;
pub use revoke::RevokeTarget;
pub use state::DelegateState;
