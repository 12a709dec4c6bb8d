//! How to run `cloudhsm-cli`, and the command lines the CloudHSM gate types into its
//! interactive session (one builder per command, unit-tested; [`super::session`] runs them).
//!
//! Every rule below follows the AWS CloudHSM user guide (Client SDK 5, CloudHSM CLI); the
//! page is cited next to each. Command lines are split like a POSIX shell would: each word
//! is quoted with [`shlex`]. That the interactive CLI splits its input the same way is an
//! assumption (the guide shows no quoted argument); words with a line break are refused.
//!
//! Passwords travel only inside a command line written to the session's stdin (`login`,
//! `user create` and `cluster activate` all document `--password`), never in argv or the
//! environment of a process; [`Command::display`] and every error show
//! `[password removed]` instead.

use std::{
    borrow::Cow,
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The program run when none is configured (found on `PATH`).
pub const DEFAULT_PROGRAM: &str = "cloudhsm-cli";
/// How long one command may take before the session is given up.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// What a password shows as in command lines and errors.
pub const PASSWORD_REMOVED: &str = "[password removed]";
/// The hash for ecdsa-with-SHA384.
pub const HASH_FUNCTION: &str = "sha384";
/// The curve of the root key.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-generate-asymmetric-pair-ec.html>
pub const CURVE: &str = "secp384r1";
/// Key quorum values go from 0 to 8.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-first-time.html>
pub const MAX_KEY_QUORUM: usize = 8;
/// Usernames are at most 31 characters.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>
pub const MAX_USERNAME: usize = 31;

/// How to run `cloudhsm-cli`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    /// The program (default `cloudhsm-cli` on `PATH`).
    pub program: PathBuf,
    /// `--cluster-id` for `interactive`, needed only when the CLI's configuration names
    /// several clusters: the commands of the session then fall back to it
    /// (<https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-gen.html>,
    /// option `--cluster-id`).
    pub cluster_id: Option<String>,
    /// How long one command may take (a hung CLI is then a clear error, not a hang).
    pub command_timeout: Duration,
    /// Extra environment for the CLI process (e.g. a fake's state folder). Never secrets.
    pub env: Vec<(String, String)>,
}

impl Default for Cli {
    fn default() -> Self {
        Self {
            program: PathBuf::from(DEFAULT_PROGRAM),
            cluster_id: None,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            env: Vec::new(),
        }
    }
}

impl Cli {
    /// argv (without the program) that starts an interactive session.
    /// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-modes.html>
    pub fn interactive_args(&self) -> Vec<String> {
        let mut args = vec!["interactive".to_owned()];
        if let Some(cluster) = &self.cluster_id {
            args.extend(["--cluster-id".to_owned(), cluster.clone()]);
        }
        args
    }
}

/// An HSM user's role.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `admin`: manages users and quorum values.
    Admin,
    /// `crypto-user`: owns and uses keys.
    CryptoUser,
}

impl Role {
    /// As the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::CryptoUser => "crypto-user",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A quorum-authorised service (what a quorum token is for).
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-gen.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// `registration`: registering one's quorum public key.
    Registration,
    /// `key-usage`: signing with a key (crypto user).
    KeyUsage,
    /// `key-management`: sharing, unsharing, wrapping a key (crypto user).
    KeyManagement,
    /// `user`: creating and deleting users, changing passwords (admin).
    User,
    /// `quorum`: setting quorum values (admin).
    Quorum,
    /// `cluster`: mTLS settings, hsm2m.medium only (admin).
    Cluster,
}

impl Service {
    /// As the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::KeyUsage => "key-usage",
            Self::KeyManagement => "key-management",
            Self::User => "user",
            Self::Quorum => "quorum",
            Self::Cluster => "cluster",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Check a CloudHSM username: 1 to 31 characters, letters, digits and `_` only, lower
/// case (the CLI lower-cases usernames, so anything else would not match `user list`).
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>
///
/// # Errors
/// [`Error::CloudHsmConfig`] naming the problem.
pub fn check_username(username: &str) -> Result<()> {
    let valid = !username.is_empty()
        && username.len() <= MAX_USERNAME
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(Error::CloudHsmConfig {
            reason: format!(
                "CloudHSM username `{username}` must be 1 to {MAX_USERNAME} characters: lower-case letters, digits and `_`"
            ),
        });
    }
    Ok(())
}

