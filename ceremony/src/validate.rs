//! The rules every request meets on its own, checked whenever one is read (`show`,
//! `approve`, `execute`, the monitor's replay) and not only when `prepare` wrote it: the
//! file is in the operator's hands between those steps.
//!
//! Each rule has a name, reported with the field that breaks it:
//! - `size`: the file and its parts are bounded (nothing `show` could not display).
//! - `format`: ids, digests, names and the ceremony recipient have their exact shapes.
//! - `inert-text`: the summary is one line of visible text.
//! - `window`: `prepared_at <= not_before < not_after <= prepared_at + 14 days`.
//! - `parameters`: exactly the parameters of the request's kind, no others.
//! - `outputs`: exactly the outputs of the kind, at their fixed paths, with the kind's type
//!   and profile (a path like `./root.crl` or `../x` never appears).
//! - `tbs`: each planned TBS decodes (so `show` displays it) and agrees with the
//!   parameters it is shown next to (certified key, revoked serials).

use std::{
    collections::BTreeSet,
    path::Path,
    time::{Duration, SystemTime},
};

use base64ct::{Base64, Encoding};
use der::{Decode, Encode};
use rust_pki_ca::policy::{HsmBackend, is_cloudhsm_cluster_id};
use x509_cert::{TbsCertificate, crl::TbsCertList};

use crate::{
    Error, Result,
    inert::is_inert,
    request::{Kind, OutputType, Parameters, PlannedOutput, REQUEST_FORMAT, Request, sha256_hex},
};

/// Largest request file, in bytes: a roster and a few TBS fit many times over.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Largest planned TBS, in bytes.
pub const MAX_TBS_BYTES: usize = 16 * 1024;
/// Largest new roster carried by a roster change, in bytes.
pub const MAX_ROSTER_BYTES: usize = 64 * 1024;
/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 400;
/// Longest execution window, from the prepare time: approvals do not stay usable for long.
pub const MAX_WINDOW: Duration = Duration::from_secs(14 * 24 * 3600);

/// How far a request's prepare time may be ahead of a member's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(10 * 60);

/// The `clock` rule, on the member's machine: the request was not prepared in the future
/// by the member's own clock (a request dated ahead would keep approvals usable until
/// then). `approve` refuses such a request; `show` warns about it and about a closed
/// window ([`window_closed`]).
///
/// # Errors
/// [`Error::RequestRule`] (`clock`).
pub fn check_clock(request: &Request, now: SystemTime, path: &Path) -> Result<()> {
    let broken = |field: &str, reason: String| Error::RequestRule {
        path: path.to_owned(),
        field: field.to_owned(),
        rule: "clock",
        reason,
    };
    let parse = |text: &str| rust_pki_ca::policy::parse_rfc3339(text).ok();
    let now_text = crate::request::rfc3339(now);
    if parse(&request.prepared_at).is_none_or(|prepared| prepared > now + MAX_CLOCK_SKEW) {
        return Err(broken(
            "prepared_at",
            format!(
                "later than your clock ({now_text}): a request is approved after it is prepared"
            ),
        ));
    }
    Ok(())
}

/// Whether the request's window closed before `now` (approving it is pointless).
pub fn window_closed(request: &Request, now: SystemTime) -> bool {
    rust_pki_ca::policy::parse_rfc3339(&request.not_after).is_ok_and(|end| end < now)
}

/// The bytes of the request file at `path`: a regular file, read no further than one byte
/// past the `size` bound, so that a huge or endless file is refused by that rule.
///
/// # Errors
/// [`Error::RequestRule`] (`size`), [`Error::FileRefused`], I/O errors.
pub fn read_request(path: &Path) -> Result<Vec<u8>> {
    let bytes = crate::bounded::read_at_most(path, MAX_REQUEST_BYTES as u64)?;
    check_size(&bytes, path)?;
    Ok(bytes)
}

/// The `size` rule on the whole file, checked before it is parsed.
///
/// # Errors
/// [`Error::RequestRule`].
pub fn check_size(bytes: &[u8], path: &Path) -> Result<()> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Error::RequestRule {
            path: path.to_owned(),
            field: "request".into(),
            rule: "size",
            reason: format!("{} bytes, at most {MAX_REQUEST_BYTES}", bytes.len()),
        });
    }
    Ok(())
}

