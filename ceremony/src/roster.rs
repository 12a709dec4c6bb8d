//! The quorum roster (`policy/roster.toml`): who may approve ceremonies, with which SSH
//! key, and where their PIN shares are encrypted to. Parsed strictly (unknown fields are
//! errors) and checked on load against the policy's [`QuorumPolicy`]: exact member count,
//! unique ids, keys and recipients, and the per-organisation and per-country limits.
//!
//! Names and organisations are compared as identities, not spellings: a name may hold no
//! invisible, format or control character (rule `invisible-character`), only characters
//! UTS #39 allows in identifiers plus spaces and ASCII punctuation (`restricted-character`),
//! and letters of one script (`mixed-script`); organisations count as one when their
//! letters and digits agree after NFKC, case folding and the UTS #39 confusable skeleton,
//! so a Cyrillic look-alike, a full-width letter or a trailing dot is no new organisation.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    str::FromStr,
};

use rust_pki_ca::policy::{HsmBackend, HsmPolicy, QuorumPolicy};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, PublicKey, public::KeyData};
use time::{Date, macros::format_description};
use unicode_normalization::UnicodeNormalization;
use unicode_security::{GeneralSecurityProfile, MixedScript, skeleton};

use crate::{Error, Result};

/// The roster format this code reads.
pub const ROSTER_VERSION: u32 = 1;

/// A member's id (`[a-z0-9-]+`, unique in the roster).
pub type MemberId = String;

/// SSH key types a member may use, as OpenSSH names them.
pub const ALLOWED_KEY_TYPES: &str = "ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, \
     sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com";

const MAX_ID_LEN: usize = 64;

/// A roster member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Unique id (`[a-z0-9-]+`); the principal in `allowed_signers`.
    pub id: MemberId,
    /// Full name.
    pub name: String,
    /// Organisation, as written in the roster (limits compare it as an identity:
    /// [`organisation_identity`]).
    pub organisation: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// The key whose SSH signatures are this member's approvals.
    pub ssh_key: PublicKey,
    /// X25519 age recipient for PIN shares. Always present when `ssh_key` is not
    /// ssh-ed25519 (age cannot encrypt to ecdsa or FIDO keys).
    pub age_recipient: Option<age::x25519::Recipient>,
    /// The RSA public key whose signatures over CloudHSM quorum tokens are this member's
    /// approvals inside the HSM (required when the policy's backend is CloudHSM).
    pub cloudhsm_quorum_key: Option<QuorumKey>,
    /// Date of appointment.
    pub appointed: Date,
    /// Date by which the member must be re-appointed (or replaced).
    pub reappoint_by: Date,
}

impl Member {
    /// `SHA256:…` fingerprint of the member's SSH key, as `ssh-keygen -l` prints it.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        self.ssh_key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The OpenSSH name of the member's key type, e.g. `ssh-ed25519`.
    #[must_use]
    pub fn key_type(&self) -> String {
        self.ssh_key.algorithm().as_str().to_owned()
    }
}

/// A member's CloudHSM token-sign quorum public key: RSA, at least [`MIN_QUORUM_KEY_BITS`]
/// (AWS registers RSA-2048 quorum keys: AWS CloudHSM user guide, "registerQuorumPubKey"
/// and "Register a user's token-sign quorum strategy using CloudHSM CLI").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumKey {
    /// The SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
    /// The modulus size.
    pub bits: u32,
}

/// The smallest RSA quorum key accepted.
pub const MIN_QUORUM_KEY_BITS: u32 = 2048;

/// Longest member id on a CloudHSM roster: its users are `a_<id>` and `c_<id>`, and
/// CloudHSM usernames have at most 31 characters (AWS CloudHSM user guide, "Create an AWS
/// CloudHSM user with CloudHSM CLI").
pub const MAX_CLOUDHSM_ID_LEN: usize = 29;

impl QuorumKey {
    /// The key as a PEM `PUBLIC KEY` file (what `cloudhsm-cli` registers).
    ///
    /// # Errors
    /// Encoding failure (not expected).
    pub fn pem(&self) -> Result<String> {
        Ok(rust_pki_ca::pem::encode(
            rust_pki_ca::pem::label::PUBLIC_KEY,
            &self.spki_der,
        )?)
    }

