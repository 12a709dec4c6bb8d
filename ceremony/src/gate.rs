//! The cryptographic half of the quorum (DESIGN §4): how the root key is unlocked once
//! the approvals have checked out. The CA builds every TBS itself; a gate only hands back
//! a signer for the root key.

pub mod cloudhsm;

use std::path::{Path, PathBuf};

use rust_pki_ca::{Pkcs11Uri, Signer, signer::Pkcs11Signer};

use crate::{
    Error, Result,
    approval::Approval,
    contribute::contributed_share_file,
    record::Record,
    request::{Kind, Request},
    shares::{self, Manifest, ShareIdentity, USER_PIN},
    state::{CEREMONY_KEY_FILE, CeremonyDir, State},
};

/// Unlocks the root key for one ceremony, given its verified approvals.
pub trait QuorumGate: std::fmt::Debug {
    /// A signer for the root key, usable for this ceremony.
    ///
    /// # Errors
    /// The gate refuses (e.g. not enough valid shares) or the HSM fails.
    fn unlock(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<Box<dyn Signer>>;
}

/// SoftHSM2 (tests, demo): the token's user PIN exists only as Shamir shares; each
/// approver re-encrypts theirs to the ceremony's one-time key
/// (`approvals/<member>.user-pin.age`), and the PIN is rebuilt in memory only.
#[derive(Debug, Clone)]
pub struct SoftHsmShares {
    /// The user PIN's share manifest.
    pub manifest: PathBuf,
    /// The root key (its pin-source is ignored).
    pub root_key: Pkcs11Uri,
}

impl SoftHsmShares {
    /// The gate for the root initialised by the state's root-init record, in `module`.
    ///
    /// # Errors
    /// No root-init record, or a malformed one.
    pub fn from_state(state: &State, module: &Path) -> Result<Self> {
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
        let (Some(token), Some(object)) = (request.parameters.token, request.parameters.key_label)
        else {
            return Err(Error::Request {
                field: "root-init parameters".into(),
                reason: "token or key_label missing".into(),
            });
        };
        Ok(Self {
            manifest: current_share_set(state, USER_PIN)?
                .join("shares")
                .join("manifest.toml"),
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

impl QuorumGate for SoftHsmShares {
    fn unlock(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<Box<dyn Signer>> {
        let identity = ShareIdentity::from_file(&ceremony.path.join(CEREMONY_KEY_FILE))?;
        let manifest = Manifest::read(&self.manifest)?;
        let mut decrypted = Vec::with_capacity(approvals.len());
        let mut unreadable = Vec::new();
        for approval in approvals {
            let path = ceremony
                .approvals()
                .join(contributed_share_file(&approval.member, USER_PIN));
            // A missing or undecryptable share is set aside like a corrupted one: the
            // other approvers' shares may still reach the threshold.
            let share = std::fs::read(&path)
                .map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })
                .and_then(|bytes| shares::decrypt_share(&bytes, &identity));
            match share {
                Ok(share) => decrypted.push((approval.member.clone(), share)),
                Err(e) => unreadable.push(format!("{} ({e})", path.display())),
            }
        }
        if decrypted.len() < manifest.threshold {
            return Err(Error::SharesUnusable {
                threshold: manifest.threshold,
                readable: decrypted.len(),
                unreadable,
            });
        }
        for share in &unreadable {
            tracing::warn!(%share, "a share could not be read and was set aside");
        }
        let combined = shares::combine(&manifest, &decrypted)?;
        for bad in &combined.bad_shares {
            tracing::warn!(share = %bad.share, "a share was set aside; its holder needs a new one");
        }
        Ok(Box::new(Pkcs11Signer::open_with_pin(
            &self.root_key,
            &combined.secret,
        )?))
    }
}

/// Where the share set of a token secret (`user-pin`, `so-pin`) made by a ceremony lives:
/// `<ceremony folder>/<secret>/shares/`.
pub fn share_set_dir(ceremony: &Path, secret: &str) -> PathBuf {
    ceremony.join(secret)
}

/// The share set in force for `secret`: the one made by the latest ceremony that (re)shared
/// the token PINs (root-init, later roster changes).
///
/// # Errors
/// No such ceremony, or a broken record chain.
pub fn current_share_set(state: &State, secret: &str) -> Result<PathBuf> {
    let records = state.records()?;
    let (dir, _, _) = records
        .iter()
        .rev()
        .find(|(_, record, _)| record.kind.reshares_pins())
        .ok_or_else(|| Error::Request {
            field: "kind".into(),
            reason: "no root-init record: initialise the root first".into(),
        })?;
    Ok(share_set_dir(&dir.path, secret))
}

/// The request a record embeds.
///
/// # Errors
/// Malformed base64 or request.
pub fn record_request(record: &Record) -> Result<Request> {
    let bytes =
        <base64ct::Base64 as base64ct::Encoding>::decode_vec(&record.request).map_err(|e| {
            Error::Request {
                field: "record.request".into(),
                reason: e.to_string(),
            }
        })?;
    Request::parse(&bytes, Path::new("request in a ceremony record"))
}
