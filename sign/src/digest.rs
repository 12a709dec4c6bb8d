//! One streaming pass over a file: its size and SHA-256 (for the log entry) and the CMS
//! message digest (SHA-384 for a P-384 leaf, SHA-512 for Ed25519, RFC 8419 §3), read in
//! 64 KiB blocks so that a file of any size takes constant memory.

use std::io::Read;
use std::path::Path;

use rust_pki_ca::KeyAlgorithm;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::{Error, Result};

/// Read size: large enough to keep the hashing fast, small enough for many in flight.
const BLOCK: usize = 64 * 1024;

/// What signing and logging need to know of a file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256 of its bytes (the log entry's digest).
    pub sha256: [u8; 32],
    /// The CMS message digest of its bytes (SHA-384 or SHA-512, by the key).
    pub message_digest: Vec<u8>,
}

/// The message digest a key of `algorithm` signs over.
enum MessageHasher {
    Sha384(Sha384),
    Sha512(Sha512),
}

/// Hash the file at `path` for a leaf key of `algorithm`.
///
/// # Errors
/// [`Error::Read`] naming the file.
pub fn digest_file(path: &Path, algorithm: KeyAlgorithm) -> Result<FileDigest> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    digest_reader(&mut file, algorithm).map_err(read_error)
}

/// Hash everything `reader` yields, as [`digest_file`] does.
///
/// # Errors
/// The reader's error.
pub fn digest_reader(
    reader: &mut dyn Read,
    algorithm: KeyAlgorithm,
) -> std::io::Result<FileDigest> {
    let mut sha256 = Sha256::new();
    let mut message = match algorithm {
        KeyAlgorithm::EcdsaP384 => MessageHasher::Sha384(Sha384::new()),
        KeyAlgorithm::Ed25519 => MessageHasher::Sha512(Sha512::new()),
    };
    let mut size = 0u64;
    let mut buffer = vec![0u8; BLOCK];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let block = &buffer[..n];
        sha256.update(block);
        match &mut message {
            MessageHasher::Sha384(h) => h.update(block),
            MessageHasher::Sha512(h) => h.update(block),
        }
        size += n as u64;
    }
    Ok(FileDigest {
        size,
        sha256: sha256.finalize().into(),
        message_digest: match message {
            MessageHasher::Sha384(h) => h.finalize().to_vec(),
            MessageHasher::Sha512(h) => h.finalize().to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_pass_matches_each_digest_across_block_boundaries() {
        // Three blocks and a bit: the streaming must not drop or repeat a block edge.
        let data: Vec<u8> = (0..3 * BLOCK + 17).map(|i| (i % 251) as u8).collect();
        let p384 = digest_reader(&mut data.as_slice(), KeyAlgorithm::EcdsaP384).unwrap();
        assert_eq!(p384.size, data.len() as u64);
        assert_eq!(p384.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(p384.message_digest, Sha384::digest(&data).to_vec());
        let ed = digest_reader(&mut data.as_slice(), KeyAlgorithm::Ed25519).unwrap();
        assert_eq!(ed.message_digest, Sha512::digest(&data).to_vec());
        let empty = digest_reader(&mut [].as_slice(), KeyAlgorithm::EcdsaP384).unwrap();
        assert_eq!(empty.size, 0);
        assert_eq!(empty.message_digest, Sha384::digest([]).to_vec());
    }
}
