//! Reading input files: PEM (one or more sections) or a single DER object.

use std::path::Path;

use rustls_pki_types::pem::{PemObject, SectionKind};

use crate::error::Error;

/// What a file is expected to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expected {
    Certificate,
    Crl,
}

impl Expected {
    fn section(self) -> SectionKind {
        match self {
            Self::Certificate => SectionKind::Certificate,
            Self::Crl => SectionKind::Crl,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Certificate => "certificate",
            Self::Crl => "CRL",
        }
    }
}

/// Reads `path`; the error names the file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        file: path.display().to_string(),
        source,
    })
}

/// Splits `bytes` (read from `file`) into DER objects of the expected kind.
///
/// Input starting with a DER SEQUENCE tag is one DER object (trailing data is caught when it
/// is parsed); anything else is PEM, where every section must be of the expected kind (a
/// private key in a chain file is an error, not something to skip).
pub(crate) fn decode(file: &str, bytes: &[u8], expected: Expected) -> Result<Vec<Vec<u8>>, Error> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let mut objects = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) = section.map_err(|error| Error::MalformedPem {
            file: file.to_owned(),
            detail: error.to_string(),
        })?;
        if kind != expected.section() {
            return Err(Error::UnexpectedPemSection {
                file: file.to_owned(),
                label: format!("{kind:?}"),
                expected: expected.describe(),
            });
        }
        objects.push(der);
    }
    if objects.is_empty() {
        return Err(Error::NothingFound {
            file: file.to_owned(),
            expected: expected.describe(),
        });
    }
    Ok(objects)
}
