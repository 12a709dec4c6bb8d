//! The `cloudhsm-cli` commands the CloudHSM gate runs, one function per command.
//!
//! Commands run in single command mode: the crypto user's credentials go in the
//! environment (`CLOUDHSM_ROLE=crypto-user`, `CLOUDHSM_PIN=<user>:<password>`), never in
//! argv, so they do not show in `ps` or in any log of the command line. Every failure
//! names the command, its exit status and its stderr, with the password cut out.
//!
//! The command lines follow the AWS CloudHSM CLI reference (Client SDK 5):
//! - `quorum token-sign generate --service key-usage --token <file>` writes an unsigned
//!   quorum token (JSON: `approval_data`, `token`, `signatures`) for key use;
//! - `crypto sign ecdsa --key-filter attr.label=<label> --hash-function sha384
//!   --data-path <file> --approval <signed token file>` answers
//!   `{"error_code": 0, "data": {"key-reference": …, "signature": <base64>}}`, the
//!   signature being the raw `r||s` concatenation.

use std::{
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
};

use base64ct::{Base64, Encoding as _};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The program run when none is configured (found on `PATH`).
pub const DEFAULT_PROGRAM: &str = "cloudhsm-cli";
/// Environment variable naming the role for single command mode.
pub const ROLE_ENV: &str = "CLOUDHSM_ROLE";
/// Environment variable carrying `<username>:<password>` for single command mode.
pub const PIN_ENV: &str = "CLOUDHSM_PIN";
/// The role that signs with keys.
pub const CRYPTO_USER_ROLE: &str = "crypto-user";
/// The quorum service that gates `crypto sign` with a key.
pub const KEY_USAGE_SERVICE: &str = "key-usage";
/// The hash for ecdsa-with-SHA384.
pub const HASH_FUNCTION: &str = "sha384";

/// Name of the token-generating command, as errors show it.
pub const GENERATE_TOKEN: &str = "quorum token-sign generate";
/// Name of the signing command, as errors show it.
pub const SIGN_ECDSA: &str = "crypto sign ecdsa";

/// At most this much of the CLI's stderr is kept in an error.
const MAX_MESSAGE: usize = 2000;

/// A crypto user's login for single command mode. `Debug` shows the username only.
pub struct Credentials {
    username: String,
    password: SecretString,
}

