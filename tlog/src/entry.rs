//! Log entries: the one, versioned encoding of what the Rust PKI logs (docs/architecture.md).
//!
//! # Format `rust-pki-log-entry/v1`
//!
//! An entry is UTF-8 text: a header line, then `key: value` lines in the fixed order of its
//! kind, each line ending in `\n` (no `\r`), nothing after the last line. Keys and their
//! order are exact; a missing, extra, reordered or duplicated field, an unknown kind or
//! version, and trailing data are errors. Values:
//!
//! * `hex32`: 64 lowercase hexadecimal digits (a SHA-256 digest);
//! * `u64`: decimal without sign or leading zeros;
//! * `b64`: standard, padded, canonical base64 (RFC 4648 §4), never empty;
//! * `name`: 1 to 1024 bytes of UTF-8 without control characters, not starting or ending
//!   with white space.
//!
//! ```text
//! rust-pki-log-entry/v1 ceremony-record
//! file-name: <name>          the record's file name (no directory)
//! size: <u64>                the record's length in bytes
//! sha256: <hex32>            SHA-256 of the record file
//! certificates: <hex32>,... | -   SHA-256 of the DER of each certificate the ceremony
//!                            issued, in the record's order, or "-" for none
//! record: <b64> | -          the record's bytes, or "-" when they do not fit
//!
//! rust-pki-log-entry/v1 leaf-issuance
//! certificate: <b64>         DER of the leaf certificate issued by a delegate
//! delegate-sha256: <hex32>   SHA-256 of the delegate CA certificate's DER
//!
//! rust-pki-log-entry/v1 artifact
//! name: <name>               the signed file's name (no directory)
//! size: <u64>                its length in bytes
//! sha256: <hex32>            its SHA-256 (sumdb-style: the log commits to the digest)
//! signer-sha256: <hex32> | - SHA-256 of the DER of the leaf certificate that signed it
//!                            (`rust-pki sign`), or "-" for a file logged without a
//!                            signature (`log append --artifact`)
//!
//! rust-pki-log-entry/v1 bastion-event
//! action: <name>             what was done to the bastion or the HSMs (e.g. up, down,
//!                            admit)
//! time: <name>               when (RFC 3339, UTC)
//! members: <name>,... | -    roster member ids concerned (admitted, or operating)
//! resources: <name>,... | -  AWS resource ids touched (instance, HSMs, backups)
//!
//! rust-pki-log-entry/v1 revocation
//! issuer-sha256: <hex32>     SHA-256 of the DER of the revoking CA's certificate
//! serial: <serial>           serial number of the revoked certificate
//! reason: <reason>           RFC 5280 reason in kebab-case: unspecified, key-compromise,
//!                            ca-compromise, affiliation-changed, superseded,
//!                            cessation-of-operation, certificate-hold, privilege-withdrawn
//! revoked-at: <time>         the revocation date as recorded (RFC 3339, UTC, whole
//!                            seconds: YYYY-MM-DDTHH:MM:SSZ)
//! certificate-sha256: <hex32> | -  SHA-256 of the revoked certificate's DER, or "-" when
//!                            only its serial was known
//!
//! rust-pki-log-entry/v1 crl
//! issuer-sha256: <hex32>     SHA-256 of the DER of the CRL issuer's certificate
//! number: <u64>              the CRL's cRLNumber
//! crl: <b64>                 DER of the CRL
//! ```
//!
//! A `serial` is 2 to 40 lowercase hexadecimal digits, an even number of them: the DER
//! content octets of the serial number (at most 20, RFC 5280 §4.1.2.2).
//!
//! In lists, each item is a `name` without commas; `-` stands for the empty list.
//!
//! An encoded entry is at most 65535 bytes, the limit of a tlog-tiles entry bundle.
//! Ceremony records can be larger: [`Entry::ceremony_record`] includes the record's bytes
//! only when the whole entry fits, and otherwise logs the name, size and SHA-256 alone
//! (`record: -`). The digest still commits the log to the record; its bytes must then be
//! published beside the log, and anyone can check them against the entry. The
//! `certificates` field names every certificate the ceremony issued even then, so a stapled
//! bundle for a delegate certificate can point at its ceremony's entry.

