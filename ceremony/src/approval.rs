//! Approvals: SSH signatures (SSHSIG, as `ssh-keygen -Y sign` makes them) by roster
//! members over the exact bytes of a ceremony request, in our own namespace.
//!
//! Signing goes through `ssh-keygen` so that ssh-agent and hardware (FIDO, PIV) keys work;
//! verification is native (the `ssh-key` crate) and interoperates with
//! `ssh-keygen -Y verify -f allowed_signers` (see [`Roster::allowed_signers`]).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use ssh_key::{Algorithm, HashAlg, PublicKey, SshSig};

use crate::{
    Error, Result,
    roster::{Member, MemberId, Roster},
};

/// The SSHSIG namespace of ceremony approvals: a signature made for anything else (git
/// commits, files, other tools) is never an approval.
pub const NAMESPACE: &str = "ceremony@pki.rust-lang.org";

// Here rather than in `roster`, which the approvals depend on: the file is the
// approvals' view of the roster.
impl Roster {
    /// An OpenSSH `allowed_signers` file for `ssh-keygen -Y verify`: one line per member,
    /// `<id> namespaces="ceremony@pki.rust-lang.org" <key type> <base64>`.
    #[must_use]
    pub fn allowed_signers(&self) -> String {
        let mut out = String::new();
        for member in self.members() {
            let key = PublicKey::new(member.ssh_key.key_data().clone(), "");
            // Encoding a key that parsed cannot fail; skip it rather than panic if it did
            // (ssh-keygen then refuses that member, which a test would show).
            if let Ok(key) = key.to_openssh() {
                out.push_str(&format!("{} namespaces=\"{NAMESPACE}\" {key}\n", member.id));
            }
        }
        out
    }
}

/// The FIDO/U2F user-presence flag (PROTOCOL.u2f: "flags" byte, bit 0).
pub const SK_USER_PRESENT: u8 = 0x01;

/// The extension of approval files in an approvals directory.
pub const APPROVAL_EXTENSION: &str = "sig";

const SSH_KEYGEN: &str = "ssh-keygen";
const ARMOR_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
/// Trailer of FIDO signatures: flags (1 byte) and counter (4 bytes).
const SK_TRAILER_LEN: usize = 5;

/// A verified approval: which member signed, and the signature as they armored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The approving member.
    pub member: MemberId,
    /// The file the approval came from (for messages and the ceremony record).
    pub path: PathBuf,
    /// The armored SSHSIG (`-----BEGIN SSH SIGNATURE-----`), kept verbatim for the record.
    pub armored: String,
}

impl Approval {
    /// Verify one approval file's content; errors are wrapped in [`Error::ApprovalFile`]
    /// naming `path`.
    ///
    /// # Errors
    /// As [`verify_approval`], inside [`Error::ApprovalFile`].
    pub fn verify(roster: &Roster, message: &[u8], path: &Path, armored: &str) -> Result<Self> {
        let member = verify_approval(roster, message, armored).map_err(|e| in_file(path, e))?;
        Ok(Self {
            member: member.id.clone(),
            path: path.to_owned(),
            armored: armored.to_owned(),
        })
    }
}

/// Sign `message` with `ssh-keygen -Y sign -n ceremony@pki.rust-lang.org -f KEY`, the
/// message on stdin, and return the armored signature ssh-keygen writes to stdout.
///
/// `key` may be a private key file, or a public key file whose private key is in
/// ssh-agent or on a hardware token. ssh-keygen's prompts (passphrase from the terminal,
/// "confirm user presence" for FIDO keys) reach the user: stderr is inherited.
///
/// # Errors
/// [`Error::SshKeygen`] if ssh-keygen cannot be run, fails, or prints something that is
/// not an SSHSIG in our namespace.
pub fn sign_with_ssh_keygen(message: &[u8], key: &Path) -> Result<String> {
    let failed = |message: String| Error::SshKeygen {
        key: key.to_owned(),
        message,
    };
    let io = |step| {
        move |source| Error::SshKeygenIo {
            key: key.to_owned(),
            step,
            source,
        }
    };
    let mut child = Command::new(SSH_KEYGEN)
        .args(["-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(io("cannot run ssh-keygen"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // ssh-keygen reads all of stdin before it writes the signature, so writing first
        // cannot deadlock. If it exits early (no such key) the write fails with a broken
        // pipe: its exit status, below, is the better message.
        match stdin.write_all(message) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(io("writing the message to ssh-keygen")(e)),
        }
    }
    let output = child
        .wait_with_output()
        .map_err(io("waiting for ssh-keygen"))?;
    if !output.status.success() {
        return Err(failed(format!(
            "ssh-keygen failed ({}); its messages are above",
            output.status
        )));
    }
    let armored = String::from_utf8(output.stdout)
        .map_err(|_| failed("ssh-keygen printed something that is not UTF-8".to_owned()))?;
    let signature = SshSig::from_pem(armored.trim()).map_err(|source| Error::SshKeygenOutput {
        key: key.to_owned(),
        source,
    })?;
    if signature.namespace() != NAMESPACE {
        return Err(failed(format!(
            "ssh-keygen signed for namespace `{}`",
            signature.namespace()
        )));
    }
    Ok(armored)
}

