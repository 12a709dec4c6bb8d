//! Keys and signed notes (C2SP signed-note).
//!
//! Key text formats:
//! - verifier key (`vkey`, public): `name+hexid+base64(type ‖ public key)`
//! - signer key (`skey`, SECRET): `PRIVATE+KEY+name+hexid+base64(type ‖ seed)`
//!
//! `hexid` is the first 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), big-endian.
//! Type 0x01 is an Ed25519 note signer (the log's key); type 0x04 an Ed25519
//! tlog-cosignature/v1 witness key (see [`crate::cosignature`]).
//!
//! Notes are signed and verified with the `signed_note` crate; this module adds strict key
//! parsing with errors naming the problem, and key generation.

use std::fmt;

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};
use signed_note::{Note, NoteError, StandardSigner, StandardVerifier, Verifier, VerifierList};

use crate::{Error, Result};

/// The signature type byte of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// 0x01: Ed25519 signed-note signature (log checkpoints).
    Ed25519,
    /// 0x04: Ed25519 tlog-cosignature/v1 (witnesses).
    CosignatureV1,
}

impl KeyType {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::CosignatureV1),
            _ => None,
        }
    }
}

/// The signed-note key id: first 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key).
pub fn key_id(name: &str, key_type: KeyType, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([key_type.byte()]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// C2SP signed-note key name rule: non-empty, no Unicode whitespace, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

fn key_err(kind: &'static str, reason: impl Into<String>) -> Error {
    Error::KeyFormat {
        kind,
        reason: reason.into(),
    }
}

fn parse_id(kind: &'static str, id16: &str) -> Result<u32> {
    if id16.len() != 8 || !id16.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(key_err(
            kind,
            format!("key id {id16:?} is not 8 hex digits"),
        ));
    }
    u32::from_str_radix(id16, 16).map_err(|e| key_err(kind, format!("key id {id16:?}: {e}")))
}

fn parse_material(kind: &'static str, b64: &str) -> Result<(KeyType, [u8; 32])> {
    let raw = Base64::decode_vec(b64).map_err(|e| {
        key_err(
            kind,
            format!("key material is not padded standard base64: {e}"),
        )
    })?;
    let (&t, rest) = raw
        .split_first()
        .ok_or_else(|| key_err(kind, "empty key material"))?;
    let key_type = KeyType::from_byte(t)
        .ok_or_else(|| key_err(kind, format!("unsupported signature type 0x{t:02x}")))?;
    let bytes: [u8; 32] = rest.try_into().map_err(|_| {
        key_err(
            kind,
            format!("Ed25519 key must be 32 bytes, found {}", rest.len()),
        )
    })?;
    Ok((key_type, bytes))
}

/// A parsed verifier key (`vkey`): public, safe to print.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key_type: KeyType,
    public: ed25519_dalek::VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.key_type.byte());
        material.extend_from_slice(self.public.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.id,
            Base64::encode_string(&material)
        )
    }
}

impl VerifierKey {
    /// Parses `name+hexid+base64` strictly: valid name, 8 hex digits, canonical padded
    /// base64, known type, 32-byte valid Ed25519 point, and an id matching the key.
    pub fn parse(text: &str) -> Result<Self> {
        const K: &str = "verifier";
        let text = text.trim_end_matches(['\n', '\r']);
        let parts: Vec<&str> = text.splitn(3, '+').collect();
        let [name, id16, b64] = parts[..] else {
            return Err(key_err(
                K,
                format!(
                    "expected name+hexid+base64 (3 fields), found {} fields",
                    parts.len()
                ),
            ));
        };
        if !is_valid_key_name(name) {
            return Err(key_err(K, format!("invalid key name {name:?}")));
        }
        let id = parse_id(K, id16)?;
        let (key_type, bytes) = parse_material(K, b64)?;
        let public = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| key_err(K, "not a valid Ed25519 public key"))?;
        let want = key_id(name, key_type, &bytes);
        if want != id {
            return Err(key_err(
                K,
                format!("key id {id:08x} does not match the key (expected {want:08x})"),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key_type,
            public,
        })
    }

    /// The key name (for a log key: the log origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &ed25519_dalek::VerifyingKey {
        &self.public
    }

    /// `name+hexid` for messages.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    fn standard_verifier(&self) -> Result<StandardVerifier> {
        StandardVerifier::new(&self.to_string())
            .map_err(|e| key_err("verifier", format!("signed_note rejects it: {e}")))
    }
}

/// A signer key (`skey`). SECRET: its Debug output is redacted; the text is only available
/// through [`SignerKey::expose_secret`], for the caller to write with restrictive permissions.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    id: u32,
    key_type: KeyType,
    signing: ed25519_dalek::SigningKey,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SignerKey({}+{:08x}, secret redacted)",
            self.name, self.id
        )
    }
}

impl SignerKey {
    /// Generates a fresh Ed25519 key from the operating system's RNG.
    pub fn generate(name: &str, key_type: KeyType) -> Result<Self> {
        if !is_valid_key_name(name) {
            return Err(key_err("signer", format!("invalid key name {name:?}")));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        seed.fill(0);
        let id = key_id(name, key_type, signing.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            id,
            key_type,
            signing,
        })
    }