/// Check a key label: non-empty, no whitespace.
///
/// # Errors
/// [`Error::CloudHsmConfig`] naming the problem.
pub fn check_label(label: &str) -> Result<()> {
    if label.is_empty() || label.chars().any(char::is_whitespace) {
        return Err(Error::CloudHsmConfig {
            reason: format!("key label `{label}` must be non-empty and without whitespace"),
        });
    }
    Ok(())
}

/// One word of a command line.
enum Word {
    Plain(String),
    Secret(SecretString),
}

/// One command line for the interactive session: its words (some secret) and its name
/// for errors (`crypto sign ecdsa`, …).
pub struct Command {
    name: &'static str,
    words: Vec<Word>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("line", &self.display())
            .finish()
    }
}

impl Command {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            words: name.split(' ').map(|w| Word::Plain(w.to_owned())).collect(),
        }
    }

    fn arg(mut self, word: impl Into<String>) -> Self {
        self.words.push(Word::Plain(word.into()));
        self
    }

    fn opt(self, option: &str, value: impl Into<String>) -> Self {
        self.arg(option).arg(value)
    }

    fn path(self, option: &str, path: &Path) -> Result<Self> {
        let value = path.to_str().ok_or_else(|| Error::CloudHsmConfig {
            reason: format!("{}: `{}` is not UTF-8", self.name, path.display()),
        })?;
        Ok(self.opt(option, value))
    }

    fn approval(self, approval: Option<&Path>) -> Result<Self> {
        match approval {
            Some(path) => self.path("--approval", path),
            None => Ok(self),
        }
    }

    fn password(mut self, password: &SecretString) -> Self {
        self.words.push(Word::Plain("--password".to_owned()));
        self.words.push(Word::Secret(password.clone()));
        self
    }

    /// The command's name, as errors show it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The words, passwords replaced by [`PASSWORD_REMOVED`] (what may be logged).
    pub fn words(&self) -> Vec<String> {
        self.words
            .iter()
            .map(|w| match w {
                Word::Plain(w) => w.clone(),
                Word::Secret(_) => PASSWORD_REMOVED.to_owned(),
            })
            .collect()
    }

    /// The line as it may be logged: quoted words, passwords removed.
    pub fn display(&self) -> String {
        self.words()
            .iter()
            .map(|w| quote(w).map_or_else(|_| w.clone(), Cow::into_owned))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The secrets of this line (to cut out of anything the CLI answers).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &SecretString> {
        self.words.iter().filter_map(|w| match w {
            Word::Secret(s) => Some(s),
            Word::Plain(_) => None,
        })
    }

    /// The line to write to the session, newline included. Holds the passwords: zeroized
    /// on drop, never logged.
    ///
    /// # Errors
    /// [`Error::CloudHsmConfig`] for a word that cannot be written on one line.
    pub(crate) fn line(&self) -> Result<Zeroizing<String>> {
        let mut line = Zeroizing::new(String::new());
        for (i, word) in self.words.iter().enumerate() {
            let (text, secret) = match word {
                Word::Plain(w) => (w.as_str(), false),
                Word::Secret(s) => (s.expose_secret(), true),
            };
            let what = if secret { "the password" } else { text };
            let bad = |reason: &str| Error::CloudHsmConfig {
                reason: format!("{}: {what} {reason}", self.name),
            };
            if text.contains(['\n', '\r']) {
                return Err(bad("contains a line break"));
            }
            let quoted = quote(text).map_err(|_| bad("contains a NUL byte"))?;
            if i > 0 {
                line.push(' ');
            }
            line.push_str(&quoted);
        }
        line.push('\n');
        Ok(line)
    }
}

