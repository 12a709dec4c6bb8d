//! The token PINs as Shamir shares (SoftHSM2 backend; see docs/threat-model.md): each PIN exists only
//! as `threshold`-of-`n` shares, share *i* encrypted with age to member *i*.
//!
//! - [`generate_pin`] makes a PIN nobody sees; [`split`] shares it out
//!   ([`ShareSet`]: a public [`Manifest`] plus one age file per member) and
//!   [`write_share_set`] writes `shares/manifest.toml` and `shares/<member>.age`.
//! - A member decrypts their own share with [`decrypt_share`] and re-encrypts it to the
//!   ceremony's one-time key ([`generate_ceremony_key`], [`reencrypt_share`]).
//! - [`combine`] rebuilds the PIN from the shares given, and never silently returns a wrong
//!   one: plain Shamir turns a corrupted share, or too few shares, into a wrong secret
//!   without any error. So the manifest holds a digest of every share and a commitment to
//!   the secret: shares of another token, secret or share set, under another member's
//!   index, given twice, or not matching their digest are set aside and named, subsets of
//!   `threshold` shares are tried until one reconstructs the committed secret, and shares
//!   not consistent with it are named too. Only too few good shares fail.
//!
//! Splitting uses vsss-rs's constant-time GF(256) arithmetic over the secret's bytes.
//! Secrets, shares and reconstructions are held in zeroizing buffers; no error or log
//! message carries one. (Buffers inside age's decryption and SSH key parsing are age's.)
//!
//! ## Formats
//!
//! `shares/manifest.toml` (public):
//!
//! ```toml
//! format = "rust-pki-pin-shares/1"
//! token = "rust-root"
//! secret = "user-pin"
//! set-id = "<16 random bytes, hex>"
//! threshold = 5
//! count = 9
//! commitment = "<hex SHA-256: COMMITMENT_DOMAIN, then token, secret name and secret, each u64-BE-length-prefixed>"
//!
//! [[shares]]
//! member = "alice"
//! index = 1
//! digest = "<hex SHA-256: SHARE_DIGEST_DOMAIN, then token, secret name, set id, index byte, share value>"
//! ```
//!
//! Plaintext of a `shares/<member>.age` file, and of a share re-encrypted to a ceremony
//! key (exactly these lines, in this order; it is also valid TOML):
//!
//! ```toml
//! format = "rust-pki-pin-share/1"
//! token = "rust-root"
//! secret = "user-pin"
//! set-id = "<as in the manifest>"
//! index = 3
//! share = "<share value (one byte per secret byte), hex>"
//! ```

use std::convert::Infallible;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use getrandom::rand_core::{TryCryptoRng, TryRng};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vsss_rs::Gf256;
use vsss_rs::subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use crate::bad_share::{BadShare, BadShareReason};
use crate::{Error, Result};

/// Secret name of the token's user PIN.
pub const USER_PIN: &str = "user-pin";
/// Secret name of the token's security officer PIN.
pub const SO_PIN: &str = "so-pin";

/// `format` of a manifest.
pub const MANIFEST_FORMAT: &str = "rust-pki-pin-shares/1";
/// `format` of a share payload (the plaintext of a share's age file).
pub const PAYLOAD_FORMAT: &str = "rust-pki-pin-share/1";
/// Domain separation of the secret's commitment.
pub const COMMITMENT_DOMAIN: &[u8] = b"rust-pki/pin-shares/v1/commitment\0";
/// Domain separation of each share's digest.
pub const SHARE_DIGEST_DOMAIN: &[u8] = b"rust-pki/pin-shares/v1/share-digest\0";

/// The commitment is an unsalted hash: only high-entropy secrets may be split, never a
/// human-chosen PIN. [`generate_pin`] makes 64 characters.
const MIN_SECRET_LEN: usize = 16;
/// SoftHSM2 accepts PINs up to 255 bytes.
const MAX_SECRET_LEN: usize = 255;
/// GF(256) share indexes are the non-zero bytes.
const MAX_SHARES: usize = 255;
/// PKCS#11 token labels are at most 32 bytes.
const MAX_TOKEN_LEN: usize = 32;
const MAX_NAME_LEN: usize = 64;
/// Bound on the subsets [`combine`] tries (C(9,5) = 126; C(14,7) = 3432).
const MAX_SUBSETS: usize = 5000;

/// A new random PIN: 32 bytes from the OS (getrandom) as 64 lower-case hex characters.
///
/// # Errors
/// [`rust_pki_ca::Error::Random`] if the OS random source fails.
pub fn generate_pin() -> Result<SecretString> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice()).map_err(random_error)?;
    // Hex by hand into a buffer sized once: no reallocation leaves a copy of the PIN behind.
    let mut pin = String::with_capacity(64);
    for byte in bytes.iter() {
        for nibble in [byte >> 4, byte & 0x0f] {
            pin.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
        }
    }
    Ok(SecretString::from(pin))
}

fn random_error(source: getrandom::Error) -> Error {
    Error::Ca(rust_pki_ca::Error::Random { source })
}

// ---------------------------------------------------------------------------------------
// Recipients and identities
// ---------------------------------------------------------------------------------------

/// Whom a share is encrypted to: a member's age X25519 recipient (`age1…`) or their
/// ssh-ed25519 public key (an OpenSSH `ssh-ed25519 AAAA… [comment]` line). age cannot
/// encrypt to ECDSA or FIDO (`sk-`) SSH keys; ssh-rsa is refused too (the roster has no
/// RSA members).
#[derive(Clone)]
pub enum Recipient {
    /// An age X25519 recipient.
    X25519(age::x25519::Recipient),
    /// An ssh-ed25519 public key.
    SshEd25519(age::ssh::Recipient),
}

