//! The one error type of `rust-pki-sign`.

use std::path::PathBuf;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a file was not signed, or its signature not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file to sign could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is given twice (it would be signed twice and its second .sig refused).
    #[error("{} is given twice", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
    },
    /// What was given to sign is not a regular file.
    #[error("{}: not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A file's name cannot go into a log entry (not UTF-8, or no file name at all).
    #[error("{}: the file name must be UTF-8 and name a file", path.display())]
    FileName {
        /// The file.
        path: PathBuf,
    },
    /// A certificate given to sign with is malformed or not usable.
    #[error("the {what} certificate: {reason}")]
    Certificate {
        /// `leaf` or `delegate`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The leaf certificate does not certify the signing key.
    #[error("the leaf certificate ({leaf}) does not certify the key {key}: refusing to sign")]
    KeyMismatch {
        /// The leaf's subject.
        leaf: String,
        /// The key, as its signer describes it.
        key: String,
    },
    /// The leaf (or its delegate) lacks the purpose's extended key usage.
    #[error(
        "the {what} certificate ({subject}) is not for purpose `{purpose}`: its extended key \
         usages are [{found}], not {eku}; refusing to sign"
    )]
    WrongPurpose {
        /// `leaf` or `delegate`.
        what: &'static str,
        /// Its subject.
        subject: String,
        /// The purpose asked for.
        purpose: String,
        /// The purpose's EKU.
        eku: String,
        /// The EKUs the certificate has.
        found: String,
    },
    /// The delegate given did not issue the leaf.
    #[error("the leaf certificate ({leaf}) was not issued by the delegate ({delegate}): {reason}")]
    NotIssuedByDelegate {
        /// The leaf's subject.
        leaf: String,
        /// The delegate's subject.
        delegate: String,
        /// Why not.
        reason: String,
    },
    /// The leaf is expired or not valid yet.
    #[error(
        "the leaf certificate ({leaf}) is not valid now ({now}): valid from {not_before} to \
         {not_after}; refusing to sign"
    )]
    LeafNotValid {
        /// The leaf's subject.
        leaf: String,
        /// The time of signing.
        now: String,
        /// Its notBefore.
        not_before: String,
        /// Its notAfter.
        not_after: String,
    },
    /// The token refused or failed to sign.
    #[error("{}: signing failed", path.display())]
    Signing {
        /// The file being signed.
        path: PathBuf,
        /// The token's error (boxed: it is large, and rare).
        source: Box<rust_pki_ca::Error>,
    },
    /// The token returned a signature that does not verify with the leaf's key: a faulty
    /// token or the wrong key. Nothing is written.
    #[error(
        "{}: the signature from {key} does not verify with the leaf certificate's key; \
         nothing was written",
        path.display()
    )]
    BadSignature {
        /// The file being signed.
        path: PathBuf,
        /// The key, as its signer describes it.
        key: String,
    },
    /// A DER structure could not be encoded.
    #[error("encoding the {what}: {source}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        source: der::Error,
    },
    /// A signature file exists already: signatures are never overwritten.
    #[error("{} exists: refusing to overwrite a signature (nothing was signed)", path.display())]
    SignatureExists {
        /// The existing `.sig` file.
        path: PathBuf,
    },
    /// Writing a signature file failed.
    #[error(transparent)]
    Write(#[from] rust_pki_fs::WriteError),
    /// A log entry could not be built.
    #[error("{}: log entry: {source}", path.display())]
    Entry {
        /// The signed file.
        path: PathBuf,
        /// The log's error.
        source: rust_pki_tlog::Error,
    },
}

impl Error {
    /// Whether going on could do harm (exit status 3): a leaf that does not fit the key,
    /// purpose, delegate or time, a bad signature from the token, a signature file that
    /// exists.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::KeyMismatch { .. }
            | Self::WrongPurpose { .. }
            | Self::NotIssuedByDelegate { .. }
            | Self::LeafNotValid { .. }
            | Self::BadSignature { .. }
            | Self::SignatureExists { .. } => true,
            Self::Write(e) => matches!(e, rust_pki_fs::WriteError::Exists { .. }),
            _ => false,
        }
    }
}

/// An encoding error naming `what`.
pub(crate) fn encoding(what: &'static str) -> impl FnOnce(der::Error) -> Error {
    move |source| Error::Encoding { what, source }
}
