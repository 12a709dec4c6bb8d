//! The AWS CloudHSM gate (docs/threat-model.md): the root key carries a CloudHSM key quorum
//! (`use-private-key-quorum-value` = the policy threshold), so CloudHSM itself refuses to
//! sign unless that many crypto users approved. Key quorum works only through CloudHSM
//! CLI, so this gate drives one `cloudhsm-cli interactive` [`session::Session`] per
//! ceremony operation: AWS documents that a quorum token is only valid in the login
//! session that generated it
//! (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-crypto-user.html>).
//! The CA still builds every TBS.
//!
//! [`CloudHsmCli::unlock`] starts the session and logs in as the crypto user who owns the
//! root key. Then, for every signature, the [`CloudHsmSigner`]:
//! 1. writes the TBS to `<ceremony>/cloudhsm/sign-NNN.tbs`;
//! 2. runs `quorum token-sign generate --service key-usage` in that session, writing the
//!    unsigned token to `<ceremony>/cloudhsm/sign-NNN.token.json`;
//! 3. waits (woken by the approvals folder changing, up to
//!    [`CloudHsmCli::approval_timeout`]) for approving members to sign that token off the
//!    bastion with their registered quorum key (sign the base64-decoded `token` with
//!    `openssl pkeyutl -sign -pkeyopt digest:sha256`, add `{"username": …, "signature":
//!    <base64>}` to `signatures`,
//!    <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-first-time.html>)
//!    and to drop their copy into the ceremony's approvals folder as
//!    `<member>[.<anything>].cloudhsm-token.json`. Only members whose SSHSIG approval of
//!    the request verified count, each once, by their CloudHSM username; files for other
//!    tokens are ignored. The wait ends as soon as the threshold is reached, or once every
//!    such member has dropped a file for this token (no more can come);
//! 4. refuses, without touching the key, if fewer than the threshold approved; otherwise
//!    merges the signatures into `<ceremony>/cloudhsm/sign-NNN.approved.json`;
//! 5. runs `crypto sign ecdsa … --hash-function sha384 --approval …` in the same session,
//!    converts the raw `r||s` answer to a DER `Ecdsa-Sig-Value`, and checks it against the
//!    root certificate's key.
//!
//! Dropping the signer quits the session. The crypto user's password comes from a
//! [`PinSource`] and reaches the CLI only over the session's stdin, never argv, the
//! environment, logs or errors.
//!
//! Untested against a real CloudHSM: the format of a signed key-usage token
//! (`token`, `signatures`) and how the interactive CLI splits quoted words are taken
//! from the documentation and the predecessor of this gate, not from a cluster.

pub mod cli;
pub mod session;