use base64ct::{Base64, Encoding};

use crate::bundle::MAX_ENTRY_LEN;
use crate::{Error, Result, sha256_of};

/// Header of every entry: the format name and version, followed by a space and the kind.
pub const ENTRY_VERSION: &str = "rust-pki-log-entry/v1";

/// Longest `name` value, in bytes.
pub const MAX_NAME_LEN: usize = 1024;

/// A decoded log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A ceremony record file (`ceremony-record`).
    CeremonyRecord {
        /// File name of the record (no directory).
        file_name: String,
        /// Length of the record in bytes.
        size: u64,
        /// SHA-256 of the record.
        sha256: [u8; 32],
        /// SHA-256 of the DER of each certificate the ceremony issued.
        certificates: Vec<[u8; 32]>,
        /// The record's bytes when they fit in the entry; `None` when only the digest is
        /// logged.
        record: Option<Vec<u8>>,
    },
    /// A leaf certificate issued by a delegate CA (`leaf-issuance`).
    LeafIssuance {
        /// DER of the leaf certificate.
        certificate: Vec<u8>,
        /// SHA-256 of the delegate certificate's DER.
        delegate_sha256: [u8; 32],
    },
    /// A signed or published file (`artifact`).
    Artifact {
        /// File name (no directory).
        name: String,
        /// Length in bytes.
        size: u64,
        /// SHA-256 of the file.
        sha256: [u8; 32],
        /// SHA-256 of the signing leaf certificate's DER; `None` for a file logged unsigned.
        signer_sha256: Option<[u8; 32]>,
    },
    /// Access to the bastion or the HSMs (`bastion-event`): the access log the RFC asks to
    /// publish, written by the tool that did it.
    BastionEvent {
        /// What was done (`up`, `down`, `admit`, ...).
        action: String,
        /// When, RFC 3339 UTC.
        time: String,
        /// Roster member ids concerned.
        members: Vec<String>,
        /// AWS resource ids touched.
        resources: Vec<String>,
    },
    /// A CA revoked a certificate (`revocation`): logged when it is recorded, before any
    /// CRL lists it.
    Revocation {
        /// SHA-256 of the revoking CA certificate's DER.
        issuer_sha256: [u8; 32],
        /// The serial number's DER content octets.
        serial: Vec<u8>,
        /// RFC 5280 reason, kebab-case (see [`REVOCATION_REASONS`]).
        reason: String,
        /// The revocation date, `YYYY-MM-DDTHH:MM:SSZ`.
        revoked_at: String,
        /// SHA-256 of the revoked certificate's DER, when known.
        certificate_sha256: Option<[u8; 32]>,
    },
    /// A CRL signed by a CA (`crl`).
    Crl {
        /// SHA-256 of the CRL issuer certificate's DER.
        issuer_sha256: [u8; 32],
        /// Its cRLNumber.
        number: u64,
        /// DER of the CRL.
        crl: Vec<u8>,
    },
}

/// The reasons a `revocation` entry may name (RFC 5280 §5.3.1, kebab-case; `removeFromCRL`
/// and the attribute-authority reasons are not used by this PKI).
pub const REVOCATION_REASONS: &[&str] = &[
    "unspecified",
    "key-compromise",
    "ca-compromise",
    "affiliation-changed",
    "superseded",
    "cessation-of-operation",
    "certificate-hold",
    "privilege-withdrawn",
];

/// The `ceremony-record` entries among `entries`, in log order: (index, file name, SHA-256
/// of the record). Entries that do not parse are skipped (the monitor reports them).
pub fn ceremony_records(entries: &[Vec<u8>]) -> Vec<(u64, String, [u8; 32])> {
    entries
        .iter()
        .zip(0u64..)
        .filter_map(|(bytes, index)| match Entry::parse(bytes) {
            Ok(Entry::CeremonyRecord {
                file_name, sha256, ..
            }) => Some((index, file_name, sha256)),
            _ => None,
        })
        .collect()
}

