//! One interactive `cloudhsm-cli` session, driven over its stdin and stdout.
//!
//! AWS documents that a quorum token "is only valid during your current login session. If
//! you log out of the CloudHSM CLI or if the network disconnects, the token is no longer
//! valid"
//! (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-crypto-user.html>),
//! so a token must be generated and used in the same process: this module runs
//! `cloudhsm-cli interactive`
//! (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-modes.html>) and
//! types one command line per method ([`super::cli`] builds them).
//!
//! Every command answers one JSON object, `{"error_code": 0, "data": …}` on success and a
//! non-zero `error_code` with a message in `data` on failure (the examples of every
//! command page, e.g.
//! <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>).
//! The reader skips any text around it (prompts such as `aws-cloudhsm >`), reads at most
//! [`MAX_RESPONSE_BYTES`], and gives up after [`Cli::command_timeout`]: a hung CLI is
//! killed and named, a CLI that exits is named with its exit status and stderr.
//!
//! Passwords are written to the session's stdin only (see [`super::cli`]) and cut out of
//! every message the CLI answers.

use std::{
    io::{Read as _, Write as _},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Stdio},
    sync::{Arc, Mutex, PoisonError, mpsc},
    thread,
    time::{Duration, Instant},
};

use base64ct::{Base64, Encoding as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::cli::{self, Cli, Command, PASSWORD_REMOVED};
pub use super::cli::{Role, Service};
use crate::{Error, Result};

/// The most a single answer may take, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// How long `quit` may take when the session is dropped, before the CLI is killed.
const QUIT_GRACE: Duration = Duration::from_secs(2);
/// At most this much of the CLI's stderr is kept, and of any message in an error.
const MAX_MESSAGE: usize = 2000;
/// The name errors give to starting the session.
const INTERACTIVE: &str = "interactive";

/// A user as `user list` shows it.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-list.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmUser {
    /// The username (the CLI lower-cases them).
    pub username: String,
    /// `admin`, `crypto-user`, or an internal role such as `internal(APPLIANCE_USER)`.
    pub role: String,
    /// Whether a token-sign quorum key is registered (`"quorum": [{"strategy":
    /// "token-sign", "status": "enabled"}]`,
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-first-time.html>).
    pub quorum_key_registered: bool,
}

