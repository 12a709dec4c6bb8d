//! Publishing a ceremony record's outputs below the output directory, and checking a
//! record read back from disk before anything of it is published again.
//!
//! Output paths come from a fixed set per ceremony kind ([`allowed_record_paths`]); they
//! are plain relative names (no `..`, no absolute path, no `.` segment), the directories on
//! the way are never symlinks, and files are created with O_EXCL (which never follows a
//! symlink). A record is only republished when it is the record of this request, its
//! outputs match their digests, and its certificates and CRLs carry the exact TBS the
//! members approved ([`check_record`]).

use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use rust_pki_ca::pem;

use crate::{
    Error, Result,
    record::Record,
    request::{Kind, OutputType, Request, sha256_hex},
    shares::{SO_PIN, USER_PIN},
    validate::{CROSS_NEW_BY_OLD, CROSS_OLD_BY_NEW},
};

/// The paths a record of `request`, executed in ceremony folder `folder`, may publish:
/// exactly these, in any order.
pub fn allowed_record_paths(request: &Request, folder: &str) -> Vec<String> {
    let manifests = || {
        [USER_PIN, SO_PIN]
            .map(|secret| format!("shares/{folder}/{secret}.manifest.toml"))
            .to_vec()
    };
    match request.kind {
        Kind::RootInit => [vec!["root.pem".to_owned()], manifests()].concat(),
        Kind::RosterChange => [vec!["roster.toml".to_owned()], manifests()].concat(),
        Kind::RootRotate => vec![
            "root.pem".into(),
            CROSS_NEW_BY_OLD.into(),
            CROSS_OLD_BY_NEW.into(),
        ],
        Kind::DelegateIssue
        | Kind::DelegateRenew
        | Kind::DelegateRevoke
        | Kind::RootCrl
        | Kind::ClusterInit => request.outputs.iter().map(|o| o.path.clone()).collect(),
    }
}

/// Check that `record` (read from `path`) is the record of `request` (whose exact bytes
/// are `request_bytes`) executed in folder `folder`: same request bytes, id and kind;
/// exactly the allowed output paths; each output's contents match its digest; every
/// planned certificate or CRL carries the approved TBS byte for byte; a roster change
/// published exactly the roster it carried.
///
/// # Errors
/// [`Error::RecordMismatch`] naming what differs.
pub fn check_record(
    record: &Record,
    path: &Path,
    request: &Request,
    request_bytes: &[u8],
    folder: &str,
) -> Result<()> {
    let mismatch = |reason: String| Error::RecordMismatch {
        path: path.to_owned(),
        against: "its request",
        reason,
    };
    if record.request_sha256 != sha256_hex(request_bytes)
        || Base64::decode_vec(&record.request).ok().as_deref() != Some(request_bytes)
    {
        return Err(mismatch(
            "it holds another request than request.toml".into(),
        ));
    }
    if record.ceremony_id != request.id || record.kind != request.kind {
        return Err(mismatch("its ceremony id or kind differs".into()));
    }
    if record.hsm != crate::record::RecordHsm::of(&request.hsm) {
        return Err(mismatch(format!(
            "its hsm ({} {}, enforced by [{}]) is not the request's ({})",
            record.hsm.backend,
            crate::inert::inert(record.hsm.cluster_id.as_deref().unwrap_or("")),
            crate::inert::inert(&record.hsm.quorum_enforced_by.join(", ")),
            request.hsm.describe()
        )));
    }
    let mut found: Vec<&str> = record.outputs.iter().map(|o| o.path.as_str()).collect();
    let mut allowed = allowed_record_paths(request, folder);
    found.sort_unstable();
    allowed.sort_unstable();
    if found != allowed {
        return Err(mismatch(format!(
            "it publishes [{}], a {} ceremony publishes [{}]",
            crate::inert::inert(&found.join(", ")),
            request.kind,
            allowed.join(", ")
        )));
    }
    for output in &record.outputs {
        if sha256_hex(output.contents.as_bytes()) != output.sha256 {
            return Err(mismatch(format!(
                "output {}: contents do not match their sha256",
                output.path
            )));
        }
    }
    for planned in &request.outputs {
        let Some(output) = record.outputs.iter().find(|o| o.path == planned.path) else {
            continue;
        };
        let approved = planned.tbs_der()?;
        let signed_tbs = match planned.output_type {
            OutputType::Certificate => signed_tbs(&output.contents, pem::label::CERTIFICATE),
            OutputType::Crl => signed_tbs(&output.contents, pem::label::CRL),
        };
        if signed_tbs.as_deref() != Some(approved.as_slice()) {
            return Err(mismatch(format!(
                "output {}: not signed over the TBS the members approved",
                planned.path
            )));
        }
    }
    if let Some(encoded) = &request.parameters.new_roster {
        let carried = Base64::decode_vec(encoded).unwrap_or_default();
        let published = record.outputs.iter().find(|o| o.path == "roster.toml");
        if published.map(|o| o.contents.as_bytes()) != Some(carried.as_slice()) {
            return Err(mismatch(
                "roster.toml is not the roster the request carried".into(),
            ));
        }
    }
    Ok(())
}