use std::{
    collections::{BTreeMap, BTreeSet},
    mem::MaybeUninit,
    path::{Path, PathBuf},
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use base64ct::{Base64, Encoding as _};
use der::{Decode as _, Encode as _, asn1::UintRef};
use rust_pki_ca::{KeyAlgorithm, PinSource, Signer};
use rust_pki_fs::durable;
use rustix::{
    event::{PollFd, PollFlags, Timespec, poll},
    fd::OwnedFd,
    fs::inotify,
    io::Errno,
};
use serde_json::Value;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub use self::cli::MAX_KEY_QUORUM;
use self::{
    cli::Cli,
    session::{Role, Service, Session},
};
use crate::{
    Error, Result, approval::Approval, gate::QuorumGate, roster::MemberId, state::CeremonyDir,
};

/// Approval files in the approvals folder end with this.
pub const TOKEN_APPROVAL_SUFFIX: &str = ".cloudhsm-token.json";
/// The gate's working folder inside a ceremony folder.
pub const WORK_DIR: &str = "cloudhsm";
/// CloudHSM's smallest quorum of approvers is two.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli.html>
pub const MIN_KEY_QUORUM: usize = 2;
/// Quorum tokens expire ten minutes after creation by default; stop waiting before.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli.html>
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(9 * 60);

/// Length of a raw P-384 `r||s` signature.
const P384_RAW_LEN: usize = 96;
const P384_SCALAR_LEN: usize = 48;

/// CloudHSM (production): the root key's CloudHSM key quorum gates each signature; see
/// the [module documentation](self).
#[derive(Debug, Clone)]
pub struct CloudHsmCli {
    /// How to run `cloudhsm-cli`.
    pub cli: Cli,
    /// The crypto user who owns the root key and runs the ceremony's signing commands.
    pub username: String,
    /// Where that user's password comes from (`file:`, `env:` or `fd:`).
    pub password: PinSource,
    /// `label` of the root's key pair in CloudHSM.
    pub key_label: String,
    /// The root certificate's SubjectPublicKeyInfo: the signer's public key, and what
    /// every signature is checked against.
    pub root_spki: SubjectPublicKeyInfoOwned,
    /// Approvals needed (the policy's quorum threshold; CloudHSM enforces the key's own
    /// quorum value as well).
    pub threshold: usize,
    /// CloudHSM crypto-user name of a roster member, where it differs from the member id.
    pub usernames: BTreeMap<MemberId, String>,
    /// How long to wait for the members' token approvals, per signature.
    pub approval_timeout: Duration,
    /// Tests only: skip this gate's own counts (request approvals and token approvals
    /// against the threshold) so that a test can show CloudHSM's key quorum refusing by
    /// itself. Never set outside tests.
    #[doc(hidden)]
    pub skip_own_quorum_check_for_tests: bool,
}

impl CloudHsmCli {
    /// A gate running `cloudhsm-cli` from `PATH` as crypto user `username`.
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`] if the settings cannot work (see [`Self::check`]).
    pub fn new(
        username: &str,
        password: PinSource,
        key_label: &str,
        root_spki: SubjectPublicKeyInfoOwned,
        threshold: usize,
    ) -> Result<Self> {
        let gate = Self {
            cli: Cli::default(),
            username: username.to_owned(),
            password,
            key_label: key_label.to_owned(),
            root_spki,
            threshold,
            usernames: BTreeMap::new(),
            approval_timeout: DEFAULT_APPROVAL_TIMEOUT,
            skip_own_quorum_check_for_tests: false,
        };
        gate.check()?;
        Ok(gate)
    }

    /// Check the settings: usable usernames and key label, a P-384 root key, a threshold
    /// CloudHSM can enforce (2 to 8).
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`] naming the problem.
    pub fn check(&self) -> Result<()> {
        let config = |reason: String| Err(Error::CloudHsmConfig { reason });
        cli::check_username(&self.username)?;
        for username in self.usernames.values() {
            cli::check_username(username)?;
        }
        cli::check_label(&self.key_label)?;
        if KeyAlgorithm::of_spki(&self.root_spki) != Some(KeyAlgorithm::EcdsaP384) {
            return config(
                "the root key is not a P-384 key; this gate signs with ECDSA P-384".into(),
            );
        }
        if !(MIN_KEY_QUORUM..=MAX_KEY_QUORUM).contains(&self.threshold) {
            return config(format!(
                "threshold {} cannot be enforced: CloudHSM quorums go from {MIN_KEY_QUORUM} to {MAX_KEY_QUORUM} approvers",
                self.threshold
            ));
        }
        Ok(())
    }

    /// The CloudHSM crypto-user name of a member.
    pub fn hsm_username<'a>(&'a self, member: &'a str) -> &'a str {
        self.usernames.get(member).map_or(member, String::as_str)
    }
}

impl QuorumGate for CloudHsmCli {
    fn unlock(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<Box<dyn Signer>> {
        Ok(Box::new(self.signer(ceremony, approvals)?))
    }
}

impl CloudHsmCli {
    /// [`QuorumGate::unlock`] with the concrete signer type: checks the settings and that
    /// at least `threshold` distinct members approved the request (before any command),
    /// reads the password, creates the working folder, starts the session and logs in.
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`], [`Error::QuorumNotMet`], the password source's error,
    /// [`Error::Io`], or the session's errors (start, login).
    pub fn signer(&self, ceremony: &CeremonyDir, approvals: &[Approval]) -> Result<CloudHsmSigner> {
        self.check()?;
        let approvers: BTreeSet<MemberId> = approvals.iter().map(|a| a.member.clone()).collect();
        if approvers.len() < self.threshold && !self.skip_own_quorum_check_for_tests {
            return Err(Error::QuorumNotMet {
                found: approvers.len(),
                needed: self.threshold,
                members: approvers.into_iter().collect(),
            });
        }
        let password = self.password.read()?;
        let mut session = Session::start(&self.cli)?;
        session.login(Role::CryptoUser, &self.username, &password)?;
        self.signer_in_session(ceremony, approvers, session)
    }

    /// The signer in a `session` already logged in as the key's crypto user (the
    /// ceremony backend logs in with a password rebuilt from shares, and generates a new
    /// root key in the same session). Checks nothing but the settings: the caller counted
    /// the approvers.
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`] or [`Error::Io`].
    pub fn signer_in_session(
        &self,
        ceremony: &CeremonyDir,
        approvers: BTreeSet<MemberId>,
        session: Session,
    ) -> Result<CloudHsmSigner> {
        self.check()?;
        let work_dir = ceremony.path.join(WORK_DIR);
        std::fs::create_dir_all(&work_dir).map_err(|source| Error::Io {
            path: work_dir.clone(),
            source,
        })?;
        Ok(CloudHsmSigner {
            gate: self.clone(),
            session: Mutex::new(session),
            approvers,
            approvals_dir: ceremony.approvals(),
            work_dir,
            signatures: AtomicU32::new(0),
        })
    }
}

