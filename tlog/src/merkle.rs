//! RFC 6962 hashing and inclusion proof verification, for bundles: the verifier side needs
//! only this, not `tlog_tiles` (which the writer uses to store and prove). The results agree
//! with `tlog_tiles::check_record` on the transparency-dev known answers
//! (tests/vectors_merkle.rs, tests/light_verifiers.rs).

use std::fmt;

use ring::digest::{Context, SHA256};

/// A SHA-256 Merkle tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash(pub [u8; 32]);

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", hex::encode(self.0))
    }
}

#[cfg(feature = "writer")]
impl From<tlog_tiles::Hash> for Hash {
    fn from(h: tlog_tiles::Hash) -> Self {
        Hash(h.0)
    }
}

/// Why an inclusion proof fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The index is not below the tree size.
    #[error("index {index} is not below the tree size {size}")]
    OutOfRange {
        /// The entry's index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has more hashes than the path from the entry to the root.
    #[error("proof has more hashes than the path from entry to root")]
    TooLong,
    /// The proof has fewer hashes than the path from the entry to the root.
    #[error("proof has fewer hashes than the path from entry to root")]
    TooShort,
    /// The proof does not lead to the tree's root hash.
    #[error("proof does not lead to the tree's root hash")]
    Root,
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ data).
pub fn record_hash(data: &[u8]) -> Hash {
    Hash(sha256_parts(&[&[0x00], data]))
}

/// RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(sha256_parts(&[&[0x01], &left.0, &right.0]))
}

/// SHA-256 of the concatenation of `parts` (ring's, already in the verifier).
pub(crate) fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Checks that `leaf` is the hash of entry `index` in the tree of `size` entries whose root
/// is `root`, with the audit path `proof` (RFC 9162 §2.1.3.2, leaf to root).
///
/// # Errors
/// [`ProofError`] saying why not.
pub fn check_record(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    leaf: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::TooLong);
        }
        if f_n % 2 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            // Climb past levels where the node is the last one and has no right sibling.
            while f_n % 2 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::TooShort);
    }
    if r == *root {
        Ok(())
    } else {
        Err(ProofError::Root)
    }
}
