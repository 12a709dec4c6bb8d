//! Where a PKCS#11 user PIN comes from: a file, an environment variable or an inherited
//! file descriptor. Never the command line (see [`crate::pkcs11_uri`]).
//!
//! The PIN is read into zeroizing buffers and handed out as a [`SecretString`]; no error
//! or log message ever contains it, only the name of its source.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// A PIN longer than this is a misconfigured source (a binary, a key file), not a PIN.
const MAX_PIN_LEN: u64 = 1024;

/// A source of a PIN, written `file:PATH` (or `file:///PATH`), `env:NAME` or `fd:N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinSource {
    /// A file holding the PIN, e.g. a tmpfs file readable only by the operator.
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
    /// An open file descriptor inherited from the parent process (read via `/dev/fd/N`).
    /// A pipe can be read only once: open one key per process with it.
    Fd(u32),
}

impl PinSource {
    /// Read the PIN. One trailing newline (`\n` or `\r\n`) is removed.
    ///
    /// # Errors
    /// [`Error::PinReadIo`] if the source cannot be read; [`Error::PinRead`] if it holds an empty, over-long or
    /// non-UTF-8 PIN. The message names the source, never the PIN.
    pub fn read(&self) -> Result<SecretString> {
        let raw = match self {
            Self::File(path) => read_limited(std::fs::File::open(path), self)?,
            // /dev/fd/N opens the inherited descriptor without unsafe from_raw_fd.
            Self::Fd(fd) => read_limited(std::fs::File::open(format!("/dev/fd/{fd}")), self)?,
            Self::Env(name) => {
                let value =
                    std::env::var_os(name).ok_or_else(|| self.error("the variable is not set"))?;
                Zeroizing::new(value.into_encoded_bytes())
            }
        };
        let pin = strip_one_newline(&raw);
        if pin.is_empty() {
            return Err(self.error("the PIN is empty"));
        }
        if pin.len() as u64 > MAX_PIN_LEN {
            return Err(self.error(&format!("the PIN is longer than {MAX_PIN_LEN} bytes")));
        }
        let pin = std::str::from_utf8(pin).map_err(|_| self.error("the PIN is not UTF-8"))?;
        Ok(SecretString::from(pin))
    }

    fn error(&self, reason: &str) -> Error {
        Error::PinRead {
            pin_source: self.to_string(),
            reason: reason.to_owned(),
        }
    }
}

/// Read at most `MAX_PIN_LEN + 2` bytes (PIN + `\r\n`), one more to detect overlong input.
fn read_limited(
    file: std::io::Result<std::fs::File>,
    source: &PinSource,
) -> Result<Zeroizing<Vec<u8>>> {
    let io_error = |e| Error::PinReadIo {
        pin_source: source.to_string(),
        source: e,
    };
    let limit = MAX_PIN_LEN + 3;
    // Allocate up front (with slack for read_to_end's probing) so the Vec never
    // reallocates: a reallocation would leave an unzeroized copy of the PIN behind.
    let capacity = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(64);
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    file.map_err(io_error)?
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(io_error)?;
    Ok(buf)
}

fn strip_one_newline(raw: &[u8]) -> &[u8] {
    match raw {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => raw,
    }
}