impl Recipient {
    fn encrypt(&self, plaintext: &[u8]) -> std::result::Result<Vec<u8>, age::EncryptError> {
        match self {
            Self::X25519(r) => age::encrypt(r, plaintext),
            Self::SshEd25519(r) => age::encrypt(r, plaintext),
        }
    }
}

impl FromStr for Recipient {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let error = |reason: &str| Error::ShareRecipient {
            recipient: shown_recipient(s),
            reason: reason.to_owned(),
        };
        if s.starts_with("age1") {
            return age::x25519::Recipient::from_str(s)
                .map(Self::X25519)
                .map_err(|e| error(&format!("not an age X25519 recipient: {e}")));
        }
        let key_type = s.split_whitespace().next().unwrap_or_default();
        match key_type {
            "ssh-ed25519" => match age::ssh::Recipient::from_str(s) {
                Ok(recipient @ age::ssh::Recipient::SshEd25519(..)) => {
                    Ok(Self::SshEd25519(recipient))
                }
                Ok(_) | Err(_) => Err(error("not a valid ssh-ed25519 public key")),
            },
            "ssh-rsa" => Err(error(
                "ssh-rsa keys are not accepted for shares: use an ssh-ed25519 key or an age X25519 recipient",
            )),
            t if t.starts_with("ecdsa-") || t.starts_with("sk-") => Err(error(&format!(
                "age cannot encrypt to {t} keys: the member needs an age X25519 recipient (age1…)"
            ))),
            _ => Err(error(
                "expected an age X25519 recipient (age1…) or an `ssh-ed25519 …` public key line",
            )),
        }
    }
}

/// What of a refused recipient string may be echoed: a public key's start, never
/// something that may be a secret key pasted in the wrong place.
fn shown_recipient(s: &str) -> String {
    let public = s.starts_with("age1")
        || s.starts_with("ssh-")
        || s.starts_with("ecdsa-")
        || s.starts_with("sk-");
    if !public {
        return "(not shown)".to_owned();
    }
    let mut shown: String = s.chars().take(40).collect();
    if shown.len() < s.len() {
        shown.push('…');
    }
    shown
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::X25519(r) => write!(f, "{r}"),
            Self::SshEd25519(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

/// A secret key that decrypts shares: a member's age identity or unencrypted
/// ssh-ed25519 key, or a ceremony's one-time X25519 key.
pub struct ShareIdentity {
    /// Names the identity in errors (its file, or "ceremony key").
    name: String,
    key: IdentityKey,
}

enum IdentityKey {
    X25519(age::x25519::Identity),
    Ssh(age::ssh::Identity),
}

impl ShareIdentity {
    /// Read an identity file: an age identity file (one `AGE-SECRET-KEY-1…` line; `#`
    /// comments allowed, as written by `age-keygen`) or an **unencrypted** OpenSSH
    /// ssh-ed25519 private key. Passphrase-protected SSH keys are refused: decrypt a copy
    /// on tmpfs (`ssh-keygen -p -N '' -f COPY`) or use an age identity.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::ShareIdentity`] naming the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?);
        Self::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Parse the contents of an identity file (see [`ShareIdentity::from_file`]); `name`
    /// names it in errors.
    ///
    /// # Errors
    /// [`Error::ShareIdentity`].
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self> {
        let error = |reason: &str| Error::ShareIdentity {
            identity: name.to_owned(),
            reason: reason.to_owned(),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| error("not UTF-8 text"))?;
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            let identity = age::ssh::Identity::from_buffer(text.as_bytes(), Some(name.into()))
                .map_err(|_| error("not a valid OpenSSH private key"))?;
            return match identity {
                age::ssh::Identity::Encrypted(_) => Err(error(
                    "the SSH key is passphrase-protected; only unencrypted keys are read: \
                     decrypt a copy on tmpfs (`ssh-keygen -p -N '' -f COPY`) or use an age identity",
                )),
                age::ssh::Identity::Unsupported(
                    age::ssh::UnsupportedKey::Type(key_type)
                    | age::ssh::UnsupportedKey::Hardware(key_type),
                ) => Err(error(&format!(
                    "age cannot decrypt with {key_type} keys; only ssh-ed25519 SSH keys can decrypt shares"
                ))),
                age::ssh::Identity::Unsupported(_) => Err(error(
                    "the SSH key is passphrase-protected in a format age cannot read; \
                     only unencrypted ssh-ed25519 keys (or age identities) can decrypt shares",
                )),
                // age does not export its key enum: tell the types apart by the public key.
                age::ssh::Identity::Unencrypted(_) => {
                    match age::ssh::Recipient::try_from(identity.clone()) {
                        Ok(age::ssh::Recipient::SshEd25519(..)) => Ok(Self {
                            name: name.to_owned(),
                            key: IdentityKey::Ssh(identity),
                        }),
                        Ok(_) | Err(_) => {
                            Err(error("only ssh-ed25519 SSH keys can decrypt shares"))
                        }
                    }
                }
            };
        }
        let mut keys = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        match (keys.next(), keys.next()) {
            (Some(line), None) if line.starts_with("AGE-SECRET-KEY-1") => {
                let identity = age::x25519::Identity::from_str(line)
                    .map_err(|e| error(&format!("invalid age identity: {e}")))?;
                Ok(Self::from_x25519(name, identity))
            }
            (Some(_), Some(_)) => Err(error(
                "holds more than one line besides comments; give a file with one age identity",
            )),
            _ => Err(error(
                "neither an age identity (AGE-SECRET-KEY-1…) nor an OpenSSH private key",
            )),
        }
    }

    /// An X25519 identity held in memory, e.g. a ceremony's one-time key.
    pub fn from_x25519(name: &str, identity: age::x25519::Identity) -> Self {
        Self {
            name: name.to_owned(),
            key: IdentityKey::X25519(identity),
        }
    }

    /// The name used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn decrypt(
        &self,
        ciphertext: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, age::DecryptError> {
        match &self.key {
            IdentityKey::X25519(identity) => age::decrypt(identity, ciphertext),
            IdentityKey::Ssh(identity) => age::decrypt(identity, ciphertext),
        }
        .map(Zeroizing::new)
    }
}

impl fmt::Debug for ShareIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.key {
            IdentityKey::X25519(_) => "x25519",
            IdentityKey::Ssh(_) => "ssh-ed25519",
        };
        f.debug_struct("ShareIdentity")
            .field("name", &self.name)
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

/// A new one-time X25519 key for a ceremony. Members re-encrypt their shares to the
/// recipient; the identity is secret: this module never writes it, the caller keeps it
/// (in memory, or encrypted) until `execute`.
pub fn generate_ceremony_key() -> (age::x25519::Identity, age::x25519::Recipient) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    (identity, recipient)
}