    /// `sha256:<hex>` of the SubjectPublicKeyInfo, as `show` and `roster check` print it.
    pub fn fingerprint(&self) -> String {
        format!(
            "RSA {} sha256:{}",
            self.bits,
            hex::encode(Sha256::digest(&self.spki_der))
        )
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        use base64ct::Encoding as _;
        let text = text.trim();
        let der = if text.starts_with("-----BEGIN") {
            rust_pki_ca::pem::decode_der(text.as_bytes(), rust_pki_ca::pem::label::PUBLIC_KEY)?
        } else {
            base64ct::Base64::decode_vec(text)
                .map_err(|e| format!("neither a PEM PUBLIC KEY nor base64 DER: {e}"))?
        };
        let spki = <x509_cert::spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(&der)
            .map_err(|e| format!("not a SubjectPublicKeyInfo: {e}"))?;
        let (_, bits) = rust_pki_ca::signature::rsa_public_key(&spki)?;
        if bits < MIN_QUORUM_KEY_BITS {
            return Err(format!(
                "RSA {bits} bits: CloudHSM quorum keys are RSA of at least {MIN_QUORUM_KEY_BITS}"
            ));
        }
        Ok(Self {
            spki_der: der,
            bits,
        })
    }
}

/// One policy rule and how the roster meets it (for `roster check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// Short rule name, e.g. `max-per-organisation`.
    pub rule: &'static str,
    /// What was found, e.g. `3 of at most 3 (Placeholder Organisation A)`.
    pub detail: String,
}