impl FromStr for PinSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (kind, rest) = s.split_once(':').unwrap_or(("", s));
        let syntax = |reason: &str| Error::PinSourceSyntax {
            // Someone may have written the PIN itself here: echo only what has a known kind.
            pin_source: if ["file", "env", "fd"].contains(&kind) {
                s.to_owned()
            } else {
                "(not shown)".to_owned()
            },
            reason: reason.to_owned(),
        };
        if kind.is_empty() {
            return Err(syntax("no `file:`, `env:` or `fd:` prefix"));
        }
        match kind {
            "file" => {
                let path = match rest.strip_prefix("//") {
                    // file:///PATH: an empty authority, i.e. this host.
                    Some(local) if local.starts_with('/') => local,
                    Some(_) => return Err(syntax("only local file:///PATH URIs are supported")),
                    None => rest,
                };
                if path.is_empty() {
                    return Err(syntax("the file path is empty"));
                }
                Ok(Self::File(PathBuf::from(path)))
            }
            "env" => {
                if rest.is_empty() || rest.contains(['=', '\0']) {
                    return Err(syntax("the variable name is empty or contains `=` or NUL"));
                }
                Ok(Self::Env(rest.to_owned()))
            }
            "fd" => rest
                .parse::<u32>()
                .map(Self::Fd)
                .map_err(|_| syntax("the descriptor is not a non-negative integer")),
            _ => Err(syntax("unknown kind of source")),
        }
    }
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::Env(name) => write!(f, "env:{name}"),
            Self::Fd(fd) => write!(f, "fd:{fd}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use secrecy::ExposeSecret;

    use super::*;

    fn parse(s: &str) -> PinSource {
        s.parse().unwrap()
    }

    #[test]
    fn parses_each_kind() {
        assert_eq!(parse("file:/run/pin"), PinSource::File("/run/pin".into()));
        assert_eq!(parse("file:///run/pin"), PinSource::File("/run/pin".into()));
        assert_eq!(parse("file:pin.txt"), PinSource::File("pin.txt".into()));
        assert_eq!(parse("env:ROOT_PIN"), PinSource::Env("ROOT_PIN".into()));
        assert_eq!(parse("fd:3"), PinSource::Fd(3));
    }

    #[test]
    fn display_round_trips() {
        for s in ["file:/run/pin", "env:ROOT_PIN", "fd:0"] {
            assert_eq!(parse(s).to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_sources() {
        for s in [
            "",
            "/run/pin",
            "file:",
            "file://host/pin",
            "env:",
            "env:A=B",
            "fd:",
            "fd:-1",
            "fd:x",
            "pin:1234",
            "stdin:",
        ] {
            let err = s.parse::<PinSource>().unwrap_err();
            assert!(matches!(err, Error::PinSourceSyntax { .. }), "{s}: {err}");
        }
    }

    #[test]
    fn does_not_echo_what_may_be_a_pin() {
        for s in ["123456", "pin:123456", ":123456"] {
            let err = s.parse::<PinSource>().unwrap_err();
            assert!(!err.to_string().contains("123456"), "{err}");
        }
    }

    #[test]
    fn reads_file_and_trims_one_newline() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"12 34\n\n").unwrap();
        let pin = PinSource::File(file.path().into()).read().unwrap();
        assert_eq!(pin.expose_secret(), "12 34\n");

        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"secret\r\n").unwrap();
        let pin = PinSource::File(file.path().into()).read().unwrap();
        assert_eq!(pin.expose_secret(), "secret");
    }

    #[test]
    fn rejects_empty_pin_without_echoing_anything() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"\n").unwrap();
        let err = PinSource::File(file.path().into()).read().unwrap_err();
        assert!(matches!(err, Error::PinRead { .. }));
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn rejects_overlong_and_non_utf8_pins_without_echoing_them() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&[b'7'; 2000]).unwrap();
        let err = PinSource::File(file.path().into()).read().unwrap_err();
        assert!(err.to_string().contains("longer"), "{err}");
        assert!(!err.to_string().contains("777"), "{err}");

        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"ab\xffcd").unwrap();
        let err = PinSource::File(file.path().into()).read().unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
        assert!(!err.to_string().contains("ab"), "{err}");
    }

    #[test]
    fn missing_file_error_names_the_file() {
        let err = PinSource::File("/nonexistent/rust-pki.pin".into())
            .read()
            .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/rust-pki.pin"),
            "{err}"
        );
    }

    #[test]
    fn missing_env_var_error_names_the_variable() {
        let err = PinSource::Env("RUST_PKI_TEST_SURELY_UNSET_PIN".into())
            .read()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("env:RUST_PKI_TEST_SURELY_UNSET_PIN"),
            "{err}"
        );
    }

    #[test]
    fn reads_env_var() {
        // Cargo sets CARGO_PKG_NAME for the tests it runs; setting a variable needs unsafe.
        let pin = PinSource::Env("CARGO_PKG_NAME".into()).read().unwrap();
        assert_eq!(pin.expose_secret(), "rust-pki-ca");
    }

    #[test]
    fn reads_inherited_fd() {
        // Opening a file keeps its descriptor open in this process: read it back through fd:N.
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"fd-pin\n").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let fd = u32::try_from(fd).unwrap();
        let pin = PinSource::Fd(fd).read().unwrap();
        assert_eq!(pin.expose_secret(), "fd-pin");
    }
}