/// A word as typed: as is when it has only characters no shell would touch, so that the
/// CLI's own handling of quotes matters only for unusual words (spaces, quotes, `$`).
fn quote(word: &str) -> Result<Cow<'_, str>, shlex::QuoteError> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./=:,@+%".contains(&b));
    if plain {
        Ok(Cow::Borrowed(word))
    } else {
        shlex::try_quote(word)
    }
}

/// `login --username U --role R --password P`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-login.html>
pub fn login(role: Role, username: &str, password: &SecretString) -> Command {
    Command::new("login")
        .opt("--username", username)
        .opt("--role", role.as_str())
        .password(password)
}

/// `logout`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-logout.html>
pub fn logout() -> Command {
    Command::new("logout")
}

/// `cluster activate --password P`: sets the first admin's password.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-cluster-activate.html>
pub fn cluster_activate(admin_password: &SecretString) -> Command {
    Command::new("cluster activate").password(admin_password)
}

/// `user create --username U --role R --password P [--approval A]`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-create.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn user_create(
    username: &str,
    role: Role,
    password: &SecretString,
    approval: Option<&Path>,
) -> Result<Command> {
    Command::new("user create")
        .opt("--username", username)
        .opt("--role", role.as_str())
        .password(password)
        .approval(approval)
}

/// `user delete --username U --role R [--approval A]`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-delete.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn user_delete(username: &str, role: Role, approval: Option<&Path>) -> Result<Command> {
    Command::new("user delete")
        .opt("--username", username)
        .opt("--role", role.as_str())
        .approval(approval)
}

/// `user change-password --username U --role R --password P [--approval A]`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-change-password.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn user_change_password(
    username: &str,
    role: Role,
    password: &SecretString,
    approval: Option<&Path>,
) -> Result<Command> {
    Command::new("user change-password")
        .opt("--username", username)
        .opt("--role", role.as_str())
        .password(password)
        .approval(approval)
}

/// `user list`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-list.html>
pub fn user_list() -> Command {
    Command::new("user list")
}

/// `quorum token-sign list-quorum-values` (no login needed).
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-list-qm.html>
pub fn list_quorum_values() -> Command {
    Command::new("quorum token-sign list-quorum-values")
}

/// `quorum token-sign generate --service S --token T`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-gen.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn generate_token(service: Service, token: &Path) -> Result<Command> {
    Command::new("quorum token-sign generate")
        .opt("--service", service.as_str())
        .path("--token", token)
}

/// `user change-quorum token-sign register --public-key K --signed-token T`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-user-chqm-token-reg.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn register_quorum_key(public_key_pem: &Path, signed_token: &Path) -> Result<Command> {
    Command::new("user change-quorum token-sign register")
        .path("--public-key", public_key_pem)?
        .path("--signed-token", signed_token)
}

/// `quorum token-sign set-quorum-value --service S --value N [--approval A]`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-qm-token-set-qm.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn set_quorum_value(
    service: Service,
    value: usize,
    approval: Option<&Path>,
) -> Result<Command> {
    Command::new("quorum token-sign set-quorum-value")
        .opt("--service", service.as_str())
        .opt("--value", value.to_string())
        .approval(approval)
}

/// `key generate-asymmetric-pair ec --curve secp384r1`, both halves labelled `label`, the
/// private key non-extractable and for signing only, shared with `share_with` at
/// generation (a key quorum value may not exceed the owner plus the users the key is
/// shared with), both key quorum values set to `quorum`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-generate-asymmetric-pair-ec.html>
/// (`extractable` defaults to true and is settable at creation only:
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-attributes-table.html>)
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/key-quorum-auth-chsm-cli-first-time.html>
pub fn generate_p384_key(label: &str, share_with: &[String], quorum: usize) -> Command {
    let mut command = Command::new("key generate-asymmetric-pair ec")
        .opt("--curve", CURVE)
        .opt("--public-label", label)
        .opt("--private-label", label)
        .opt("--public-attributes", "verify=true")
        .opt("--private-attributes", "sign=true")
        .arg("extractable=false");
    if !share_with.is_empty() {
        command = command.arg("--share-crypto-users");
        for user in share_with {
            command = command.arg(user.clone());
        }
    }
    command
        .opt("--manage-private-key-quorum-value", quorum.to_string())
        .opt("--use-private-key-quorum-value", quorum.to_string())
}

