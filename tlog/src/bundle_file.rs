//! Stapled bundles: the file shipped next to each issued certificate (docs/architecture.md), holding
//! everything needed to check offline that the certificate, and the delegate that issued
//! it, are in the log.
//!
//! # Format `rust-pki-bundle/v2`
//!
//! UTF-8 text, `\n` line endings, sections in this order, nothing else:
//!
//! ```text
//! rust-pki-bundle/v2
//! -----BEGIN CERTIFICATE-----      one or more PEM certificates, leaf first,
//! MIIB...                          then its intermediates (the root is not needed)
//! -----END CERTIFICATE-----
//! entry: <base64 of the log entry bytes>
//! index: <decimal index of the entry in the log>
//! proof: <base64 hash>,<base64 hash>,...   (empty after "proof:" for a one-entry tree)
//! delegate-entry: <base64>         only when the chain has an intermediate: the log entry
//! delegate-index: <decimal>        of the ceremony record that issued it (the second
//! delegate-proof: <base64>,...     certificate), its index and its inclusion proof in
//!                                  the tree of the same checkpoint
//! checkpoint:
//! <the signed checkpoint note, verbatim to the end of the file: body, blank line,
//!  the log's signature line, any witness cosignature lines>
//! ```
//!
//! Base64 is standard (RFC 4648 §4, padded). The parser is strict; its errors name the line.
//! `rust-pki-bundle/v1` is the same without the three `delegate-` lines; it is still read
//! (delegate and root bundles written before v2 verify), but a v1 bundle of a leaf fails
//! verification: it does not prove that the leaf's delegate was logged.
//!
//! # Entry ↔ certificate
//!
//! The bundle is for the chain's leaf certificate: the entry must be a
//! `rust-pki-log-entry/v1` entry naming it ([`Entry::names_certificate`]): a leaf issuance
//! of exactly that certificate, or the record of the ceremony that issued it.
//!
//! # The whole path is logged
//!
//! A delegate certificate is issued only in a quorum ceremony, whose record is logged. A
//! leaf under a delegate that was never logged (certified outside a ceremony) must not
//! verify, so a leaf bundle also proves, against the same checkpoint, a `ceremony-record`
//! entry naming its delegate; a `leaf-issuance` entry must name that same delegate.
//!
//! [`verify_bundle`] checks the log's part: checkpoint signature, witness cosignatures,
//! inclusion of the entry and entry ↔ leaf, inclusion of the delegate's ceremony record.
//! The chain itself (path, purpose, validity, CRLs) is checked by `rust-pki-verify`, e.g.
//! in `rust-pki verify --bundle`.

use base64ct::{Base64, Encoding};

use crate::checkpoint::SignedCheckpoint;
use crate::cosignature::verify_cosignature;
use crate::entry::Entry;
use crate::merkle::{Hash, check_record, record_hash};
use crate::note::VerifierKey;
#[cfg(feature = "writer")]
use crate::replica::Replica;
#[cfg(feature = "writer")]
use crate::writer::Log;
use crate::{Error, Result, sha256_of};

/// First line of the bundles written now.
pub const HEADER: &str = "rust-pki-bundle/v2";
/// First line of a bundle without the delegate's entry (still read).
pub const HEADER_V1: &str = "rust-pki-bundle/v1";

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

/// A stapled bundle: chain, log entry, index, inclusion proof and signed checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct StapledBundle {
    /// DER certificates, leaf first. Never empty once parsed.
    pub certificates: Vec<Vec<u8>>,
    /// The log entry for the leaf.
    pub entry: Vec<u8>,
    /// Index of the entry in the log.
    pub index: u64,
    /// RFC 6962 inclusion proof of the entry in the checkpoint's tree.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note (log signature and any cosignature lines).
    pub checkpoint: Vec<u8>,
    /// For a chain with an intermediate: the delegate's own log entry, proven in the same
    /// checkpoint's tree.
    pub delegate: Option<DelegateProof>,
}