/// A loaded roster that meets every rule of the policy it was loaded against.
#[derive(Debug, Clone)]
pub struct Roster {
    path: PathBuf,
    sha256: [u8; 32],
    quorum: QuorumPolicy,
    members: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    version: u32,
    #[serde(default)]
    member: Vec<MemberFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFile {
    id: String,
    name: String,
    organisation: String,
    country: String,
    ssh_key: String,
    age_recipient: Option<String>,
    #[serde(default)]
    cloudhsm_quorum_key: Option<String>,
    appointed: String,
    reappoint_by: String,
}

impl Roster {
    /// Read a roster file and check it against the quorum policy.
    ///
    /// # Errors
    /// The file cannot be read, or as [`Roster::parse`].
    pub fn load(path: &Path, quorum: &QuorumPolicy) -> Result<Self> {
        let bytes = crate::bounded::read(path, crate::bounded::MAX_STATE_FILE_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|source| Error::RosterUtf8 {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, quorum)
    }

    /// Check roster text against the quorum policy; `path` is used in messages only.
    ///
    /// # Errors
    /// [`Error::RosterSyntax`] for TOML errors and unknown, missing or mistyped fields;
    /// [`Error::RosterVersion`]; [`Error::RosterField`], [`Error::RosterKeyType`],
    /// [`Error::RosterMissingAgeRecipient`] and [`Error::RosterReappointment`] for a bad
    /// member; [`Error::RosterDuplicateId`], [`Error::RosterDuplicateKey`],
    /// [`Error::RosterDuplicateAgeRecipient`]; [`Error::RosterMemberCount`];
    /// [`Error::RosterOrganisationLimit`] and [`Error::RosterCountryLimit`].
    pub fn parse(text: &str, path: &Path, quorum: &QuorumPolicy) -> Result<Self> {
        let file: RosterFile = toml::from_str(text).map_err(|source| Error::RosterSyntax {
            path: path.to_owned(),
            source,
        })?;
        if file.version != ROSTER_VERSION {
            return Err(Error::RosterVersion {
                path: path.to_owned(),
                found: file.version,
                expected: ROSTER_VERSION,
            });
        }

        let members = file
            .member
            .into_iter()
            .map(|m| parse_member(m, path))
            .collect::<Result<Vec<_>>>()?;
        check_unique(&members, path)?;
        if members.len() != quorum.members {
            return Err(Error::RosterMemberCount {
                path: path.to_owned(),
                found: members.len(),
                expected: quorum.members,
            });
        }
        for (organisation, ids) in group(&members, by_organisation).into_values() {
            if ids.len() > quorum.max_per_organisation {
                return Err(Error::RosterOrganisationLimit {
                    path: path.to_owned(),
                    organisation,
                    members: ids,
                    max: quorum.max_per_organisation,
                });
            }
        }
        for (country, ids) in group(&members, by_country).into_values() {
            if ids.len() > quorum.max_per_country {
                return Err(Error::RosterCountryLimit {
                    path: path.to_owned(),
                    country,
                    members: ids,
                    max: quorum.max_per_country,
                });
            }
        }

        Ok(Self {
            path: path.to_owned(),
            sha256: Sha256::digest(text.as_bytes()).into(),
            quorum: quorum.clone(),
            members,
        })
    }

    /// Where the roster was read from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The members, in file order.
    #[must_use]
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member with this id.
    #[must_use]
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The member holding this key (compared by key data; comments are ignored).
    #[must_use]
    pub fn member_by_key(&self, key: &PublicKey) -> Option<&Member> {
        self.member_by_key_data(key.key_data())
    }

    /// The member holding this key data.
    #[must_use]
    pub fn member_by_key_data(&self, key: &KeyData) -> Option<&Member> {
        self.members.iter().find(|m| m.ssh_key.key_data() == key)
    }

    /// SHA-256 of the exact roster file bytes (ceremony requests pin it).
    #[must_use]
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The quorum policy the roster was checked against.
    #[must_use]
    pub fn quorum(&self) -> &QuorumPolicy {
        &self.quorum
    }

    /// The roster can serve `hsm`: on CloudHSM every member has a quorum key
    /// (`cloudhsm_quorum_key`) and an id short enough for their CloudHSM usernames.
    ///
    /// # Errors
    /// [`Error::RosterField`] naming the member and field.
    pub fn check_hsm(&self, hsm: &HsmPolicy) -> Result<()> {
        if hsm.backend != HsmBackend::CloudHsm {
            return Ok(());
        }
        for member in &self.members {
            let field = |field: &'static str, message: String| Error::RosterField {
                path: self.path.clone(),
                member: member.id.clone(),
                field,
                message,
            };
            if member.cloudhsm_quorum_key.is_none() {
                return Err(field(
                    "cloudhsm_quorum_key",
                    "required when the policy's hsm.backend is \"cloudhsm\": the RSA public \
                     key the member signs CloudHSM quorum tokens with (rule cloudhsm-quorum-key)"
                        .into(),
                ));
            }
            if member.id.len() > MAX_CLOUDHSM_ID_LEN {
                return Err(field(
                    "id",
                    format!(
                        "at most {MAX_CLOUDHSM_ID_LEN} characters on CloudHSM: the member's \
                         users are a_<id> and c_<id>, of at most 31 (rule cloudhsm-username)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How the roster meets each policy rule (all pass: [`Roster::parse`] refuses
    /// anything else), for `rust-pki ceremony roster check`.
    #[must_use]
    pub fn rule_results(&self) -> Vec<RuleResult> {
        let largest = |groups: BTreeMap<String, (String, Vec<MemberId>)>| {
            groups
                .into_values()
                .max_by_key(|(_, ids)| ids.len())
                .map(|(name, ids)| (ids.len(), name))
                .unwrap_or_default()
        };
        let (org_count, org) = largest(group(&self.members, by_organisation));
        let (country_count, country) = largest(group(&self.members, by_country));
        let recipients = self
            .members
            .iter()
            .filter(|m| m.age_recipient.is_some())
            .count();
        vec![
            RuleResult {
                rule: "members",
                detail: format!(
                    "{} members, the policy requires {}",
                    self.members.len(),
                    self.quorum.members
                ),
            },
            RuleResult {
                rule: "threshold",
                detail: format!(
                    "{} of {} approvals needed for every ceremony",
                    self.quorum.threshold, self.quorum.members
                ),
            },
            RuleResult {
                rule: "max-per-organisation",
                detail: format!(
                    "largest: {org_count} ({org}), at most {}",
                    self.quorum.max_per_organisation
                ),
            },
            RuleResult {
                rule: "max-per-country",
                detail: format!(
                    "largest: {country_count} ({country}), at most {}",
                    self.quorum.max_per_country
                ),
            },
            RuleResult {
                rule: "unique",
                detail: "ids, SSH keys and age recipients are unique".to_owned(),
            },
            RuleResult {
                rule: "cloudhsm-quorum-keys",
                detail: format!(
                    "{} of {} members have a CloudHSM quorum key (RSA), all distinct",
                    self.members
                        .iter()
                        .filter(|m| m.cloudhsm_quorum_key.is_some())
                        .count(),
                    self.members.len()
                ),
            },
            RuleResult {
                rule: "key-types",
                detail: format!(
                    "all allowed; {recipients} members have an X25519 age recipient, \
                     the others receive shares on their ssh-ed25519 key"
                ),
            },
        ]
    }
}

fn parse_member(file: MemberFile, path: &Path) -> Result<Member> {
    let field = |field: &'static str, message: String| Error::RosterField {
        path: path.to_owned(),
        member: file.id.clone(),
        field,
        message,
    };

    if file.id.is_empty()
        || file.id.len() > MAX_ID_LEN
        || !file
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(field(
            "id",
            format!("must be 1 to {MAX_ID_LEN} characters of [a-z0-9-]"),
        ));
    }
    for (name, value) in [("name", &file.name), ("organisation", &file.organisation)] {
        check_name(value).map_err(|(rule, reason)| Error::RosterName {
            path: path.to_owned(),
            member: file.id.clone(),
            field: name,
            rule,
            reason,
        })?;
    }
    // Two upper-case letters; the code is not checked against the ISO list.
    if file.country.len() != 2 || !file.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(field(
            "country",
            format!(
                "`{}` is not an ISO 3166-1 alpha-2 code (two upper-case letters)",
                file.country
            ),
        ));
    }

    if file.ssh_key.contains(['\n', '\r']) {
        return Err(field("ssh_key", "must be one line".to_owned()));
    }
    let ssh_key = PublicKey::from_openssh(file.ssh_key.trim())
        .map_err(|e| field("ssh_key", format!("not an OpenSSH public key line: {e}")))?;
    let algorithm = ssh_key.algorithm();
    let age_takes_ssh_key = match &algorithm {
        Algorithm::Ed25519 => true,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384,
        }
        | Algorithm::SkEd25519
        | Algorithm::SkEcdsaSha2NistP256 => false,
        other => {
            return Err(Error::RosterKeyType {
                path: path.to_owned(),
                member: file.id.clone(),
                algorithm: other.as_str().to_owned(),
                allowed: ALLOWED_KEY_TYPES,
            });
        }
    };

    let age_recipient = file
        .age_recipient
        .as_deref()
        .map(|r| {
            age::x25519::Recipient::from_str(r).map_err(|e| {
                field(
                    "age_recipient",
                    format!("not an X25519 age1… recipient: {e}"),
                )
            })
        })
        .transpose()?;
    if age_recipient.is_none() && !age_takes_ssh_key {
        return Err(Error::RosterMissingAgeRecipient {
            path: path.to_owned(),
            member: file.id.clone(),
            algorithm: algorithm.as_str().to_owned(),
        });
    }

    let cloudhsm_quorum_key = file
        .cloudhsm_quorum_key
        .as_deref()
        .map(|text| QuorumKey::parse(text).map_err(|m| field("cloudhsm_quorum_key", m)))
        .transpose()?;

    let appointed = parse_date(&file.appointed).map_err(|m| field("appointed", m))?;
    let reappoint_by = parse_date(&file.reappoint_by).map_err(|m| field("reappoint_by", m))?;
    if reappoint_by <= appointed {
        return Err(Error::RosterReappointment {
            path: path.to_owned(),
            member: file.id,
            appointed,
            reappoint_by,
        });
    }

    Ok(Member {
        id: file.id,
        name: file.name,
        organisation: file.organisation,
        country: file.country,
        ssh_key,
        age_recipient,
        cloudhsm_quorum_key,
        appointed,
        reappoint_by,
    })
}

fn parse_date(text: &str) -> std::result::Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("`{text}` is not a YYYY-MM-DD date: {e}"))
}

fn check_unique(members: &[Member], path: &Path) -> Result<()> {
    let mut ids: HashMap<&str, ()> = HashMap::new();
    let mut keys: HashMap<&KeyData, &str> = HashMap::new();
    let mut recipients: HashMap<&age::x25519::Recipient, &str> = HashMap::new();
    let mut quorum_keys: HashMap<&[u8], &str> = HashMap::new();
    for member in members {
        if ids.insert(&member.id, ()).is_some() {
            return Err(Error::RosterDuplicateId {
                path: path.to_owned(),
                member: member.id.clone(),
            });
        }
        if let Some(first) = keys.insert(member.ssh_key.key_data(), &member.id) {
            return Err(Error::RosterDuplicateKey {
                path: path.to_owned(),
                first: first.to_owned(),
                second: member.id.clone(),
                fingerprint: member.fingerprint(),
            });
        }
        if let Some(recipient) = &member.age_recipient
            && let Some(first) = recipients.insert(recipient, &member.id)
        {
            return Err(Error::RosterDuplicateAgeRecipient {
                path: path.to_owned(),
                first: first.to_owned(),
                second: member.id.clone(),
            });
        }
        if let Some(key) = &member.cloudhsm_quorum_key
            && let Some(first) = quorum_keys.insert(&key.spki_der, &member.id)
        {
            return Err(Error::RosterField {
                path: path.to_owned(),
                member: member.id.clone(),
                field: "cloudhsm_quorum_key",
                message: format!(
                    "the same key as member `{first}`: each member approves with their own"
                ),
            });
        }
    }
    Ok(())
}

/// Member ids grouped by `key(member)`: (name as first written, ids in file order),
/// sorted by key.
fn group(
    members: &[Member],
    key: impl Fn(&Member) -> (String, &str),
) -> BTreeMap<String, (String, Vec<MemberId>)> {
    let mut groups: BTreeMap<String, (String, Vec<MemberId>)> = BTreeMap::new();
    for member in members {
        let (key, shown) = key(member);
        groups
            .entry(key)
            .or_insert_with(|| (shown.to_owned(), Vec::new()))
            .1
            .push(member.id.clone());
    }
    groups
}

fn by_organisation(member: &Member) -> (String, &str) {
    (
        organisation_identity(&member.organisation),
        &member.organisation,
    )
}

fn by_country(member: &Member) -> (String, &str) {
    (member.country.clone(), &member.country)
}

/// What an organisation name is compared by: its letters and digits after NFKC, case
/// folding and the UTS #39 confusable skeleton (UTS #39 §4 for case-insensitive names;
/// applied twice, since some prototypes are upper case: `0` becomes `O`). So
/// `Rust Foundation`, `RUST  foundation`, `Rust Foundation.`, `Rust F0undation` and
/// `Ｒust Foundation` are one organisation, and so are all-Cyrillic `Ѕсоре` and `Scope`.
/// It errs on the side of merging (`rn` looks like `m`): a limit may bind early, never late.
#[must_use]
pub fn organisation_identity(name: &str) -> String {
    // Full case folding as far as std goes: upper then lower maps `ß` to `ss`.
    let fold = |s: &str| -> String { s.to_uppercase().to_lowercase() };
    let once = |s: &str| -> String { skeleton(&fold(&s.nfkc().collect::<String>())).collect() };
    // Recomposed (the skeleton is NFD), so that `ü` stays a letter.
    once(&once(name))
        .nfc()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The text rules of a member's name and organisation: `(rule, reason)` on failure.
fn check_name(value: &str) -> std::result::Result<(), (&'static str, String)> {
    if value.trim().is_empty() || value.trim() != value {
        return Err((
            "spacing",
            "must be non-empty, without surrounding spaces".to_owned(),
        ));
    }
    if let Some(c) = value.chars().find(|&c| is_invisible(c)) {
        return Err((
            "invisible-character",
            format!(
                "contains {}, an invisible, format or control character",
                code_point(c)
            ),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|&c| c != ' ' && !c.is_ascii_punctuation() && !c.identifier_allowed())
    {
        return Err((
            "restricted-character",
            format!(
                "contains {}, which UTS #39 does not allow in identifiers (e.g. a \
                 full-width or compatibility form); only letters, digits, spaces and ASCII \
                 punctuation",
                code_point(c)
            ),
        ));
    }
    if !value.is_single_script() {
        return Err((
            "mixed-script",
            "mixes letters of different scripts (e.g. a Cyrillic letter among Latin ones)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Control characters, whitespace other than the ASCII space, and Unicode's
/// Default_Ignorable_Code_Point set (zero-width characters, bidi controls, variation
/// selectors, tags, …): characters that change a name without showing.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// `U+200B`: a character named by its code point, never printed raw.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}