// ---------------------------------------------------------------------------------------
// Shares and their payload
// ---------------------------------------------------------------------------------------

/// One decrypted share. The value is zeroized on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct Share {
    token: String,
    secret_name: String,
    set_id: String,
    index: u8,
    value: Zeroizing<Vec<u8>>,
}

impl Share {
    /// The label of the token whose PIN this is a share of.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The secret's name ([`USER_PIN`], [`SO_PIN`]).
    pub fn secret_name(&self) -> &str {
        &self.secret_name
    }

    /// The id of the share set this share belongs to.
    pub fn set_id(&self) -> &str {
        &self.set_id
    }

    /// The share's index (its x coordinate, 1..=255).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The plaintext payload (module docs, "Formats"), in a buffer sized up front so that
    /// no reallocation leaves a copy of the share behind.
    fn payload(&self) -> Zeroizing<String> {
        let capacity = 160
            + self.token.len()
            + self.secret_name.len()
            + self.set_id.len()
            + 2 * self.value.len();
        let mut out = Zeroizing::new(String::with_capacity(capacity));
        let mut hex = Zeroizing::new(vec![0u8; 2 * self.value.len()]);
        // Both cannot fail: the output is exactly twice the input, hex is ASCII.
        let _ = hex::encode_to_slice(self.value.as_slice(), hex.as_mut_slice());
        let hex = std::str::from_utf8(hex.as_slice()).unwrap_or_default();
        let _ = write!(
            out,
            "format = \"{PAYLOAD_FORMAT}\"\ntoken = \"{}\"\nsecret = \"{}\"\nset-id = \"{}\"\nindex = {}\nshare = \"",
            self.token, self.secret_name, self.set_id, self.index
        );
        out.push_str(hex);
        out.push_str("\"\n");
        out
    }

    /// Parse a payload strictly: exactly the six lines of the format, in order.
    fn from_payload(payload: &[u8]) -> std::result::Result<Self, String> {
        let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8".to_owned())?;
        let mut lines = text.lines();
        let mut field = |key: &str| -> std::result::Result<&str, String> {
            let line = lines
                .next()
                .ok_or_else(|| format!("line `{key} = …` is missing"))?;
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(" = "))
                .ok_or_else(|| format!("expected line `{key} = …`"))
        };
        let string = |value: &str, key: &str| -> std::result::Result<String, String> {
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains(['"', '\\']))
                .map(str::to_owned)
                .ok_or_else(|| format!("`{key}` is not a plain quoted string"))
        };
        let format = string(field("format")?, "format")?;
        if format != PAYLOAD_FORMAT {
            return Err(format!(
                "format `{format}` is not `{PAYLOAD_FORMAT}` (made by another version?)"
            ));
        }
        let token = string(field("token")?, "token")?;
        let secret_name = string(field("secret")?, "secret")?;
        let set_id = string(field("set-id")?, "set-id")?;
        let index = field("index")?;
        let index = index
            .parse::<u8>()
            .ok()
            .filter(|i| *i != 0 && index == i.to_string())
            .ok_or_else(|| "`index` is not an integer in 1..=255".to_owned())?;
        // Never echo any part of the share line.
        let hex = field("share")?
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| "`share` is not a quoted string".to_owned())?;
        if lines.next().is_some() {
            return Err("unexpected lines after `share`".to_owned());
        }
        if hex.is_empty()
            || hex.len() % 2 != 0
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err("`share` is not non-empty lower-case hex".to_owned());
        }
        let mut value = Zeroizing::new(vec![0u8; hex.len() / 2]);
        hex::decode_to_slice(hex, value.as_mut_slice())
            .map_err(|_| "`share` is not lower-case hex".to_owned())?;
        Ok(Self {
            token,
            secret_name,
            set_id,
            index,
            value,
        })
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("token", &self.token)
            .field("secret_name", &self.secret_name)
            .field("set_id", &self.set_id)
            .field("index", &self.index)
            .field("value", &"(not shown)")
            .finish()
    }
}

/// Decrypt one share file with its member's identity (or a re-encrypted share with the
/// ceremony identity).
///
/// # Errors
/// [`Error::ShareNotForIdentity`] if the file is not encrypted to `identity` (e.g. another
/// member's share); [`Error::ShareDecrypt`] if it is not a valid age file;
/// [`Error::SharePayload`] if the plaintext is not a share payload.
pub fn decrypt_share(age_bytes: &[u8], identity: &ShareIdentity) -> Result<Share> {
    let plaintext = identity.decrypt(age_bytes).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => Error::ShareNotForIdentity {
            identity: identity.name.clone(),
        },
        source => Error::ShareDecrypt {
            identity: identity.name.clone(),
            source,
        },
    })?;
    Share::from_payload(&plaintext).map_err(|reason| Error::SharePayload {
        identity: identity.name.clone(),
        reason,
    })
}