/// The root key in CloudHSM, for one ceremony operation: one logged-in session, and each
/// [`Signer::sign`] runs the whole token → approvals → `crypto sign ecdsa` sequence in it.
#[derive(Debug)]
pub struct CloudHsmSigner {
    gate: CloudHsmCli,
    session: Mutex<Session>,
    approvers: BTreeSet<MemberId>,
    approvals_dir: PathBuf,
    work_dir: PathBuf,
    signatures: AtomicU32,
}

impl CloudHsmSigner {
    /// The folder holding the TBS, token and approved-token files.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// [`Signer::sign`] with the ceremony crate's errors.
    ///
    /// # Errors
    /// A CLI failure ([`Error::CloudHsmCommand`] …), too few token approvals
    /// ([`Error::CloudHsmApprovalsMissing`], before the key is used), or a signature that
    /// does not verify with the root key ([`Error::CloudHsmSignatureInvalid`]).
    pub fn sign_checked(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let number = self.signatures.fetch_add(1, Ordering::SeqCst) + 1;
        let stem = format!("sign-{number:03}");
        let data = self.work_dir.join(format!("{stem}.tbs"));
        let token = self.work_dir.join(format!("{stem}.token.json"));
        let approved = self.work_dir.join(format!("{stem}.approved.json"));
        // Leftovers of an interrupted run belong to dead tokens.
        for stale in [&token, &approved] {
            remove_if_exists(stale)?;
        }
        durable::replace(&data, message).map_err(Error::Write)?;

        session.generate_token(Service::KeyUsage, &token)?;
        let unsigned = UnsignedToken::read(&token)?;
        tracing::info!(
            token = %token.display(),
            approvals = %self.approvals_dir.display(),
            needed = self.gate.threshold,
            "CloudHSM quorum token generated: approving members sign it and add <member>{TOKEN_APPROVAL_SUFFIX}"
        );
        let signatures = self.collect_approvals(&token, &unsigned)?;
        unsigned.write_approved(&approved, &signatures)?;

        let raw = session.sign_ecdsa(&self.gate.key_label, &data, &approved)?;
        let signature_error = |reason: String| Error::CloudHsmSignature {
            key_label: self.gate.key_label.clone(),
            reason,
        };
        let der = ecdsa_signature_der(&raw).map_err(signature_error)?;
        rust_pki_ca::signature::verify_signature(
            &self.gate.root_spki,
            &KeyAlgorithm::EcdsaP384.signature_algorithm(),
            message,
            &der,
            "CloudHSM signature",
        )
        .map_err(|source| Error::CloudHsmSignatureInvalid {
            key_label: self.gate.key_label.clone(),
            source: Box::new(source),
        })?;
        Ok(der)
    }

    /// Wait for `threshold` approving members' signatures over `unsigned`: woken by the
    /// approvals folder changing, done as soon as the threshold is reached or every
    /// approving member has dropped a file for this token.
    fn collect_approvals(&self, token: &Path, unsigned: &UnsignedToken) -> Result<Vec<Value>> {
        // Watch before the first look, so that no file lands unseen in between.
        let watch = FolderWatch::new(&self.approvals_dir)?;
        let deadline = Instant::now() + self.gate.approval_timeout;
        loop {
            let found = self.scan_approvals(&unsigned.token)?;
            if found.accepted.len() >= self.gate.threshold {
                return Ok(found.accepted.into_values().collect());
            }
            let all_in = self.approvers.iter().all(|m| found.seen.contains(m));
            let now = Instant::now();
            if all_in || now >= deadline {
                if self.gate.skip_own_quorum_check_for_tests {
                    return Ok(found.accepted.into_values().collect());
                }
                return Err(Error::CloudHsmApprovalsMissing {
                    token: token.to_owned(),
                    needed: self.gate.threshold,
                    found: found.accepted.len(),
                    members: found.accepted.into_keys().collect(),
                    ignored: found.ignored,
                });
            }
            watch.wait(deadline - now)?;
        }
    }