impl Credentials {
    /// A crypto user's credentials.
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`] for an empty username or one with `:` (which
    /// `CLOUDHSM_PIN` uses as its separator).
    pub fn new(username: &str, password: SecretString) -> Result<Self> {
        check_username(username)?;
        Ok(Self {
            username: username.to_owned(),
            password,
        })
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The value of `CLOUDHSM_PIN`.
    fn pin(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{}:{}",
            self.username,
            self.password.expose_secret()
        ))
    }

    /// Cut the password (and the whole PIN string) out of a CLI message.
    fn redact(&self, text: &str) -> String {
        let password = self.password.expose_secret();
        let mut text = text.to_owned();
        for secret in [self.pin().as_str(), password] {
            if !secret.is_empty() {
                text = text.replace(secret, "[password removed]");
            }
        }
        text
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Check a CloudHSM username for use in `CLOUDHSM_PIN`.
///
/// # Errors
/// [`Error::CloudHsmConfig`] naming the problem.
pub fn check_username(username: &str) -> Result<()> {
    if username.is_empty() || username.contains(':') || username.chars().any(char::is_whitespace) {
        return Err(Error::CloudHsmConfig {
            reason: format!(
                "CloudHSM username `{username}` must be non-empty, without `:` or whitespace"
            ),
        });
    }
    Ok(())
}

/// How to run `cloudhsm-cli`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    /// The program (default `cloudhsm-cli` on `PATH`).
    pub program: PathBuf,
    /// `--cluster-id`, needed only when the CLI's configuration names several clusters.
    pub cluster_id: Option<String>,
}

impl Default for Cli {
    fn default() -> Self {
        Self {
            program: PathBuf::from(DEFAULT_PROGRAM),
            cluster_id: None,
        }
    }
}

impl Cli {
    /// argv (without the program) of `quorum token-sign generate` for a key-usage token
    /// written to `token`.
    pub fn generate_token_args(&self, token: &Path) -> Vec<OsString> {
        let mut args = self.command(&["quorum", "token-sign", "generate"]);
        args.extend([
            "--service".into(),
            KEY_USAGE_SERVICE.into(),
            "--token".into(),
            token.into(),
        ]);
        args
    }

    /// argv (without the program) of `crypto sign ecdsa` over the contents of `data`
    /// with the private key labelled `key_label`, SHA-384, approved by the signed quorum
    /// token in `approval`.
    pub fn sign_ecdsa_args(&self, key_label: &str, data: &Path, approval: &Path) -> Vec<OsString> {
        let mut args = self.command(&["crypto", "sign", "ecdsa"]);
        args.extend([
            "--key-filter".into(),
            format!("attr.label={key_label}").into(),
            "--hash-function".into(),
            HASH_FUNCTION.into(),
            "--data-path".into(),
            data.into(),
            "--approval".into(),
            approval.into(),
        ]);
        args
    }

    /// Run `quorum token-sign generate`: CloudHSM writes an unsigned key-usage quorum
    /// token to `token`.
    ///
    /// # Errors
    /// [`Error::CloudHsmSpawn`], [`Error::CloudHsmCommand`] or [`Error::CloudHsmOutput`].
    pub fn generate_token(&self, credentials: &Credentials, token: &Path) -> Result<()> {
        self.run(GENERATE_TOKEN, self.generate_token_args(token), credentials)?;
        Ok(())
    }

    /// Run `crypto sign ecdsa` and return the signature bytes CloudHSM answered (base64
    /// decoded; raw `r||s` per the documentation).
    ///
    /// # Errors
    /// [`Error::CloudHsmSpawn`], [`Error::CloudHsmCommand`] or [`Error::CloudHsmOutput`]
    /// (no `data.signature`, or not base64).
    pub fn sign_ecdsa(
        &self,
        credentials: &Credentials,
        key_label: &str,
        data: &Path,
        approval: &Path,
    ) -> Result<Vec<u8>> {
        let response = self.run(
            SIGN_ECDSA,
            self.sign_ecdsa_args(key_label, data, approval),
            credentials,
        )?;
        let output = |reason: &str| Error::CloudHsmOutput {
            command: SIGN_ECDSA,
            reason: reason.to_owned(),
        };
        let signature = response
            .get("signature")
            .and_then(Value::as_str)
            .ok_or_else(|| output("no `data.signature` string in the response"))?;
        Base64::decode_vec(signature.trim())
            .map_err(|e| output(&format!("`data.signature` is not base64: {e}")))
    }

    /// The subcommand words, then `--cluster-id` if configured.
    fn command(&self, words: &[&str]) -> Vec<OsString> {
        let mut args: Vec<OsString> = words.iter().map(OsString::from).collect();
        if let Some(cluster) = &self.cluster_id {
            args.extend(["--cluster-id".into(), cluster.into()]);
        }
        args
    }

    /// Run one command and return the `data` of its `{"error_code": 0, "data": …}`
    /// answer.
    fn run(
        &self,
        command: &'static str,
        args: Vec<OsString>,
        credentials: &Credentials,
    ) -> Result<Value> {
        tracing::debug!(
            program = %self.program.display(),
            command,
            user = credentials.username(),
            "running cloudhsm-cli"
        );
        let pin = credentials.pin();
        let output = Command::new(&self.program)
            .args(&args)
            .env(ROLE_ENV, CRYPTO_USER_ROLE)
            .env(PIN_ENV, pin.as_str())
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::CloudHsmSpawn {
                program: self.program.clone(),
                command,
                source,
            })?;
        drop(pin);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = shorten(&credentials.redact(String::from_utf8_lossy(&output.stderr).trim()));
        let response = parse_response(&stdout);
        let error_response =
            shorten(&credentials.redact(&error_message(response.as_ref(), &stdout)));
        if !output.status.success() {
            return Err(Error::CloudHsmCommand {
                command,
                status: describe(output.status),
                stderr,
                response: error_response,
            });
        }
        let Some(response) = response else {
            return Err(Error::CloudHsmOutput {
                command,
                reason: format!(
                    "stdout is not a JSON response: {}",
                    shorten(&credentials.redact(stdout.trim()))
                ),
            });
        };
        match response.get("error_code").and_then(Value::as_i64) {
            Some(0) => Ok(response.get("data").cloned().unwrap_or(Value::Null)),
            Some(code) => Err(Error::CloudHsmCommand {
                command,
                status: format!("error_code {code}, exit status 0"),
                stderr,
                response: error_response,
            }),
            None => Err(Error::CloudHsmOutput {
                command,
                reason: "the JSON response has no numeric `error_code`".to_owned(),
            }),
        }
    }
}

/// What an error answer says: its `data`, or stdout when it is not JSON.
fn error_message(response: Option<&Value>, stdout: &str) -> String {
    match response {
        Some(response) => match response.get("data") {
            Some(Value::String(message)) => message.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        None => stdout.trim().to_owned(),
    }
}

/// The JSON object on stdout; tolerates text around it (banners, warnings).
fn parse_response(stdout: &str) -> Option<Value> {
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
    };
    parse(stdout).or_else(|| {
        let start = stdout.find('{')?;
        let end = stdout.rfind('}')?;
        parse(stdout.get(start..=end)?)
    })
}

fn describe(status: ExitStatus) -> String {
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

    fn strings(args: &[OsString]) -> Vec<&str> {
        args.iter().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn generate_token_argv() {
        let cli = Cli::default();
        assert_eq!(cli.program, PathBuf::from("cloudhsm-cli"));
        assert_eq!(
            strings(&cli.generate_token_args(Path::new("/c/cloudhsm/sign-001.token.json"))),
            [
                "quorum",
                "token-sign",
                "generate",
                "--service",
                "key-usage",
                "--token",
                "/c/cloudhsm/sign-001.token.json",
            ]
        );
    }

    #[test]
    fn sign_ecdsa_argv() {
        let cli = Cli::default();
        assert_eq!(
            strings(&cli.sign_ecdsa_args(
                "rust-pki-root",
                Path::new("/c/sign-001.tbs"),
                Path::new("/c/sign-001.approved.json"),
            )),
            [
                "crypto",
                "sign",
                "ecdsa",
                "--key-filter",
                "attr.label=rust-pki-root",
                "--hash-function",
                "sha384",
                "--data-path",
                "/c/sign-001.tbs",
                "--approval",
                "/c/sign-001.approved.json",
            ]
        );
    }

    #[test]
    fn cluster_id_follows_the_subcommand() {
        let cli = Cli {
            program: PathBuf::from("/opt/cloudhsm/bin/cloudhsm-cli"),
            cluster_id: Some("cluster-abc".into()),
        };
        assert_eq!(
            strings(&cli.generate_token_args(Path::new("t.json")))[..5],
            [
                "quorum",
                "token-sign",
                "generate",
                "--cluster-id",
                "cluster-abc"
            ]
        );
        assert_eq!(
            strings(&cli.sign_ecdsa_args("root", Path::new("d"), Path::new("a")))[..5],
            ["crypto", "sign", "ecdsa", "--cluster-id", "cluster-abc"]
        );
    }

    #[test]
    fn credentials_stay_out_of_debug_and_messages() {
        let credentials = Credentials::new("operator", SecretString::from("hunter2-pw")).unwrap();
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert_eq!(credentials.pin().as_str(), "operator:hunter2-pw");
        assert_eq!(
            credentials.redact("login operator:hunter2-pw failed, pw hunter2-pw"),
            "login [password removed] failed, pw [password removed]"
        );
        for bad in ["", "a:b", "a b"] {
            assert!(Credentials::new(bad, SecretString::from("x")).is_err());
        }
    }

    #[test]
    fn responses_with_surrounding_text_parse() {
        let text =
            "warning: something\n{\n  \"error_code\": 0,\n  \"data\": {\"path\": \"/t\"}\n}\n";
        assert_eq!(parse_response(text).unwrap()["data"]["path"], "/t");
        assert!(parse_response("not json").is_none());
    }
}
