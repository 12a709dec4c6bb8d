//! What the audit keeps of each ceremony record it found in the log, for the history
//! replay and the certificate checks.

use rust_pki_ceremony::record::Record;

/// A ceremony record found in the log.
pub(crate) struct LoggedRecord {
    /// Its log index.
    pub(crate) index: u64,
    /// Its file name, as logged.
    pub(crate) file_name: String,
    /// Its bytes (from the entry, or published beside the log and checked against it).
    pub(crate) bytes: Vec<u8>,
    /// The parsed record.
    pub(crate) record: Record,
}