/// The filter words selecting the `class` half of the key pair labelled `label`.
fn key_filter(command: Command, option: &str, label: &str, class: &str) -> Command {
    command
        .opt(option, format!("attr.label={label}"))
        .arg(format!("attr.class={class}"))
}

/// `key share --filter attr.label=L attr.class=private-key --username U --role crypto-user
/// [--approval A]`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-share.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn share_key(label: &str, username: &str, approval: Option<&Path>) -> Result<Command> {
    key_filter(Command::new("key share"), "--filter", label, "private-key")
        .opt("--username", username)
        .opt("--role", Role::CryptoUser.as_str())
        .approval(approval)
}

/// `key list --filter attr.label=L attr.class=private-key --verbose` (the owner and the
/// users the key is shared with).
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/manage-keys-cloudhsm-cli-share.html>
pub fn list_private_key(label: &str) -> Command {
    key_filter(Command::new("key list"), "--filter", label, "private-key").arg("--verbose")
}

/// `key list --filter attr.label=L attr.class=public-key`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-list.html>
pub fn list_public_key(label: &str) -> Command {
    key_filter(Command::new("key list"), "--filter", label, "public-key")
}

/// `key generate-file --encoding pem --path P --filter attr.label=L attr.class=public-key`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-key-generate-file.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn export_public_key(label: &str, path: &Path) -> Result<Command> {
    Ok(key_filter(
        Command::new("key generate-file")
            .opt("--encoding", "pem")
            .path("--path", path)?,
        "--filter",
        label,
        "public-key",
    ))
}

