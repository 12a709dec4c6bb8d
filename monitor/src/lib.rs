//! rust-pki-monitor: the monitor of the Rust PKI's transparency log and the log's static
//! site. No argument parsing, no networking, no printing: the `rust-pki` CLI gives it a
//! [`Source`](rust_pki_tlog::replica::Source) (a directory or its HTTP source) and prints
//! what it returns.
//!
//! - [`audit()`]: verify the log, check it against the checkpoint seen last (the state file),
//!   replay the quorum history from genesis, flag certificates missing from the log; every
//!   broken rule is a typed [`Finding`].
//! - [`publish()`] and [`site`]: verify a log directory and write its `index.html`,
//!   `records/` and `crl/` (the newest CRL of the root and of each delegate).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
mod certificates;
mod crls;
pub mod error;
pub mod finding;
mod history;
mod logged;
pub mod publish;
pub mod site;
mod state;

pub use audit::{Audit, Options, audit};
pub use error::{Error, Result};
pub use finding::{Finding, rule};
pub use publish::{Counts, INDEX_FILE, Published, publish};