/// The log entry of the ceremony that issued the chain's second certificate (the leaf's
/// delegate CA), with its inclusion proof in the bundle's checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct DelegateProof {
    /// The `ceremony-record` entry naming the delegate certificate.
    pub entry: Vec<u8>,
    /// Index of that entry in the log.
    pub index: u64,
    /// RFC 6962 inclusion proof of the entry in the checkpoint's tree.
    pub proof: Vec<Hash>,
}

/// What [`verify_bundle`] established.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBundle {
    /// The chain as PEM (leaf first), for `rust_pki_verify::Chain::from_bytes`.
    pub chain_pem: String,
    /// The log entry.
    pub entry: Vec<u8>,
    /// Index of the entry.
    pub index: u64,
    /// Log origin of the checkpoint.
    pub origin: String,
    /// Tree size of the checkpoint.
    pub tree_size: u64,
    /// Root hash of the checkpoint.
    pub root_hash: [u8; 32],
    /// `name+hexid` of each given witness key with a valid cosignature.
    pub witnesses: Vec<String>,
    /// The timestamp (POSIX seconds) of each of those cosignatures, in the same order: when
    /// that witness saw the checkpoint, so the entry existed then (tlog-cosignature/v1).
    pub witness_times: Vec<u64>,
    /// Index of the delegate's ceremony record, for a chain with an intermediate.
    pub delegate_index: Option<u64>,
}

impl VerifiedBundle {
    /// The time (POSIX seconds) by which `quorum` of the verified witnesses had cosigned the
    /// checkpoint: the `quorum`-th earliest cosignature timestamp. The entry is proven to
    /// have existed then unless `quorum` witnesses lie together. `None` when fewer than
    /// `quorum` witnesses cosigned, or for a quorum of 0 (no witness, no proof of time).
    pub fn existed_by(&self, quorum: usize) -> Option<u64> {
        let mut times = self.witness_times.clone();
        times.sort_unstable();
        quorum.checked_sub(1).and_then(|i| times.get(i).copied())
    }
}

/// The rule an error of this module breaks, for `[rule]` in CLI messages: `bundle-format`,
/// `log-signature`, `witnesses`, `inclusion`, `entry`, `delegate-entry`, `in-log`; `log`
/// for other errors.
pub fn rule(error: &Error) -> &'static str {
    match error {
        Error::StapledDelegate { .. } => "delegate-entry",
        Error::StapledFormat { .. } => "bundle-format",
        Error::StapledLogSignature { .. } => "log-signature",
        Error::StapledWitnesses { .. } => "witnesses",
        Error::StapledInclusion { .. } => "inclusion",
        Error::StapledEntryMismatch { .. } => "entry",
        Error::StapledNotInLog { .. } => "in-log",
        _ => "log",
    }
}

fn format_err(line: usize, reason: impl Into<String>) -> Error {
    Error::StapledFormat {
        line,
        reason: reason.into(),
        source: None,
    }
}

/// [`Error::StapledFormat`] keeping the decoding error (`reason: source`).
fn decode_err<E: std::error::Error + Send + Sync + 'static>(
    line: usize,
    reason: impl Into<String>,
) -> impl FnOnce(E) -> Error {
    move |source| Error::StapledFormat {
        line,
        reason: reason.into(),
        source: Some(Box::new(source)),
    }
}

/// Decodes the `CERTIFICATE` blocks of a PEM text (other text between blocks is ignored), in
/// order. Errors name the 1-based line.
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>> {
    let mut certs = Vec::new();
    let mut body: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let n = i + 1;
        match &mut body {
            None if line == BEGIN => body = Some((n, String::new())),
            None => {}
            Some((start, b64)) if line == END => {
                let der = Base64::decode_vec(b64)
                    .map_err(decode_err(*start, "certificate: bad base64"))?;
                if der.is_empty() {
                    return Err(format_err(*start, "empty certificate"));
                }
                certs.push(der);
                body = None;
            }
            Some((_, b64)) => b64.push_str(line.trim()),
        }
    }
    if let Some((start, _)) = body {
        return Err(format_err(start, format!("no {END} for this certificate")));
    }
    Ok(certs)
}

