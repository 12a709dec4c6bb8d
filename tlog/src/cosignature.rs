//! Witness cosignatures (C2SP tlog-cosignature, cosignature/v1, Ed25519).
//!
//! - key id: SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)\[:4\] (vkey type 0x04)
//! - signed message: `cosignature/v1\ntime <T>\n` ‖ checkpoint body (note text)
//! - signature: 8-byte big-endian T ‖ 64-byte Ed25519 signature
//! - line: `— <name> base64(key id ‖ signature)\n`

use base64ct::{Base64, Encoding};

#[cfg(feature = "writer")]
use crate::note::SignerKey;
use crate::note::{KeyType, VerifierKey};
use crate::{Error, Result, ed25519};

/// The message a cosignature/v1 signs.
pub fn signed_message(timestamp: u64, checkpoint_body: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(checkpoint_body);
    m
}

/// A parsed cosignature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// Witness key name.
    pub name: String,
    /// Key id (type 0x04).
    pub key_id: u32,
    /// POSIX timestamp.
    pub timestamp: u64,
    /// Ed25519 signature.
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Parses `— name base64(id ‖ timestamp ‖ sig)` (trailing newline optional).
    pub fn parse(line: &str) -> Result<Self> {
        let bad = |r: &str| Error::CosignatureMalformed(r.to_owned());
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest = line
            .strip_prefix("— ")
            .ok_or_else(|| bad("line does not start with \"— \""))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space after the key name"))?;
        if !crate::note::is_valid_key_name(name) || b64.contains(' ') {
            return Err(bad("invalid key name or extra fields"));
        }
        let raw = Base64::decode_vec(b64).map_err(|e| bad(&format!("bad base64: {e}")))?;
        if raw.len() != 4 + 8 + 64 {
            return Err(bad(&format!(
                "expected 76 bytes (id, timestamp, Ed25519 sig), found {}",
                raw.len()
            )));
        }
        let (id, rest) = raw.split_at(4);
        let (ts, sig) = rest.split_at(8);
        let key_id = u32::from_be_bytes(id.try_into().map_err(|_| bad("key id"))?);
        let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| bad("timestamp"))?);
        if timestamp > i64::MAX as u64 {
            return Err(bad("timestamp exceeds 2^63 - 1"));
        }
        let signature: [u8; 64] = sig.try_into().map_err(|_| bad("signature"))?;
        Ok(Self {
            name: name.to_owned(),
            key_id,
            timestamp,
            signature,
        })
    }

    /// The note signature line, with its trailing newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(76);
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.timestamp.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("— {} {}\n", self.name, Base64::encode_string(&raw))
    }
}

/// Cosigns a checkpoint body at `timestamp` with a witness key (type 0x04); returns the line.
#[cfg(feature = "writer")]
pub fn cosign(witness: &SignerKey, checkpoint_body: &[u8], timestamp: u64) -> Result<String> {
    if witness.key_type() != KeyType::CosignatureV1 {
        return Err(Error::KeyFormat {
            kind: "signer",
            reason: "cosigning needs a cosignature/v1 (type 0x04) key".into(),
        });
    }
    if timestamp > i64::MAX as u64 {
        return Err(Error::CosignatureMalformed(
            "timestamp exceeds 2^63 - 1".into(),
        ));
    }
    let signature = witness.sign_raw(&signed_message(timestamp, checkpoint_body));
    Ok(Cosignature {
        name: witness.name().to_owned(),
        key_id: witness.id(),
        timestamp,
        signature,
    }
    .to_line())
}

/// Verifies a cosignature line over a checkpoint body with the witness vkey (type 0x04);
/// returns the cosignature (with its timestamp).
pub fn verify_cosignature(
    line: &str,
    checkpoint_body: &[u8],
    witness: &VerifierKey,
) -> Result<Cosignature> {
    if witness.key_type() != KeyType::CosignatureV1 {
        return Err(Error::KeyFormat {
            kind: "verifier",
            reason: format!(
                "{} is not a cosignature/v1 (type 0x04) key",
                witness.label()
            ),
        });
    }
    let c = Cosignature::parse(line)?;
    if c.name != witness.name() || c.key_id != witness.id() {
        return Err(Error::CosignatureWrongKey {
            found: format!("{}+{:08x}", c.name, c.key_id),
            expected: witness.label(),
        });
    }
    // Strict, as ed25519-dalek's `verify_strict` (small-order keys and R refused).
    if !ed25519::verify_strict(
        witness.public_key(),
        &signed_message(c.timestamp, checkpoint_body),
        &c.signature,
    ) {
        return Err(Error::CosignatureBadSignature {
            witness: witness.label(),
        });
    }
    Ok(c)
}
