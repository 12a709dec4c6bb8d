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
//! Notes are signed with the `signed_note` crate (feature `writer`) and verified here, on
//! `ring` (module `ed25519`), with the same rules as `signed_note` 0.2: this is what
//! a verifier needs, without the writer's crates. Key parsing is strict, with errors naming
//! the problem; key generation is part of the writer.

use std::collections::BTreeSet;
use std::fmt;

use base64ct::{Base64, Encoding};

use crate::{Error, Result, ed25519};

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
    let d = crate::merkle::sha256_parts(&[name.as_bytes(), b"\n", &[key_type.byte()], public]);
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// C2SP signed-note key name rule: non-empty, no Unicode whitespace, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

/// How every signer key (and only a signer key) starts.
const SECRET_PREFIX: &str = "PRIVATE+KEY+";

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
    let raw = Base64::decode_vec(b64).map_err(|source| Error::KeyBase64 { kind, source })?;
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
    public: [u8; 32],
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
        material.extend_from_slice(&self.public);
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
        if text.starts_with(SECRET_PREFIX) {
            return Err(Error::SecretKeyAsPublic);
        }
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
        if !ed25519::is_valid_point(&bytes) {
            return Err(key_err(K, "not a valid Ed25519 public key"));
        }
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
            public: bytes,
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

    /// The Ed25519 public key (32 bytes, a valid curve point).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// `name+hexid` for messages.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }
}

/// A signer key (`skey`, feature `writer`). SECRET: its Debug output is redacted; the text is only available
/// through [`SignerKey::expose_secret`], for the caller to write with restrictive permissions.
#[cfg(feature = "writer")]
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    id: u32,
    key_type: KeyType,
    signing: ed25519_dalek::SigningKey,
}

#[cfg(feature = "writer")]
impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SignerKey({}+{:08x}, secret redacted)",
            self.name, self.id
        )
    }
}

#[cfg(feature = "writer")]
impl SignerKey {
    /// Generates a fresh Ed25519 key from the operating system's RNG.
    pub fn generate(name: &str, key_type: KeyType) -> Result<Self> {
        if !is_valid_key_name(name) {
            return Err(key_err("signer", format!("invalid key name {name:?}")));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(Error::Random)?;
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
        if !text.starts_with(SECRET_PREFIX) && VerifierKey::parse(text).is_ok() {
            return Err(Error::PublicKeyAsSecret);
        }
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
            public: self.signing.verifying_key().to_bytes(),
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

#[cfg(feature = "writer")]
fn map_note_err(e: signed_note::NoteError) -> Error {
    Error::NoteMalformed(e.to_string())
}

/// Signs `text` (UTF-8, ending in a newline, no control characters but newline) with an
/// Ed25519 (type 0x01) key, returning the signed note bytes.
#[cfg(feature = "writer")]
pub fn sign_note(text: &[u8], key: &SignerKey) -> Result<Vec<u8>> {
    use signed_note::{Note, StandardSigner};
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

/// Largest note accepted, and most signature lines (the limits of `signed_note` 0.2).
const MAX_NOTE_SIZE: usize = 1_000_000;
const MAX_NOTE_SIGNATURES: usize = 100;

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NoteSignature {
    name: String,
    id: u32,
    signature: Vec<u8>,
}

impl NoteSignature {
    fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::NoteMalformed(reason.into())
}

/// Splits a signed note into its text (with its final newline) and signature lines, with
/// C2SP signed-note's rules: UTF-8 without control characters but newline, the text ends
/// at the last blank line, every line after it is `— <name> <base64(id ‖ signature)>`.
fn parse_note(msg: &[u8]) -> Result<(&[u8], Vec<NoteSignature>)> {
    if msg.len() > MAX_NOTE_SIZE {
        return Err(malformed(format!(
            "{} bytes, more than {MAX_NOTE_SIZE}",
            msg.len()
        )));
    }
    let text = std::str::from_utf8(msg).map_err(|e| malformed(format!("not UTF-8 ({e})")))?;
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(malformed(format!("control character {c:?}")));
    }
    let (body, sigs) = text
        .rsplit_once("\n\n")
        .ok_or_else(|| malformed("no blank line before the signatures"))?;
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or_else(|| malformed("the last signature line does not end in a newline"))?;
    let mut parsed = Vec::new();
    for line in sigs.split('\n') {
        if parsed.len() == MAX_NOTE_SIGNATURES {
            return Err(malformed(format!(
                "more than {MAX_NOTE_SIGNATURES} signatures"
            )));
        }
        parsed.push(parse_signature_line(line)?);
    }
    Ok((&msg[..=body.len()], parsed))
}

fn parse_signature_line(line: &str) -> Result<NoteSignature> {
    let bad = |reason: &str| malformed(format!("signature line {line:?}: {reason}"));
    let rest = line
        .strip_prefix("— ")
        .ok_or_else(|| bad("does not start with \"— \""))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or_else(|| bad("no space after the key name"))?;
    let raw = Base64::decode_vec(b64).map_err(|_| bad("not padded standard base64"))?;
    if raw.len() < 5 {
        return Err(bad("shorter than a key id and a signature"));
    }
    if !is_valid_key_name(name) {
        return Err(bad("invalid key name"));
    }
    let (id, signature) = raw.split_at(4);
    Ok(NoteSignature {
        name: name.to_owned(),
        id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        signature: signature.to_vec(),
    })
}

/// Verifies a signed note against Ed25519 (type 0x01) verifier keys. Errors: malformed
/// note, no signature by a known key, bad signature by a known key. As in `signed_note`,
/// every signature by a known key must verify (the first one per key counts), and
/// signatures by other keys are returned once each.
pub fn verify_note(msg: &[u8], keys: &[VerifierKey]) -> Result<VerifiedNote> {
    let (text, signatures) = parse_note(msg)?;
    if let Some(k) = keys.iter().find(|k| k.key_type != KeyType::Ed25519) {
        return Err(key_err(
            "verifier",
            format!("{} is not a note (type 0x01) key", k.label()),
        ));
    }
    let mut verified_by = Vec::new();
    let mut other_signatures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut seen_other = BTreeSet::new();
    for sig in &signatures {
        let mut known = keys.iter().filter(|k| k.name == sig.name && k.id == sig.id);
        match (known.next(), known.next()) {
            (Some(_), Some(_)) => {
                return Err(malformed(format!("ambiguous key {}", sig.label())));
            }
            (Some(key), None) => {
                if !seen.insert((&sig.name, sig.id)) {
                    continue;
                }
                if !ed25519::verify(&key.public, text, &sig.signature) {
                    return Err(Error::NoteBadSignature { key: sig.label() });
                }
                verified_by.push(sig.label());
            }
            (None, _) => {
                if seen_other.insert(sig) {
                    other_signatures.push((sig.name.clone(), sig.id, sig.signature.clone()));
                }
            }
        }
    }
    if verified_by.is_empty() {
        return Err(Error::NoteUnknownKey {
            known: keys
                .iter()
                .map(VerifierKey::label)
                .collect::<Vec<_>>()
                .join(", "),
            signers: signatures
                .iter()
                .map(NoteSignature::label)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(VerifiedNote {
        text: text.to_vec(),
        verified_by,
        other_signatures,
    })
}
