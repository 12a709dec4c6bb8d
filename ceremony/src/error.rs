//! The one error type of rust-pki-ceremony.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a ceremony. Variants name the file, member, share or
/// rule involved; none ever carries a PIN or a share.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CA core refused something.
    #[error(transparent)]
    Ca(#[from] rust_pki_ca::Error),

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed (the file, the step and the cause are in the source).
    #[error(transparent)]
    Write(rust_pki_fs::WriteError),
    /// A file that is not a regular file, or larger than its bound.
    #[error("{path}: refused: {reason}")]
    FileRefused {
        /// The file.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    // ---- roster ----
    /// The roster file is not UTF-8.
    #[error("{path}: not UTF-8: {source}")]
    RosterUtf8 {
        /// The roster file.
        path: PathBuf,
        /// The UTF-8 error.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// The roster file is not valid TOML, or has an unknown, missing or mistyped field.
    #[error("{path}: {source}")]
    RosterSyntax {
        /// The roster file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },

    /// The roster declares a format version this code does not read.
    #[error("{path}: roster version {found}, this rust-pki reads version {expected}")]
    RosterVersion {
        /// The roster file.
        path: PathBuf,
        /// The version the roster declares.
        found: u32,
        /// The version this code reads.
        expected: u32,
    },

    /// A member's field breaks its format rule (id, name, country, key, recipient, date).
    #[error("{path}: member `{member}`: field `{field}`: {message}")]
    RosterField {
        /// The roster file.
        path: PathBuf,
        /// The member id, as in the roster.
        member: String,
        /// The field, e.g. `country`.
        field: &'static str,
        /// The rule it breaks.
        message: String,
    },

    /// A member's name or organisation breaks a text rule (`spacing`,
    /// `invisible-character`, `restricted-character`, `mixed-script`).
    #[error("{path}: member `{member}`: field `{field}`: rule {rule}: {reason}")]
    RosterName {
        /// The roster file.
        path: PathBuf,
        /// The member id, as in the roster.
        member: String,
        /// The field, `name` or `organisation`.
        field: &'static str,
        /// The text rule, e.g. `mixed-script`.
        rule: &'static str,
        /// What breaks it.
        reason: String,
    },

    /// A member's SSH key is of a type the roster does not allow.
    #[error(
        "{path}: member `{member}`: SSH key type {algorithm} is not allowed (allowed: {allowed})"
    )]
    RosterKeyType {
        /// The roster file.
        path: PathBuf,
        /// The member id, as in the roster.
        member: String,
        /// The SSH key's algorithm.
        algorithm: String,
        /// The key types allowed.
        allowed: &'static str,
    },

    /// A member whose SSH key age cannot encrypt to has no `age_recipient`.
    #[error(
        "{path}: member `{member}`: age cannot encrypt to {algorithm} keys: an X25519 `age_recipient` (age1…) is required"
    )]
    RosterMissingAgeRecipient {
        /// The roster file.
        path: PathBuf,
        /// The member id, as in the roster.
        member: String,
        /// The SSH key's algorithm.
        algorithm: String,
    },

    /// Two members share an id.
    #[error("{path}: member id `{member}` appears more than once")]
    RosterDuplicateId {
        /// The roster file.
        path: PathBuf,
        /// The member id.
        member: String,
    },

    /// Two members share an SSH key (compared without comments).
    #[error("{path}: members `{first}` and `{second}` have the same SSH key ({fingerprint})")]
    RosterDuplicateKey {
        /// The roster file.
        path: PathBuf,
        /// The first member with the key.
        first: String,
        /// The second member with the key.
        second: String,
        /// The key's fingerprint.
        fingerprint: String,
    },

    /// Two members share an age recipient.
    #[error("{path}: members `{first}` and `{second}` have the same age recipient")]
    RosterDuplicateAgeRecipient {
        /// The roster file.
        path: PathBuf,
        /// The first member with the recipient.
        first: String,
        /// The second member with the recipient.
        second: String,
    },

    /// The roster does not have the number of members the policy requires.
    #[error("{path}: the roster has {found} members, the policy requires exactly {expected}")]
    RosterMemberCount {
        /// The roster file.
        path: PathBuf,
        /// How many members the roster has.
        found: usize,
        /// How many the policy requires.
        expected: usize,
    },

    /// Too many members from one organisation (compared as identities, not spellings).
    #[error(
        "{path}: rule max-per-organisation: organisation `{organisation}` has {} members ({}; names compared after NFKC, case folding and UTS #39 confusable skeletons, letters and digits only), the policy allows at most {max}",
        members.len(), members.join(", ")
    )]
    RosterOrganisationLimit {
        /// The roster file.
        path: PathBuf,
        /// The organisation, as one of its members spells it.
        organisation: String,
        /// The ids of its members.
        members: Vec<String>,
        /// How many the policy allows.
        max: usize,
    },

    /// Too many members from one country.
    #[error(
        "{path}: rule max-per-country: country {country} has {} members ({}), the policy allows at most {max}",
        members.len(), members.join(", ")
    )]
    RosterCountryLimit {
        /// The roster file.
        path: PathBuf,
        /// The country.
        country: String,
        /// The ids of its members.
        members: Vec<String>,
        /// How many the policy allows.
        max: usize,
    },

    /// A member's re-appointment date is not after their appointment.
    #[error(
        "{path}: member `{member}`: reappoint_by {reappoint_by} must be after appointed {appointed}"
    )]
    RosterReappointment {
        /// The roster file.
        path: PathBuf,
        /// The member id, as in the roster.
        member: String,
        /// The member's `appointed` date.
        appointed: time::Date,
        /// The member's `reappoint_by` date.
        reappoint_by: time::Date,
    },

    // ---- approvals ----
    /// Running `ssh-keygen -Y sign` failed.
    #[error("ssh-keygen -Y sign -f {key}: {message}")]
    SshKeygen {
        /// The private key file given to ssh-keygen.
        key: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Running `ssh-keygen -Y sign` failed at `step` (starting it, writing, waiting).
    #[error("ssh-keygen -Y sign -f {key}: {step}: {source}")]
    SshKeygenIo {
        /// The private key file given to ssh-keygen.
        key: PathBuf,
        /// The step that failed, e.g. `waiting for ssh-keygen`.
        step: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `ssh-keygen -Y sign` printed something that is not an SSH signature.
    #[error("ssh-keygen -Y sign -f {key}: ssh-keygen printed no SSH signature: {source}")]
    SshKeygenOutput {
        /// The private key file given to ssh-keygen.
        key: PathBuf,
        /// Why the output is not an SSH signature.
        #[source]
        source: ssh_key::Error,
    },

    /// An approval is not an armored SSH signature (SSHSIG), or not one we can read.
    #[error("not an SSH signature (-----BEGIN SSH SIGNATURE-----): {message}")]
    ApprovalMalformed {
        /// What is wrong with it.
        message: String,
    },
    /// An approval that does not decode as an armored SSH signature.
    #[error("not an SSH signature (-----BEGIN SSH SIGNATURE-----): {source}")]
    ApprovalSshSig {
        /// The decoding error.
        #[source]
        source: ssh_key::Error,
    },

    /// An approval was made for another namespace (another purpose than our ceremonies).
    #[error("signature namespace is `{found}`, ceremony approvals use `{expected}`")]
    ApprovalNamespace {
        /// The signature's namespace.
        found: String,
        /// The namespace of ceremony approvals.
        expected: &'static str,
    },

    /// An approval's key is not the key of any roster member.
    #[error("signed by {algorithm} key {fingerprint}, which is not a roster member's key")]
    ApprovalNotMember {
        /// The signing key's SHA-256 fingerprint.
        fingerprint: String,
        /// The signing key's algorithm.
        algorithm: String,
    },

    /// The signature algorithm does not match the member's key type.
    #[error("member `{member}`: signature algorithm {signature} does not match their {key} key")]
    ApprovalAlgorithm {
        /// The member id, as in the roster.
        member: String,
        /// The algorithm of the member's key.
        key: String,
        /// The signature's algorithm.
        signature: String,
    },

    /// The signature does not verify over these exact bytes (edited request, or forged).
    #[error("member `{member}`: signature does not verify over this request's exact bytes")]
    ApprovalSignature {
        /// The member id, as in the roster.
        member: String,
    },

    /// A FIDO (`sk-`) signature without the user-presence flag: no one touched the key.
    #[error(
        "member `{member}`: FIDO signature without the user-presence flag (flags {flags:#04x}): the security key was not touched"
    )]
    ApprovalNoUserPresence {
        /// The member id, as in the roster.
        member: String,
        /// The signature's FIDO flags.
        flags: u8,
    },

    /// An approval file was refused; `reason` says why (in the message, not as a
    /// `source`, so that error chains do not print it twice).
    #[error("approval {path}: {reason}")]
    ApprovalFile {
        /// The approval file.
        path: PathBuf,
        /// Why it was refused.
        reason: Box<Error>,
    },

    /// Two approvals from the same member: each member counts once.
    #[error("member `{member}` approved twice ({first} and {second}): each member counts once")]
    DuplicateApproval {
        /// The member id, as in the roster.
        member: String,
        /// The first approval file.
        first: PathBuf,
        /// The second approval file.
        second: PathBuf,
    },

    /// Fewer valid approvals from distinct members than the threshold.
    #[error(
        "quorum not met: {found} valid approvals from distinct members ({}), {needed} needed",
        if members.is_empty() { "none".to_owned() } else { members.join(", ") }
    )]
    QuorumNotMet {
        /// How many valid approvals from distinct members.
        found: usize,
        /// The threshold.
        needed: usize,
        /// The ids of the members who approved.
        members: Vec<String>,
    },

    /// A quorum threshold of zero would let no one approve.
    #[error("quorum threshold must be at least 1")]
    QuorumThresholdZero,

    // ---- shares ----
    /// A secret cannot be split as asked (threshold, member ids, names, secret length).
    #[error("cannot split {secret} of token `{token}`: {reason}")]
    ShareSplit {
        /// The token's label.
        token: String,
        /// The secret's name.
        secret: String,
        /// Why it cannot be split.
        reason: String,
    },

    /// A recipient string that age cannot encrypt a share to. `recipient` shows at most
    /// the start of a public key, never a string that may be a secret key.
    #[error("share recipient {recipient}: {reason}")]
    ShareRecipient {
        /// The recipient, or the start of it.
        recipient: String,
        /// Why age cannot encrypt to it.
        reason: String,
    },

    /// An identity file that cannot decrypt shares (wrong format, passphrase-protected
    /// SSH key, unsupported key type).
    #[error("identity {identity}: {reason}")]
    ShareIdentity {
        /// The identity: its file, or `ceremony key`.
        identity: String,
        /// Why it cannot decrypt shares.
        reason: String,
    },

    /// age encryption of a share failed.
    #[error("encrypting a share to {recipient} failed: {source}")]
    ShareEncrypt {
        /// The recipient.
        recipient: String,
        /// The age error.
        #[source]
        source: Box<age::EncryptError>,
    },

    /// The share file is not encrypted to this identity (e.g. another member's share).
    #[error(
        "this share is not encrypted to identity {identity}: each member can decrypt only their own share"
    )]
    ShareNotForIdentity {
        /// The identity: its file, or `ceremony key`.
        identity: String,
    },

    /// A share file that age cannot decrypt (not an age file, corrupted, truncated).
    #[error("decrypting a share with identity {identity} failed: {source}")]
    ShareDecrypt {
        /// The identity: its file, or `ceremony key`.
        identity: String,
        /// The age error.
        #[source]
        source: age::DecryptError,
    },

    /// The decrypted share is not a share payload. `reason` never quotes the share.
    #[error("share decrypted with identity {identity} is malformed: {reason}")]
    SharePayload {
        /// The identity: its file, or `ceremony key`.
        identity: String,
        /// What is wrong with the payload.
        reason: String,
    },

    /// A share manifest that is not valid.
    #[error("share manifest{}: {reason}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    ShareManifest {
        /// The manifest file, if it was read from one.
        path: Option<PathBuf>,
        /// What is wrong with it.
        reason: String,
    },
    /// A share manifest that is not valid TOML or has unknown, missing or mistyped fields.
    #[error("share manifest{}: {source}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    ShareManifestSyntax {
        /// The manifest file, if it was read from one.
        path: Option<PathBuf>,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// Writing TOML (a request, record or manifest) failed; `what` names it.
    #[error("{what}: {source}")]
    TomlWrite {
        /// What was written: its file, or e.g. `share manifest`.
        what: String,
        /// The TOML error.
        #[source]
        source: toml::ser::Error,
    },

    /// Fewer than `threshold` shares, or fewer than `threshold` good ones.
    #[error("{}", not_enough_shares(*threshold, *given, bad))]
    NotEnoughShares {
        /// How many shares reconstruct the secret.
        threshold: usize,
        /// How many were given.
        given: usize,
        /// The shares that are not good, and why.
        bad: Vec<crate::bad_share::BadShare>,
    },

    /// No subset of `threshold` of the `valid` shares (each matching its digest)
    /// reconstructs the committed secret: the manifest is inconsistent with its shares.
    #[error(
        "no {threshold} of the {valid} shares that match their digests reconstruct the committed secret          ({tried} subsets tried{}): the manifest's commitment does not belong to these shares",
        if *complete { "" } else { ", search cut short" }
    )]
    SharesInconsistent {
        /// How many shares reconstruct the secret.
        threshold: usize,
        /// How many shares match their digests.
        valid: usize,
        /// How many subsets were tried.
        tried: usize,
        /// Whether every subset was tried (false: the search was cut short).
        complete: bool,
    },
    // ---- requests and execution ----
    /// A root-init was interrupted after sharing the PINs and before its record.
    #[error(
        "{dir}: an earlier run of this root-init was interrupted after sharing the PINs (no record was written); the token may be initialised: wipe it and this ceremony folder, then prepare a new root-init"
    )]
    InterruptedRootInit {
        /// The ceremony's folder.
        dir: PathBuf,
    },
    /// Before any roster change: the roster file is not the genesis roster the policy pins.
    #[error(
        "{path}: rule genesis-roster: no roster change has been executed, so the roster in force is the genesis roster the policy pins (quorum.genesis_roster_sha256 {pinned}); this file's SHA-256 is {found}"
    )]
    RosterNotGenesis {
        /// The roster file.
        path: PathBuf,
        /// The SHA-256 the policy pins, in hex.
        pinned: String,
        /// The roster file's SHA-256, in hex.
        found: String,
    },
    /// The roster file is not the one the latest roster change installed.
    #[error(
        "{path}: rule roster-in-force: not the roster installed by the latest roster change ({record}); use that roster"
    )]
    RosterNotInForce {
        /// The roster file.
        path: PathBuf,
        /// The record of the latest roster change.
        record: PathBuf,
    },
    /// The policy or roster file is not the one the request pins.
    #[error(
        "{path}: the {what} changed since the request was prepared (pinned sha256 {pinned}, found {found}); prepare a new request"
    )]
    PinnedFileChanged {
        /// Which file, `policy` or `roster`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The SHA-256 the request pins, in hex.
        pinned: String,
        /// The file's SHA-256, in hex.
        found: String,
    },
    /// Executing outside the request's window.
    #[error("the request may be executed from {not_before} to {not_after}, not at {now}")]
    OutsideWindow {
        /// The time now (RFC 3339).
        now: String,
        /// The request's `not_before`.
        not_before: String,
        /// The request's `not_after`.
        not_after: String,
    },
    /// The request was executed before.
    #[error("request {id} was executed already (record {record}); a request runs once")]
    Replay {
        /// The request's id.
        id: String,
        /// The record of its execution.
        record: PathBuf,
    },
    /// Another ceremony was executed after this request was prepared.
    #[error(
        "request {id} was prepared on an older record chain (another ceremony ran since); prepare it again"
    )]
    StaleRequest {
        /// The request's id.
        id: String,
    },
    /// A production policy with an example-arc EKU.
    #[error(
        "purpose `{purpose}` uses EKU {eku} under an example arc, which a production policy (test_policy = false) may not use in a ceremony"
    )]
    ExampleArcInProduction {
        /// The purpose, or `cluster`.
        purpose: String,
        /// The EKU OID.
        eku: String,
    },
    /// An output file exists with other contents than the record's.
    #[error("{path}: exists with other contents than the ceremony record; refusing to overwrite")]
    OutputConflict {
        /// The output file.
        path: PathBuf,
    },
    /// A directory on an output's way is a symlink or a file.
    #[error("{path}: a symlink or not a directory; outputs are never written through it")]
    OutputPathUnsafe {
        /// The symlink or file.
        path: PathBuf,
    },
    /// A record file that cannot be read as a record.
    #[error("{path}: {reason}")]
    RecordFile {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A record file that is not valid TOML or has unknown, missing or mistyped fields.
    #[error("{path}: {source}")]
    RecordSyntax {
        /// The record file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// An output of a record that does not decode (certificate, CRL); `output` names it.
    #[error("{path}: output `{output}`: {source}")]
    RecordOutput {
        /// The record file.
        path: PathBuf,
        /// The output's path, as in the record.
        output: String,
        /// Why it does not decode.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Records whose digests or sequence numbers do not chain.
    #[error("{path}: record chain broken: {reason}")]
    RecordChain {
        /// The record file.
        path: PathBuf,
        /// Where the chain breaks.
        reason: String,
    },
    /// Refusing to replace a record.
    #[error("{path}: a record exists already")]
    RecordExists {
        /// The record file.
        path: PathBuf,
    },
    /// A ceremony template that cannot be used.
    #[error("{path}: {reason}")]
    Template {
        /// The template file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A ceremony template that is not valid TOML or has unknown, missing or mistyped
    /// fields (`field` names the one read on its own, if any).
    #[error("{path}: {}{source}", field.map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    TemplateSyntax {
        /// The template file.
        path: PathBuf,
        /// The field read on its own, if any.
        field: Option<&'static str>,
        /// The TOML error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A request file that cannot be read as a request.
    #[error("{path}: {reason}")]
    RequestFile {
        /// The request file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A request file that is not valid TOML or has unknown, missing or mistyped fields.
    #[error("{path}: {source}")]
    RequestSyntax {
        /// The request file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A request field that is wrong.
    #[error("request field `{field}`: {reason}")]
    Request {
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request field (or what it names) that is not valid DER.
    #[error("request field `{field}`: {source}")]
    RequestDer {
        /// The field.
        field: String,
        /// The DER error.
        #[source]
        source: der::Error,
    },
    /// A request field that is not valid base64.
    #[error("request field `{field}`: not base64: {source}")]
    RequestBase64 {
        /// The field.
        field: String,
        /// The base64 error.
        #[source]
        source: base64ct::Error,
    },
    /// A member's SSH key that cannot be encoded for the request.
    #[error("request field `{field}`: {source}")]
    RequestSshKey {
        /// The field.
        field: String,
        /// The SSH key error.
        #[source]
        source: ssh_key::Error,
    },
    /// The journal of new PINs (`field`) cannot be encrypted to the ceremony key.
    #[error("request field `{field}`: {source}")]
    PendingPinsEncrypt {
        /// The request field holding the journal.
        field: &'static str,
        /// The age error.
        #[source]
        source: Box<age::EncryptError>,
    },
    /// The journal of new PINs (`field`) cannot be decrypted with the ceremony key.
    #[error("request field `{field}`: {source}")]
    PendingPinsDecrypt {
        /// The request field holding the journal.
        field: &'static str,
        /// The age error.
        #[source]
        source: age::DecryptError,
    },
    /// A request that breaks one of the rules every request must meet on its own (see
    /// `validate`), whoever wrote the file.
    #[error("{path}: field `{field}` breaks rule `{rule}`: {reason}")]
    RequestRule {
        /// The request file (or the record holding the request).
        path: PathBuf,
        /// The field.
        field: String,
        /// The rule, e.g. `outputs`.
        rule: &'static str,
        /// What breaks it.
        reason: String,
    },
    /// A request executed from somewhere else than its folder in the state directory.
    #[error(
        "{request}: a request executes only from its own folder in the state directory {state} (`NNN-<kind>/request.toml`); a copy elsewhere is refused"
    )]
    RequestOutsideState {
        /// The request file.
        request: PathBuf,
        /// The state directory.
        state: PathBuf,
    },
    /// Another command holds the state directory.
    #[error(transparent)]
    Lock(#[from] rust_pki_fs::LockError),
    /// A request that contradicts the history in the state's records (see `history`).
    #[error("the request breaks rule `{rule}`: {reason}")]
    History {
        /// The rule.
        rule: &'static str,
        /// What breaks it.
        reason: String,
    },
    /// The state's record chain and the log's ceremony records tell different histories
    /// (a record hidden, renamed, edited or executed a second time).
    #[error(
        "{state}: the ceremony state and the transparency log disagree: {reason}; nothing was signed"
    )]
    StateLogMismatch {
        /// The state directory.
        state: PathBuf,
        /// Where they disagree.
        reason: String,
    },
    /// A record that does not match its request, its own digests or its log entry.
    #[error("{path}: the record does not match {against}: {reason}; refusing to republish")]
    RecordMismatch {
        /// The record file.
        path: PathBuf,
        /// What it does not match, e.g. `its request`.
        against: &'static str,
        /// Where it differs.
        reason: String,
    },

    // ---- CloudHSM ----
    /// The CloudHSM gate is configured in a way that cannot work.
    #[error("CloudHSM gate: {reason}")]
    CloudHsmConfig {
        /// What cannot work.
        reason: String,
    },
    /// `cloudhsm-cli` could not be started.
    #[error("cannot run {program} for `{command}`: {source}")]
    CloudHsmSpawn {
        /// The `cloudhsm-cli` program.
        program: PathBuf,
        /// The cloudhsm-cli command, e.g. `crypto sign ecdsa`.
        command: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `cloudhsm-cli` failed: a non-zero exit status or an error response. `stderr` and
    /// `response` are the CLI's own words with the password cut out.
    #[error(
        "cloudhsm-cli {command} failed ({status}){}{}",
        if stderr.is_empty() { String::new() } else { format!("; stderr: {stderr}") },
        if response.is_empty() { String::new() } else { format!("; response: {response}") }
    )]
    CloudHsmCommand {
        /// The cloudhsm-cli command.
        command: &'static str,
        /// The exit status, or the error code of the response.
        status: String,
        /// The CLI's standard error, shortened, password cut out (may be empty).
        stderr: String,
        /// The CLI's error response, password cut out (may be empty).
        response: String,
    },
    /// The `cloudhsm-cli` session ended (the CLI exited or closed its output) before it
    /// answered `command`.
    #[error(
        "cloudhsm-cli {command}: the session ended before answering ({status}){}",
        if stderr.is_empty() { String::new() } else { format!("; stderr: {stderr}") }
    )]
    CloudHsmSessionEnded {
        /// The cloudhsm-cli command.
        command: &'static str,
        /// How the CLI ended (exit status).
        status: String,
        /// The CLI's standard error, shortened, passwords cut out (may be empty).
        stderr: String,
    },
    /// `cloudhsm-cli` did not answer `command` in time; the session was ended.
    #[error("cloudhsm-cli {command}: no answer within {after:?}; the session was ended")]
    CloudHsmTimeout {
        /// The cloudhsm-cli command.
        command: &'static str,
        /// The per-command timeout.
        after: std::time::Duration,
    },
    /// `cloudhsm-cli` succeeded but its output is not what the documentation describes.
    #[error("cloudhsm-cli {command}: unexpected output: {reason}")]
    CloudHsmOutput {
        /// The cloudhsm-cli command.
        command: &'static str,
        /// What is unexpected.
        reason: String,
    },
    /// A quorum token file that cannot be used.
    #[error("CloudHSM quorum token {path}: {reason}")]
    CloudHsmToken {
        /// The quorum token file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A quorum token file that cannot be read.
    #[error("CloudHSM quorum token {path}: cannot read it: {source}")]
    CloudHsmTokenIo {
        /// The quorum token file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A quorum token file that is not JSON (`step`: reading it, or writing it back).
    #[error("CloudHSM quorum token {path}: {step}: {source}")]
    CloudHsmTokenJson {
        /// The quorum token file.
        path: PathBuf,
        /// The step: reading it, or writing it back.
        step: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Fewer approving members signed the quorum token than the threshold: the key was
    /// not used.
    #[error(
        "CloudHSM quorum token {token}: {found} approval(s) from approving members ({}), {needed} needed; nothing was signed{}",
        if members.is_empty() { "none".to_owned() } else { members.join(", ") },
        if ignored.is_empty() { String::new() } else { format!("; not counted: {}", ignored.join("; ")) }
    )]
    CloudHsmApprovalsMissing {
        /// The quorum token file.
        token: PathBuf,
        /// The threshold.
        needed: usize,
        /// How many approving members signed.
        found: usize,
        /// The ids of the members who signed.
        members: Vec<String>,
        /// The approval files not counted, each with why.
        ignored: Vec<String>,
    },
    /// CloudHSM returned a signature that is malformed or does not verify with the root
    /// certificate's key (e.g. the key label names another key).
    #[error("CloudHSM signature with key `{key_label}`: {reason}")]
    CloudHsmSignature {
        /// The CloudHSM key's label.
        key_label: String,
        /// What is wrong with the signature.
        reason: String,
    },
    /// CloudHSM's signature does not verify with the root certificate's key.
    #[error(
        "CloudHSM signature with key `{key_label}`: {source}; is `{key_label}` the root certificate's key?"
    )]
    CloudHsmSignatureInvalid {
        /// The CloudHSM key's label.
        key_label: String,
        /// Why it does not verify.
        #[source]
        source: Box<rust_pki_ca::Error>,
    },
}

/// Message of [`Error::NotEnoughShares`].
fn not_enough_shares(threshold: usize, given: usize, bad: &[crate::bad_share::BadShare]) -> String {
    if bad.is_empty() {
        return format!("{given} share(s) given, {threshold} needed to reconstruct the secret");
    }
    let bad_list = bad
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "only {} of the {given} shares given are good, {threshold} needed; bad: {bad_list}",
        given.saturating_sub(bad.len())
    )
}
