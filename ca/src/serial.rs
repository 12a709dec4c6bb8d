//! Certificate serial numbers: 126 bits from the OS CSPRNG, positive, fixed length.

use x509_cert::serial_number::SerialNumber;

use crate::{Error, Result};

/// A fresh serial: 16 random bytes with the top bit cleared (positive) and the next bit
/// set (so the DER INTEGER is always 16 bytes and never needs a leading zero).
///
/// # Errors
/// The OS random source failed.
pub fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|source| Error::Random { source })?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::new(&bytes).map_err(|source| Error::Der {
        what: "serial number".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_16_bytes_and_distinct() {
        let a = random_serial().unwrap();
        let b = random_serial().unwrap();
        assert_eq!(a.as_bytes().len(), 16);
        assert!(a.as_bytes()[0] & 0x80 == 0 && a.as_bytes()[0] & 0x40 != 0);
        assert_ne!(a, b);
    }
}