/// Check `request` (parsed from the file at `path`) against every rule above but `size`.
///
/// # Errors
/// [`Error::RequestRule`] naming the field and the rule.
pub fn validate(request: &Request, path: &Path) -> Result<()> {
    let broken = |field: &str, rule: &'static str, reason: String| Error::RequestRule {
        path: path.to_owned(),
        field: field.to_owned(),
        rule,
        reason,
    };
    check_formats(request).map_err(|(field, reason)| broken(&field, "format", reason))?;
    let summary = &request.summary;
    if summary.is_empty() || summary.chars().count() > MAX_SUMMARY_CHARS || !is_inert(summary) {
        return Err(broken(
            "summary",
            "inert-text",
            format!(
                "one line of 1 to {MAX_SUMMARY_CHARS} visible characters (no control, escape, \
                 bidi or zero-width characters)"
            ),
        ));
    }
    check_window(request).map_err(|(field, reason)| broken(field, "window", reason))?;
    check_parameters(request.kind, &request.parameters)
        .map_err(|(field, reason)| broken(&field, "parameters", reason))?;
    let expected = expected_outputs(request);
    let found: Vec<_> = request
        .outputs
        .iter()
        .map(|o| (o.path.clone(), o.output_type, o.profile.clone()))
        .collect();
    if found != expected {
        return Err(broken(
            "output",
            "outputs",
            format!(
                "a {} request plans exactly {}; found {}",
                request.kind,
                describe(&expected),
                describe(&found)
            ),
        ));
    }
    for output in &request.outputs {
        check_tbs(request, output)
            .map_err(|(rule, reason)| broken(&format!("output {}", output.path), rule, reason))?;
    }
    Ok(())
}

type FieldError = (String, String);

fn check_formats(request: &Request) -> std::result::Result<(), FieldError> {
    let field = |name: &str, reason: &str| (name.to_owned(), reason.to_owned());
    if !is_lower_hex(&request.id, 32) {
        return Err(field("id", "32 lower-case hex digits"));
    }
    for (name, value) in [
        ("policy_sha256", &request.policy_sha256),
        ("roster_sha256", &request.roster_sha256),
        ("tool_sha256", &request.tool_sha256),
    ] {
        if !is_lower_hex(value, 64) {
            return Err(field(name, "64 lower-case hex digits (SHA-256)"));
        }
    }
    if !request.previous_record_sha256.is_empty()
        && !is_lower_hex(&request.previous_record_sha256, 64)
    {
        return Err(field(
            "previous_record_sha256",
            "empty (first ceremony) or 64 lower-case hex digits",
        ));
    }
    // Exactly the shapes a policy's `[hsm]` may have (ca/src/policy.rs).
    match (request.hsm.backend, &request.hsm.cluster_id) {
        (HsmBackend::CloudHsm, Some(id)) if is_cloudhsm_cluster_id(id) => {}
        (HsmBackend::CloudHsm, _) => {
            return Err(field(
                "hsm.cluster_id",
                "cloudhsm needs an AWS CloudHSM cluster id (cluster-[2-7a-z]{11,16})",
            ));
        }
        (HsmBackend::SoftHsm2, Some(_)) => {
            return Err(field("hsm.cluster_id", "softhsm2 has no cluster id"));
        }
        (HsmBackend::SoftHsm2, None) => {}
    }
    if request
        .ceremony_recipient
        .parse::<age::x25519::Recipient>()
        .is_err()
    {
        return Err(field(
            "ceremony_recipient",
            "an age X25519 recipient (age1…)",
        ));
    }
    Ok(())
}

fn check_window(request: &Request) -> std::result::Result<(), (&'static str, String)> {
    let parse = |name: &'static str, text: &str| {
        rust_pki_ca::policy::parse_rfc3339(text).map_err(|reason| (name, reason))
    };
    let prepared = parse("prepared_at", &request.prepared_at)?;
    let not_before = parse("not_before", &request.not_before)?;
    let not_after = parse("not_after", &request.not_after)?;
    if not_before < prepared {
        return Err(("not_before", "before prepared_at".into()));
    }
    if not_after <= not_before {
        return Err(("not_after", "not after not_before".into()));
    }
    if not_after
        .duration_since(prepared)
        .is_ok_and(|span| span > MAX_WINDOW)
    {
        return Err((
            "not_after",
            format!(
                "more than {} days after prepared_at",
                MAX_WINDOW.as_secs() / 86_400
            ),
        ));
    }
    Ok(())
}