    /// Parses `PRIVATE+KEY+name+hexid+base64(type ‖ seed)` strictly. Errors never include
    /// the key material.
    pub fn parse(text: &str) -> Result<Self> {
        const K: &str = "signer";
        let text = text.trim_end_matches(['\n', '\r']);
        let parts: Vec<&str> = text.splitn(5, '+').collect();
        let ["PRIVATE", "KEY", name, id16, b64] = parts[..] else {
            return Err(key_err(K, "expected PRIVATE+KEY+name+hexid+base64"));
        };
        if !is_valid_key_name(name) {
            return Err(key_err(K, format!("invalid key name {name:?}")));
        }
        let id = parse_id(K, id16)?;
        let (key_type, seed) = parse_material(K, b64)?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let want = key_id(name, key_type, signing.verifying_key().as_bytes());
        if want != id {
            return Err(key_err(
                K,
                format!("key id {id:08x} does not match the key (expected {want:08x})"),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key_type,
            signing,
        })
    }

    /// The secret `skey` text. Write it only to a file readable by its owner (0600).
    pub fn expose_secret(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(self.key_type.byte());
        material.extend_from_slice(self.signing.as_bytes());
        let text = format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            Base64::encode_string(&material)
        );
        material.fill(0);
        text
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            id: self.id,
            key_type: self.key_type,
            public: self.signing.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    pub(crate) fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.signing.sign(msg).to_bytes()
    }
}

fn map_note_err(e: NoteError) -> Error {
    match e {
        NoteError::InvalidSignature { name, id } => Error::NoteBadSignature {
            key: format!("{name}+{id:08x}"),
        },
        other => Error::NoteMalformed(other.to_string()),
    }
}

/// Signs `text` (UTF-8, ending in a newline, no control characters but newline) with an
/// Ed25519 (type 0x01) key, returning the signed note bytes.
pub fn sign_note(text: &[u8], key: &SignerKey) -> Result<Vec<u8>> {
    if key.key_type != KeyType::Ed25519 {
        return Err(key_err(
            "signer",
            "note signing needs an Ed25519 (type 0x01) key",
        ));
    }
    let signer = StandardSigner::new(&key.expose_secret())
        .map_err(|e| key_err("signer", format!("signed_note rejects it: {e}")))?;
    let mut note = Note::new(text, &[]).map_err(map_note_err)?;
    note.add_sigs(&[&signer]).map_err(map_note_err)?;
    Ok(note.to_bytes())
}

/// A note whose signature by one of the known keys verified.
#[derive(Debug, Clone)]
pub struct VerifiedNote {
    /// The note text (ends with a newline).
    pub text: Vec<u8>,
    /// `name+hexid` of each known key whose signature verified.
    pub verified_by: Vec<String>,
    /// Signature lines by unknown keys (e.g. witness cosignatures), as `(name, id, bytes)`.
    pub other_signatures: Vec<(String, u32, Vec<u8>)>,
}

/// Verifies a signed note against Ed25519 (type 0x01) verifier keys. Errors: malformed
/// note, no signature by a known key, bad signature by a known key.
pub fn verify_note(msg: &[u8], keys: &[VerifierKey]) -> Result<VerifiedNote> {
    let note = Note::from_bytes(msg).map_err(map_note_err)?;
    let mut list: Vec<Box<dyn Verifier>> = Vec::new();
    for k in keys {
        if k.key_type != KeyType::Ed25519 {
            return Err(key_err(
                "verifier",
                format!("{} is not a note (type 0x01) key", k.label()),
            ));
        }
        list.push(Box::new(k.standard_verifier()?));
    }
    match note.verify(&VerifierList::new(list)) {
        Ok((verified, others)) => Ok(VerifiedNote {
            text: note.text().to_vec(),
            verified_by: verified
                .iter()
                .map(|s| format!("{}+{:08x}", s.name(), s.id()))
                .collect(),
            other_signatures: others
                .iter()
                .map(|s| (s.name().to_owned(), s.id(), s.signature().to_vec()))
                .collect(),
        }),
        Err(NoteError::UnverifiedNote) => Err(Error::NoteUnknownKey {
            known: keys
                .iter()
                .map(VerifierKey::label)
                .collect::<Vec<_>>()
                .join(", "),
            signers: signature_labels(msg).join(", "),
        }),
        Err(e) => Err(map_note_err(e)),
    }
}

/// `name+hexid` of each signature line of a (well-formed) note, for error messages.
fn signature_labels(msg: &[u8]) -> Vec<String> {
    let Ok(s) = std::str::from_utf8(msg) else {
        return Vec::new();
    };
    let Some((_, sigs)) = s.rsplit_once("\n\n") else {
        return Vec::new();
    };
    sigs.lines()
        .filter_map(|l| signed_note::Signature::from_bytes(l.as_bytes()).ok())
        .map(|s| format!("{}+{:08x}", s.name(), s.id()))
        .collect()
}