/// Encrypt `share` (same payload) to a ceremony's one-time key.
///
/// # Errors
/// [`Error::ShareEncrypt`].
pub fn reencrypt_share(
    share: &Share,
    ceremony_recipient: &age::x25519::Recipient,
) -> Result<Vec<u8>> {
    age::encrypt(ceremony_recipient, share.payload().as_bytes()).map_err(|source| {
        Error::ShareEncrypt {
            recipient: format!("ceremony key {ceremony_recipient}"),
            source: Box::new(source),
        }
    })
}

// ---------------------------------------------------------------------------------------
// Manifest and share sets
// ---------------------------------------------------------------------------------------

/// The public description of a share set (`shares/manifest.toml`; module docs, "Formats").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Label of the token whose secret is shared.
    pub token: String,
    /// Name of the secret ([`USER_PIN`], [`SO_PIN`]).
    pub secret: String,
    /// Random id of this share set: shares of an earlier set (before a re-share) are
    /// refused by name, not merely found inconsistent.
    pub set_id: String,
    /// Shares needed to reconstruct the secret.
    pub threshold: usize,
    /// Number of shares (= `shares.len()`).
    pub count: usize,
    /// Hex SHA-256 commitment to the secret (module docs).
    pub commitment: String,
    /// Who holds which share.
    pub shares: Vec<ManifestShare>,
}

/// One member's share in a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ManifestShare {
    /// Member id (the roster's), also the share file's name: `shares/<member>.age`.
    pub member: String,
    /// Share index, 1..=255.
    pub index: u8,
    /// Hex SHA-256 digest of the share (module docs).
    pub digest: String,
}

impl Manifest {
    /// Parse and [validate](Manifest::validate) a manifest; unknown fields are errors.
    /// `path` names it in errors.
    ///
    /// # Errors
    /// [`Error::ShareManifest`].
    pub fn from_toml(text: &str, path: Option<&Path>) -> Result<Self> {
        let manifest: Self = toml::from_str(text).map_err(|source| Error::ShareManifestSyntax {
            path: path.map(Path::to_owned),
            source,
        })?;
        manifest.check(path)?;
        Ok(manifest)
    }