/// One `cloudhsm-cli interactive` process; see the [module documentation](self). Dropping
/// it quits the CLI (which ends the login session and its tokens), then kills and reaps
/// it if it lingers.
pub struct Session {
    program: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    /// Chunks of stdout; an empty chunk means end of file.
    stdout: mpsc::Receiver<Vec<u8>>,
    /// Read but not yet consumed.
    pending: Vec<u8>,
    /// The tail of stderr since the current command was sent.
    stderr: Arc<Mutex<Vec<u8>>>,
    timeout: Duration,
    /// Every password sent in this session: cut out of anything the CLI says.
    secrets: Vec<SecretString>,
    logged_in: Option<(Role, String)>,
    ended: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("program", &self.program)
            .field("pid", &self.child.id())
            .field("logged_in", &self.logged_in)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Start `cloudhsm-cli interactive [--cluster-id ID]`.
    ///
    /// # Errors
    /// [`Error::CloudHsmSpawn`] if the program cannot be started.
    pub fn start(cli: &Cli) -> Result<Session> {
        let spawn_error = |source| Error::CloudHsmSpawn {
            program: cli.program.clone(),
            command: INTERACTIVE,
            source,
        };
        let mut child = std::process::Command::new(&cli.program)
            .args(cli.interactive_args())
            .envs(cli.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let (Some(stdin), Some(mut stdout), Some(mut stderr_pipe)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(spawn_error(std::io::Error::other("no pipes to the CLI")));
        };
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match stdout.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        if sender.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    _ => {
                        let _ = sender.send(Vec::new());
                        break;
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buf) {
                let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                tail.extend_from_slice(&buf[..n]);
                let excess = tail.len().saturating_sub(MAX_MESSAGE);
                tail.drain(..excess);
            }
        });
        Ok(Session {
            program: cli.program.clone(),
            child,
            stdin: Some(stdin),
            stdout: receiver,
            pending: Vec::new(),
            stderr,
            timeout: cli.command_timeout,
            secrets: Vec::new(),
            logged_in: None,
            ended: false,
        })
    }

    /// How long each following command may take (from [`Cli::command_timeout`] at start).
    pub fn set_command_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Who is logged in, if anyone.
    pub fn logged_in(&self) -> Option<(Role, &str)> {
        self.logged_in
            .as_ref()
            .map(|(role, user)| (*role, user.as_str()))
    }

    /// `login`: every following command runs as this user, and quorum tokens generated
    /// from now on are bound to this login.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-login.html>
    ///
    /// # Errors
    /// A bad username, or the CLI refuses (wrong password, locked account, …).
    pub fn login(&mut self, role: Role, username: &str, password: &SecretString) -> Result<()> {
        cli::check_username(username)?;
        self.run(&cli::login(role, username, password))?;
        self.logged_in = Some((role, username.to_owned()));
        Ok(())
    }

    /// `logout`: ends the login session (its quorum tokens die with it).
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-logout.html>
    ///
    /// # Errors
    /// The CLI refuses or fails.
    pub fn logout(&mut self) -> Result<()> {
        self.run(&cli::logout())?;
        self.logged_in = None;
        Ok(())
    }

    /// `cluster activate`: sets the password of the first admin, `admin`; run by the
    /// "unactivated admin", before any login.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-cluster-activate.html>
    ///
    /// # Errors
    /// The CLI refuses (e.g. already activated) or fails.
    pub fn cluster_activate(&mut self, admin_password: &SecretString) -> Result<()> {
        self.run(&cli::cluster_activate(admin_password))?;
        Ok(())
    }

    /// `user create` (admin): once the `user` service's quorum value is above 1, with a
    /// signed `user` token as `approval`.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>
    ///
    /// # Errors
    /// A bad username, or the CLI refuses or fails.
    pub fn user_create(
        &mut self,
        username: &str,
        role: Role,
        password: &SecretString,
        approval: Option<&Path>,
    ) -> Result<()> {
        cli::check_username(username)?;
        self.run(&cli::user_create(username, role, password, approval)?)?;
        Ok(())
    }

    /// `user delete` (admin), approved like [`Self::user_create`].
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-delete.html>
    ///
    /// # Errors
    /// A bad username, or the CLI refuses (e.g. the user owns keys) or fails.
    pub fn user_delete(
        &mut self,
        username: &str,
        role: Role,
        approval: Option<&Path>,
    ) -> Result<()> {
        cli::check_username(username)?;
        self.run(&cli::user_delete(username, role, approval)?)?;
        Ok(())
    }

    /// `user change-password`: any user may change their own password, an admin anyone's
    /// (a `user` service operation: approved like [`Self::user_create`]).
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-change-password.html>
    ///
    /// # Errors
    /// A bad username, or the CLI refuses or fails.
    pub fn user_change_password(
        &mut self,
        username: &str,
        role: Role,
        password: &SecretString,
        approval: Option<&Path>,
    ) -> Result<()> {
        cli::check_username(username)?;
        self.run(&cli::user_change_password(
            username, role, password, approval,
        )?)?;
        Ok(())
    }

    /// `user list`.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-list.html>
    ///
    /// # Errors
    /// The CLI fails, or [`Error::CloudHsmOutput`] for an answer without `data.users`.
    pub fn user_list(&mut self) -> Result<Vec<HsmUser>> {
        let command = cli::user_list();
        let data = self.run(&command)?;
        let output = |reason: &str| Error::CloudHsmOutput {
            command: command.name(),
            reason: reason.to_owned(),
        };
        let users = data
            .get("users")
            .and_then(Value::as_array)
            .ok_or_else(|| output("no `data.users` array"))?;
        users
            .iter()
            .map(|user| {
                let field = |name: &str| {
                    user.get(name)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| output(&format!("a user without a `{name}` string")))
                };
                let quorum_key_registered = user
                    .get("quorum")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|q| {
                        q.get("strategy").and_then(Value::as_str) == Some("token-sign")
                            && q.get("status").and_then(Value::as_str) == Some("enabled")
                    });
                Ok(HsmUser {
                    username: field("username")?,
                    role: field("role")?,
                    quorum_key_registered,
                })
            })
            .collect()
    }

    /// `quorum token-sign list-quorum-values`: the quorum value of each admin service
    /// (`user`, `quorum`), 1 until set.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-list-qm.html>
    ///
    /// # Errors
    /// The CLI fails, or [`Error::CloudHsmOutput`] for an answer without a number for
    /// `service`.
    pub fn quorum_value(&mut self, service: Service) -> Result<usize> {
        let command = cli::list_quorum_values();
        let data = self.run(&command)?;
        data.get(service.as_str())
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| Error::CloudHsmOutput {
                command: command.name(),
                reason: format!("no quorum value for the `{service}` service"),
            })
    }

    /// `quorum token-sign generate`: CloudHSM writes an unsigned token for `service` to
    /// `token`, bound to this login session.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-gen.html>
    ///
    /// # Errors
    /// The CLI refuses (e.g. a second active `user` or `quorum` token) or fails.
    pub fn generate_token(&mut self, service: Service, token: &Path) -> Result<()> {
        self.run(&cli::generate_token(service, token)?)?;
        Ok(())
    }

    /// `user change-quorum token-sign register`: registers the logged-in user's quorum
    /// public key (RSA-2048 PEM), proven by a `registration` token signed with it.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-chqm-token-reg.html>
    ///
    /// # Errors
    /// The CLI refuses (e.g. a bad signature) or fails.
    pub fn register_quorum_key(
        &mut self,
        public_key_pem: &Path,
        signed_token: &Path,
    ) -> Result<()> {
        self.run(&cli::register_quorum_key(public_key_pem, signed_token)?)?;
        Ok(())
    }

    /// `quorum token-sign set-quorum-value` (admin), with a signed `quorum` token as
    /// `approval` once that service's own quorum value is above 1.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-set-qm.html>
    ///
    /// # Errors
    /// The CLI refuses or fails.
    pub fn set_quorum_value(
        &mut self,
        service: Service,
        value: usize,
        approval: Option<&Path>,
    ) -> Result<()> {
        self.run(&cli::set_quorum_value(service, value, approval)?)?;
        Ok(())
    }

    /// `key generate-asymmetric-pair ec --curve secp384r1` (crypto user, who then owns
    /// it): both halves labelled `label`, the private key non-extractable, shared with
    /// `share_with` at generation, its manage and use quorum values set to `quorum`.
    /// CloudHSM refuses a quorum value above the number of users the key is associated
    /// with (owner and shared users); this method leaves that check to CloudHSM.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-first-time.html>
    ///
    /// # Errors
    /// A bad label or username, or the CLI refuses or fails.
    pub fn generate_p384_key(
        &mut self,
        label: &str,
        share_with: &[String],
        quorum: usize,
    ) -> Result<()> {
        cli::check_label(label)?;
        for user in share_with {
            cli::check_username(user)?;
        }
        self.run(&cli::generate_p384_key(label, share_with, quorum))?;
        Ok(())
    }

    /// `key share` (the key's owner) of the private key labelled `label` with crypto
    /// user `username`; a `key-management` operation, so approved once the key's manage
    /// quorum value is above 1.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-share.html>
    ///
    /// # Errors
    /// A bad label or username, or the CLI refuses or fails.
    pub fn share_key(
        &mut self,
        label: &str,
        username: &str,
        approval: Option<&Path>,
    ) -> Result<()> {
        cli::check_label(label)?;
        cli::check_username(username)?;
        self.run(&cli::share_key(label, username, approval)?)?;
        Ok(())
    }

    /// Write the public key labelled `label` to `path` as PEM (`key list`, then `key
    /// generate-file --encoding pem`); `Ok(false)` if there is no such key.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-list.html>
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-generate-file.html>
    ///
    /// # Errors
    /// A bad label, the CLI fails, or [`Error::CloudHsmOutput`] for a `key list` answer
    /// without `data.matched_keys`.
    pub fn key_public_pem(&mut self, label: &str, path: &Path) -> Result<bool> {
        cli::check_label(label)?;
        let list = cli::list_public_key(label);
        let data = self.run(&list)?;
        let matched = data
            .get("matched_keys")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::CloudHsmOutput {
                command: list.name(),
                reason: "no `data.matched_keys` array".to_owned(),
            })?;
        if matched.is_empty() {
            return Ok(false);
        }
        self.run(&cli::export_public_key(label, path)?)?;
        Ok(true)
    }

    /// The crypto users the private key labelled `label` is shared with (`key list
    /// --verbose`, `key-info.shared-users`).
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/manage-keys-cloudhsm-cli-share.html>
    ///
    /// # Errors
    /// A bad label, the CLI fails, or [`Error::CloudHsmOutput`] for an answer without
    /// exactly one matching key.
    pub fn key_shared_users(&mut self, label: &str) -> Result<Vec<String>> {
        cli::check_label(label)?;
        let command = cli::list_private_key(label);
        let data = self.run(&command)?;
        let output = |reason: &str| Error::CloudHsmOutput {
            command: command.name(),
            reason: reason.to_owned(),
        };
        let matched = data
            .get("matched_keys")
            .and_then(Value::as_array)
            .ok_or_else(|| output("no `data.matched_keys` array"))?;
        let [key] = matched.as_slice() else {
            return Err(output("not exactly one private key with that label"));
        };
        Ok(key
            .pointer("/key-info/shared-users")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| u.get("username").and_then(Value::as_str))
            .map(str::to_owned)
            .collect())
    }

    /// `crypto sign ecdsa` with SHA-384 over the contents of `data`, approved by the
    /// signed key-usage token in `approval`; returns the signature CloudHSM answered
    /// (base64-decoded; raw `r||s` per the documentation).
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-crypto-sign-ecdsa.html>
    ///
    /// # Errors
    /// A bad label, the CLI refuses (e.g. `Quorum Failed`) or fails, or
    /// [`Error::CloudHsmOutput`] for an answer without a base64 `data.signature`.
    pub fn sign_ecdsa(&mut self, label: &str, data: &Path, approval: &Path) -> Result<Vec<u8>> {
        cli::check_label(label)?;
        let command = cli::sign_ecdsa(label, data, approval)?;
        let response = self.run(&command)?;
        let output = |reason: String| Error::CloudHsmOutput {
            command: command.name(),
            reason,
        };
        let signature = response
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(|| output("no `data.signature` string in the response".to_owned()))?;
        Base64::decode_vec(signature.trim())
            .map_err(|e| output(format!("`data.signature` is not base64: {e}")))
    }

    /// Send one command and return the `data` of its successful answer.
    fn run(&mut self, command: &Command) -> Result<Value> {
        let name = command.name();
        if self.ended {
            return Err(self.ended_error(name));
        }
        tracing::debug!(
            program = %self.program.display(),
            command = %command.display(),
            "cloudhsm-cli session"
        );
        let line = command.line()?;
        self.secrets.extend(command.secrets().cloned());
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let written = self.stdin.as_mut().map(|stdin| {
            stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush())
        });
        drop(line);
        if !matches!(written, Some(Ok(()))) {
            self.ended = true;
            return Err(self.ended_error(name));
        }
        let response = self.read_response(name)?;
        match response.get("error_code").and_then(Value::as_i64) {
            Some(0) => Ok(response.get("data").cloned().unwrap_or(Value::Null)),
            Some(code) => {
                let message = match response.get("data") {
                    Some(Value::String(message)) => message.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                Err(Error::CloudHsmCommand {
                    command: name,
                    status: format!("error_code {code}"),
                    stderr: self.stderr_tail(),
                    response: self.redact(&message),
                })
            }
            None => Err(Error::CloudHsmOutput {
                command: name,
                reason: "the JSON response has no numeric `error_code`".to_owned(),
            }),
        }
    }

    /// Read until one whole JSON object has come, within the timeout.
    fn read_response(&mut self, name: &'static str) -> Result<Value> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match take_object(&mut self.pending) {
                Some(Ok(value)) => return Ok(value),
                Some(Err(e)) => {
                    self.kill();
                    return Err(Error::CloudHsmOutput {
                        command: name,
                        reason: format!("not a JSON answer: {e}"),
                    });
                }
                None => {}
            }
            if self.pending.len() > MAX_RESPONSE_BYTES {
                self.kill();
                return Err(Error::CloudHsmOutput {
                    command: name,
                    reason: format!("more than {MAX_RESPONSE_BYTES} bytes without a whole answer"),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(chunk) if !chunk.is_empty() => self.pending.extend_from_slice(&chunk),
                Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Err(self.ended_error(name));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(Error::CloudHsmTimeout {
                        command: name,
                        after: self.timeout,
                    });
                }
            }
        }
    }

    /// The session is over: how the CLI ended, and what it said on stderr.
    fn ended_error(&mut self, name: &'static str) -> Error {
        // The output closed; give the process a moment to be reaped.
        let deadline = Instant::now() + QUIT_GRACE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break describe(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => break "still running, but its output is closed".to_owned(),
                Err(e) => break format!("cannot tell: {e}"),
            }
        };
        // Whatever it printed last is already in the buffer (its pipe is closed).
        Error::CloudHsmSessionEnded {
            command: name,
            status,
            stderr: self.stderr_tail(),
        }
    }

    fn kill(&mut self) {
        self.ended = true;
        let _ = self.child.kill();
    }

    fn stderr_tail(&self) -> String {
        let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        self.redact(String::from_utf8_lossy(&tail).trim())
    }

    /// Cut every password of the session out of `text`, make it inert and shorten it.
    /// The CLI is whatever program the operator named: a line break in its words would
    /// forge a line of our error output, an escape sequence would rewrite the terminal.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            let secret = secret.expose_secret();
            if !secret.is_empty() {
                text = text.replace(secret, PASSWORD_REMOVED);
            }
        }
        shorten(&crate::inert::inert(&text))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.ended
            && let Some(mut stdin) = self.stdin.take()
        {
            // `quit` ends the session
            // (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-modes.html>).
            let _ = stdin.write_all(b"quit\n").and_then(|()| stdin.flush());
            drop(stdin);
            let deadline = Instant::now() + QUIT_GRACE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Take the first whole JSON object out of `pending` (text before it is dropped):
/// `None` while it is incomplete.
fn take_object(pending: &mut Vec<u8>) -> Option<Result<Value, serde_json::Error>> {
    let Some(start) = pending.iter().position(|&b| b == b'{') else {
        pending.clear();
        return None;
    };
    pending.drain(..start);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &byte) in pending.iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    let object: Vec<u8> = pending.drain(..=i).collect();
                    return Some(serde_json::from_slice(&object));
                }
            }
            _ => {}
        }
    }
    None
}