impl Entry {
    /// A ceremony-record entry for the record `bytes` stored as `file_name`, naming the
    /// certificates (DER) it issued: with the bytes when the encoded entry fits in 65535
    /// bytes, else with the digest only.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an empty record or an invalid name;
    /// [`Error::EntryTooLong`] when even the digest-only entry does not fit.
    pub fn ceremony_record<C: AsRef<[u8]>>(
        file_name: &str,
        bytes: &[u8],
        certificates: &[C],
    ) -> Result<Self> {
        check_name("file-name", file_name)?;
        if bytes.is_empty() {
            return Err(Error::EntryInvalid(
                "the ceremony record is empty".to_owned(),
            ));
        }
        let mut entry = Self::CeremonyRecord {
            file_name: file_name.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_of(bytes),
            certificates: certificates.iter().map(|c| sha256_of(c.as_ref())).collect(),
            record: Some(bytes.to_vec()),
        };
        if entry.encoded_len() > MAX_ENTRY_LEN
            && let Self::CeremonyRecord { record, .. } = &mut entry
        {
            *record = None;
        }
        entry.check_len()?;
        Ok(entry)
    }

    /// A leaf-issuance entry for the leaf certificate `certificate_der`, issued by the
    /// delegate whose certificate is `delegate_der`.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an empty certificate; [`Error::EntryTooLong`] when the
    /// entry would not fit in 65535 bytes.
    pub fn leaf_issuance(certificate_der: &[u8], delegate_der: &[u8]) -> Result<Self> {
        if certificate_der.is_empty() {
            return Err(Error::EntryInvalid(
                "the leaf certificate is empty".to_owned(),
            ));
        }
        let entry = Self::LeafIssuance {
            certificate: certificate_der.to_vec(),
            delegate_sha256: sha256_of(delegate_der),
        };
        entry.check_len()?;
        Ok(entry)
    }

    /// An artifact entry for a file logged without a signature: its name, size and
    /// SHA-256.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an invalid name.
    pub fn artifact(name: &str, size: u64, sha256: [u8; 32]) -> Result<Self> {
        check_name("name", name)?;
        Ok(Self::Artifact {
            name: name.to_owned(),
            size,
            sha256,
            signer_sha256: None,
        })
    }

    /// An artifact entry for a file signed by the leaf certificate `signer_der`: its name,
    /// size, SHA-256 and the SHA-256 of the signer's certificate.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an invalid name.
    pub fn signed_artifact(
        name: &str,
        size: u64,
        sha256: [u8; 32],
        signer_der: &[u8],
    ) -> Result<Self> {
        check_name("name", name)?;
        Ok(Self::Artifact {
            name: name.to_owned(),
            size,
            sha256,
            signer_sha256: Some(sha256_of(signer_der)),
        })
    }

    /// A bastion-event entry.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an invalid name, or a list item that is empty, `-`, or
    /// contains a comma.
    pub fn bastion_event(
        action: &str,
        time: &str,
        members: &[String],
        resources: &[String],
    ) -> Result<Self> {
        let entry = Self::BastionEvent {
            action: action.to_owned(),
            time: time.to_owned(),
            members: members.to_vec(),
            resources: resources.to_vec(),
        };
        entry.validate()?;
        entry.check_len()?;
        Ok(entry)
    }

    /// A revocation entry: `issuer_der` revoked the certificate with serial `serial` (DER
    /// content octets) for `reason` at `revoked_at` (`YYYY-MM-DDTHH:MM:SSZ`).
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for a bad serial, reason or time.
    pub fn revocation(
        issuer_der: &[u8],
        serial: &[u8],
        reason: &str,
        revoked_at: &str,
        certificate_der: Option<&[u8]>,
    ) -> Result<Self> {
        let entry = Self::Revocation {
            issuer_sha256: sha256_of(issuer_der),
            serial: serial.to_vec(),
            reason: reason.to_owned(),
            revoked_at: revoked_at.to_owned(),
            certificate_sha256: certificate_der.map(sha256_of),
        };
        entry.validate()?;
        Ok(entry)
    }