    /// Read `shares/manifest.toml` (or any manifest file).
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::ShareManifest`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, Some(path))
    }

    /// The manifest as TOML.
    ///
    /// # Errors
    /// [`Error::ShareManifest`] if serialisation fails.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|source| Error::TomlWrite {
            what: "share manifest".into(),
            source,
        })
    }

    /// The share entry of `member`.
    pub fn member(&self, member: &str) -> Option<&ManifestShare> {
        self.shares.iter().find(|s| s.member == member)
    }

    /// Check every rule a manifest made by [`split`] satisfies.
    ///
    /// # Errors
    /// [`Error::ShareManifest`] naming the rule broken.
    pub fn validate(&self) -> Result<()> {
        self.check(None)
    }

    fn check(&self, path: Option<&Path>) -> Result<()> {
        let error = |reason: String| Error::ShareManifest {
            path: path.map(Path::to_owned),
            reason,
        };
        if self.format != MANIFEST_FORMAT {
            return Err(error(format!(
                "format `{}` is not `{MANIFEST_FORMAT}`",
                self.format
            )));
        }
        check_token(&self.token).map_err(|r| error(format!("token: {r}")))?;
        check_secret_name(&self.secret).map_err(|r| error(format!("secret: {r}")))?;
        if !is_lower_hex(&self.set_id, 32) {
            return Err(error("set-id is not 32 lower-case hex digits".to_owned()));
        }
        if !is_lower_hex(&self.commitment, 64) {
            return Err(error(
                "commitment is not 64 lower-case hex digits".to_owned(),
            ));
        }
        if self.count != self.shares.len() {
            return Err(error(format!(
                "count is {} but {} shares are listed",
                self.count,
                self.shares.len()
            )));
        }
        check_threshold(self.threshold, self.count).map_err(error)?;
        for (i, share) in self.shares.iter().enumerate() {
            check_member_id(&share.member).map_err(|r| error(format!("member: {r}")))?;
            if share.index == 0 {
                return Err(error(format!("member `{}` has index 0", share.member)));
            }
            if !is_lower_hex(&share.digest, 64) {
                return Err(error(format!(
                    "digest of member `{}` is not 64 lower-case hex digits",
                    share.member
                )));
            }
            for earlier in &self.shares[..i] {
                if earlier.member == share.member {
                    return Err(error(format!("member `{}` is listed twice", share.member)));
                }
                if earlier.index == share.index {
                    return Err(error(format!(
                        "members `{}` and `{}` both have index {}",
                        earlier.member, share.member, share.index
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A share file ready to be written: `shares/<member>.age`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareFile {
    /// Member id.
    pub member: String,
    /// The age-encrypted share payload (binary age format).
    pub age: Vec<u8>,
}

/// The result of [`split`]: the public manifest and one encrypted file per member, in
/// the order the recipients were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareSet {
    /// The public manifest.
    pub manifest: Manifest,
    /// One file per member.
    pub files: Vec<ShareFile>,
}

impl ShareSet {
    /// The encrypted file of `member`.
    pub fn file(&self, member: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.member == member)
            .map(|f| f.age.as_slice())
    }
}

/// Split `secret` (the secret named `secret_name` of token `token`, e.g. [`USER_PIN`])
/// into one share per recipient, any `threshold` of which reconstruct it; share *i* is
/// encrypted to `recipients[i]` (member id, recipient) and gets index *i + 1*.
///
/// The secret must be high-entropy (16 to 255 bytes; use [`generate_pin`]): the
/// manifest's commitment is an unsalted hash of it.
///
/// # Errors
/// [`Error::ShareSplit`] for unusable parameters (threshold, member ids, names, secret
/// length); [`Error::ShareEncrypt`]; [`rust_pki_ca::Error::Random`].
pub fn split(
    token: &str,
    secret_name: &str,
    secret: &SecretString,
    threshold: usize,
    recipients: &[(String, Recipient)],
) -> Result<ShareSet> {
    let refuse = |reason: String| Error::ShareSplit {
        token: token.to_owned(),
        secret: secret_name.to_owned(),
        reason,
    };
    check_token(token).map_err(|r| refuse(format!("token label: {r}")))?;
    check_secret_name(secret_name).map_err(|r| refuse(format!("secret name: {r}")))?;
    check_threshold(threshold, recipients.len()).map_err(refuse)?;
    for (i, (member, _)) in recipients.iter().enumerate() {
        check_member_id(member).map_err(|r| refuse(format!("member id: {r}")))?;
        if recipients[..i].iter().any(|(m, _)| m == member) {
            return Err(refuse(format!("member `{member}` is listed twice")));
        }
    }
    let secret_bytes = secret.expose_secret().as_bytes();
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret_bytes.len()) {
        return Err(refuse(format!(
            "the secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes of high-entropy \
             data (the commitment is an unsalted hash); use a generated PIN"
        )));
    }

    let mut set_id = [0u8; 16];
    getrandom::fill(&mut set_id).map_err(random_error)?;
    let set_id = hex::encode(set_id);

    let mut rng = CheckedSysRng::default();
    let raw = Zeroizing::new(
        Gf256::split_bytes(threshold, recipients.len(), secret_bytes, &mut rng)
            .map_err(|e| refuse(format!("vsss-rs: {e}")))?,
    );
    if let Some(e) = rng.error {
        return Err(random_error(e));
    }

    let mut manifest_shares = Vec::with_capacity(recipients.len());
    let mut files = Vec::with_capacity(recipients.len());
    for ((member, recipient), raw_share) in recipients.iter().zip(raw.iter()) {
        let Some((&index, value)) = raw_share.split_first() else {
            return Err(refuse("vsss-rs returned an empty share".to_owned()));
        };
        let share = Share {
            token: token.to_owned(),
            secret_name: secret_name.to_owned(),
            set_id: set_id.clone(),
            index,
            value: Zeroizing::new(value.to_vec()),
        };
        let age = recipient
            .encrypt(share.payload().as_bytes())
            .map_err(|source| Error::ShareEncrypt {
                recipient: format!("member `{member}` ({recipient})"),
                source: Box::new(source),
            })?;
        manifest_shares.push(ManifestShare {
            member: member.clone(),
            index,
            digest: hex::encode(share_digest(
                token,
                secret_name,
                &set_id,
                index,
                &share.value,
            )),
        });
        files.push(ShareFile {
            member: member.clone(),
            age,
        });
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        token: token.to_owned(),
        secret: secret_name.to_owned(),
        set_id,
        threshold,
        count: recipients.len(),
        commitment: hex::encode(commitment(token, secret_name, secret_bytes)),
        shares: manifest_shares,
    };
    manifest.validate()?;
    Ok(ShareSet { manifest, files })
}

/// Write `DIR/shares/manifest.toml` and `DIR/shares/<member>.age`, each created with
/// O_EXCL (never overwriting). Checks first that none exists; the manifest is written
/// last. Returns the paths written, manifest first.
///
/// # Errors
/// [`rust_pki_ca::Error::OutputExists`] (via [`Error::Ca`]) if any file exists;
/// [`Error::Io`].
pub fn write_share_set(dir: &Path, set: &ShareSet) -> Result<Vec<PathBuf>> {
    set.manifest.validate()?;
    let shares_dir = dir.join("shares");
    let manifest_path = shares_dir.join("manifest.toml");
    let mut files = Vec::with_capacity(set.files.len());
    for file in &set.files {
        // split() checked the ids; a ShareSet built by hand is checked here.
        check_member_id(&file.member).map_err(|reason| Error::ShareManifest {
            path: None,
            reason: format!("member id: {reason}"),
        })?;
        files.push((shares_dir.join(format!("{}.age", file.member)), &file.age));
    }
    rust_pki_ca::output::ensure_absent(
        std::iter::once(manifest_path.as_path()).chain(files.iter().map(|(p, _)| p.as_path())),
    )?;
    std::fs::create_dir_all(&shares_dir).map_err(|source| Error::Io {
        path: shares_dir.clone(),
        source,
    })?;
    let mut written = vec![manifest_path.clone()];
    for (path, age) in &files {
        rust_pki_ca::output::write_new(path, age)?;
        written.push(path.clone());
    }
    rust_pki_ca::output::write_new(&manifest_path, set.manifest.to_toml()?.as_bytes())?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------
// Combining
// ---------------------------------------------------------------------------------------

/// The secret rebuilt by [`combine`].
#[derive(Debug)]
pub struct Combined {
    /// The secret; matches the manifest's commitment.
    pub secret: SecretString,
    /// The shares (names as given) whose reconstruction was accepted.
    pub used: Vec<String>,
    /// Shares given but set aside, with the reason: report them, their holders need new
    /// ones.
    pub bad_shares: Vec<BadShare>,
}

/// Rebuild the secret of `manifest` from decrypted shares, each named by member id or by
/// share file name (`alice`, `alice.age`, `…/shares/alice.age`).
///
/// A share is set aside, named with its [`BadShareReason`], when its name is no member of
/// the manifest, its member's share was given before, it belongs to another token, secret
/// or share set, its index is not its member's, or it does not match its digest. Subsets
/// of `threshold` of the rest are tried in order until one reconstructs the committed
/// secret (compared in constant time); shares consistent with no such subset are set
/// aside too. Every intermediate is zeroized.
///
/// # Errors
/// [`Error::ShareManifest`] for an invalid manifest; [`Error::NotEnoughShares`] if fewer
/// than `threshold` shares (or good shares) are given, naming each bad one and why;
/// [`Error::SharesInconsistent`] if no subset reconstructs the committed secret.
pub fn combine(manifest: &Manifest, shares: &[(String, Share)]) -> Result<Combined> {
    manifest.validate()?;
    let mut candidates: Vec<Candidate<'_>> = Vec::with_capacity(shares.len());
    let mut bad = Vec::new();
    // (member, name) of every share given so far under a member's name.
    let mut seen: Vec<(&str, &str)> = Vec::with_capacity(shares.len());
    for (name, share) in shares {
        match check_share(manifest, name, share, &seen) {
            Ok(entry) => {
                seen.push((&entry.member, name));
                candidates.push(Candidate {
                    name,
                    index: share.index,
                    value: &share.value,
                });
            }
            Err((member, reason)) => {
                if let Some(member) = member {
                    seen.push((member, name));
                }
                bad.push(BadShare {
                    share: name.clone(),
                    reason,
                });
            }
        }
    }
    if candidates.len() < manifest.threshold {
        return Err(Error::NotEnoughShares {
            threshold: manifest.threshold,
            given: shares.len(),
            bad,
        });
    }
    candidates.sort_by_key(|c| c.index);
    let expected = hex_32(&manifest.commitment);
    let matches = |secret: &[u8]| {
        bool::from(commitment(&manifest.token, &manifest.secret, secret).ct_eq(&expected))
    };
    match search(manifest.threshold, &candidates, matches) {
        Search::Found {
            secret,
            used,
            inconsistent,
        } => {
            let secret = std::str::from_utf8(secret.as_slice())
                .map(SecretString::from)
                .map_err(|_| Error::SharesInconsistent {
                    threshold: manifest.threshold,
                    valid: candidates.len(),
                    tried: 0,
                    complete: false,
                })?;
            bad.extend(inconsistent.into_iter().map(|share| BadShare {
                share: share.to_owned(),
                reason: BadShareReason::Inconsistent,
            }));
            Ok(Combined {
                secret,
                used: used.into_iter().map(str::to_owned).collect(),
                bad_shares: bad,
            })
        }
        Search::NotFound { tried, complete } => Err(Error::SharesInconsistent {
            threshold: manifest.threshold,
            valid: candidates.len(),
            tried,
            complete,
        }),
    }
}

/// The per-share checks of [`combine`]: the share's manifest entry, or why it is set
/// aside (with the member its name refers to, if any).
fn check_share<'m>(
    manifest: &'m Manifest,
    name: &str,
    share: &Share,
    seen: &[(&str, &str)],
) -> std::result::Result<&'m ManifestShare, (Option<&'m str>, BadShareReason)> {
    let entry = manifest_entry(manifest, name).ok_or((None, BadShareReason::UnknownMember))?;
    let member = Some(entry.member.as_str());
    if let Some((_, other)) = seen.iter().find(|(m, _)| *m == entry.member) {
        return Err((
            member,
            BadShareReason::Duplicate {
                other: (*other).to_owned(),
                member: entry.member.clone(),
            },
        ));
    }
    for (field, expected, found) in [
        ("token", &manifest.token, &share.token),
        ("secret", &manifest.secret, &share.secret_name),
        ("share set", &manifest.set_id, &share.set_id),
    ] {
        if expected != found {
            return Err((
                member,
                BadShareReason::Foreign {
                    field,
                    expected: expected.clone(),
                    found: found.clone(),
                },
            ));
        }
    }
    if share.index != entry.index {
        return Err((
            member,
            BadShareReason::IndexMismatch {
                member: entry.member.clone(),
                expected: entry.index,
                found: share.index,
            },
        ));
    }
    let digest = share_digest(
        &manifest.token,
        &manifest.secret,
        &manifest.set_id,
        share.index,
        &share.value,
    );
    if !bool::from(digest.ct_eq(&hex_32(&entry.digest))) {
        return Err((member, BadShareReason::DigestMismatch));
    }
    Ok(entry)
}

/// The manifest entry a share name refers to: a member id, or a file `<member>.age`.
fn manifest_entry<'m>(manifest: &'m Manifest, name: &str) -> Option<&'m ManifestShare> {
    let stem = Path::new(name)
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_suffix(".age"));
    manifest
        .member(name)
        .or_else(|| stem.and_then(|member| manifest.member(member)))
}

/// A share that passed the per-share checks.
struct Candidate<'a> {
    name: &'a str,
    index: u8,
    value: &'a [u8],
}

enum Search<'a> {
    Found {
        secret: Zeroizing<Vec<u8>>,
        used: Vec<&'a str>,
        inconsistent: Vec<&'a str>,
    },
    NotFound {
        tried: usize,
        complete: bool,
    },
}

/// Try subsets of `threshold` candidates in lexicographic order until one reconstructs a
/// secret that `matches`; then test every other candidate by swapping it into that subset:
/// with `threshold - 1` good shares fixed, the reconstruction is unchanged exactly when
/// the swapped-in share lies on the same polynomial (its Lagrange coefficient at 0 is
/// non-zero), so a candidate that fails is in no reconstructing subset.
fn search<'a>(
    threshold: usize,
    candidates: &[Candidate<'a>],
    matches: impl Fn(&[u8]) -> bool,
) -> Search<'a> {
    let n = candidates.len();
    if threshold == 0 || n < threshold {
        return Search::NotFound {
            tried: 0,
            complete: true,
        };
    }
    let mut subset: Vec<usize> = (0..threshold).collect();
    let mut tried = 0;
    loop {
        if tried == MAX_SUBSETS {
            return Search::NotFound {
                tried,
                complete: false,
            };
        }
        tried += 1;
        if let Some(secret) = reconstruct(candidates, &subset).filter(|s| matches(s)) {
            let inconsistent = (0..n)
                .filter(|i| !subset.contains(i))
                .filter(|&i| {
                    let mut swapped = subset.clone();
                    swapped[0] = i;
                    !reconstruct(candidates, &swapped).is_some_and(|s| matches(&s))
                })
                .map(|i| candidates[i].name)
                .collect();
            return Search::Found {
                secret,
                used: subset.iter().map(|&i| candidates[i].name).collect(),
                inconsistent,
            };
        }
        // Next combination: the rightmost position that can still move, moves.
        let Some(pos) = (0..threshold)
            .rev()
            .find(|&p| subset[p] < n - threshold + p)
        else {
            return Search::NotFound {
                tried,
                complete: true,
            };
        };
        subset[pos] += 1;
        for p in pos + 1..threshold {
            subset[p] = subset[p - 1] + 1;
        }
    }
}

/// Lagrange interpolation at 0 of the chosen candidates (vsss-rs, constant time).
fn reconstruct(candidates: &[Candidate<'_>], subset: &[usize]) -> Option<Zeroizing<Vec<u8>>> {
    let mut raw: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(Vec::with_capacity(subset.len()));
    for &i in subset {
        let candidate = candidates.get(i)?;
        let mut share = Vec::with_capacity(candidate.value.len() + 1);
        share.push(candidate.index);
        share.extend_from_slice(candidate.value);
        raw.push(share);
    }
    Gf256::combine_bytes(raw.as_slice())
        .ok()
        .map(Zeroizing::new)
}

// ---------------------------------------------------------------------------------------
// Hashes, checks, randomness
// ---------------------------------------------------------------------------------------

fn length_prefixed(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// SHA-256(COMMITMENT_DOMAIN ‖ lp(token) ‖ lp(secret name) ‖ lp(secret)), `lp` = u64
/// big-endian length then bytes.
fn commitment(token: &str, secret_name: &str, secret: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(COMMITMENT_DOMAIN);
    length_prefixed(&mut hasher, token.as_bytes());
    length_prefixed(&mut hasher, secret_name.as_bytes());
    length_prefixed(&mut hasher, secret);
    hasher.finalize().into()
}

/// SHA-256(SHARE_DIGEST_DOMAIN ‖ lp(token) ‖ lp(secret name) ‖ lp(set id) ‖ index ‖
/// lp(share value)).
fn share_digest(token: &str, secret_name: &str, set_id: &str, index: u8, value: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SHARE_DIGEST_DOMAIN);
    length_prefixed(&mut hasher, token.as_bytes());
    length_prefixed(&mut hasher, secret_name.as_bytes());
    length_prefixed(&mut hasher, set_id.as_bytes());
    hasher.update([index]);
    length_prefixed(&mut hasher, value);
    hasher.finalize().into()
}

/// 32 bytes from 64 hex digits (validated manifests only; anything else gives zeros,
/// which match no SHA-256 output).
fn hex_32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if hex::decode_to_slice(hex, &mut out).is_err() {
        out = [0u8; 32];
    }
    out
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_threshold(threshold: usize, count: usize) -> std::result::Result<(), String> {
    if count > MAX_SHARES {
        return Err(format!("{count} shares; at most {MAX_SHARES}"));
    }
    if threshold < 2 || threshold > count {
        return Err(format!(
            "threshold {threshold} with {count} shares; need 2 <= threshold <= shares"
        ));
    }
    Ok(())
}

/// Token labels go into payloads as plain quoted strings and must be PKCS#11 labels.
fn check_token(token: &str) -> std::result::Result<(), String> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(format!("`{token}` must be 1 to {MAX_TOKEN_LEN} bytes"));
    }
    if token.contains(['"', '\\']) || token.chars().any(char::is_control) {
        return Err(format!(
            "`{}` contains a quote, backslash or control character",
            token.escape_debug()
        ));
    }
    Ok(())
}

fn check_secret_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "`{}` must be 1 to {MAX_NAME_LEN} of a-z, 0-9, `-`",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// Member ids name files (`shares/<member>.age`).
fn check_member_id(member: &str) -> std::result::Result<(), String> {
    let valid = !member.is_empty()
        && member.len() <= MAX_NAME_LEN
        && !member.starts_with(['.', '-'])
        && member
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` must be 1 to {MAX_NAME_LEN} of A-Z, a-z, 0-9, `.`, `_`, `-`, not starting with `.` or `-`",
            member.escape_debug()
        ))
    }
}