fn describe(status: std::process::ExitStatus) -> String {
    status.code().map_or_else(
        || "terminated by a signal".to_owned(),
        |code| format!("exit code {code}"),
    )
}

fn shorten(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn answers_are_cut_out_of_prompts_and_split_pretty_json() {
        let mut pending = b"aws-cloudhsm > Enter password:\n{\n  \"error_code\": 0,\n  \"data\": {\"path\": \"/t {x}\", \"a\": [1, {\"b\": \"\\\"}\"}]}\n}\naws-cloudhsm > {\"err".to_vec();
        let value = take_object(&mut pending).unwrap().unwrap();
        assert_eq!(value["data"]["path"], "/t {x}");
        assert_eq!(value["data"]["a"][1]["b"], "\"}");
        // The next answer has begun: kept until it is whole.
        assert!(take_object(&mut pending).is_none());
        assert_eq!(pending, b"{\"err");
        pending.extend_from_slice(b"or_code\": 1, \"data\": \"Quorum Failed\"}");
        assert_eq!(
            take_object(&mut pending).unwrap().unwrap()["data"],
            "Quorum Failed"
        );
        let mut garbage = b"no json here".to_vec();
        assert!(take_object(&mut garbage).is_none());
        assert!(garbage.is_empty());
        let mut broken = b"{\"a\": nope}".to_vec();
        assert!(take_object(&mut broken).unwrap().is_err());
    }

    #[test]
    fn long_messages_are_shortened() {
        let long = "é".repeat(MAX_MESSAGE);
        let short = shorten(&long);
        assert!(short.len() < long.len() && short.ends_with("bytes in all)"));
        assert_eq!(shorten("short"), "short");
    }
}
