//! Where the program finds its key, certificates and pinned root: environment variables
//! first (`RUST_PKI_GIT_KEY`, …), then git config (`rustpki.key`, …), read with `git config`
//! in the repository git runs us in.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The settings, each named by its git config key (`rustpki.NAME`) and environment
/// variable (`RUST_PKI_GIT_NAME`).
pub const SETTINGS_HELP: &str = "\
Settings (environment variable, else git config in the repository):
  RUST_PKI_GIT_KEY      rustpki.key       PKCS#11 URI of the bors leaf key, with its pin-source
                                          (signing; else -u KEY when it is a pkcs11: URI)
  RUST_PKI_GIT_CERT     rustpki.cert      the bors leaf certificate, PEM (signing)
  RUST_PKI_GIT_CHAIN    rustpki.chain     the bors delegate certificate, PEM (signing)
  RUST_PKI_GIT_ROOT     rustpki.root      the pinned Rust root certificate (verifying)
  RUST_PKI_GIT_PURPOSE  rustpki.purpose   the purpose, default bors
  RUST_PKI_GIT_POLICY   rustpki.policy    policy naming the purposes' EKUs, default built in
  RUST_PKI_GIT_CRL      rustpki.crl       CRLs to check (git config: repeat the key;
                                          environment: separated by ':')
Relative paths in git config are relative to the repository's top level.";

/// The settings of one run.
#[derive(Debug, Default)]
pub struct Config {
    /// PKCS#11 URI of the leaf key.
    pub key: Option<String>,
    /// Leaf certificate.
    pub cert: Option<PathBuf>,
    /// Delegate certificate.
    pub chain: Option<PathBuf>,
    /// Pinned root.
    pub root: Option<PathBuf>,
    /// Purpose name.
    pub purpose: String,
    /// Policy file for the purposes.
    pub policy: Option<PathBuf>,
    /// CRL files.
    pub crls: Vec<PathBuf>,
}

impl Config {
    /// Reads every setting.
    ///
    /// # Errors
    /// `git config` cannot run, or prints something that is not UTF-8.
    pub fn load() -> anyhow::Result<Self> {
        let git = GitConfig::new();
        let path = |name: &str| -> anyhow::Result<Option<PathBuf>> {
            Ok(match std::env::var_os(env_name(name)) {
                Some(value) => Some(PathBuf::from(value)),
                None => git.get(name)?.map(|v| git.resolve(&v)),
            })
        };
        let crls = match std::env::var_os(env_name("crl")) {
            Some(value) => std::env::split_paths(&value).collect(),
            None => git.get_all("crl")?.iter().map(|v| git.resolve(v)).collect(),
        };
        Ok(Self {
            key: match std::env::var(env_name("key")) {
                Ok(value) => Some(value),
                Err(_) => git.get("key")?,
            },
            cert: path("cert")?,
            chain: path("chain")?,
            root: path("root")?,
            purpose: match std::env::var(env_name("purpose")) {
                Ok(value) => value,
                Err(_) => git.get("purpose")?.unwrap_or_else(|| "bors".to_owned()),
            },
            policy: path("policy")?,
            crls,
        })
    }
}

/// A required path setting, or an error naming both ways to set it.
pub fn required<'a>(
    value: &'a Option<PathBuf>,
    name: &str,
    what: &str,
) -> anyhow::Result<&'a Path> {
    match value {
        Some(path) => Ok(path),
        None => bail!(
            "no {what}: set {} or `git config rustpki.{name} FILE`",
            env_name(name)
        ),
    }
}

/// `RUST_PKI_GIT_` and the setting's name in upper case.
pub fn env_name(name: &str) -> String {
    format!("RUST_PKI_GIT_{}", name.to_ascii_uppercase())
}

/// `git config` in the current repository (or none: then only global settings apply).
struct GitConfig {
    top_level: Option<PathBuf>,
}

impl GitConfig {
    fn new() -> Self {
        let top_level = Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| PathBuf::from(s.trim_end_matches('\n')));
        Self { top_level }
    }

    fn get(&self, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self.run("--get", name)?.pop())
    }

    fn get_all(&self, name: &str) -> anyhow::Result<Vec<String>> {
        self.run("--get-all", name)
    }

    /// `git config --type=path GET rustpki.NAME`: the values (none when unset).
    fn run(&self, get: &str, name: &str) -> anyhow::Result<Vec<String>> {
        let key = format!("rustpki.{name}");
        let output = Command::new("git")
            .args([
                OsString::from("config"),
                "--type=path".into(),
                get.into(),
                key.clone().into(),
            ])
            .output()
            .context("running `git config` (is git on PATH?)")?;
        // Exit status 1: the key is not set.
        if output.status.code() == Some(1) {
            return Ok(Vec::new());
        }
        if !output.status.success() {
            bail!(
                "`git config {get} {key}` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let text = String::from_utf8(output.stdout)
            .with_context(|| format!("git config {key}: not UTF-8"))?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    fn resolve(&self, value: &str) -> PathBuf {
        let path = PathBuf::from(value);
        match &self.top_level {
            Some(top) if path.is_relative() => top.join(path),
            _ => path,
        }
    }
}