fn pem_encode(der: &[u8], out: &mut String) {
    out.push_str(BEGIN);
    out.push('\n');
    let b64 = Base64::encode_string(der);
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
}

impl StapledBundle {
    /// The bundle of `certificates` (DER, leaf first) whose log entry `entry` is at `index`
    /// in `log`: an inclusion proof in the log's current tree and its checkpoint (with any
    /// cosignatures). The proof is checked before it is returned.
    ///
    /// # Errors
    /// [`Error::StapledEntryMismatch`] when `entry` does not name the leaf, or it is not
    /// the entry at `index`; log errors from [`Log::prove_inclusion`].
    #[cfg(feature = "writer")]
    pub fn from_log(
        log: &Log,
        index: u64,
        entry: &[u8],
        certificates: Vec<Vec<u8>>,
    ) -> Result<Self> {
        let leaf = certificates.first().map(Vec::as_slice).unwrap_or_default();
        if !entry_matches_leaf(entry, leaf) || log.find_entry(entry) != Some(index) {
            return Err(Error::StapledEntryMismatch {
                leaf_sha256: hex::encode(sha256_of(leaf)),
            });
        }
        let (proof, head) = log.prove_inclusion(index)?;
        Ok(Self {
            certificates,
            entry: entry.to_vec(),
            index,
            proof: proof.into_iter().map(Hash::from).collect(),
            checkpoint: head.note,
            delegate: None,
        })
    }

    /// Adds the inclusion proof of the delegate's `ceremony-record` entry `delegate_entry`
    /// (which must name the chain's second certificate) in the tree of this bundle's
    /// checkpoint, which must still be `log`'s current one.
    ///
    /// # Errors
    /// [`Error::StapledDelegate`] when the chain has no intermediate, the entry is not a
    /// ceremony record naming it, it is not in `log`, or the log has moved on; log errors.
    #[cfg(feature = "writer")]
    pub fn add_delegate(&mut self, log: &Log, delegate_entry: &[u8]) -> Result<()> {
        let delegate = self.certificates.get(1).cloned().unwrap_or_default();
        let fail = |reason: String| Error::StapledDelegate {
            delegate_sha256: hex::encode(sha256_of(&delegate)),
            reason,
            source: None,
        };
        if delegate.is_empty() {
            return Err(fail("the chain has no delegate certificate".into()));
        }
        if !is_delegate_record(delegate_entry, &delegate) {
            return Err(fail(
                "the given entry is not a ceremony record naming it".into(),
            ));
        }
        let index = log.find_entry(delegate_entry).ok_or_else(|| {
            fail(format!(
                "its ceremony record is not in the log {}",
                log.dir().display()
            ))
        })?;
        let (proof, head) = log.prove_inclusion(index)?;
        if head.note != self.checkpoint {
            return Err(fail(
                "the log's checkpoint changed since the leaf was proven".into(),
            ));
        }
        self.delegate = Some(DelegateProof {
            entry: delegate_entry.to_vec(),
            index,
            proof: proof.into_iter().map(Hash::from).collect(),
        });
        Ok(())
    }

