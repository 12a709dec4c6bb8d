//! The one error type of rust-pki-ca.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the CA core. Variants carry the file, field or
/// PKCS#11 function involved so that a message is actionable on its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- PKCS#11 / HSM ----
    /// A PKCS#11 call failed; `function` names the C_* function.
    #[error("PKCS#11 {function} failed: {source}")]
    Pkcs11 {
        /// The C_* function, e.g. `C_OpenSession`.
        function: &'static str,
        /// The cryptoki error.
        #[source]
        source: cryptoki::error::Error,
    },

    /// A PKCS#11 URI could not be parsed. Never carries the URI itself: a refused one may
    /// hold a PIN.
    #[error("invalid PKCS#11 URI: {reason}")]
    Pkcs11UriSyntax {
        /// What is wrong with the URI.
        reason: String,
    },

    /// A PKCS#11 URI has an attribute this tool does not understand or support.
    #[error(
        "PKCS#11 URI attribute `{attribute}` is not supported (path: token, object, id, type=private; query: module-path, pin-source)"
    )]
    Pkcs11UriUnknownAttribute {
        /// The attribute's name.
        attribute: String,
    },

    /// A PKCS#11 URI lacks an attribute this tool needs.
    #[error("PKCS#11 URI has no `{attribute}` attribute; it is required")]
    Pkcs11UriMissingAttribute {
        /// The attribute's name, e.g. `token`.
        attribute: &'static str,
    },

    /// A PKCS#11 URI attribute is present but its value is unusable (or repeated).
    #[error("PKCS#11 URI attribute `{attribute}`: {reason}")]
    Pkcs11UriInvalidAttribute {
        /// The attribute's name.
        attribute: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// A PKCS#11 URI carried `pin-value`: refused, whatever the value.
    #[error(
        "PKCS#11 URI has `pin-value`: refused, PINs never go on the command line (they \
             end up in shell history and `ps`); use pin-source=file:PATH, env:NAME or fd:N"
    )]
    Pkcs11UriPinValue,

    /// A PIN source specification is malformed.
    #[error("invalid PIN source `{pin_source}`: {reason} (expected file:PATH, env:NAME or fd:N)")]
    PinSourceSyntax {
        /// The PIN source as given, or `(not shown)` when it may be a PIN itself.
        pin_source: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A PIN could not be read from its source, or what was read is not a usable PIN.
    /// `pin_source` names the file, variable or descriptor; the PIN itself is never shown.
    #[error("cannot read a PIN from {pin_source}: {reason}")]
    PinRead {
        /// The PIN source: its file, variable or descriptor.
        pin_source: String,
        /// What is wrong (never the PIN itself).
        reason: String,
    },

    /// Reading a PIN's file or descriptor failed. `pin_source` names it; the PIN itself is
    /// never shown.
    #[error("cannot read a PIN from {pin_source}: {source}")]
    PinReadIo {
        /// The PIN source: its file or descriptor.
        pin_source: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The PKCS#11 module file cannot be read.
    #[error("PKCS#11 module {path}: cannot be read: {source}")]
    Pkcs11ModuleFile {
        /// The module's file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The PKCS#11 module could not be loaded or initialised: `step` says which, `hint`
    /// what to check (or is empty).
    #[error("PKCS#11 module {path}: {step}{hint}: {source}")]
    Pkcs11Module {
        /// The module's file.
        path: PathBuf,
        /// Which step failed: loading it or C_Initialize.
        step: &'static str,
        /// What to check, in parentheses after a space, or empty.
        hint: &'static str,
        /// The cryptoki error.
        #[source]
        source: cryptoki::error::Error,
    },

    /// No slot holds a token with this label.
    #[error("no PKCS#11 token labelled `{label}` in module {module}; tokens present: {}",
            if available.is_empty() { "none".to_owned() } else { available.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ") })]
    TokenNotFound {
        /// The token label looked for.
        label: String,
        /// The PKCS#11 module's file.
        module: PathBuf,
        /// The labels of the tokens present.
        available: Vec<String>,
    },

    /// More than one slot holds a token with this label: which one is meant is ambiguous.
    #[error(
        "{count} PKCS#11 tokens are labelled `{label}` in module {module}; labels must be unique"
    )]
    TokenAmbiguous {
        /// The token label.
        label: String,
        /// The PKCS#11 module's file.
        module: PathBuf,
        /// How many tokens carry it.
        count: usize,
    },

    /// C_Login returned CKR_PIN_INCORRECT.
    #[error("the user PIN was rejected by token `{token}` (CKR_PIN_INCORRECT)")]
    PinIncorrect {
        /// The token's label.
        token: String,
    },

    /// C_Login returned CKR_PIN_LOCKED.
    #[error(
        "the user PIN of token `{token}` is locked (CKR_PIN_LOCKED); the security officer must reset it"
    )]
    PinLocked {
        /// The token's label.
        token: String,
    },

    /// A PKCS#11 call on a named token failed; `function` names the C_* function.
    #[error("PKCS#11 {function} on token `{token}` failed: {source}")]
    Pkcs11Token {
        /// The token's label.
        token: String,
        /// The C_* function, e.g. `C_Login`.
        function: &'static str,
        /// The cryptoki error.
        #[source]
        source: cryptoki::error::Error,
    },

    /// C_InitToken refused before the call: a token with this label is initialised already.
    #[error(
        "refusing to initialise a token labelled `{label}` in module {module}: a token with that label exists already"
    )]
    TokenLabelExists {
        /// The token label.
        label: String,
        /// The PKCS#11 module's file.
        module: PathBuf,
    },

    /// C_InitToken impossible: every slot's token is initialised already.
    #[error(
        "cannot initialise token `{label}`: module {module} has no slot with an uninitialised token"
    )]
    NoFreeSlot {
        /// The label of the token to initialise.
        label: String,
        /// The PKCS#11 module's file.
        module: PathBuf,
    },

    /// A token label that PKCS#11 cannot hold or that could not be found again by label.
    #[error("invalid token label `{label}`: {reason}")]
    TokenLabelInvalid {
        /// The token label.
        label: String,
        /// What is wrong with it.
        reason: String,
    },

    /// C_Login as security officer (or C_SetPIN of the SO PIN) returned CKR_PIN_INCORRECT.
    #[error("the security officer PIN was rejected by token `{token}` (CKR_PIN_INCORRECT)")]
    SoPinIncorrect {
        /// The token's label.
        token: String,
    },

    /// No key object matches the URI's label (and id).
    #[error("token `{token}` has no {class} labelled `{label}`{}", id_suffix(id.as_deref()))]
    KeyNotFound {
        /// The token's label.
        token: String,
        /// The key's label, from the URI.
        label: String,
        /// The key's CKA_ID from the URI, in hex, if the URI has one.
        id: Option<String>,
        /// The object class looked for, `private key` or `public key`.
        class: &'static str,
    },

    /// Several key objects match the URI's label (and id).
    #[error("token `{token}` has {count} objects of class {class} labelled `{label}`{}; add a unique `id=` to the URI",
            id_suffix(id.as_deref()))]
    KeyAmbiguous {
        /// The token's label.
        token: String,
        /// The key's label, from the URI.
        label: String,
        /// The key's CKA_ID from the URI, in hex, if the URI has one.
        id: Option<String>,
        /// The object class looked for, `private key` or `public key`.
        class: &'static str,
        /// How many objects match.
        count: usize,
    },

    /// Key generation refused: objects with this label already exist in the token.
    #[error(
        "refusing to generate a key labelled `{label}` in token `{token}`: {count} object(s) with that label exist already"
    )]
    KeyLabelExists {
        /// The token's label.
        token: String,
        /// The key label.
        label: String,
        /// How many objects carry it.
        count: usize,
    },

    /// Key generation refused: objects with the URI's CKA_ID already exist in the token.
    #[error(
        "refusing to generate a key with id {id} in token `{token}`: {count} object(s) with that id exist already"
    )]
    KeyIdExists {
        /// The token's label.
        token: String,
        /// The CKA_ID, in hex.
        id: String,
        /// How many objects carry it.
        count: usize,
    },

    /// A key object is not a secp384r1 EC key, or its attributes are malformed.
    #[error("key `{label}` in token `{token}`: {reason}")]
    UnsupportedKey {
        /// The token's label.
        token: String,
        /// The key's label.
        label: String,
        /// What is wrong with the key.
        reason: String,
    },

    /// A key object's public key cannot be encoded (SubjectPublicKeyInfo, curve, PEM).
    #[error("key `{label}` in token `{token}`: {source}")]
    KeyEncoding {
        /// The token's label.
        token: String,
        /// The key's label.
        label: String,
        /// The encoding error.
        #[source]
        source: der::Error,
    },

    // ---- signing ----
    /// A signer produced or was given something unusable.
    #[error("signing with {key} failed: {reason}")]
    Signing {
        /// The key, as the signer describes it (e.g. its PKCS#11 URI).
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The token's raw signature is not a P-384 r||s.
    #[error(
        "signing with {key} failed: the token returned {len} bytes, not a P-384 r||s: {source}"
    )]
    SignatureLength {
        /// The key, as the signer describes it (its PKCS#11 URI).
        key: String,
        /// How many bytes the token returned.
        len: usize,
        /// The signature decoding error.
        #[source]
        source: signature::Error,
    },
    /// An in-memory key cannot be made from the random seed.
    #[error("signing with {key} failed: {source}")]
    SigningKey {
        /// The key, e.g. `in-memory key`.
        key: String,
        /// Why the key cannot be made.
        #[source]
        source: signature::Error,
    },

    // ---- policy ----
    /// The policy file is not valid TOML or has unknown/missing fields.
    #[error("{path}: {source}")]
    PolicySyntax {
        /// The policy file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A policy value breaks a rule.
    #[error("{path}: field `{field}`: {message}")]
    Policy {
        /// The policy file.
        path: PathBuf,
        /// The field, e.g. `cluster`.
        field: String,
        /// The rule it breaks.
        message: String,
    },
    /// A policy OID that is not usable.
    #[error("{path}: field `{field}`: {source}")]
    PolicyOid {
        /// The policy file.
        path: PathBuf,
        /// The field holding the OID.
        field: String,
        /// Why the OID is refused.
        #[source]
        source: crate::oid::OidError,
    },
    /// A purpose name that the policy does not define.
    #[error("unknown purpose `{name}` (policy defines: {})", known.join(", "))]
    UnknownPurpose {
        /// The purpose name asked for.
        name: String,
        /// The purposes the policy defines.
        known: Vec<String>,
    },

    // ---- certificates, CSRs, CRLs ----
    /// Malformed or unusable certificate material.
    #[error("{what}: {reason}")]
    Certificate {
        /// The certificate: its subject (and serial), or its role.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// DER encoding or decoding of certificate material failed; `what` names the object.
    #[error("{what}: {source}")]
    Der {
        /// The object, e.g. `CRL entry`.
        what: String,
        /// The DER error.
        #[source]
        source: der::Error,
    },
    /// A SubjectPublicKeyInfo cannot be encoded; `what` names the key.
    #[error("{what}: {source}")]
    Spki {
        /// The key.
        what: String,
        /// The encoding error.
        #[source]
        source: spki::Error,
    },
    /// The certificate builder refused the TBS.
    #[error("TBS: {source}")]
    CertificateBuilder {
        /// The builder's error.
        #[source]
        source: x509_cert::builder::Error,
    },
    /// A CSR that cannot be used.
    #[error("{path}: {reason}")]
    Csr {
        /// The CSR file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A signature that does not verify.
    #[error("{what}: bad signature: {reason}")]
    BadSignature {
        /// The signed object.
        what: String,
        /// Why the signature does not verify.
        reason: String,
    },
    /// The linter refused the object; nothing was signed by the real key.
    #[error("lint refused {what}; nothing was signed:\n{}", findings.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n"))]
    LintFailed {
        /// The object linted.
        what: String,
        /// The linter's findings, at least one of them an error.
        findings: Vec<crate::finding::Finding>,
    },
    /// The signed TBS differs from the linted TBS.
    #[error("{what}: the signed TBS is not byte-identical to the linted TBS")]
    TbsMismatch {
        /// The object signed.
        what: String,
    },
    /// The key does not belong to the certificate it should sign for.
    #[error("key {key} is not the key of certificate `{certificate}`")]
    KeyMismatch {
        /// The key, as the signer describes it.
        key: String,
        /// The certificate's subject.
        certificate: String,
    },
    /// The OS random source failed.
    #[error("random number generator failed: {source}")]
    Random {
        /// The random source's error.
        #[source]
        source: getrandom::Error,
    },

    // ---- files ----
    /// An input file that is not what it should be.
    #[error("{path}: {reason}")]
    Input {
        /// The input file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Refusing to overwrite an output.
    #[error("{path}: already exists; refusing to overwrite an output")]
    OutputExists {
        /// The output file.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing an output failed (the file, the step and the cause are in the source).
    #[error(transparent)]
    Write(rust_pki_fs::WriteError),
}

/// ` with id HEX` for key errors, or nothing.
fn id_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(" with id {id}")).unwrap_or_default()
}
