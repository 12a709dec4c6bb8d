//! The cryptographic half of the quorum (docs/threat-model.md): how the root key is unlocked once
//! the approvals have checked out. The CA builds every TBS itself; a gate only hands back
//! a signer for the root key.

pub mod cloudhsm;
pub mod cloudhsm_backend;

use std::path::{Path, PathBuf};

use rust_pki_ca::{Pkcs11Uri, Signer, hsm, policy::HsmBackend, signer::Pkcs11Signer};
use secrecy::SecretString;

use crate::{
    Error, Result,
    approval::Approval,
    contribute::contributed_share_file,
    record::{KeyEvent, Record},
    request::{Kind, Request},
    roster::Roster,
    shares::{self, BadShare, BadShareReason, Manifest, SO_PIN, ShareIdentity, USER_PIN},
    state::{CEREMONY_KEY_FILE, CeremonyDir, State},
};

/// Unlocks the root key for one ceremony, given its verified approvals.
pub trait QuorumGate: std::fmt::Debug {
    /// A signer for the root key, usable for this ceremony.
    ///
    /// # Errors
    /// The gate refuses (e.g. not enough valid shares) or the HSM fails.
    fn unlock(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<Box<dyn Signer>>;

    /// For root rotation: the current root key and a new root key generated next to it.
    ///
    /// # Errors
    /// The gate cannot do it, or refuses.
    fn rotate(
        &self,
        ceremony: &CeremonyDir,
        approvals: &[Approval],
        new_key_label: &str,
    ) -> Result<(Box<dyn Signer>, Box<dyn Signer>)> {
        let _ = (ceremony, approvals, new_key_label);
        Err(Error::Request {
            field: "kind".into(),
            reason: "this quorum gate does not support root-rotate".into(),
        })
    }

    /// Hand the key over to `new_roster`: whatever the departing members hold must stop
    /// working. Returns the files to publish with the record and what changed.
    ///
    /// # Errors
    /// The gate cannot do it, or refuses.
    fn change_roster(
        &self,
        ceremony: &CeremonyDir,
        approvals: &[Approval],
        new_roster: &Roster,
        threshold: usize,
    ) -> Result<Handover> {
        let _ = (ceremony, approvals, new_roster, threshold);
        Err(Error::Request {
            field: "kind".into(),
            reason: "this quorum gate does not support roster-change".into(),
        })
    }
}

/// An HSM backend as `ceremony execute` drives it: the root's creation (root-init) and
/// the gate that unlocks it afterwards. The executor, its checks, the records and the log
/// entries are the same for every backend.
pub trait Hsm: std::fmt::Debug {
    /// Which backend this is: a request for another one is refused before anything here
    /// is called.
    fn backend(&self) -> HsmBackend;

    /// root-init: secrets nobody sees, shared `threshold`-of-n to `roster`, the root key
    /// generated in the HSM (labelled `key_label`), and a signer for it.
    ///
    /// # Errors
    /// An interrupted earlier attempt that cannot be resumed, HSM or I/O failures.
    fn create_root(
        &self,
        ceremony: &CeremonyDir,
        roster: &Roster,
        threshold: usize,
        request: &Request,
        approvals: &[Approval],
    ) -> Result<CreatedRoot>;

    /// The gate for the root the state's records created, with `roster` in force.
    ///
    /// # Errors
    /// No root-init record yet, or a malformed one.
    fn gate(&self, state: &State, roster: &Roster) -> Result<Box<dyn QuorumGate>>;
}

/// What [`QuorumGate::change_roster`] did.
#[derive(Debug)]
pub struct Handover {
    /// Files to publish with the record (share-set manifests): (path, contents).
    pub manifests: Vec<(String, String)>,
    /// What changed in the HSM, for the record.
    pub events: Vec<KeyEvent>,
}

/// What [`Hsm::create_root`] made.
pub struct CreatedRoot {
    /// The new root key.
    pub signer: Box<dyn Signer>,
    /// Files to publish with the record (share-set manifests): (path, contents).
    pub manifests: Vec<(String, String)>,
    /// What else the HSM got, for the record (users, quorum keys, quorum values).
    pub events: Vec<KeyEvent>,
}

impl std::fmt::Debug for CreatedRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedRoot")
            .field("signer", &self.signer.describe())
            .field("manifests", &self.manifests)
            .field("events", &self.events)
            .finish()
    }
}

/// SoftHSM2 through PKCS#11 (tests, demo): root-init initialises a token.
#[derive(Debug, Clone)]
pub struct SoftHsm2 {
    /// The PKCS#11 module.
    pub module: PathBuf,
}