    /// This bundle again with `log`'s current checkpoint (and whatever cosignatures it
    /// carries) and fresh inclusion proofs, e.g. once witnesses have cosigned a checkpoint
    /// that was stapled without them. `log` is fetched with `log_key` (so both checkpoints
    /// are of one origin). This bundle must be one of `log`'s: it verifies with
    /// `log_key` at its own checkpoint (signature, inclusion, entry ↔ leaf, delegate entry;
    /// witnesses are not asked for), that checkpoint's tree is a prefix of `log`'s, and its
    /// entries are at their indexes in `log`. The new bundle is verified before it is
    /// returned.
    ///
    /// # Errors
    /// The errors of [`verify_bundle`] for this bundle; [`Error::StapledNotInLog`] when it
    /// is not of `log`; [`Error::LogOutOfRange`], [`Error::Merkle`].
    #[cfg(feature = "writer")]
    pub fn restaple(&self, log: &Replica, log_key: &VerifierKey) -> Result<Self> {
        let old = verify_bundle(self, log_key, &[], 0)?;
        let size = log.checkpoint.size;
        let not_in_log = |reason: String| Error::StapledNotInLog {
            origin: log.checkpoint.origin.clone(),
            size,
            reason,
        };
        if old.tree_size > size {
            return Err(not_in_log(format!(
                "its checkpoint is of a larger tree (size {}): a fork or a rolled-back log",
                old.tree_size
            )));
        }
        if log.root_at(old.tree_size)? != old.root_hash {
            return Err(not_in_log(format!(
                "its checkpoint (size {}) has another root than this log at that size: a fork",
                old.tree_size
            )));
        }
        // Implied by the two checks above, but checked outright: the entries themselves.
        let at = |index: u64, entry: &[u8], what: &str| {
            let logged = usize::try_from(index).ok().and_then(|i| log.entries.get(i));
            if logged.map(Vec::as_slice) == Some(entry) {
                Ok(())
            } else {
                Err(not_in_log(format!(
                    "{what} is not entry {index} of the log"
                )))
            }
        };
        at(self.index, &self.entry, "its entry")?;
        let delegate = match &self.delegate {
            Some(d) => {
                at(d.index, &d.entry, "its delegate entry")?;
                Some(DelegateProof {
                    entry: d.entry.clone(),
                    index: d.index,
                    proof: log.prove_inclusion(d.index)?,
                })
            }
            None => None,
        };
        let bundle = Self {
            certificates: self.certificates.clone(),
            entry: self.entry.clone(),
            index: self.index,
            proof: log.prove_inclusion(self.index)?,
            checkpoint: log.note.clone(),
            delegate,
        };
        verify_bundle(&bundle, log_key, &[], 0)?;
        Ok(bundle)
    }

    /// The chain as PEM text, leaf first.
    pub fn chain_pem(&self) -> String {
        let mut out = String::new();
        for der in &self.certificates {
            pem_encode(der, &mut out);
        }
        out
    }

    /// The leaf certificate (DER).
    ///
    /// # Errors
    /// [`Error::StapledFormat`] when the bundle has no certificate.
    pub fn leaf(&self) -> Result<&[u8]> {
        self.certificates
            .first()
            .map(Vec::as_slice)
            .ok_or_else(|| format_err(2, "no certificate"))
    }

