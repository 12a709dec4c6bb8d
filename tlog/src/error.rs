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
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    // ---- tiles, bundles and the on-disk log ----
    /// A tile or entry-bundle path is not a valid C2SP tlog-tiles path.
    #[error("bad tile path {path:?}: {reason}")]
    TilePath {
        /// The path, as given.
        path: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// Tile coordinates out of range (level above 63, width 0 or above 256).
    #[error("bad tile coordinates: {0}")]
    TileCoordinates(String),
    /// An entry bundle ends in the middle of a length prefix or an entry.
    #[error("entry bundle truncated at byte {offset}")]
    BundleTruncated {
        /// Where the bundle ends, in bytes from its start.
        offset: usize,
    },
    /// An entry bundle holds no entries.
    #[error("entry bundle is empty")]
    BundleEmpty,
    /// An entry bundle holds more than 256 entries.
    #[error("entry bundle holds more than 256 entries ({count})")]
    BundleTooManyEntries {
        /// How many entries it holds.
        count: usize,
    },
    /// An entry is longer than the 65535 bytes a uint16 length prefix allows.
    #[error("entry of {len} bytes is longer than 65535 bytes")]
    EntryTooLong {
        /// The entry's length in bytes.
        len: usize,
    },
    /// A tile or entry bundle on disk is wrong (modified, truncated or missing data).
    #[error("log file {path} is damaged or was modified: {reason}")]
    LogTileDamaged {
        /// The tile or entry-bundle file (a path or a URL).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry bundle on disk does not decode.
    #[error("log file {path} is damaged or was modified: {source}")]
    LogBundleDamaged {
        /// The entry-bundle file (a path or a URL).
        path: PathBuf,
        /// Why it does not decode.
        #[source]
        source: Box<Error>,
    },
    /// The log's `checkpoint` file cannot be parsed.
    #[error("log checkpoint {path} is malformed: {reason}")]
    LogCheckpoint {
        /// The checkpoint file, or the pending checkpoint (a path or a URL).
        path: PathBuf,
        /// Why it cannot be read or parsed.
        reason: String,
    },
    /// The tiles on disk do not give the root hash of the log's checkpoint.
    #[error("log tiles give root {computed} for size {size}, checkpoint says {expected}")]
    LogRootMismatch {
        /// The tree size.
        size: u64,
        /// The checkpoint's root hash, in hex.
        expected: String,
        /// The root hash the tiles give, in hex.
        computed: String,
    },
    /// A log directory was opened for another origin.
    #[error("log origin is {found:?}, expected {expected:?}")]
    LogOrigin {
        /// The origin asked for.
        expected: String,
        /// The origin of the log on disk.
        found: String,
    },
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
    LogExists {
        /// The log's directory.
        path: PathBuf,
    },
    /// Refused: this would sign a second checkpoint for a size with a different root.
    #[error("refusing to sign size {size} with root {new}: root {old} was already signed for it")]
    LogConflictingCheckpoint {
        /// The tree size.
        size: u64,
        /// The root already signed for that size, in hex.
        old: String,
        /// The other root, in hex.
        new: String,
    },
    /// The signer returned something other than the signed checkpoint note.
    #[error("the checkpoint signer returned a note that does not start with the checkpoint body")]
    LogSignerOutput,
    /// A proof was requested outside the tree.
    #[error("{what} {index} is out of range for tree size {size}")]
    LogOutOfRange {
        /// What is out of range, e.g. `entry index` or `old tree size`.
        what: &'static str,
        /// Its value.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A Merkle tree computation of `tlog_tiles` failed.
    #[cfg(feature = "writer")]
    #[error("{context}: {source}")]
    Merkle {
        /// What was being computed.
        context: String,
        /// The `tlog_tiles` error.
        #[source]
        source: tlog_tiles::Error,
    },
    /// A fault injected by a test (crash simulation) stopped the append.
    #[error("injected fault: {0}")]
    InjectedFault(&'static str),

    // ---- checkpoints, notes and cosignatures ----
    /// A signer or verifier key (signed-note `vkey`/`skey` text) is malformed.
    #[error("malformed {kind} key: {reason}")]
    KeyFormat {
        /// Which kind of key, `signer` or `verifier`.
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A secret signer key (`PRIVATE+KEY+…`) was given where a public verifier key
    /// belongs: refused before anything else, so it is never parsed as a vkey.
    #[error(
        "this is a secret signer key (PRIVATE+KEY+...), not a public verifier key (vkey): \
         give the .vkey file here, and keep the secret key out of CI"
    )]
    SecretKeyAsPublic,
    /// A public verifier key was given where the secret signer key belongs.
    #[error(
        "this is a public verifier key (vkey), not a secret signer key: \
         give the secret key file (PRIVATE+KEY+..., written by `init`) here"
    )]
    PublicKeyAsSecret,
    /// A key's material is not base64.
    #[error("malformed {kind} key: key material is not padded standard base64: {source}")]
    KeyBase64 {
        /// Which kind of key, `signer` or `verifier`.
        kind: &'static str,
        /// The base64 decoding error.
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
    NoteUnknownKey {
        /// The known keys, comma-separated.
        known: String,
        /// The keys the note's signatures name, comma-separated.
        signers: String,
    },
    /// A signature by a known key does not verify: the note was altered or forged.
    #[error("bad signature by {key} on the note (altered or forged)")]
    NoteBadSignature {
        /// The key whose signature does not verify.
        key: String,
    },
    /// A checkpoint body is not well-formed (C2SP tlog-checkpoint).
    #[error("malformed checkpoint: {0}")]
    CheckpointMalformed(String),
    /// The checkpoint's origin line is not the log key's name.
    #[error("checkpoint origin {origin:?} does not match the log key name {key_name:?}")]
    CheckpointOriginMismatch {
        /// The checkpoint's origin line.
        origin: String,
        /// The log key's name.
        key_name: String,
    },
    /// A cosignature line is not well-formed (C2SP tlog-cosignature).
    #[error("malformed cosignature: {0}")]
    CosignatureMalformed(String),
    /// The system clock is before 1970: no cosignature timestamp.
    #[cfg(feature = "writer")]
    #[error("malformed cosignature: clock before 1970: {0}")]
    ClockBeforeEpoch(#[source] std::time::SystemTimeError),
    /// A cosignature line is for another witness key (name or key id differ).
    #[error("cosignature is by {found}, not by the witness key {expected}")]
    CosignatureWrongKey {
        /// The key the cosignature line names (name and key id).
        found: String,
        /// The witness key expected.
        expected: String,
    },
    /// A cosignature by the expected witness key does not verify.
    #[error("bad cosignature by {witness} (altered checkpoint or timestamp)")]
    CosignatureBadSignature {
        /// The witness key.
        witness: String,
    },
    /// The witness is not configured for this log origin.
    #[error("witness does not know the log {origin:?}")]
    WitnessUnknownOrigin {
        /// The checkpoint's log origin.
        origin: String,
    },
    /// The checkpoint is older than the one the witness already cosigned.
    #[error("rollback refused for {origin:?}: size {new} is smaller than cosigned size {old}")]
    WitnessRollback {
        /// The log origin.
        origin: String,
        /// The size the witness already cosigned.
        old: u64,
        /// The size of the checkpoint refused.
        new: u64,
    },
    /// Two different roots for the same tree size: the log shows a split view.
    #[error("split view for {origin:?}: size {size} has root {new}, witness cosigned {old}")]
    WitnessSplitView {
        /// The log origin.
        origin: String,
        /// The tree size.
        size: u64,
        /// The root the witness cosigned for that size, in base64.
        old: String,
        /// The new checkpoint's root, in base64.
        new: String,
    },
    /// The consistency proof from the cosigned size to the new size is invalid; `source`
    /// is the proof check's error, if it got that far.
    #[error("invalid consistency proof for {origin:?} from size {old} to {new}: {reason}{}", colon(source.as_deref()))]
    WitnessBadProof {
        /// The log origin.
        origin: String,
        /// The size the witness cosigned.
        old: u64,
        /// The new checkpoint's size.
        new: u64,
        /// What is wrong with the proof.
        reason: String,
        /// The proof check's error, if it got that far.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The client's old size is not the size the witness last cosigned (tlog-witness 409).
    #[error("old size {claimed} for {origin:?} is not the cosigned size {stored}")]
    WitnessOldSizeMismatch {
        /// The log origin.
        origin: String,
        /// The old size the client sent.
        claimed: u64,
        /// The size the witness last cosigned.
        stored: u64,
    },
    /// The witness's stored state is unreadable or inconsistent; `source` is the error
    /// behind `reason`, if any (its checkpoint does not verify).
    #[error("witness state {path}: {reason}{}", colon(source.as_deref()))]
    WitnessState {
        /// The witness's state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The error behind `reason`, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    // ---- entries ----
    /// A log entry is not a valid `rust-pki-log-entry/v1` encoding (see `entry`).
    /// `source` is the error behind `reason`, if any (UTF-8, a name rule).
    #[error("malformed log entry (line {line}): {reason}{}", colon(source.as_deref()))]
    EntryMalformed {
        /// The entry's line, from 1 (0: the entry as a whole).
        line: usize,
        /// The rule it breaks.
        reason: String,
        /// The error behind `reason`, if any.
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
        /// The bundle file's line (0: the whole file).
        line: usize,
        /// What is wrong with it.
        reason: String,
        /// The decoding error behind `reason`, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The bundle's checkpoint is not signed by the log key (forged, altered, other log).
    #[error("checkpoint is not validly signed by the log key {key}: {source}")]
    StapledLogSignature {
        /// The log key.
        key: String,
        /// Why the checkpoint does not verify.
        #[source]
        source: Box<Error>,
    },
    /// Fewer valid witness cosignatures than required.
    #[error("{valid} valid witness cosignature(s), {required} required ({detail})")]
    StapledWitnesses {
        /// How many given witness keys validly cosigned.
        valid: usize,
        /// How many are required.
        required: usize,
        /// The witnesses that cosigned and the bad cosignatures found.
        detail: String,
    },
    /// The inclusion proof does not show the entry in the checkpoint's tree; `source` is
    /// the proof check's error, if it got that far.
    #[error("entry {index} is not proven included in the tree of size {size}: {reason}{}", parenthesised(source.as_ref()))]
    StapledInclusion {
        /// The entry's index in the log.
        index: u64,
        /// The checkpoint's tree size.
        size: u64,
        /// What is wrong with the proof.
        reason: String,
        /// The proof check's error, if it got that far.
        #[source]
        source: Option<crate::merkle::ProofError>,
    },
    /// The chain's delegate certificate is not proven logged by its ceremony's record;
    /// `source` is the proof check's error, if it got that far.
    #[error("the delegate certificate (SHA-256 {delegate_sha256}) is not proven logged: {reason}{}", parenthesised(source.as_ref()))]
    StapledDelegate {
        /// The SHA-256 of the delegate certificate, in hex.
        delegate_sha256: String,
        /// Why it is not proven logged.
        reason: String,
        /// The proof check's error, if it got that far.
        #[source]
        source: Option<crate::merkle::ProofError>,
    },
    /// The log entry does not name the bundle's leaf certificate.
    #[error("the log entry does not name the leaf certificate (SHA-256 {leaf_sha256})")]
    StapledEntryMismatch {
        /// The SHA-256 of the leaf certificate, in hex.
        leaf_sha256: String,
    },
    /// A bundle to restaple is not one of this log's: its checkpoint is not a prefix of
    /// the log's tree (another log, a fork, a rollback), or its entry is not at its index.
    #[error("not a bundle of the log {origin} (size {size}): {reason}")]
    StapledNotInLog {
        /// The log's origin.
        origin: String,
        /// The log's current tree size.
        size: u64,
        /// What does not match.
        reason: String,
    },

    // ---- witness protocol (C2SP tlog-witness) ----
    /// An add-checkpoint request body is malformed (tlog-witness: 400 Bad Request).
    #[error("malformed add-checkpoint request (line {line}): {reason}")]
    WitnessRequest {
        /// The request body's line, from 1 (0: the whole body).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The request's old size exceeds the checkpoint's size (tlog-witness: 400 Bad Request).
    #[error("old size {old} is larger than the checkpoint size {size}")]
    WitnessOldSizeTooLarge {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// A size-0 checkpoint whose root is not the empty tree's hash (tlog-witness: 422).
    #[error("checkpoint for {origin:?} has size 0 but root {root}, not the empty tree's hash")]
    WitnessEmptyTreeRoot {
        /// The log origin.
        origin: String,
        /// The checkpoint's root hash, in base64.
        root: String,
    },
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