/// `crypto sign ecdsa --key-filter attr.label=L attr.class=private-key --hash-function
/// sha384 --data-path D --approval A`.
/// <https://docs.aws.amazon.com/cloudhsm/latest/userguide/cloudhsm_cli-crypto-sign-ecdsa.html>
///
/// # Errors
/// A path that is not UTF-8.
pub fn sign_ecdsa(label: &str, data: &Path, approval: &Path) -> Result<Command> {
    key_filter(
        Command::new("crypto sign ecdsa"),
        "--key-filter",
        label,
        "private-key",
    )
    .opt("--hash-function", HASH_FUNCTION)
    .path("--data-path", data)?
    .path("--approval", approval)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn pw(text: &str) -> SecretString {
        SecretString::from(text)
    }

    #[test]
    fn interactive_argv() {
        let mut cli = Cli::default();
        assert_eq!(cli.program, PathBuf::from("cloudhsm-cli"));
        assert_eq!(cli.interactive_args(), ["interactive"]);
        cli.cluster_id = Some("cluster-abc".into());
        assert_eq!(
            cli.interactive_args(),
            ["interactive", "--cluster-id", "cluster-abc"]
        );
    }

    #[test]
    fn passwords_are_on_the_line_only() {
        let login = login(Role::CryptoUser, "operator", &pw("it's s3cret $x"));
        assert_eq!(
            login.words(),
            [
                "login",
                "--username",
                "operator",
                "--role",
                "crypto-user",
                "--password",
                PASSWORD_REMOVED
            ]
        );
        assert_eq!(
            login.display(),
            "login --username operator --role crypto-user --password '[password removed]'"
        );
        assert!(!format!("{login:?}").contains("s3cret"));
        // Quoted like a shell would, so that spaces and quotes survive.
        let line = login.line().unwrap();
        assert_eq!(
            shlex::split(&line).unwrap(),
            [
                "login",
                "--username",
                "operator",
                "--role",
                "crypto-user",
                "--password",
                "it's s3cret $x"
            ]
        );
        assert!(line.ends_with('\n'));
        assert!(
            cluster_activate(&pw("two\nlines"))
                .line()
                .unwrap_err()
                .to_string()
                .contains("the password contains a line break")
        );
    }

    #[test]
    fn user_commands() {
        let create = user_create(
            "m1",
            Role::CryptoUser,
            &pw("x"),
            Some(Path::new("/a/user token.json")),
        )
        .unwrap();
        assert_eq!(
            create.display(),
            "user create --username m1 --role crypto-user --password '[password removed]' --approval '/a/user token.json'"
        );
        assert_eq!(
            user_delete("m9", Role::CryptoUser, None).unwrap().words(),
            [
                "user",
                "delete",
                "--username",
                "m9",
                "--role",
                "crypto-user"
            ]
        );
        assert_eq!(user_list().words(), ["user", "list"]);
        assert_eq!(create.name(), "user create");
    }

    #[test]
    fn quorum_commands() {
        assert_eq!(
            generate_token(Service::KeyUsage, Path::new("/c/t.json"))
                .unwrap()
                .display(),
            "quorum token-sign generate --service key-usage --token /c/t.json"
        );
        assert_eq!(
            register_quorum_key(Path::new("m1.pub"), Path::new("m1.token"))
                .unwrap()
                .display(),
            "user change-quorum token-sign register --public-key m1.pub --signed-token m1.token"
        );
        assert_eq!(
            set_quorum_value(Service::User, 5, Some(Path::new("q.json")))
                .unwrap()
                .display(),
            "quorum token-sign set-quorum-value --service user --value 5 --approval q.json"
        );
        for (service, name) in [
            (Service::Registration, "registration"),
            (Service::KeyManagement, "key-management"),
            (Service::Quorum, "quorum"),
            (Service::Cluster, "cluster"),
        ] {
            assert_eq!(service.to_string(), name);
        }
    }

    #[test]
    fn key_commands() {
        let members = ["m1".to_owned(), "m2".to_owned()];
        assert_eq!(
            generate_p384_key("root", &members, 2).display(),
            "key generate-asymmetric-pair ec --curve secp384r1 --public-label root \
             --private-label root --public-attributes verify=true --private-attributes \
             sign=true extractable=false --share-crypto-users m1 m2 \
             --manage-private-key-quorum-value 2 --use-private-key-quorum-value 2"
        );
        assert_eq!(
            share_key("root", "m3", None).unwrap().display(),
            "key share --filter attr.label=root attr.class=private-key --username m3 --role crypto-user"
        );
        assert_eq!(
            list_public_key("root").display(),
            "key list --filter attr.label=root attr.class=public-key"
        );
        assert_eq!(
            export_public_key("root", Path::new("/o/root.pub.pem"))
                .unwrap()
                .display(),
            "key generate-file --encoding pem --path /o/root.pub.pem --filter attr.label=root attr.class=public-key"
        );
        assert_eq!(
            sign_ecdsa(
                "root",
                Path::new("/c/1.tbs"),
                Path::new("/c/1.approved.json")
            )
            .unwrap()
            .display(),
            "crypto sign ecdsa --key-filter attr.label=root attr.class=private-key \
             --hash-function sha384 --data-path /c/1.tbs --approval /c/1.approved.json"
        );
    }

    #[test]
    fn usernames_and_labels_follow_the_documented_rules() {
        for good in ["m1", "crypto_user1", &"a".repeat(31)] {
            check_username(good).unwrap();
        }
        for bad in [
            "",
            "a:b",
            "a b",
            "ceremony-operator",
            "Alice",
            &"a".repeat(32),
        ] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        check_label("rust-pki-root").unwrap();
        assert!(check_label("two words").is_err());
        assert!(check_label("").is_err());
    }
}