    /// The bundle file text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        out.push_str(&self.chain_pem());
        out.push_str(&format!("entry: {}\n", Base64::encode_string(&self.entry)));
        out.push_str(&format!("index: {}\n", self.index));
        out.push_str(&format!("proof:{}\n", proof_text(&self.proof)));
        if let Some(d) = &self.delegate {
            out.push_str(&format!(
                "delegate-entry: {}\n",
                Base64::encode_string(&d.entry)
            ));
            out.push_str(&format!("delegate-index: {}\n", d.index));
            out.push_str(&format!("delegate-proof:{}\n", proof_text(&d.proof)));
        }
        out.push_str("checkpoint:\n");
        out.push_str(&String::from_utf8_lossy(&self.checkpoint));
        out
    }

    /// Parses a bundle file strictly.
    ///
    /// # Errors
    /// [`Error::StapledFormat`] naming the line and what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(decode_err(0, "not UTF-8"))?;
        // Split off the checkpoint note first: it runs verbatim to the end of the file.
        let mut lines: Vec<&str> = Vec::new();
        let mut checkpoint: Option<(usize, &str)> = None;
        let mut rest = text;
        while !rest.is_empty() {
            let (line, tail) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => return Err(format_err(lines.len() + 1, "line does not end in \\n")),
            };
            lines.push(line);
            rest = tail;
            if line == "checkpoint:" {
                checkpoint = Some((lines.len() + 1, tail));
                break;
            }
        }
        let (note_line, note) = checkpoint
            .ok_or_else(|| format_err(lines.len() + 1, "missing \"checkpoint:\" line"))?;
        if note.is_empty() {
            return Err(format_err(note_line, "empty checkpoint note"));
        }

        let mut it = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i + 1, *l))
            .peekable();
        let v2 = match it.next() {
            Some((_, HEADER)) => true,
            Some((_, HEADER_V1)) => false,
            Some((n, l)) => {
                return Err(format_err(
                    n,
                    format!("expected {HEADER:?} or {HEADER_V1:?}, found {l:?}"),
                ));
            }
            None => return Err(format_err(1, "empty file")),
        };

        let mut certificates = Vec::new();
        while let Some(&(n, l)) = it.peek() {
            if l != BEGIN {
                break;
            }
            it.next();
            let mut b64 = String::new();
            loop {
                match it.next() {
                    Some((_, END)) => break,
                    Some((m, l)) if l == "checkpoint:" || l.contains(':') || l.contains(' ') => {
                        return Err(format_err(m, format!("expected base64 or {END}")));
                    }
                    Some((_, l)) => b64.push_str(l),
                    None => return Err(format_err(n, format!("no {END} for this certificate"))),
                }
            }
            let der = Base64::decode_vec(&b64).map_err(decode_err(n, "certificate: bad base64"))?;
            if der.is_empty() {
                return Err(format_err(n, "empty certificate"));
            }
            certificates.push(der);
        }
        if certificates.is_empty() {
            let n = it.peek().map_or(2, |&(n, _)| n);
            return Err(format_err(n, format!("expected a certificate ({BEGIN})")));
        }

        let (n, v) = next_field(&mut it, "entry", note_line)?;
        let entry = parse_b64(n, "entry", v)?;
        let (n, v) = next_field(&mut it, "index", note_line)?;
        let index = parse_index(n, "index", v)?;
        let (n, v) = next_field(&mut it, "proof", note_line)?;
        let proof = parse_proof(n, "proof", v)?;
        let mut delegate = None;
        if v2
            && it
                .peek()
                .is_some_and(|(_, l)| l.starts_with("delegate-entry:"))
        {
            let (n, v) = next_field(&mut it, "delegate-entry", note_line)?;
            let entry = parse_b64(n, "delegate-entry", v)?;
            let (n, v) = next_field(&mut it, "delegate-index", note_line)?;
            let index = parse_index(n, "delegate-index", v)?;
            let (n, v) = next_field(&mut it, "delegate-proof", note_line)?;
            let proof = parse_proof(n, "delegate-proof", v)?;
            delegate = Some(DelegateProof {
                entry,
                index,
                proof,
            });
        }
        let (n, v) = next_field(&mut it, "checkpoint", note_line)?;
        if !v.is_empty() {
            return Err(format_err(n, "the checkpoint note starts on the next line"));
        }
        Ok(Self {
            certificates,
            entry,
            index,
            proof,
            checkpoint: note.as_bytes().to_vec(),
            delegate,
        })
    }
}

/// The next `name: value` line; `note_line` is where the checkpoint starts (for a missing
/// line's error).
fn next_field<'a>(
    it: &mut dyn Iterator<Item = (usize, &'a str)>,
    name: &str,
    note_line: usize,
) -> Result<(usize, &'a str)> {
    let Some((n, l)) = it.next() else {
        return Err(format_err(
            note_line - 1,
            format!("missing \"{name}:\" line"),
        ));
    };
    let value = l
        .strip_prefix(name)
        .and_then(|v| v.strip_prefix(':'))
        .ok_or_else(|| format_err(n, format!("expected \"{name}:\", found {l:?}")))?;
    if value.is_empty() {
        return Ok((n, value));
    }
    let value = value
        .strip_prefix(' ')
        .ok_or_else(|| format_err(n, format!("expected a space after \"{name}:\"")))?;
    Ok((n, value))
}

fn parse_b64(n: usize, name: &str, v: &str) -> Result<Vec<u8>> {
    Base64::decode_vec(v).map_err(decode_err(n, format!("{name}: bad base64")))
}

fn parse_index(n: usize, name: &str, v: &str) -> Result<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || (v.len() > 1 && v.starts_with('0'))
    {
        return Err(format_err(
            n,
            format!("{name}: not a decimal number: {v:?}"),
        ));
    }
    v.parse().map_err(decode_err(n, name))
}