    /// A CRL entry: the CRL `crl_der` numbered `number`, signed by `issuer_der`'s key.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an empty CRL; [`Error::EntryTooLong`].
    pub fn crl(issuer_der: &[u8], number: u64, crl_der: &[u8]) -> Result<Self> {
        let entry = Self::Crl {
            issuer_sha256: sha256_of(issuer_der),
            number,
            crl: crl_der.to_vec(),
        };
        entry.validate()?;
        entry.check_len()?;
        Ok(entry)
    }

    /// Whether this entry logs the certificate `der`: a leaf issuance of exactly that
    /// certificate, or a ceremony record that lists its SHA-256.
    pub fn names_certificate(&self, der: &[u8]) -> bool {
        match self {
            Self::LeafIssuance { certificate, .. } => certificate == der,
            Self::CeremonyRecord { certificates, .. } => {
                let digest: [u8; 32] = sha256_of(der);
                certificates.contains(&digest)
            }
            Self::Artifact { signer_sha256, .. } => *signer_sha256 == Some(sha256_of(der)),
            Self::Revocation {
                certificate_sha256, ..
            } => *certificate_sha256 == Some(sha256_of(der)),
            Self::BastionEvent { .. } | Self::Crl { .. } => false,
        }
    }

    /// The kind named in the header line.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CeremonyRecord { .. } => "ceremony-record",
            Self::LeafIssuance { .. } => "leaf-issuance",
            Self::Artifact { .. } => "artifact",
            Self::BastionEvent { .. } => "bastion-event",
            Self::Revocation { .. } => "revocation",
            Self::Crl { .. } => "crl",
        }
    }

    /// The encoded entry, as appended to the log.
    ///
    /// # Errors
    /// [`Error::EntryInvalid`] for an entry [`Entry::parse`] would reject (empty bytes,
    /// invalid name, record not matching its size or digest); [`Error::EntryTooLong`].
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let text = self.text();
        if text.len() > MAX_ENTRY_LEN {
            return Err(Error::EntryTooLong { len: text.len() });
        }
        Ok(text.into_bytes())
    }

    /// Parses an encoded entry strictly (see the module documentation).
    ///
    /// # Errors
    /// [`Error::EntryMalformed`] naming the line; [`Error::EntryTooLong`].
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(Error::EntryTooLong { len: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| field_err(0, "not UTF-8", e))?;
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed(0, "does not end with a newline"))?;
        let mut lines = Fields {
            lines: body.split('\n').enumerate(),
        };
        let (_, header) = lines.lines.next().ok_or_else(|| malformed(1, "empty"))?;
        let kind = header
            .strip_prefix(ENTRY_VERSION)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| malformed(1, format!("header is not {ENTRY_VERSION:?} and a kind")))?;
        let entry = match kind {
            "ceremony-record" => {
                let file_name = lines.name("file-name")?;
                let size = lines.u64("size")?;
                let sha256 = lines.hex32("sha256")?;
                let certificates = lines.hex32_list("certificates")?;
                let (line, value) = lines.field("record")?;
                let record = if value == "-" {
                    None
                } else {
                    Some(decode_b64(line, value)?)
                };
                if let Some(record) = &record {
                    if record.len() as u64 != size {
                        return Err(malformed(line, "record length does not match size"));
                    }
                    if sha256_of(record) != sha256 {
                        return Err(malformed(line, "record does not match sha256"));
                    }
                }
                Self::CeremonyRecord {
                    file_name,
                    size,
                    sha256,
                    certificates,
                    record,
                }
            }
            "leaf-issuance" => Self::LeafIssuance {
                certificate: lines.b64("certificate")?,
                delegate_sha256: lines.hex32("delegate-sha256")?,
            },
            "artifact" => Self::Artifact {
                name: lines.name("name")?,
                size: lines.u64("size")?,
                sha256: lines.hex32("sha256")?,
                signer_sha256: lines.optional_hex32("signer-sha256")?,
            },
            "bastion-event" => Self::BastionEvent {
                action: lines.name("action")?,
                time: lines.name("time")?,
                members: lines.name_list("members")?,
                resources: lines.name_list("resources")?,
            },
            "revocation" => Self::Revocation {
                issuer_sha256: lines.hex32("issuer-sha256")?,
                serial: lines.serial("serial")?,
                reason: lines.reason("reason")?,
                revoked_at: lines.time("revoked-at")?,
                certificate_sha256: lines.optional_hex32("certificate-sha256")?,
            },
            "crl" => Self::Crl {
                issuer_sha256: lines.hex32("issuer-sha256")?,
                number: lines.u64("number")?,
                crl: lines.b64("crl")?,
            },
            other => return Err(malformed(1, format!("unknown entry kind {other:?}"))),
        };
        if let Some((i, _)) = lines.lines.next() {
            return Err(malformed(i + 1, "unexpected data after the last field"));
        }
        Ok(entry)
    }

    fn text(&self) -> String {
        let mut out = format!("{ENTRY_VERSION} {}\n", self.kind());
        let mut field = |key: &str, value: &str| {
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        };
        match self {
            Self::CeremonyRecord {
                file_name,
                size,
                sha256,
                certificates,
                record,
            } => {
                field("file-name", file_name);
                field("size", &size.to_string());
                field("sha256", &hex::encode(sha256));
                if certificates.is_empty() {
                    field("certificates", "-");
                } else {
                    let list: Vec<String> = certificates.iter().map(hex::encode).collect();
                    field("certificates", &list.join(","));
                }
                match record {
                    Some(bytes) => field("record", &Base64::encode_string(bytes)),
                    None => field("record", "-"),
                }
            }
            Self::LeafIssuance {
                certificate,
                delegate_sha256,
            } => {
                field("certificate", &Base64::encode_string(certificate));
                field("delegate-sha256", &hex::encode(delegate_sha256));
            }
            Self::Artifact {
                name,
                size,
                sha256,
                signer_sha256,
            } => {
                field("name", name);
                field("size", &size.to_string());
                field("sha256", &hex::encode(sha256));
                field(
                    "signer-sha256",
                    &signer_sha256.map_or_else(|| "-".to_owned(), hex::encode),
                );
            }
            Self::BastionEvent {
                action,
                time,
                members,
                resources,
            } => {
                field("action", action);
                field("time", time);
                field("members", &join_list(members));
                field("resources", &join_list(resources));
            }
            Self::Revocation {
                issuer_sha256,
                serial,
                reason,
                revoked_at,
                certificate_sha256,
            } => {
                field("issuer-sha256", &hex::encode(issuer_sha256));
                field("serial", &hex::encode(serial));
                field("reason", reason);
                field("revoked-at", revoked_at);
                field(
                    "certificate-sha256",
                    &certificate_sha256.map_or_else(|| "-".to_owned(), hex::encode),
                );
            }
            Self::Crl {
                issuer_sha256,
                number,
                crl,
            } => {
                field("issuer-sha256", &hex::encode(issuer_sha256));
                field("number", &number.to_string());
                field("crl", &Base64::encode_string(crl));
            }
        }
        out
    }

    fn encoded_len(&self) -> usize {
        self.text().len()
    }

    fn check_len(&self) -> Result<()> {
        let len = self.encoded_len();
        if len > MAX_ENTRY_LEN {
            return Err(Error::EntryTooLong { len });
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        match self {
            Self::CeremonyRecord {
                file_name,
                size,
                sha256,
                record,
                ..
            } => {
                check_name("file-name", file_name)?;
                if let Some(record) = record {
                    if record.is_empty() {
                        return Err(Error::EntryInvalid("the ceremony record is empty".into()));
                    }
                    if record.len() as u64 != *size || sha256_of(record) != *sha256 {
                        return Err(Error::EntryInvalid(
                            "the ceremony record does not match its size and sha256".into(),
                        ));
                    }
                }
            }
            Self::LeafIssuance { certificate, .. } => {
                if certificate.is_empty() {
                    return Err(Error::EntryInvalid("the leaf certificate is empty".into()));
                }
            }
            Self::Artifact { name, .. } => check_name("name", name)?,
            Self::BastionEvent {
                action,
                time,
                members,
                resources,
            } => {
                check_name("action", action)?;
                check_name("time", time)?;
                for item in members {
                    check_list_item("members", item)?;
                }
                for item in resources {
                    check_list_item("resources", item)?;
                }
            }
            Self::Revocation {
                serial,
                reason,
                revoked_at,
                ..
            } => {
                check_serial(serial).map_err(Error::EntryInvalid)?;
                check_reason(reason).map_err(Error::EntryInvalid)?;
                check_time(revoked_at).map_err(Error::EntryInvalid)?;
            }
            Self::Crl { crl, .. } => {
                if crl.is_empty() {
                    return Err(Error::EntryInvalid("the CRL is empty".into()));
                }
            }
        }
        Ok(())
    }
}

