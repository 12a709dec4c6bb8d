//! The one error type of rust-pki-tlog.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with the log. Variants name the file, tile, index or
/// rule involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    // ---- tiles, bundles and the on-disk log ----
    /// A tile or entry-bundle path is not a valid C2SP tlog-tiles path.
    #[error("bad tile path {path:?}: {reason}")]
    TilePath { path: String, reason: &'static str },
    /// Tile coordinates out of range (level above 63, width 0 or above 256).
    #[error("bad tile coordinates: {0}")]
    TileCoordinates(String),
    /// An entry bundle ends in the middle of a length prefix or an entry.
    #[error("entry bundle truncated at byte {offset}")]
    BundleTruncated { offset: usize },
    /// An entry bundle holds no entries.
    #[error("entry bundle is empty")]
    BundleEmpty,
    /// An entry bundle holds more than 256 entries.
    #[error("entry bundle holds more than 256 entries ({count})")]
    BundleTooManyEntries { count: usize },
    /// An entry is longer than the 65535 bytes a uint16 length prefix allows.
    #[error("entry of {len} bytes is longer than 65535 bytes")]
    EntryTooLong { len: usize },
    /// A tile or entry bundle on disk is wrong (modified, truncated or missing data).
    #[error("log file {path} is damaged or was modified: {reason}")]
    LogTileDamaged { path: PathBuf, reason: String },
    /// An entry bundle on disk does not decode.
    #[error("log file {path} is damaged or was modified: {source}")]
    LogBundleDamaged {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },
    /// The log's `checkpoint` file cannot be parsed.
    #[error("log checkpoint {path} is malformed: {reason}")]
    LogCheckpoint { path: PathBuf, reason: String },
    /// The tiles on disk do not give the root hash of the log's checkpoint.
    #[error("log tiles give root {computed} for size {size}, checkpoint says {expected}")]
    LogRootMismatch {
        size: u64,
        expected: String,
        computed: String,
    },
    /// A log directory was opened for another origin.
    #[error("log origin is {found:?}, expected {expected:?}")]
    LogOrigin { expected: String, found: String },
    /// Another process holds the log's write lock (or the lock file cannot be opened):
    /// the message names the log directory and its lock file.
    #[cfg(feature = "writer")]
    #[error(transparent)]
    LogLocked(#[from] rust_pki_fs::LockError),
    /// Writing a file of the log or of the witness state failed (the file, the step and
    /// the cause are in the source).
    #[cfg(feature = "writer")]
    #[error(transparent)]
    Write(#[from] rust_pki_fs::WriteError),
    /// `Log::create` found an existing log.
    #[error("a log already exists at {path}")]
    LogExists { path: PathBuf },
    /// Refused: this would sign a second checkpoint for a size with a different root.
    #[error("refusing to sign size {size} with root {new}: root {old} was already signed for it")]
    LogConflictingCheckpoint { size: u64, old: String, new: String },
    /// The signer returned something other than the signed checkpoint note.
    #[error("the checkpoint signer returned a note that does not start with the checkpoint body")]
    LogSignerOutput,
    /// A proof was requested outside the tree.
    #[error("{what} {index} is out of range for tree size {size}")]
    LogOutOfRange {
        what: &'static str,
        index: u64,
        size: u64,
    },
    /// A Merkle tree computation of `tlog_tiles` failed.
    #[cfg(feature = "writer")]
    #[error("{context}: {source}")]
    Merkle {
        context: String,
        #[source]
        source: tlog_tiles::Error,
    },
    /// A fault injected by a test (crash simulation) stopped the append.
    #[error("injected fault: {0}")]
    InjectedFault(&'static str),

    // ---- checkpoints, notes and cosignatures ----
    /// A signer or verifier key (signed-note `vkey`/`skey` text) is malformed.
    #[error("malformed {kind} key: {reason}")]
    KeyFormat { kind: &'static str, reason: String },
    /// A key's material is not base64.
    #[error("malformed {kind} key: key material is not padded standard base64: {source}")]
    KeyBase64 {
        kind: &'static str,
        #[source]
        source: base64ct::Error,
    },
    /// The operating system's random number generator failed.
    #[cfg(feature = "writer")]
    #[error("random number generator failed: {0}")]
    Random(#[source] getrandom::Error),
    /// A signed note is not well-formed (C2SP signed-note).
    #[error("malformed signed note: {0}")]
    NoteMalformed(String),
    /// No signature on the note is by any of the known keys.
    #[error("note has no signature by a known key (known: {known}; signed by: {signers})")]
    NoteUnknownKey { known: String, signers: String },
    /// A signature by a known key does not verify: the note was altered or forged.
    #[error("bad signature by {key} on the note (altered or forged)")]
    NoteBadSignature { key: String },
    /// A checkpoint body is not well-formed (C2SP tlog-checkpoint).
    #[error("malformed checkpoint: {0}")]
    CheckpointMalformed(String),
    /// The checkpoint's origin line is not the log key's name.
    #[error("checkpoint origin {origin:?} does not match the log key name {key_name:?}")]
    CheckpointOriginMismatch { origin: String, key_name: String },
    /// A cosignature line is not well-formed (C2SP tlog-cosignature).
    #[error("malformed cosignature: {0}")]
    CosignatureMalformed(String),
    /// The system clock is before 1970: no cosignature timestamp.
    #[cfg(feature = "writer")]
    #[error("malformed cosignature: clock before 1970: {0}")]
    ClockBeforeEpoch(#[source] std::time::SystemTimeError),
    /// A cosignature line is for another witness key (name or key id differ).
    #[error("cosignature is by {found}, not by the witness key {expected}")]
    CosignatureWrongKey { found: String, expected: String },
    /// A cosignature by the expected witness key does not verify.
    #[error("bad cosignature by {witness} (altered checkpoint or timestamp)")]
    CosignatureBadSignature { witness: String },
    /// The witness is not configured for this log origin.
    #[error("witness does not know the log {origin:?}")]
    WitnessUnknownOrigin { origin: String },
    /// The checkpoint is older than the one the witness already cosigned.
    #[error("rollback refused for {origin:?}: size {new} is smaller than cosigned size {old}")]
    WitnessRollback { origin: String, old: u64, new: u64 },
    /// Two different roots for the same tree size: the log shows a split view.
    #[error("split view for {origin:?}: size {size} has root {new}, witness cosigned {old}")]
    WitnessSplitView {
        origin: String,
        size: u64,
        old: String,
        new: String,
    },
    /// The consistency proof from the cosigned size to the new size is invalid; `source`
    /// is the proof check's error, if it got that far.
    #[error("invalid consistency proof for {origin:?} from size {old} to {new}: {reason}{}", colon(source.as_deref()))]
    WitnessBadProof {
        origin: String,
        old: u64,
        new: u64,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The client's old size is not the size the witness last cosigned (tlog-witness 409).
    #[error("old size {claimed} for {origin:?} is not the cosigned size {stored}")]
    WitnessOldSizeMismatch {
        origin: String,
        claimed: u64,
        stored: u64,
    },
    /// The witness's stored state is unreadable or inconsistent; `source` is the error
    /// behind `reason`, if any (its checkpoint does not verify).
    #[error("witness state {path}: {reason}{}", colon(source.as_deref()))]
    WitnessState {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    // ---- entries ----
    /// A log entry is not a valid `rust-pki-log-entry/v1` encoding (see `entry`).
    /// `source` is the error behind `reason`, if any (UTF-8, a name rule).
    #[error("malformed log entry (line {line}): {reason}{}", colon(source.as_deref()))]
    EntryMalformed {
        line: usize,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A log entry cannot be built from the given values (bad name, too long).
    #[error("invalid log entry: {0}")]
    EntryInvalid(String),
    /// A read-only command had to sign (an interrupted append is pending) but has no key.
    #[error("the log has an interrupted checkpoint to finish: run an append with the log key")]
    EntryNoSigner,

    // ---- stapled bundles ----
    /// A stapled bundle file is malformed (line 0: the whole file); `source` is the
    /// decoding error behind `reason`, if any (UTF-8, base64, number).
    #[error("bundle line {line}: {reason}{}", colon(source.as_deref()))]
    StapledFormat {
        line: usize,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The bundle's checkpoint is not signed by the log key (forged, altered, other log).
    #[error("checkpoint is not validly signed by the log key {key}: {source}")]
    StapledLogSignature {
        key: String,
        #[source]
        source: Box<Error>,
    },
    /// Fewer valid witness cosignatures than required.
    #[error("{valid} valid witness cosignature(s), {required} required ({detail})")]
    StapledWitnesses {
        valid: usize,
        required: usize,
        detail: String,
    },
    /// The inclusion proof does not show the entry in the checkpoint's tree; `source` is
    /// the proof check's error, if it got that far.
    #[error("entry {index} is not proven included in the tree of size {size}: {reason}{}", parenthesised(source.as_ref()))]
    StapledInclusion {
        index: u64,
        size: u64,
        reason: String,
        #[source]
        source: Option<crate::merkle::ProofError>,
    },
    /// The chain's delegate certificate is not proven logged by its ceremony's record;
    /// `source` is the proof check's error, if it got that far.
    #[error("the delegate certificate (SHA-256 {delegate_sha256}) is not proven logged: {reason}{}", parenthesised(source.as_ref()))]
    StapledDelegate {
        delegate_sha256: String,
        reason: String,
        #[source]
        source: Option<crate::merkle::ProofError>,
    },
    /// The log entry does not name the bundle's leaf certificate.
    #[error("the log entry does not name the leaf certificate (SHA-256 {leaf_sha256})")]
    StapledEntryMismatch { leaf_sha256: String },

    // ---- witness protocol (C2SP tlog-witness) ----
    /// An add-checkpoint request body is malformed (tlog-witness: 400 Bad Request).
    #[error("malformed add-checkpoint request (line {line}): {reason}")]
    WitnessRequest { line: usize, reason: String },
    /// The request's old size exceeds the checkpoint's size (tlog-witness: 400 Bad Request).
    #[error("old size {old} is larger than the checkpoint size {size}")]
    WitnessOldSizeTooLarge { old: u64, size: u64 },
    /// A size-0 checkpoint whose root is not the empty tree's hash (tlog-witness: 422).
    #[error("checkpoint for {origin:?} has size 0 but root {root}, not the empty tree's hash")]
    WitnessEmptyTreeRoot { origin: String, root: String },
    /// A witness's HTTP response does not follow C2SP tlog-witness.
    #[error("malformed witness response: {0}")]
    WitnessResponse(String),
}

/// `": cause"` after a reason, or nothing.
fn colon<E: std::fmt::Display + ?Sized>(source: Option<&E>) -> String {
    source.map(|e| format!(": {e}")).unwrap_or_default()
}

/// `" (cause)"` after a reason, or nothing.
fn parenthesised<E: std::fmt::Display + ?Sized>(source: Option<&E>) -> String {
    source.map(|e| format!(" ({e})")).unwrap_or_default()
}
