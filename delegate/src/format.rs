//! The state file's TOML shape (serde, strict) and the value formats it uses: times,
//! serials, digests. The rules between fields are checked by [`crate::state`].

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{Error, Result};

/// The `format` line every state file starts with.
pub const STATE_FORMAT: &str = "rust-pki-delegate-state/v1";

/// `state.toml`, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateFile {
    pub(crate) format: String,
    pub(crate) delegate: DelegateSection,
    pub(crate) crl: CrlSection,
    #[serde(default, rename = "leaf", skip_serializing_if = "Vec::is_empty")]
    pub(crate) leaves: Vec<LeafRecord>,
    #[serde(default, rename = "revocation", skip_serializing_if = "Vec::is_empty")]
    pub(crate) revocations: Vec<RevocationRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DelegateSection {
    pub(crate) certificate_sha256: String,
    pub(crate) key: String,
    pub(crate) policy_sha256: String,
    pub(crate) initialised_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CrlSection {
    pub(crate) reserved_number: u64,
    pub(crate) last_number: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) this_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_index: Option<u64>,
}

/// One certificate in the issuance register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafRecord {
    /// Serial number: the DER content octets in lowercase hex.
    pub serial: String,
    /// Subject, RFC 4514.
    pub subject: String,
    /// notBefore, `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_before: String,
    /// notAfter, `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    /// SHA-256 of the certificate's DER, lowercase hex.
    pub sha256: String,
    /// Index of its `leaf-issuance` entry in the transparency log, once logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationRecord {
    /// Serial number of the revoked certificate (lowercase hex).
    pub serial: String,
    /// RFC 5280 reason, kebab-case (`key-compromise`, …, `unspecified`).
    pub reason: String,
    /// The revocation date as given, `YYYY-MM-DDTHH:MM:SSZ`; every CRL carries it unchanged.
    pub revoked_at: String,
    /// The revoked certificate's notAfter: CRLs list it until then.
    pub not_after: String,
    /// SHA-256 of the revoked certificate's DER.
    pub certificate_sha256: String,
    /// Index of its `revocation` entry in the transparency log, once logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

/// `time` as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, UTC).
#[must_use]
pub fn format_time(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let whole = UNIX_EPOCH + Duration::from_secs(seconds);
    OffsetDateTime::from(whole)
        .format(&Rfc3339)
        .unwrap_or_else(|_| seconds.to_string())
}

/// Whole seconds of `time` (X.509 times have no fractions).
#[must_use]
pub fn whole_seconds(time: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Parses a time written by [`format_time`]: exactly that form, nothing else.
///
/// # Errors
/// [`Error::Invalid`] naming `file` and `field` (rule `time-format`).
pub fn parse_time(file: &Path, field: &str, text: &str) -> Result<SystemTime> {
    let invalid = || Error::Invalid {
        file: file.to_owned(),
        field: field.to_owned(),
        rule: "time-format",
        message: format!(
            "{text:?} is not an RFC 3339 UTC time in whole seconds (YYYY-MM-DDTHH:MM:SSZ)"
        ),
    };
    let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| invalid())?;
    let time = SystemTime::from(parsed);
    if format_time(time) != text {
        return Err(invalid());
    }
    Ok(time)
}

/// Parses a serial given in lowercase or uppercase hex, optionally with `:` separators
/// (as `openssl x509 -serial` and `-text` print it), into its canonical form (lowercase
/// hex of the DER content octets).
///
/// # Errors
/// [`Error::Invalid`] (rule `serial-format`).
pub fn normalise_serial(file: &Path, field: &str, text: &str) -> Result<String> {
    let digits: String = text
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let ok = !digits.is_empty()
        && digits.len().is_multiple_of(2)
        && digits.len() <= 40
        && digits.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(Error::Invalid {
            file: file.to_owned(),
            field: field.to_owned(),
            rule: "serial-format",
            message: format!(
                "{text:?} is not a serial number: 1 to 20 octets in hex (e.g. 5d0f6ed65a6ecafd)"
            ),
        });
    }
    Ok(digits)
}

/// Checks a lowercase hex SHA-256 value.
///
/// # Errors
/// [`Error::Invalid`] (rule `digest-format`).
pub fn check_digest(file: &Path, field: &str, text: &str) -> Result<()> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::Invalid {
            file: file.to_owned(),
            field: field.to_owned(),
            rule: "digest-format",
            message: format!("{text:?} is not a SHA-256 digest (64 lowercase hex digits)"),
        });
    }
    Ok(())
}

/// SHA-256 of `bytes`, lowercase hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_one_spelling() {
        let file = Path::new("state.toml");
        let t = parse_time(file, "f", "2026-12-05T10:00:00Z").unwrap();
        assert_eq!(format_time(t), "2026-12-05T10:00:00Z");
        for other in [
            "2026-12-05T10:00:00.0Z",
            "2026-12-05T11:00:00+01:00",
            "2026-12-05t10:00:00z",
            "2026-12-05",
            "",
        ] {
            let err = parse_time(file, "crl.next_update", other).unwrap_err();
            assert_eq!(err.rule(), Some("time-format"), "{other}");
            assert!(err.to_string().contains("crl.next_update"), "{err}");
        }
    }

    #[test]
    fn serials_are_normalised_or_refused() {
        let file = Path::new("SERIAL");
        assert_eq!(
            normalise_serial(file, "SERIAL", "5D:0F:6E").unwrap(),
            "5d0f6e"
        );
        assert_eq!(normalise_serial(file, "SERIAL", "00ff").unwrap(), "00ff");
        for bad in ["", "abc", "zz", &"01".repeat(21), "0x12"] {
            let err = normalise_serial(file, "SERIAL", bad).unwrap_err();
            assert_eq!(err.rule(), Some("serial-format"), "{bad}");
        }
    }

    #[test]
    fn digests_are_lowercase_hex() {
        let file = Path::new("state.toml");
        check_digest(file, "d", &"ab".repeat(32)).unwrap();
        assert!(check_digest(file, "d", &"AB".repeat(32)).is_err());
        assert!(check_digest(file, "d", "ab").is_err());
    }
}