    /// The approval files for `token` now in the approvals folder.
    fn scan_approvals(&self, token: &str) -> Result<Scan> {
        let io = |source| Error::Io {
            path: self.approvals_dir.clone(),
            source,
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.approvals_dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            if let Some(name) = name.to_str().filter(|n| n.ends_with(TOKEN_APPROVAL_SUFFIX)) {
                names.push(name.to_owned());
            }
        }
        names.sort();
        let mut scan = Scan::default();
        for name in names {
            let path = self.approvals_dir.join(&name);
            let member = name.split('.').next().unwrap_or_default().to_owned();
            match self.read_approval(&path, &member, token) {
                Ok(None) => {}
                Ok(Some(entry)) => {
                    scan.seen.insert(member.clone());
                    scan.accepted.entry(member).or_insert(entry);
                }
                Err(reason) => {
                    scan.seen.insert(member);
                    // Whoever writes the approvals folder chooses the names: a line break in
                    // one would forge a line of the error.
                    scan.ignored
                        .push(crate::inert::inert(&format!("{name}: {reason}")));
                }
            }
        }
        Ok(scan)
    }

    /// One member's copy of the token: `Ok(None)` if it is for another token,
    /// `Err(reason)` if it cannot count.
    fn read_approval(
        &self,
        path: &Path,
        member: &str,
        token: &str,
    ) -> Result<Option<Value>, String> {
        let bytes = crate::bounded::read(path, crate::bounded::MAX_APPROVAL_BYTES)
            .map_err(|e| e.to_string())?;
        let file: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("not a JSON token file ({e})"))?;
        if file.get("token").and_then(Value::as_str) != Some(token) {
            return Ok(None);
        }
        if !self.approvers.contains(member) {
            return Err(format!(
                "`{member}` has no verified approval of this request"
            ));
        }
        let username = self.gate.hsm_username(member);
        let entry = file
            .get("signatures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| s.get("username").and_then(Value::as_str) == Some(username))
            .ok_or_else(|| format!("no signature by CloudHSM user `{username}`"))?;
        let signature = entry
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the signature of `{username}` is not a string"))?;
        match Base64::decode_vec(signature) {
            Ok(bytes) if !bytes.is_empty() => {}
            _ => return Err(format!("the signature of `{username}` is not base64")),
        }
        Ok(Some(
            serde_json::json!({ "username": username, "signature": signature }),
        ))
    }
}

impl Signer for CloudHsmSigner {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP384
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.gate.root_spki
    }

    fn describe(&self) -> String {
        let program = self.gate.cli.program.display();
        match &self.gate.cli.cluster_id {
            Some(cluster) => format!(
                "CloudHSM key `{}` in cluster {cluster} via {program}",
                self.gate.key_label
            ),
            None => format!("CloudHSM key `{}` via {program}", self.gate.key_label),
        }
    }

    fn sign(&self, message: &[u8]) -> rust_pki_ca::Result<Vec<u8>> {
        self.sign_checked(message)
            .map_err(|e| rust_pki_ca::Error::Signing {
                key: self.describe(),
                reason: e.to_string(),
            })
    }
}

#[derive(Debug, Default)]
struct Scan {
    /// Member → their `{"username", "signature"}` entry.
    accepted: BTreeMap<MemberId, Value>,
    /// Members who dropped a file for this token, counted or not.
    seen: BTreeSet<MemberId>,
    /// Files that match the token but cannot count, with the reason.
    ignored: Vec<String>,
}

/// Wakes a waiter when a file is written or moved into a folder (Linux inotify).
struct FolderWatch {
    path: PathBuf,
    fd: OwnedFd,
}

impl FolderWatch {
    fn new(path: &Path) -> Result<Self> {
        let io = |e: Errno| Error::Io {
            path: path.to_owned(),
            source: e.into(),
        };
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
            .map_err(io)?;
        inotify::add_watch(
            &fd,
            path,
            inotify::WatchFlags::CLOSE_WRITE
                | inotify::WatchFlags::MOVED_TO
                | inotify::WatchFlags::CREATE,
        )
        .map_err(io)?;
        Ok(Self {
            path: path.to_owned(),
            fd,
        })
    }