/// The TBS bytes inside a PEM certificate or CRL (the first element of the signed
/// SEQUENCE), or `None` if it is not one.
fn signed_tbs(pem_text: &str, label: &str) -> Option<Vec<u8>> {
    use der::{Decode, Encode};
    let der = pem::decode_der(pem_text.as_bytes(), label).ok()?;
    if label == pem::label::CRL {
        rust_pki_ca::crl::parse_crl(&der)
            .ok()?
            .tbs_cert_list
            .to_der()
            .ok()
    } else {
        x509_cert::Certificate::from_der(&der)
            .ok()?
            .tbs_certificate()
            .to_der()
            .ok()
    }
}

/// Write the record's outputs below `out`: each output's digest is checked first (nothing
/// is written if one does not match); new files with O_EXCL; a file already there with the
/// same contents is left alone (a rerun); other contents, or a symlink, are an error.
///
/// # Errors
/// [`Error::RecordMismatch`], [`Error::RequestRule`] for a path that is not a plain
/// relative name, [`Error::OutputConflict`], I/O failures.
pub fn publish(out: &Path, record: &Record, record_path: &Path) -> Result<()> {
    create_output_dirs(out, record, record_path)?;
    for output in &record.outputs {
        let path = out.join(&output.path);
        match path.symlink_metadata() {
            Ok(meta) if meta.is_file() => {
                if read(&path)? != output.contents.as_bytes() {
                    return Err(Error::OutputConflict { path });
                }
            }
            Ok(_) => return Err(Error::OutputConflict { path }),
            Err(_) => rust_pki_ca::output::write_new(&path, output.contents.as_bytes())?,
        }
    }
    Ok(())
}

/// Check every output path and digest of `record`, then create the directories below
/// `out` that its outputs (and the bundles logged next to them) go in.
///
/// # Errors
/// As [`publish`].
pub fn create_output_dirs(out: &Path, record: &Record, record_path: &Path) -> Result<()> {
    for output in &record.outputs {
        check_relative(&output.path, record_path)?;
        if sha256_hex(output.contents.as_bytes()) != output.sha256 {
            return Err(Error::RecordMismatch {
                path: record_path.to_owned(),
                against: "its own digests",
                reason: format!("output {}: contents do not match their sha256", output.path),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_owned(),
        source,
    })?;
    for output in &record.outputs {
        create_parents(out, &output.path)?;
    }
    Ok(())
}

/// A plain relative path: segments of `A-Z a-z 0-9 . _ -`, none empty, none starting with
/// a dot (so no `.`, `..` or hidden files), at most four deep.
fn check_relative(path: &str, record_path: &Path) -> Result<()> {
    let segments: Vec<&str> = path.split('/').collect();
    let plain = segments.len() <= 4
        && segments.iter().all(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if plain {
        Ok(())
    } else {
        Err(Error::RequestRule {
            path: record_path.to_owned(),
            field: format!("output {}", crate::inert::inert(path)),
            rule: "outputs",
            reason: "an output path is a plain relative name (no `..`, `.`, absolute path or \
                     hidden file)"
                .into(),
        })
    }
}

/// Before the HSM signs: every path below `out` is a plain relative name and no directory
/// on its way exists as anything but a directory (a symlink would lead the outputs or
/// their bundles elsewhere).
///
/// # Errors
/// [`Error::RequestRule`] for a path that is not a plain relative name,
/// [`Error::OutputPathUnsafe`] naming the symlink or file in the way.
pub fn check_output_paths<'a>(
    out: &Path,
    paths: impl IntoIterator<Item = &'a str>,
    request_path: &Path,
) -> Result<()> {
    for path in paths {
        check_relative(path, request_path)?;
        walk_parents(out, path, false)?;
    }
    Ok(())
}

/// Create the directories of `relative` below `out`, refusing any that is a symlink.
fn create_parents(out: &Path, relative: &str) -> Result<()> {
    walk_parents(out, relative, true)
}

/// Each directory of `relative` below `out` must be a directory (not a symlink); missing
/// ones are created when `create`.
fn walk_parents(out: &Path, relative: &str, create: bool) -> Result<()> {
    let mut dir = out.to_path_buf();
    let segments: Vec<&str> = relative.split('/').collect();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        dir.push(segment);
        match dir.symlink_metadata() {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(Error::OutputPathUnsafe { path: dir }),
            Err(_) if create => std::fs::create_dir(&dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?,
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

fn read(path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })
}