fn parse_proof(n: usize, name: &str, v: &str) -> Result<Vec<Hash>> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .enumerate()
        .map(|(k, h)| {
            let raw = Base64::decode_vec(h)
                .map_err(decode_err(n, format!("{name} hash {k}: bad base64")))?;
            let hash: [u8; 32] = raw.try_into().map_err(|raw: Vec<u8>| {
                format_err(n, format!("{name} hash {k}: {} bytes, not 32", raw.len()))
            })?;
            Ok(Hash(hash))
        })
        .collect()
}

/// A `proof:` value: base64 hashes separated by commas, after a space unless empty.
fn proof_text(proof: &[Hash]) -> String {
    let hashes: Vec<String> = proof.iter().map(|h| Base64::encode_string(&h.0)).collect();
    if hashes.is_empty() {
        String::new()
    } else {
        format!(" {}", hashes.join(","))
    }
}

/// Whether `entry` is a `ceremony-record` entry naming the certificate `delegate_der`.
fn is_delegate_record(entry: &[u8], delegate_der: &[u8]) -> bool {
    Entry::parse(entry).is_ok_and(|e| {
        matches!(e, Entry::CeremonyRecord { .. }) && e.names_certificate(delegate_der)
    })
}

/// Whether `entry` is a log entry naming the leaf certificate `leaf_der` (see the module
/// documentation).
pub fn entry_matches_leaf(entry: &[u8], leaf_der: &[u8]) -> bool {
    Entry::parse(entry).is_ok_and(|e| e.names_certificate(leaf_der))
}

/// The note text (checkpoint body) and its signature lines.
fn split_note(note: &[u8]) -> Option<(&[u8], &str)> {
    let sep = note.windows(2).rposition(|w| w == b"\n\n")?;
    let sigs = std::str::from_utf8(&note[sep + 2..]).ok()?;
    Some((&note[..=sep], sigs))
}

/// Verifies the log part of a bundle: the checkpoint is signed by `log_key`; at least
/// `min_witnesses` of `witness_keys` cosigned it (cosignature/v1); the entry is included
/// at `index` in the checkpoint's tree; the entry names the chain's leaf certificate.
///
/// # Errors
/// [`Error::StapledLogSignature`], [`Error::StapledWitnesses`], [`Error::StapledInclusion`],
/// [`Error::StapledEntryMismatch`], [`Error::StapledFormat`].
pub fn verify_bundle(
    bundle: &StapledBundle,
    log_key: &VerifierKey,
    witness_keys: &[VerifierKey],
    min_witnesses: usize,
) -> Result<VerifiedBundle> {
    let checkpoint = SignedCheckpoint::verify(&bundle.checkpoint, log_key).map_err(|e| {
        Error::StapledLogSignature {
            key: log_key.label(),
            source: Box::new(e),
        }
    })?;

    let (body, sig_lines) =
        split_note(&bundle.checkpoint).ok_or_else(|| Error::StapledLogSignature {
            key: log_key.label(),
            source: Box::new(Error::NoteMalformed("no signature block".into())),
        })?;
    let mut witnesses = Vec::new();
    let mut witness_times = Vec::new();
    let mut failures = Vec::new();
    for key in witness_keys {
        let mut found = None;
        for line in sig_lines.lines() {
            match verify_cosignature(line, body, key) {
                Ok(cosignature) => {
                    found = Some(cosignature.timestamp);
                    break;
                }
                Err(Error::CosignatureBadSignature { witness }) => {
                    failures.push(format!("bad cosignature by {witness}"));
                }
                Err(_) => {}
            }
        }
        if let Some(timestamp) = found
            && !witnesses.contains(&key.label())
        {
            witnesses.push(key.label());
            witness_times.push(timestamp);
        }
    }
    if witnesses.len() < min_witnesses {
        let mut detail = if witnesses.is_empty() {
            "none of the given witness keys".to_owned()
        } else {
            witnesses.join(", ")
        };
        if !failures.is_empty() {
            detail.push_str(&format!("; {}", failures.join(", ")));
        }
        return Err(Error::StapledWitnesses {
            valid: witnesses.len(),
            required: min_witnesses,
            detail,
        });
    }

    let inclusion = |reason: &str, source| Error::StapledInclusion {
        index: bundle.index,
        size: checkpoint.size,
        reason: reason.to_owned(),
        source,
    };
    if bundle.index >= checkpoint.size {
        return Err(inclusion("index is outside the tree", None));
    }
    check_record(
        &bundle.proof,
        checkpoint.size,
        &Hash(checkpoint.root_hash),
        bundle.index,
        &record_hash(&bundle.entry),
    )
    .map_err(|e| inclusion("proof does not lead to the checkpoint root", Some(e)))?;

    let leaf = bundle.leaf()?;
    if !entry_matches_leaf(&bundle.entry, leaf) {
        return Err(Error::StapledEntryMismatch {
            leaf_sha256: hex::encode(sha256_of(leaf)),
        });
    }
    let delegate_index = match bundle.certificates.get(1) {
        Some(delegate) => Some(verify_delegate(bundle, delegate, &checkpoint)?),
        None => None,
    };

    Ok(VerifiedBundle {
        chain_pem: bundle.chain_pem(),
        entry: bundle.entry.clone(),
        index: bundle.index,
        origin: checkpoint.origin,
        tree_size: checkpoint.size,
        root_hash: checkpoint.root_hash,
        witnesses,
        witness_times,
        delegate_index,
    })
}