/// Which parameters a kind carries; every other one must be absent.
fn check_parameters(kind: Kind, p: &Parameters) -> std::result::Result<(), FieldError> {
    let set: Vec<(&str, bool)> = vec![
        ("token", p.token.is_some()),
        ("key_label", p.key_label.is_some()),
        ("purpose", p.purpose.is_some()),
        ("csr_sha256", p.csr_sha256.is_some()),
        ("delegate_key_sha256", p.delegate_key_sha256.is_some()),
        ("cluster_id", p.cluster_id.is_some()),
        ("cluster_key_sha256", p.cluster_key_sha256.is_some()),
        ("new_roster", p.new_roster.is_some()),
        ("new_roster_sha256", p.new_roster_sha256.is_some()),
        ("revoked_serials", !p.revoked_serials.is_empty()),
    ];
    let (required, optional): (&[&str], &[&str]) = match kind {
        Kind::RootInit => (&["token", "key_label"], &[]),
        Kind::DelegateIssue => (&["purpose", "csr_sha256", "delegate_key_sha256"], &[]),
        Kind::DelegateRenew => (&["purpose", "delegate_key_sha256"], &[]),
        Kind::DelegateRevoke => (&["purpose", "revoked_serials"], &[]),
        Kind::RootCrl => (&[], &["revoked_serials"]),
        Kind::RosterChange => (&["new_roster", "new_roster_sha256"], &[]),
        Kind::RootRotate => (&["key_label"], &[]),
        Kind::ClusterInit => (&["cluster_id", "csr_sha256", "cluster_key_sha256"], &[]),
    };
    let parameter = |name: &str| format!("parameters.{name}");
    for (name, present) in set {
        if required.contains(&name) && !present {
            return Err((parameter(name), format!("required in a {kind} request")));
        }
        if present && !required.contains(&name) && !optional.contains(&name) {
            return Err((
                parameter(name),
                format!("not a parameter of a {kind} request"),
            ));
        }
    }
    for (name, value) in [
        ("token", &p.token),
        ("key_label", &p.key_label),
        ("purpose", &p.purpose),
    ] {
        if let Some(value) = value
            && !is_label(value)
        {
            return Err((parameter(name), "1 to 64 of A-Z a-z 0-9 . _ -".into()));
        }
    }
    if let Some(id) = &p.cluster_id
        && !is_cluster_id(id)
    {
        return Err((
            parameter("cluster_id"),
            "`cluster-` and lower-case letters or digits".into(),
        ));
    }
    for (name, value) in [
        ("csr_sha256", &p.csr_sha256),
        ("delegate_key_sha256", &p.delegate_key_sha256),
        ("cluster_key_sha256", &p.cluster_key_sha256),
        ("new_roster_sha256", &p.new_roster_sha256),
    ] {
        if let Some(value) = value
            && !is_lower_hex(value, 64)
        {
            return Err((parameter(name), "64 lower-case hex digits (SHA-256)".into()));
        }
    }
    let mut serials = BTreeSet::new();
    for serial in &p.revoked_serials {
        if serial.is_empty() || serial.len() > 42 || !is_lower_hex(serial, serial.len()) {
            return Err((
                parameter("revoked_serials"),
                format!(
                    "`{}` is not a serial in hex (at most 21 octets)",
                    crate::inert::inert(serial)
                ),
            ));
        }
        if !serials.insert(serial) {
            return Err((
                parameter("revoked_serials"),
                format!("serial {serial} is listed twice"),
            ));
        }
    }
    if let (Some(encoded), Some(digest)) = (&p.new_roster, &p.new_roster_sha256) {
        if encoded.len() > MAX_ROSTER_BYTES * 4 / 3 + 4 {
            return Err((
                parameter("new_roster"),
                format!("larger than {MAX_ROSTER_BYTES} bytes"),
            ));
        }
        let bytes = Base64::decode_vec(encoded)
            .map_err(|e| (parameter("new_roster"), format!("not base64: {e}")))?;
        if &sha256_hex(&bytes) != digest {
            return Err((
                parameter("new_roster_sha256"),
                "does not match new_roster".into(),
            ));
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Err((parameter("new_roster"), "not UTF-8".into()));
        }
    }
    Ok(())
}

/// The outputs a request of this kind plans: (path, type, profile). Paths are fixed
/// strings, never taken from elsewhere in the file.
fn expected_outputs(request: &Request) -> Vec<(String, OutputType, String)> {
    let p = &request.parameters;
    let purpose = p.purpose.as_deref().unwrap_or_default();
    match request.kind {
        Kind::RootInit | Kind::RosterChange | Kind::RootRotate => Vec::new(),
        Kind::DelegateIssue | Kind::DelegateRenew => vec![(
            delegate_path(purpose),
            OutputType::Certificate,
            format!("delegate:{purpose}"),
        )],
        Kind::DelegateRevoke | Kind::RootCrl => {
            vec![(ROOT_CRL.into(), OutputType::Crl, ROOT_CRL_PROFILE.into())]
        }
        Kind::ClusterInit => vec![(
            cluster_output_path(p.cluster_id.as_deref().unwrap_or_default()),
            OutputType::Certificate,
            CLUSTER_PROFILE.into(),
        )],
    }
}

