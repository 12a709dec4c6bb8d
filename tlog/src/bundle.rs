//! C2SP tlog-tiles entry bundles (`tile/entries/<N>[.p/<W>]`): a sequence of log
//! entries, each a big-endian uint16 length followed by that many bytes.

use crate::tiles::FULL_WIDTH;
use crate::{Error, Result};

/// Longest entry a bundle can hold (uint16 length prefix).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;
/// Most entries in one bundle (a full tile).
pub const MAX_ENTRIES: usize = FULL_WIDTH as usize;

/// Encodes 1..=256 entries as an entry bundle.
///
/// # Errors
/// [`Error::BundleEmpty`], [`Error::BundleTooManyEntries`], [`Error::EntryTooLong`].
pub fn encode<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>> {
    check_count(entries.len())?;
    let total: usize = entries.iter().map(|e| 2 + e.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for entry in entries {
        let entry = entry.as_ref();
        let len =
            u16::try_from(entry.len()).map_err(|_| Error::EntryTooLong { len: entry.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes an entry bundle into its 1..=256 entries.
///
/// # Errors
/// [`Error::BundleTruncated`] (offset of the incomplete length or entry),
/// [`Error::BundleEmpty`], [`Error::BundleTooManyEntries`].
pub fn decode(data: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let prefix = data
            .get(offset..offset + 2)
            .ok_or(Error::BundleTruncated { offset })?;
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let entry = data
            .get(offset + 2..offset + 2 + len)
            .ok_or(Error::BundleTruncated { offset })?;
        entries.push(entry.to_vec());
        if entries.len() > MAX_ENTRIES {
            return Err(Error::BundleTooManyEntries {
                count: entries.len(),
            });
        }
        offset += 2 + len;
    }
    check_count(entries.len())?;
    Ok(entries)
}

fn check_count(count: usize) -> Result<()> {
    if count == 0 {
        Err(Error::BundleEmpty)
    } else if count > MAX_ENTRIES {
        Err(Error::BundleTooManyEntries { count })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn round_trip_and_layout() {
        let entries = vec![b"".to_vec(), b"ab".to_vec(), vec![7u8; 300]];
        let data = encode(&entries).unwrap();
        assert_eq!(&data[..6], &[0, 0, 0, 2, b'a', b'b']);
        assert_eq!(&data[6..8], &[0x01, 0x2c]);
        assert_eq!(decode(&data).unwrap(), entries);
    }

    #[test]
    fn strict_errors() {
        assert!(matches!(encode::<Vec<u8>>(&[]), Err(Error::BundleEmpty)));
        assert!(matches!(decode(&[]), Err(Error::BundleEmpty)));
        let many = vec![b"x".to_vec(); 257];
        assert!(matches!(
            encode(&many),
            Err(Error::BundleTooManyEntries { count: 257 })
        ));
        let data = encode(&many[..256]).unwrap();
        assert_eq!(decode(&data).unwrap().len(), 256);
        let mut more = data.clone();
        more.extend_from_slice(&[0, 1, b'y']);
        assert!(matches!(
            decode(&more),
            Err(Error::BundleTooManyEntries { .. })
        ));
        assert!(matches!(
            encode(&[vec![0u8; 65536]]),
            Err(Error::EntryTooLong { len: 65536 })
        ));
        assert_eq!(
            decode(&encode(&[vec![1u8; 65535]]).unwrap()).unwrap()[0].len(),
            65535
        );
        // Truncated length prefix and truncated entry.
        assert!(matches!(
            decode(&[0]),
            Err(Error::BundleTruncated { offset: 0 })
        ));
        assert!(matches!(
            decode(&[0, 1, b'a', 0, 3, b'b']),
            Err(Error::BundleTruncated { offset: 3 })
        ));
    }
}
