//! The policy a ceremony step reads: a file, or the text built into the `rust-pki`
//! binary, with the exact bytes whose SHA-256 a request pins.

use std::path::Path;

use rust_pki_ca::policy::Policy;

use crate::{Error, Result};

/// A policy's name (its path, or what the built-in one is called) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct PolicySource<'a> {
    /// The file, or how the built-in policy is named in messages.
    pub name: &'a Path,
    /// The exact bytes: a request pins their SHA-256.
    pub bytes: &'a [u8],
}

impl PolicySource<'_> {
    /// Parses and validates the policy.
    ///
    /// # Errors
    /// Text that is not UTF-8, or a policy error naming the field.
    pub fn parse(&self) -> Result<Policy> {
        let text = std::str::from_utf8(self.bytes).map_err(|e| Error::Io {
            path: self.name.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        Ok(Policy::parse(text, self.name)?)
    }
}