/// The OS random source as the infallible RNG vsss-rs wants: a failure is recorded (and
/// the output zero-filled) instead of panicking; [`split`] checks it and discards the
/// shares.
#[derive(Debug, Default)]
struct CheckedSysRng {
    error: Option<getrandom::Error>,
}

impl CheckedSysRng {
    fn fill(&mut self, dst: &mut [u8]) {
        if let Err(e) = getrandom::fill(dst) {
            dst.fill(0);
            self.error.get_or_insert(e);
        }
    }
}

impl TryRng for CheckedSysRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> std::result::Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> std::result::Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for CheckedSysRng {}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates<'a>(shares: &'a [Vec<u8>], names: &'a [String]) -> Vec<Candidate<'a>> {
        shares
            .iter()
            .zip(names)
            .map(|(s, name)| Candidate {
                name,
                index: s[0],
                value: &s[1..],
            })
            .collect()
    }

    fn split_raw(secret: &[u8], t: usize, n: usize) -> (Vec<Vec<u8>>, Vec<String>) {
        let mut rng = CheckedSysRng::default();
        let shares = Gf256::split_bytes(t, n, secret, &mut rng).unwrap();
        assert!(rng.error.is_none());
        let names = (1..=n).map(|i| format!("m{i}")).collect();
        (shares, names)
    }

    // The subset search on its own, without the per-share digests that normally set
    // corrupted shares aside first.
    #[test]
    fn search_names_shares_off_the_polynomial() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (mut shares, names) = split_raw(secret, 5, 9);
        shares.truncate(7);
        shares[1][5] ^= 0x01;
        shares[4][1] ^= 0x80;
        let found = search(5, &candidates(&shares, &names), |s| s == secret);
        let Search::Found {
            secret: got,
            used,
            inconsistent,
        } = found
        else {
            panic!("no subset found");
        };
        assert_eq!(got.as_slice(), secret);
        assert_eq!(used, ["m1", "m3", "m4", "m6", "m7"]);
        assert_eq!(inconsistent, ["m2", "m5"]);
    }

    #[test]
    fn search_fails_with_only_four_good_shares() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (mut shares, names) = split_raw(secret, 5, 9);
        shares.truncate(6);
        shares[0][3] ^= 0x01;
        shares[5][9] ^= 0x01;
        let Search::NotFound { tried, complete } =
            search(5, &candidates(&shares, &names), |s| s == secret)
        else {
            panic!("found a subset with only 4 good shares");
        };
        assert_eq!((tried, complete), (6, true));
    }

    #[test]
    fn plain_shamir_is_silently_wrong_with_four_shares_or_a_bad_one() {
        // Why combine() needs commitments: vsss-rs reports no error in either case.
        let secret = b"0123456789abcdef0123456789abcdef";
        let (mut shares, _) = split_raw(secret, 5, 9);
        let four = Gf256::combine_bytes(&shares[..4]).unwrap();
        assert_ne!(four.as_slice(), secret);
        shares[0][1] ^= 1;
        let corrupted = Gf256::combine_bytes(&shares[..5]).unwrap();
        assert_ne!(corrupted.as_slice(), secret);
    }

    #[test]
    fn payload_round_trips_and_is_toml() {
        let share = Share {
            token: "rust-root".into(),
            secret_name: USER_PIN.into(),
            set_id: "00112233445566778899aabbccddeeff".into(),
            index: 7,
            value: Zeroizing::new(vec![0x00, 0xab, 0xff]),
        };
        let payload = share.payload();
        assert_eq!(
            payload.as_str(),
            "format = \"rust-pki-pin-share/1\"\ntoken = \"rust-root\"\nsecret = \"user-pin\"\n\
             set-id = \"00112233445566778899aabbccddeeff\"\nindex = 7\nshare = \"00abff\"\n"
        );
        let parsed: toml::Table = toml::from_str(&payload).unwrap();
        assert_eq!(parsed["index"].as_integer(), Some(7));
        let back = Share::from_payload(payload.as_bytes()).unwrap();
        assert_eq!(
            (
                back.token(),
                back.secret_name(),
                back.set_id(),
                back.index()
            ),
            ("rust-root", USER_PIN, share.set_id(), 7)
        );
        assert_eq!(back.value.as_slice(), share.value.as_slice());
        assert!(!format!("{back:?}").contains("00abff"));
    }

    #[test]
    fn payload_parser_is_strict_and_never_echoes_the_share() {
        let good = "format = \"rust-pki-pin-share/1\"\ntoken = \"t\"\nsecret = \"user-pin\"\n\
                    set-id = \"00\"\nindex = 7\nshare = \"c0ffee\"\n";
        assert!(Share::from_payload(good.as_bytes()).is_ok());
        for bad in [
            good.replace("index = 7", "index = 0"),
            good.replace("index = 7", "index = 07"),
            good.replace("index = 7", "index = 256"),
            good.replace("c0ffee", "C0FFEE"),
            good.replace("c0ffee", "c0ffe"),
            good.replace("c0ffee", "c0ffeg"),
            good.replace("c0ffee", ""),
            good.replace("/1", "/2"),
            good.replace("token = \"t\"\n", ""),
            format!("{good}extra = 1\n"),
            good.replace("secret =", "secret="),
        ] {
            let err = Share::from_payload(bad.as_bytes()).unwrap_err();
            assert!(!err.contains("c0ff") && !err.contains("C0FF"), "{err}");
        }
    }

    #[test]
    fn commitment_separates_token_name_and_secret() {
        let base = commitment("rust-root", USER_PIN, b"secret-secret-secret");
        assert_ne!(
            base,
            commitment("rust-root2", USER_PIN, b"secret-secret-secret")
        );
        assert_ne!(
            base,
            commitment("rust-root", SO_PIN, b"secret-secret-secret")
        );
        assert_ne!(
            base,
            commitment("rust-root", USER_PIN, b"secret-secret-secreT")
        );
        // Length prefixes: moving bytes between fields changes the commitment.
        assert_ne!(
            commitment("ab", "c", b"0123456789abcdef"),
            commitment("a", "bc", b"0123456789abcdef")
        );
    }

    #[test]
    fn checked_rng_fills_with_randomness() {
        let mut rng = CheckedSysRng::default();
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        rng.try_fill_bytes(&mut a).unwrap();
        rng.try_fill_bytes(&mut b).unwrap();
        assert!(rng.error.is_none());
        assert_ne!(a, b);
    }
}