fn malformed(line: usize, reason: impl Into<String>) -> Error {
    Error::EntryMalformed {
        line,
        reason: reason.into(),
        source: None,
    }
}

/// [`Error::EntryMalformed`] keeping the error behind it.
fn field_err(
    line: usize,
    reason: impl Into<String>,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::EntryMalformed {
        line,
        reason: reason.into(),
        source: Some(Box::new(source)),
    }
}

fn check_name(key: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.chars().any(char::is_control)
        || name.trim() != name
    {
        return Err(Error::EntryInvalid(format!(
            "{key} must be 1 to {MAX_NAME_LEN} bytes without control characters or \
             leading or trailing white space"
        )));
    }
    Ok(())
}

fn parse_hex32(line: usize, key: &str, value: &str) -> Result<[u8; 32]> {
    let lower = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let mut out = [0u8; 32];
    if !lower || hex::decode_to_slice(value, &mut out).is_err() {
        return Err(malformed(
            line,
            format!("{key} is not 64 lowercase hex digits"),
        ));
    }
    Ok(out)
}

fn check_list_item(key: &str, item: &str) -> Result<()> {
    check_name(key, item)?;
    if item == "-" || item.contains(',') {
        return Err(Error::EntryInvalid(format!(
            "{key}: an item may not be \"-\" or contain a comma ({item:?})"
        )));
    }
    Ok(())
}