/// The chain's second certificate, `delegate`, must be named by a `ceremony-record` entry
/// proven in the checkpoint's tree (see the module documentation); returns its index.
fn verify_delegate(
    bundle: &StapledBundle,
    delegate: &[u8],
    checkpoint: &SignedCheckpoint,
) -> Result<u64> {
    let fail = |reason: String| Error::StapledDelegate {
        delegate_sha256: hex::encode(sha256_of(delegate)),
        reason,
        source: None,
    };
    if let Ok(Entry::LeafIssuance {
        delegate_sha256, ..
    }) = Entry::parse(&bundle.entry)
        && delegate_sha256 != sha256_of(delegate)
    {
        return Err(fail(format!(
            "the leaf's log entry names another delegate (SHA-256 {})",
            hex::encode(delegate_sha256)
        )));
    }
    let Some(proof) = &bundle.delegate else {
        return Err(fail(
            "the bundle carries no delegate entry (rust-pki-bundle/v2 delegate-entry): \
             no logged ceremony record shows that the root certified this delegate"
                .into(),
        ));
    };
    if !is_delegate_record(&proof.entry, delegate) {
        return Err(fail(
            "the delegate entry is not a ceremony record naming this certificate".into(),
        ));
    }
    if proof.index >= checkpoint.size {
        return Err(fail(format!(
            "delegate entry index {} is outside the tree of size {}",
            proof.index, checkpoint.size
        )));
    }
    check_record(
        &proof.proof,
        checkpoint.size,
        &Hash(checkpoint.root_hash),
        proof.index,
        &record_hash(&proof.entry),
    )
    .map_err(|source| Error::StapledDelegate {
        delegate_sha256: hex::encode(sha256_of(delegate)),
        reason: format!(
            "delegate entry {} is not proven included in the tree of size {}",
            proof.index, checkpoint.size
        ),
        source: Some(source),
    })?;
    Ok(proof.index)
}

#[cfg(test)]
mod tests {
    use super::VerifiedBundle;

    #[test]
    fn existed_by_takes_the_quorum_th_earliest_cosignature() {
        let bundle = VerifiedBundle {
            chain_pem: String::new(),
            entry: Vec::new(),
            index: 0,
            origin: String::new(),
            tree_size: 1,
            root_hash: [0; 32],
            witnesses: vec!["a".into(), "b".into(), "c".into()],
            witness_times: vec![300, 100, 200],
            delegate_index: None,
        };
        // One witness lying about an early time cannot move the proof with a quorum of 2.
        assert_eq!(bundle.existed_by(1), Some(100));
        assert_eq!(bundle.existed_by(2), Some(200));
        assert_eq!(bundle.existed_by(3), Some(300));
        assert_eq!(bundle.existed_by(4), None);
        assert_eq!(bundle.existed_by(0), None);
    }
}