/// Where a purpose's delegate certificate is published.
pub fn delegate_path(purpose: &str) -> String {
    format!("delegates/{purpose}.pem")
}

/// Where the root CRL is published.
pub const ROOT_CRL: &str = "root.crl";
/// Profile name of the root CRL in requests.
pub const ROOT_CRL_PROFILE: &str = "root-crl";

/// The profile name of the cluster certificate in requests (`PlannedOutput::profile`).
pub const CLUSTER_PROFILE: &str = "cluster";

/// Where cluster-init publishes the certificate of cluster `cluster_id`.
pub fn cluster_output_path(cluster_id: &str) -> String {
    format!("cluster/{cluster_id}.pem")
}

/// Where root-rotate publishes the new root's key certified by the old root.
pub const CROSS_NEW_BY_OLD: &str = "cross/new-root-by-old-root.pem";
/// Where root-rotate publishes the old root's key certified by the new root.
pub const CROSS_OLD_BY_NEW: &str = "cross/old-root-by-new-root.pem";

/// Whether `id` looks like an AWS CloudHSM cluster id: `cluster-` and lowercase letters
/// and digits (at most 64 characters in all). It becomes a file name in the outputs.
pub fn is_cluster_id(id: &str) -> bool {
    id.len() <= 64
        && id.strip_prefix("cluster-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn describe(outputs: &[(String, OutputType, String)]) -> String {
    if outputs.is_empty() {
        return "no planned outputs".into();
    }
    outputs
        .iter()
        .map(|(path, output_type, profile)| {
            format!(
                "{output_type:?} `{}` ({})",
                crate::inert::inert(path),
                crate::inert::inert(profile)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_tbs(
    request: &Request,
    output: &PlannedOutput,
) -> std::result::Result<(), (&'static str, String)> {
    if output.tbs.len() > MAX_TBS_BYTES * 4 / 3 + 4 {
        return Err(("size", format!("TBS larger than {MAX_TBS_BYTES} bytes")));
    }
    let der = output.tbs_der().map_err(|e| ("tbs", e.to_string()))?;
    let p = &request.parameters;
    match output.output_type {
        OutputType::Certificate => {
            let tbs = TbsCertificate::from_der(&der)
                .map_err(|e| ("tbs", format!("not a TBSCertificate: {e}")))?;
            let key = tbs
                .subject_public_key_info()
                .to_der()
                .map(|d| sha256_hex(&d))
                .map_err(|e| ("tbs", e.to_string()))?;
            let stated = p
                .delegate_key_sha256
                .as_ref()
                .or(p.cluster_key_sha256.as_ref());
            if stated != Some(&key) {
                return Err((
                    "tbs",
                    format!("certifies key sha256:{key}, not the key the parameters name"),
                ));
            }
        }
        OutputType::Crl => {
            let tbs = TbsCertList::from_der(&der)
                .map_err(|e| ("tbs", format!("not a TBSCertList: {e}")))?;
            let in_crl: BTreeSet<String> = rust_pki_ca::crl::revocations_of(&tbs)
                .map_err(|e| ("tbs", e.to_string()))?
                .iter()
                .map(|r| hex::encode(r.serial.as_bytes()))
                .collect();
            let stated: BTreeSet<String> = p.revoked_serials.iter().cloned().collect();
            if in_crl != stated {
                return Err((
                    "tbs",
                    "the CRL revokes other serials than parameters.revoked_serials".into(),
                ));
            }
        }
    }
    Ok(())
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_label(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

// Here rather than in `request`, whose types these rules check: a request is only ever
// read through them.
impl Request {
    /// Parse request bytes (the exact bytes members approved) and check every rule a
    /// request meets on its own (this module).
    ///
    /// # Errors
    /// Not UTF-8, not TOML, unknown/missing fields, another format version, or a broken
    /// rule ([`Error::RequestRule`]).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        check_size(bytes, path)?;
        let text = std::str::from_utf8(bytes).map_err(|_| Error::RequestFile {
            path: path.to_owned(),
            reason: "not UTF-8".into(),
        })?;
        let request: Self = toml::from_str(text).map_err(|source| Error::RequestSyntax {
            path: path.to_owned(),
            source,
        })?;
        if request.format != REQUEST_FORMAT {
            return Err(Error::RequestFile {
                path: path.to_owned(),
                reason: format!("format `{}` is not `{REQUEST_FORMAT}`", request.format),
            });
        }
        validate(&request, path)?;
        Ok(request)
    }
}