impl Hsm for SoftHsm2 {
    fn backend(&self) -> HsmBackend {
        HsmBackend::SoftHsm2
    }

    /// PINs nobody sees, shared to the roster; the token, the key.
    fn create_root(
        &self,
        ceremony: &CeremonyDir,
        roster: &Roster,
        threshold: usize,
        request: &Request,
        _approvals: &[Approval],
    ) -> Result<CreatedRoot> {
        let (token, key_label) = root_init_parameters(request)?;
        // Shares first: a crash after this leaves shares for a token that may not exist,
        // never a token whose PINs are lost. Shares from an interrupted attempt mean the
        // token may be initialised with PINs nobody can rebuild without a record: stop.
        if share_set_dir(&ceremony.path, USER_PIN).exists() {
            return Err(Error::InterruptedRootInit {
                dir: ceremony.path.clone(),
            });
        }
        let pins = share_new_pins(&ceremony.path, token, roster, threshold)?;
        crate::fault::point("shared");
        hsm::init_token(&self.module, token, &pins.so)?;
        hsm::init_user_pin(&self.module, token, &pins.so, &pins.user)?;
        crate::fault::point("token-initialised");
        let uri = Pkcs11Uri {
            token: token.to_owned(),
            object: key_label.to_owned(),
            id: None,
            module_path: self.module.clone(),
            pin_source: None,
        };
        let signer = Pkcs11Signer::generate_with_pin(
            &uri,
            rust_pki_ca::KeyAlgorithm::EcdsaP384,
            &pins.user,
        )?;
        Ok(CreatedRoot {
            signer: Box::new(signer),
            manifests: pins.manifests,
            events: Vec::new(),
        })
    }

    fn gate(&self, state: &State, _roster: &Roster) -> Result<Box<dyn QuorumGate>> {
        Ok(Box::new(SoftHsmShares::from_state(state, &self.module)?))
    }
}

/// root-init's token (SoftHSM2) or cluster user prefix, and the root key's label.
///
/// # Errors
/// Either is missing.
pub fn root_init_parameters(request: &Request) -> Result<(&str, &str)> {
    match (&request.parameters.token, &request.parameters.key_label) {
        (Some(token), Some(key_label)) => Ok((token, key_label)),
        _ => Err(Error::Request {
            field: "parameters".into(),
            reason: "root-init needs token and key_label".into(),
        }),
    }
}

/// SoftHSM2 (tests, demo): the token's user PIN exists only as Shamir shares; each
/// approver re-encrypts theirs to the ceremony's one-time key
/// (`approvals/<member>.user-pin.age`), and the PIN is rebuilt in memory only.
#[derive(Debug, Clone)]
pub struct SoftHsmShares {
    /// The ceremony folder whose share sets are in force (`<folder>/<secret>/shares/`).
    pub share_sets: PathBuf,
    /// The root key (its pin-source is ignored).
    pub root_key: Pkcs11Uri,
}

impl SoftHsmShares {
    /// The gate for the root initialised by the state's root-init record, in `module`.
    ///
    /// # Errors
    /// No root-init record, or a malformed one.
    pub fn from_state(state: &State, module: &Path) -> Result<Self> {
        let (token, object) = current_root_key(state)?;
        Ok(Self {
            share_sets: current_share_sets(state)?,
            root_key: Pkcs11Uri {
                token,
                object,
                id: None,
                module_path: module.to_owned(),
                pin_source: None,
            },
        })
    }
}

/// root-init's `token` (the label of the share sets) and the current root key's label:
/// the latest rotation's, else root-init's.
///
/// # Errors
/// No root-init record, or a malformed one.
pub fn current_root_key(state: &State) -> Result<(String, String)> {
    let records = state.records()?;
    let (_, record, _) = records
        .iter()
        .rev()
        .find(|(_, record, _)| record.kind == Kind::RootInit)
        .ok_or_else(|| Error::Request {
            field: "kind".into(),
            reason: "no root-init record: initialise the root first".into(),
        })?;
    let request = record_request(record)?;
    let rotated = records
        .iter()
        .rev()
        .find(|(_, record, _)| record.kind == Kind::RootRotate)
        .map(|(_, record, _)| record_request(record))
        .transpose()?
        .and_then(|r| r.parameters.key_label);
    match (
        request.parameters.token,
        rotated.or(request.parameters.key_label),
    ) {
        (Some(token), Some(object)) => Ok((token, object)),
        _ => Err(Error::Request {
            field: "root-init parameters".into(),
            reason: "token or key_label missing".into(),
        }),
    }
}