    /// Until something happens in the folder, or `timeout`; then forget what happened.
    fn wait(&self, timeout: Duration) -> Result<()> {
        let io = |e: Errno| Error::Io {
            path: self.path.clone(),
            source: e.into(),
        };
        let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(io(e)),
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(&self.fd, &mut buf);
        loop {
            match events.next() {
                Ok(_) => {}
                Err(Errno::AGAIN) => return Ok(()),
                Err(e) => return Err(io(e)),
            }
        }
    }
}

/// A token file as `quorum token-sign generate` wrote it.
struct UnsignedToken {
    /// The whole file, kept as is (unknown fields included).
    file: serde_json::Map<String, Value>,
    /// Its `token` field: what approvers sign, and how their copies are matched.
    token: String,
}

impl UnsignedToken {
    fn read(path: &Path) -> Result<Self> {
        let bad = |reason: String| Error::CloudHsmToken {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|source| Error::CloudHsmTokenIo {
            path: path.to_owned(),
            source,
        })?;
        let Value::Object(file) =
            serde_json::from_slice(&bytes).map_err(|source| Error::CloudHsmTokenJson {
                path: path.to_owned(),
                step: "not JSON",
                source,
            })?
        else {
            return Err(bad("not a JSON object".into()));
        };
        let token = file
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                bad("no `token` field: not a quorum token in the documented format".into())
            })?
            .to_owned();
        Ok(Self { file, token })
    }

    /// Write the token with the members' signatures, atomically.
    fn write_approved(&self, path: &Path, signatures: &[Value]) -> Result<()> {
        let mut file = self.file.clone();
        file.insert("signatures".into(), Value::Array(signatures.to_vec()));
        let text = serde_json::to_vec_pretty(&Value::Object(file)).map_err(|source| {
            Error::CloudHsmTokenJson {
                path: path.to_owned(),
                step: "cannot encode it",
                source,
            }
        })?;
        durable::replace(path, &text).map_err(Error::Write)
    }
}

/// The DER `Ecdsa-Sig-Value` of a P-384 signature CloudHSM returned: raw `r||s` (96
/// bytes, as documented), or DER already (normalised).
///
/// # Errors
/// A description of what is wrong.
pub fn ecdsa_signature_der(signature: &[u8]) -> Result<Vec<u8>, String> {
    let (r, s) = if signature.len() == P384_RAW_LEN {
        let (r, s) = signature.split_at(P384_SCALAR_LEN);
        (
            UintRef::new(r).map_err(|e| e.to_string())?,
            UintRef::new(s).map_err(|e| e.to_string())?,
        )
    } else {
        let value = EcdsaSigValue::from_der(signature).map_err(|e| {
            format!(
                "{} bytes: neither raw r||s ({P384_RAW_LEN} bytes) nor a DER Ecdsa-Sig-Value ({e})",
                signature.len()
            )
        })?;
        (value.r, value.s)
    };
    for (name, value) in [("r", r), ("s", s)] {
        let bytes = value.as_bytes();
        if bytes.iter().all(|&b| b == 0) || bytes.len() > P384_SCALAR_LEN {
            return Err(format!("{name} is not a P-384 scalar"));
        }
    }
    EcdsaSigValue { r, s }.to_der().map_err(|e| e.to_string())
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480).
#[derive(Clone, Copy, Debug, der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn raw_signature_becomes_der() {
        let mut raw = [0u8; 96];
        raw[0] = 0x80; // r has its high bit set: needs a 0x00 pad in DER
        raw[47] = 1;
        raw[95] = 7; // s = 7: leading zeros stripped
        let der = ecdsa_signature_der(&raw).unwrap();
        let mut expected = vec![0x30, 2 + 49 + 3, 0x02, 49, 0x00, 0x80];
        expected.extend([0u8; 46]);
        expected.extend([1, 0x02, 1, 7]);
        assert_eq!(der, expected);
        // DER input is passed through (normalised), and round-trips.
        assert_eq!(ecdsa_signature_der(&der).unwrap(), der);
    }

    #[test]
    fn bad_signatures_are_refused() {
        assert!(ecdsa_signature_der(&[0u8; 96]).is_err()); // r = s = 0
        assert!(ecdsa_signature_der(&[1u8; 64]).is_err()); // P-256 size, not DER
        assert!(ecdsa_signature_der(b"").is_err());
    }
}