/// A serial number's DER content octets: 1 to 20 of them.
fn check_serial(serial: &[u8]) -> std::result::Result<(), String> {
    if serial.is_empty() || serial.len() > 20 {
        return Err(format!(
            "serial must be 1 to 20 octets (2 to 40 hex digits), not {}",
            serial.len()
        ));
    }
    Ok(())
}

fn check_reason(reason: &str) -> std::result::Result<(), String> {
    if !REVOCATION_REASONS.contains(&reason) {
        return Err(format!(
            "reason {reason:?} is not one of {}",
            REVOCATION_REASONS.join(", ")
        ));
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` with plausible field ranges (the text is what was recorded; it
/// is compared, not computed with).
fn check_time(text: &str) -> std::result::Result<(), String> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(u32::MAX);
    let shaped = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if !shaped
        || !(1..=12).contains(&number(5..7))
        || !(1..=31).contains(&number(8..10))
        || number(11..13) > 23
        || number(14..16) > 59
        || number(17..19) > 59
    {
        return Err(format!(
            "revoked-at {text:?} is not an RFC 3339 UTC time in whole seconds \
             (YYYY-MM-DDTHH:MM:SSZ)"
        ));
    }
    Ok(())
}

fn join_list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

fn decode_b64(line: usize, value: &str) -> Result<Vec<u8>> {
    if value.is_empty() {
        return Err(malformed(line, "empty base64 value"));
    }
    Base64::decode_vec(value).map_err(|_| malformed(line, "not canonical padded base64"))
}

/// The field lines after the header, consumed in order.
struct Fields<'a> {
    lines: std::iter::Enumerate<std::str::Split<'a, char>>,
}

impl<'a> Fields<'a> {
    /// The next line, which must be `key: value`; returns its 1-based number and value.
    fn field(&mut self, key: &str) -> Result<(usize, &'a str)> {
        let Some((i, line)) = self.lines.next() else {
            return Err(malformed(0, format!("missing field {key:?}")));
        };
        let n = i + 1;
        let value = line
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or_else(|| {
                let found = line.split(':').next().unwrap_or_default();
                malformed(n, format!("expected field {key:?}, found {found:?}"))
            })?;
        Ok((n, value))
    }

    fn name(&mut self, key: &str) -> Result<String> {
        let (n, value) = self.field(key)?;
        check_name(key, value).map_err(|e| field_err(n, format!("field `{key}`"), e))?;
        Ok(value.to_owned())
    }

    fn u64(&mut self, key: &str) -> Result<u64> {
        let (n, value) = self.field(key)?;
        let canonical = !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_digit())
            && (value == "0" || !value.starts_with('0'));
        canonical
            .then(|| value.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| malformed(n, format!("{key} is not a canonical decimal u64")))
    }

    fn hex32(&mut self, key: &str) -> Result<[u8; 32]> {
        let (n, value) = self.field(key)?;
        parse_hex32(n, key, value)
    }

    /// `-` (none) or one `hex32` value.
    fn optional_hex32(&mut self, key: &str) -> Result<Option<[u8; 32]>> {
        let (n, value) = self.field(key)?;
        if value == "-" {
            return Ok(None);
        }
        parse_hex32(n, key, value).map(Some)
    }

    /// `-` (empty list) or one or more comma-separated `name` items.
    fn name_list(&mut self, key: &str) -> Result<Vec<String>> {
        let (n, value) = self.field(key)?;
        if value == "-" {
            return Ok(Vec::new());
        }
        value
            .split(',')
            .map(|item| {
                check_list_item(key, item)
                    .map_err(|e| field_err(n, format!("field `{key}`"), e))?;
                Ok(item.to_owned())
            })
            .collect()
    }

    /// `-` (empty list) or one or more comma-separated `hex32` values.
    fn hex32_list(&mut self, key: &str) -> Result<Vec<[u8; 32]>> {
        let (n, value) = self.field(key)?;
        if value == "-" {
            return Ok(Vec::new());
        }
        value.split(',').map(|v| parse_hex32(n, key, v)).collect()
    }

    /// A serial: an even number (2 to 40) of lowercase hex digits.
    fn serial(&mut self, key: &str) -> Result<Vec<u8>> {
        let (n, value) = self.field(key)?;
        let lower = value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let bytes = hex::decode(value)
            .ok()
            .filter(|_| lower)
            .ok_or_else(|| malformed(n, format!("{key} is not lowercase hex octets")))?;
        check_serial(&bytes).map_err(|reason| malformed(n, reason))?;
        Ok(bytes)
    }

    fn reason(&mut self, key: &str) -> Result<String> {
        let (n, value) = self.field(key)?;
        check_reason(value).map_err(|reason| malformed(n, reason))?;
        Ok(value.to_owned())
    }

    fn time(&mut self, key: &str) -> Result<String> {
        let (n, value) = self.field(key)?;
        check_time(value).map_err(|reason| malformed(n, reason))?;
        Ok(value.to_owned())
    }

    fn b64(&mut self, key: &str) -> Result<Vec<u8>> {
        let (n, value) = self.field(key)?;
        decode_b64(n, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_artifact_text() {
        let e = Entry::artifact("rustc-1.90.0.tar.xz", 12, [0xab; 32]).unwrap();
        let text = String::from_utf8(e.encode().unwrap()).unwrap();
        assert_eq!(
            text,
            format!(
                "rust-pki-log-entry/v1 artifact\nname: rustc-1.90.0.tar.xz\nsize: 12\nsha256: {}\nsigner-sha256: -\n",
                "ab".repeat(32)
            )
        );
    }
}