impl QuorumGate for SoftHsmShares {
    fn unlock(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<Box<dyn Signer>> {
        let pin = self.rebuild(ceremony, approvals, USER_PIN)?;
        Ok(Box::new(Pkcs11Signer::open_with_pin(&self.root_key, &pin)?))
    }

    fn rotate(
        &self,
        ceremony: &CeremonyDir,
        approvals: &[Approval],
        new_key_label: &str,
    ) -> Result<(Box<dyn Signer>, Box<dyn Signer>)> {
        let pin = self.rebuild(ceremony, approvals, USER_PIN)?;
        let old = Pkcs11Signer::open_with_pin(&self.root_key, &pin)?;
        let uri = Pkcs11Uri {
            object: new_key_label.to_owned(),
            ..self.root_key.clone()
        };
        let new =
            Pkcs11Signer::generate_with_pin(&uri, rust_pki_ca::KeyAlgorithm::EcdsaP384, &pin)?;
        Ok((Box::new(old), Box::new(new)))
    }

    /// New user and SO PINs (C_SetPIN with the old ones, rebuilt from the approvers'
    /// shares), shared to the new roster only: the old share sets no longer open the token.
    fn change_roster(
        &self,
        ceremony: &CeremonyDir,
        approvals: &[Approval],
        new_roster: &Roster,
        threshold: usize,
    ) -> Result<Handover> {
        let old_user = self.rebuild(ceremony, approvals, USER_PIN)?;
        let old_so = self.rebuild(ceremony, approvals, SO_PIN)?;
        let token = &self.root_key.token;
        let module = &self.root_key.module_path;
        let key = ceremony_key(ceremony)?;
        let journal = ceremony.path.join(PENDING_PINS_FILE);
        // New shares first, so that new PINs are never set without being shared; the new
        // PINs also go to a journal encrypted to this ceremony's one-time key, so that a
        // rerun after a crash can finish the change instead of locking the token out.
        let pins = if journal.exists() {
            resume_pins(&journal, &key, &ceremony.path)?
        } else {
            // Share sets without a journal are from a run that crashed before any PIN was
            // set: nobody can use them, start over.
            for secret in [USER_PIN, SO_PIN] {
                let stale = share_set_dir(&ceremony.path, secret);
                if stale.exists() {
                    std::fs::remove_dir_all(&stale).map_err(|source| Error::Io {
                        path: stale,
                        source,
                    })?;
                }
            }
            let pins = share_new_pins(&ceremony.path, token, new_roster, threshold)?;
            write_journal(&journal, &key, &pins)?;
            pins
        };
        crate::fault::point("reshared");
        change_once(
            hsm::set_user_pin(module, token, &old_user, &pins.user),
            || hsm::Token::open_with_pin(module, token, &pins.user).map(drop),
        )?;
        crate::fault::point("user-pin-changed");
        change_once(hsm::set_so_pin(module, token, &old_so, &pins.so), || {
            hsm::set_so_pin(module, token, &pins.so, &pins.so)
        })?;
        Ok(Handover {
            manifests: pins.manifests,
            events: vec![KeyEvent {
                action: "pin-changed".into(),
                key: "root token user and SO PINs".into(),
                spki_sha256: String::new(),
            }],
        })
    }
}

/// The journal of an interrupted roster change (see [`SoftHsmShares`]'s `change_roster`).
pub const PENDING_PINS_FILE: &str = "pending-pins.age";

/// A PIN change that may already have happened in an interrupted run: if the token
/// refuses the old PIN, the change counts as done only if the new PIN works.
fn change_once(
    change: rust_pki_ca::Result<()>,
    new_pin_works: impl FnOnce() -> rust_pki_ca::Result<()>,
) -> Result<()> {
    match change {
        Ok(()) => Ok(()),
        Err(
            rust_pki_ca::Error::PinIncorrect { .. } | rust_pki_ca::Error::SoPinIncorrect { .. },
        ) => Ok(new_pin_works()?),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn ceremony_key(ceremony: &CeremonyDir) -> Result<age::x25519::Identity> {
    let path = ceremony.path.join(CEREMONY_KEY_FILE);
    let text =
        zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?);
    text.trim().parse().map_err(|_| Error::Request {
        field: CEREMONY_KEY_FILE.into(),
        reason: "not an age X25519 identity".into(),
    })
}

fn write_journal(path: &Path, key: &age::x25519::Identity, pins: &NewPins) -> Result<()> {
    use secrecy::ExposeSecret;
    let text = zeroize::Zeroizing::new(format!(
        "{}\n{}\n",
        pins.user.expose_secret(),
        pins.so.expose_secret()
    ));
    let encrypted = age::encrypt(&key.to_public(), text.as_bytes()).map_err(|source| {
        Error::PendingPinsEncrypt {
            field: PENDING_PINS_FILE,
            source: Box::new(source),
        }
    })?;
    Ok(rust_pki_ca::output::write_new(path, &encrypted)?)
}

/// The text of a journal of generated secrets ([`PENDING_PINS_FILE`]), decrypted with the
/// ceremony key, in memory only.
///
/// # Errors
/// Unreadable, too large, not for this key, or not UTF-8.
pub(crate) fn read_journal(
    path: &Path,
    key: &age::x25519::Identity,
) -> Result<zeroize::Zeroizing<String>> {
    let bytes = crate::bounded::read(path, crate::bounded::MAX_SHARE_BYTES)?;
    let plain = zeroize::Zeroizing::new(age::decrypt(key, &bytes).map_err(|source| {
        Error::PendingPinsDecrypt {
            field: PENDING_PINS_FILE,
            source,
        }
    })?);
    let text = std::str::from_utf8(&plain).map_err(|_| Error::Request {
        field: PENDING_PINS_FILE.into(),
        reason: "not UTF-8".into(),
    })?;
    Ok(zeroize::Zeroizing::new(text.to_owned()))
}

fn resume_pins(path: &Path, key: &age::x25519::Identity, ceremony_dir: &Path) -> Result<NewPins> {
    let text = read_journal(path, key)?;
    let mut lines = text.lines();
    let (Some(user), Some(so)) = (lines.next(), lines.next()) else {
        return Err(Error::Request {
            field: PENDING_PINS_FILE.into(),
            reason: "truncated".into(),
        });
    };
    let folder = ceremony_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut manifests = Vec::new();
    for secret in [USER_PIN, SO_PIN] {
        let manifest = share_set_dir(ceremony_dir, secret)
            .join("shares")
            .join("manifest.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|source| Error::Io {
            path: manifest,
            source,
        })?;
        manifests.push((format!("shares/{folder}/{secret}.manifest.toml"), text));
    }
    Ok(NewPins {
        user: SecretString::from(user),
        so: SecretString::from(so),
        manifests,
    })
}

impl SoftHsmShares {
    /// Rebuild the token secret `secret` (`user-pin`, `so-pin`) from the approvers' shares
    /// (`approvals/<member>.<secret>.age`, re-encrypted to the ceremony key), in memory.
    ///
    /// # Errors
    /// Fewer than the threshold of readable, consistent shares.
    pub fn rebuild(
        &self,
        ceremony: &CeremonyDir,
        approvals: &[Approval],
        secret: &str,
    ) -> Result<SecretString> {
        rebuild_secret(&self.share_sets, ceremony, approvals, secret)
    }
}

/// Rebuild the secret `secret` (`user-pin`, `so-pin`) shared by the ceremony folder
/// `share_sets` from the approvers' shares (`approvals/<member>.<secret>.age`,
/// re-encrypted to the ceremony key), in memory.
///
/// # Errors
/// Fewer than the threshold of readable, consistent shares.
pub fn rebuild_secret(
    share_sets: &Path,
    ceremony: &CeremonyDir,
    approvals: &[Approval],
    secret: &str,
) -> Result<SecretString> {
    let identity = ShareIdentity::from_file(&ceremony.path.join(CEREMONY_KEY_FILE))?;
    let manifest = Manifest::read(
        &share_set_dir(share_sets, secret)
            .join("shares")
            .join("manifest.toml"),
    )?;
    let mut decrypted = Vec::with_capacity(approvals.len());
    let mut unreadable = Vec::new();
    for approval in approvals {
        let path = ceremony
            .approvals()
            .join(contributed_share_file(&approval.member, secret));
        // A missing or undecryptable share is set aside like a corrupted or foreign
        // one: the other approvers' shares may still reach the threshold.
        let share = crate::bounded::read(&path, crate::bounded::MAX_SHARE_BYTES)
            .and_then(|bytes| shares::decrypt_share(&bytes, &identity));
        match share {
            Ok(share) => decrypted.push((approval.member.clone(), share)),
            Err(e) => unreadable.push(BadShare {
                share: path.display().to_string(),
                reason: BadShareReason::Unreadable {
                    reason: e.to_string(),
                },
            }),
        }
    }
    let combined = match shares::combine(&manifest, &decrypted) {
        Ok(combined) => combined,
        // Name every share set aside, the unreadable ones first.
        Err(Error::NotEnoughShares { threshold, bad, .. }) => {
            return Err(Error::NotEnoughShares {
                threshold,
                given: approvals.len(),
                bad: unreadable.into_iter().chain(bad).collect(),
            });
        }
        Err(e) => return Err(e),
    };
    for bad in unreadable.iter().chain(&combined.bad_shares) {
        tracing::warn!(%secret, "share set aside, its holder needs a new one: {bad}");
    }
    Ok(combined.secret)
}

/// New token PINs, already shared to a roster; the PINs themselves only in memory.
#[derive(Debug)]
pub struct NewPins {
    /// The new user PIN.
    pub user: SecretString,
    /// The new security officer PIN.
    pub so: SecretString,
    /// The public manifests of the two share sets (output path, text), for the record.
    pub manifests: Vec<(String, String)>,
}

/// Generate a user and an SO PIN that nobody sees, split each `threshold`-of-n to the
/// roster's members (age to their X25519 recipient, else their ssh-ed25519 key) and write
/// the share sets into `ceremony_dir` (`<secret>/shares/`, never overwriting).
///
/// # Errors
/// A member without a usable recipient, randomness or I/O failures.
pub fn share_new_pins(
    ceremony_dir: &Path,
    token: &str,
    roster: &Roster,
    threshold: usize,
) -> Result<NewPins> {
    let user = shares::generate_pin()?;
    let so = shares::generate_pin()?;
    let manifests = share_secrets(
        ceremony_dir,
        token,
        roster,
        threshold,
        &[(USER_PIN, &user), (SO_PIN, &so)],
    )?;
    Ok(NewPins {
        user,
        so,
        manifests,
    })
}

/// Split each `(name, secret)` `threshold`-of-n to the roster's members (age to their
/// X25519 recipient, else their ssh-ed25519 key) and write the share sets into
/// `ceremony_dir` (`<name>/shares/`, never overwriting). Returns the public manifests
/// (output path, text), for the record.
///
/// # Errors
/// A member without a usable recipient, randomness or I/O failures.
pub fn share_secrets(
    ceremony_dir: &Path,
    label: &str,
    roster: &Roster,
    threshold: usize,
    secrets: &[(&str, &SecretString)],
) -> Result<Vec<(String, String)>> {
    let recipients = roster
        .members()
        .iter()
        .map(|m| {
            let recipient = match &m.age_recipient {
                Some(r) => shares::Recipient::X25519(r.clone()),
                None => m
                    .ssh_key
                    .to_openssh()
                    .map_err(|source| Error::RequestSshKey {
                        field: m.id.clone(),
                        source,
                    })?
                    .parse()?,
            };
            Ok((m.id.clone(), recipient))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut manifests = Vec::new();
    for (name, secret) in secrets {
        let set = shares::split(label, name, secret, threshold, &recipients)?;
        shares::write_share_set(&share_set_dir(ceremony_dir, name), &set)?;
        // Named after the ceremony: each (re)sharing publishes its own manifests.
        let folder = ceremony_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        manifests.push((
            format!("shares/{folder}/{name}.manifest.toml"),
            set.manifest.to_toml()?,
        ));
    }
    Ok(manifests)
}

/// Where the share set of a token secret (`user-pin`, `so-pin`) made by a ceremony lives:
/// `<ceremony folder>/<secret>/shares/`.
pub fn share_set_dir(ceremony: &Path, secret: &str) -> PathBuf {
    ceremony.join(secret)
}

/// The ceremony folder whose share sets are in force: the latest ceremony that (re)shared
/// the token PINs (root-init, later roster changes).
///
/// # Errors
/// No such ceremony, or a broken record chain.
pub fn current_share_sets(state: &State) -> Result<PathBuf> {
    let records = state.records()?;
    let (dir, _, _) = records
        .iter()
        .rev()
        .find(|(_, record, _)| record.kind.reshares_pins())
        .ok_or_else(|| Error::Request {
            field: "kind".into(),
            reason: "no root-init record: initialise the root first".into(),
        })?;
    Ok(dir.path.clone())
}

/// The request a record embeds.
///
/// # Errors
/// Malformed base64 or request.
pub fn record_request(record: &Record) -> Result<Request> {
    let bytes = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&record.request).map_err(
        |source| Error::RequestBase64 {
            field: "record.request".into(),
            source,
        },
    )?;
    Request::parse(&bytes, Path::new("request in a ceremony record"))
}
