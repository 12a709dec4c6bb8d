//! Reading PEM-or-DER inputs and encoding PEM outputs.

use std::path::Path;

use crate::{Error, Result};

/// PEM labels of the objects we read and write.
pub mod label {
    /// X.509 certificate.
    pub const CERTIFICATE: &str = "CERTIFICATE";
    /// PKCS#10 certification request.
    pub const CSR: &str = "CERTIFICATE REQUEST";
    /// X.509 CRL.
    pub const CRL: &str = "X509 CRL";
    /// SubjectPublicKeyInfo.
    pub const PUBLIC_KEY: &str = "PUBLIC KEY";
}

/// Read a file holding one PEM block with `label`, or raw DER.
///
/// # Errors
/// Unreadable file, malformed PEM, or a PEM block with another label; the error names the file.
pub fn read_der(path: &Path, label: &str) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    decode_der(&bytes, label).map_err(|reason| Error::Input {
        path: path.to_owned(),
        reason,
    })
}

/// Decode PEM with `label` (or pass DER through).
///
/// # Errors
/// A message saying what is wrong.
pub fn decode_der(bytes: &[u8], label: &str) -> std::result::Result<Vec<u8>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let (found, der) =
        der::pem::decode_vec(bytes).map_err(|e| format!("not DER, and not valid PEM: {e}"))?;
    if found != label {
        return Err(format!(
            "expected a PEM \"{label}\" block, found \"{found}\""
        ));
    }
    Ok(der)
}

/// Encode DER as PEM with LF line endings.
///
/// # Errors
/// Only if the encoder fails, which it does not for in-memory buffers.
pub fn encode(label: &str, der: &[u8]) -> Result<String> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).map_err(|e| Error::Der {
        what: format!("PEM {label}"),
        source: e.into(),
    })
}