/// Verify an armored SSHSIG as a roster member's approval of exactly `message`, and return
/// the member.
///
/// Checks, in order: it parses as an SSHSIG; its namespace is [`NAMESPACE`]; its key is a
/// roster member's; the signature algorithm matches that key; the signature verifies
/// over `message`; and for FIDO (`sk-`) keys, the user-presence flag is set.
///
/// # Errors
/// [`Error::ApprovalMalformed`], [`Error::ApprovalNamespace`],
/// [`Error::ApprovalNotMember`] (naming the key's fingerprint),
/// [`Error::ApprovalAlgorithm`], [`Error::ApprovalSignature`],
/// [`Error::ApprovalNoUserPresence`].
pub fn verify_approval<'r>(
    roster: &'r Roster,
    message: &[u8],
    armored: &str,
) -> Result<&'r Member> {
    let trimmed = armored.trim();
    if !trimmed.starts_with(ARMOR_BEGIN) {
        return Err(Error::ApprovalMalformed {
            message: "no armor header".to_owned(),
        });
    }
    let signature = SshSig::from_pem(trimmed).map_err(|source| Error::ApprovalSshSig { source })?;
    if signature.namespace() != NAMESPACE {
        return Err(Error::ApprovalNamespace {
            found: signature.namespace().to_owned(),
            expected: NAMESPACE,
        });
    }
    let Some(member) = roster.member_by_key_data(signature.public_key()) else {
        return Err(Error::ApprovalNotMember {
            fingerprint: signature
                .public_key()
                .fingerprint(HashAlg::Sha256)
                .to_string(),
            algorithm: signature.public_key().algorithm().as_str().to_owned(),
        });
    };
    let key_algorithm = member.ssh_key.algorithm();
    if signature.algorithm() != key_algorithm {
        return Err(Error::ApprovalAlgorithm {
            member: member.id.clone(),
            key: key_algorithm.as_str().to_owned(),
            signature: signature.algorithm().as_str().to_owned(),
        });
    }
    // Checks the key (again) and namespace (again), then the signature over the SSHSIG
    // signed data: "SSHSIG", namespace, reserved, hash algorithm, H(message).
    member
        .ssh_key
        .verify(NAMESPACE, message, &signature)
        .map_err(|_| Error::ApprovalSignature {
            member: member.id.clone(),
        })?;

    if matches!(
        key_algorithm,
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256
    ) {
        // FIDO signatures carry a flags byte and a counter after the signature proper
        // (PROTOCOL.u2f); the flags are covered by the signature. Neither ssh-key's
        // verification nor `ssh-keygen -Y verify` requires the user-presence flag (only
        // sshd does, for logins), so a key that signs without a touch — `no-touch-required`
        // resident keys, or malware talking to a plugged-in token — would otherwise make
        // approvals nobody confirmed. ssh-key keeps flags ‖ counter as the last five bytes
        // of the raw signature of both sk- algorithms (its `Signature::new` requires them).
        let bytes = signature.signature_bytes();
        let flags = bytes
            .len()
            .checked_sub(SK_TRAILER_LEN)
            .and_then(|at| bytes.get(at))
            .copied()
            .ok_or_else(|| Error::ApprovalMalformed {
                message: "FIDO signature without flags and counter".to_owned(),
            })?;
        if flags & SK_USER_PRESENT == 0 {
            return Err(Error::ApprovalNoUserPresence {
                member: member.id.clone(),
                flags,
            });
        }
    }
    Ok(member)
}

/// Verify every approval; the first invalid one is an error naming its file (nothing is
/// skipped). Duplicates are not checked here: see [`crate::quorum::check_quorum`].
///
/// # Errors
/// [`Error::ApprovalFile`] naming the file, with the reason inside.
pub fn verify_approvals(
    roster: &Roster,
    message: &[u8],
    approvals: &[(PathBuf, String)],
) -> Result<Vec<Approval>> {
    approvals
        .iter()
        .map(|(path, armored)| Approval::verify(roster, message, path, armored))
        .collect()
}

/// Read every `*.sig` file of an approvals directory, sorted by name. Other files are
/// ignored; a `.sig` entry that cannot be read as UTF-8 text is an error naming it.
///
/// # Errors
/// [`Error::Io`] if the directory or a file cannot be read; [`Error::ApprovalFile`] for a
/// file that is not UTF-8.
pub fn read_approval_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|e| e == APPROVAL_EXTENSION) {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = crate::bounded::read(&path, crate::bounded::MAX_APPROVAL_BYTES)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                in_file(
                    &path,
                    Error::ApprovalMalformed {
                        message: "not UTF-8 text".to_owned(),
                    },
                )
            })?;
            Ok((path, text))
        })
        .collect()
}

fn in_file(path: &Path, error: Error) -> Error {
    Error::ApprovalFile {
        path: path.to_owned(),
        reason: Box::new(error),
    }
}
