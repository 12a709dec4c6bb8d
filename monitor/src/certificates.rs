//! Certificates chaining to the Rust root that no log entry names (rules `root-logged`,
//! `unlogged-certificate`).

use std::fs;
use std::path::{Path, PathBuf};

use der::{Decode, Encode};
use rust_pki_tlog::entry::Entry;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::error::{Error, Result};
use crate::finding::{Finding, rule};
use crate::logged::LoggedRecord;

/// A certificate from the log or a certificate directory.
struct Candidate {
    origin: String,
    /// The file it was read from (certificate directories only).
    file: Option<PathBuf>,
    der: Vec<u8>,
    cert: Certificate,
    chains: bool,
}

/// Checks that each root in `root_paths` and each certificate under `cert_dirs` that
/// chains to one of them is named by a log entry. Returns the certificates' part of the
/// report.
pub(crate) fn check(
    root_paths: &[PathBuf],
    cert_dirs: &[PathBuf],
    entries: &[Entry],
    records: &[LoggedRecord],
    findings: &mut Vec<Finding>,
) -> Result<Value> {
    let logged = |der: &[u8]| entries.iter().any(|e| e.names_certificate(der));
    let mut issuers: Vec<Certificate> = Vec::new();
    let mut roots = Vec::new();
    for path in root_paths {
        let der = rust_pki_ca::pem::read_der(path, rust_pki_ca::pem::label::CERTIFICATE)?;
        let cert = Certificate::from_der(&der).map_err(|source| Error::MalformedCertificate {
            path: path.clone(),
            source,
        })?;
        if !logged(&der) {
            findings.push(Finding {
                rule: rule::ROOT_LOGGED,
                entry: None,
                file: Some(path.clone()),
                message: format!(
                    "{}: no log entry names this root (no root-init or root-rotate record \
                     issued it)",
                    path.display()
                ),
            });
        }
        roots.push(json!({
            "file": path.display().to_string(),
            "subject": cert.tbs_certificate().subject().to_string(),
            "sha256": hex::encode(Sha256::digest(&der)),
            "logged": logged(&der),
        }));
        issuers.push(cert);
    }

    // The log's own certificates can be issuers too (delegates, cross-certificates).
    let mut candidates = Vec::new();
    for logged_record in records {
        for (path, der) in logged_record.record.certificates() {
            if let Ok(cert) = Certificate::from_der(&der) {
                candidates.push(Candidate {
                    origin: format!("entry {} {path}", logged_record.index),
                    file: None,
                    der,
                    cert,
                    chains: false,
                });
            }
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        if let Entry::LeafIssuance { certificate, .. } = entry
            && let Ok(cert) = Certificate::from_der(certificate)
        {
            candidates.push(Candidate {
                origin: format!("entry {i}"),
                file: None,
                der: certificate.clone(),
                cert,
                chains: false,
            });
        }
    }
    let mut skipped = Vec::new();
    let mut files = Vec::new();
    for dir in cert_dirs {
        collect_files(dir, &mut files)?;
    }
    files.sort();
    let scanned = files.len();
    for file in files {
        let bytes = fs::read(&file).map_err(Error::io(&file))?;
        match certificates_in(&bytes) {
            Ok(ders) => {
                for (n, der) in ders.into_iter().enumerate() {
                    match Certificate::from_der(&der) {
                        Ok(cert) => candidates.push(Candidate {
                            origin: if n == 0 {
                                file.display().to_string()
                            } else {
                                format!("{} (certificate {})", file.display(), n + 1)
                            },
                            file: Some(file.clone()),
                            der,
                            cert,
                            chains: false,
                        }),
                        Err(e) => skipped.push(format!("{}: {e}", file.display())),
                    }
                }
            }
            Err(e) => skipped.push(format!("{}: {e}", file.display())),
        }
    }

    // Whatever a certificate known to chain to the root signed chains to it too.
    loop {
        let mut progress = false;
        for i in 0..candidates.len() {
            if candidates[i].chains {
                continue;
            }
            let by_root = issuers
                .iter()
                .any(|issuer| issued_by(&candidates[i], issuer));
            let by_chain = candidates
                .iter()
                .any(|c| c.chains && issued_by(&candidates[i], &c.cert));
            if by_root || by_chain {
                candidates[i].chains = true;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }

    let mut checked = 0usize;
    let mut chaining = 0usize;
    let mut flagged = Vec::new();
    for c in candidates.iter().filter(|c| c.file.is_some()) {
        checked += 1;
        if !c.chains {
            continue;
        }
        chaining += 1;
        if !logged(&c.der) {
            let subject = c.cert.tbs_certificate().subject().to_string();
            let sha256 = hex::encode(Sha256::digest(&c.der));
            findings.push(Finding {
                rule: rule::UNLOGGED_CERTIFICATE,
                entry: None,
                file: c.file.clone(),
                message: format!(
                    "{}: {subject} (SHA-256 {sha256}) chains to the Rust root but no log \
                     entry names it",
                    c.origin
                ),
            });
            flagged.push(json!({
                "file": c.origin,
                "subject": subject,
                "sha256": sha256,
            }));
        }
    }
    Ok(json!({
        "roots": roots,
        "files_scanned": scanned,
        "certificates_checked": checked,
        "chaining_to_root": chaining,
        "flagged": flagged,
        "skipped": skipped,
    }))
}

/// Whether `issuer` issued `child`: names match and the signature verifies.
fn issued_by(child: &Candidate, issuer: &Certificate) -> bool {
    let tbs = child.cert.tbs_certificate();
    if tbs.issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Ok(message) = tbs.to_der() else {
        return false;
    };
    let Some(signature) = child.cert.signature().as_bytes() else {
        return false;
    };
    rust_pki_ca::signature::verify_any_digest(
        issuer.tbs_certificate().subject_public_key_info(),
        child.cert.signature_algorithm(),
        &message,
        signature,
        &child.origin,
    )
    .is_ok()
}

/// Certificate files under `dir`, recursively.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "pem" | "crt" | "der"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The certificates of a DER file or of every CERTIFICATE block of a PEM file.
fn certificates_in(bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither DER nor PEM text".to_owned())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let Some(end) = block.find("-----END ") else {
            return Err("unterminated PEM block".to_owned());
        };
        let tail = &block[end + "-----END ".len()..];
        let close = tail.find("-----").map_or(tail.len(), |i| i + "-----".len());
        let len = end + "-----END ".len() + close;
        let (label, der) = der::pem::decode_vec(&block.as_bytes()[..len])
            .map_err(|e| format!("malformed PEM: {e}"))?;
        if label == rust_pki_ca::pem::label::CERTIFICATE {
            out.push(der);
        }
        rest = &block[len..];
    }
    Ok(out)
}
