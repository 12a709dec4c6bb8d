//! `ceremony prepare`: a template in, a request out. Every certificate and CRL whose key
//! is known is built from policy and linted (throwaway key) now, before anyone approves;
//! the request pins the policy, the roster, the record chain and the tool.

use std::{
    path::Path,
    time::{Duration, SystemTime},
};

use age::secrecy::ExposeSecret;
use der::Decode;
use rust_pki_ca::{
    authority::{Prepared, prepare_cluster, prepare_crl, prepare_delegate},
    crl::{Revocation, parse_crl, parse_reason, revocations_of},
    csr::{read_cluster_csr, read_csr},
    lint::Finding,
    pem,
};
use rust_pki_fs::durable::{self, Mode};

use crate::{
    Error, Result,
    in_force::{current_root, parse_certificate},
    policy_source::PolicySource,
    request::{
        OutputType, Parameters, PlannedOutput, REQUEST_FORMAT, Request, RequestHsm, rfc3339,
        sha256_hex,
    },
    roster::Roster,
    state::{CEREMONY_KEY_FILE, CeremonyDir, State},
    template::{Template, TemplateKind},
    validate::{CLUSTER_PROFILE, cluster_output_path},
};

/// Where a ceremony's inputs come from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The policy (a file, or the one built into the binary).
    pub policy: PolicySource<'a>,
    /// The roster file.
    pub roster: &'a Path,
    /// The ceremony state directory.
    pub state: &'a State,
    /// SHA-256 of the running `rust-pki` binary.
    pub tool_sha256: &'a str,
    /// Now.
    pub now: SystemTime,
}

/// A prepared ceremony: its folder, the request and what to read aloud.
#[derive(Debug)]
pub struct PreparedCeremony {
    /// The new ceremony folder (holding `request.toml`).
    pub dir: CeremonyDir,
    /// The request as written.
    pub request: Request,
    /// Fingerprint of the request bytes (see [`Request::fingerprint`]).
    pub fingerprint: String,
    /// Lint warnings of the planned outputs.
    pub warnings: Vec<Finding>,
}

/// Prepare a ceremony from `template`.
///
/// # Errors
/// Invalid policy, roster or template; missing root (before root-init) or existing root
/// (for root-init); lint findings; I/O failures.
pub fn prepare(inputs: Inputs<'_>, template: &Template) -> Result<PreparedCeremony> {
    // The head and the folder number are read and used under the lock.
    let _lock = inputs.state.lock()?;
    let policy_bytes = inputs.policy.bytes;
    let roster_bytes = read(inputs.roster)?;
    let policy = inputs.policy.parse()?;
    // Checked now so that no one is asked to approve under a roster that breaks the rules,
    // or one that a roster change has replaced.
    crate::in_force::check_roster_in_force(inputs.state, inputs.roster, &policy.quorum)?;
    let roster = Roster::load(inputs.roster, &policy.quorum)?;
    roster.check_hsm(&policy.hsm)?;
    let (_, head) = inputs.state.head()?;
    let root = current_root(inputs.state)?;

    let mut parameters = Parameters::default();
    let mut outputs = Vec::new();
    let mut warnings = Vec::new();
    let summary = match &template.ceremony {
        TemplateKind::RootInit { token, key_label } => {
            if root.is_some() {
                return Err(refused(template, "a root exists already (use root-rotate)"));
            }
            parameters.token = Some(token.clone());
            parameters.key_label = Some(key_label.clone());
            format!(
                "Initialise token `{token}` and generate root key `{key_label}`; self-sign the root"
            )
        }
        TemplateKind::DelegateIssue { purpose, csr } => {
            let root = root
                .ok_or_else(|| refused(template, "there is no root yet (run root-init first)"))?;
            let purpose = policy.purpose(purpose)?;
            let csr_bytes = read(csr)?;
            let request = read_csr(csr)?;
            let key_der =
                der::Encode::to_der(&request.public_key).map_err(|source| Error::RequestDer {
                    field: "csr".into(),
                    source,
                })?;
            let prepared = prepare_delegate(
                &policy,
                &root,
                purpose,
                request.public_key,
                inputs.now,
                None,
            )?;
            parameters.purpose = Some(purpose.name.clone());
            parameters.csr_sha256 = Some(sha256_hex(&csr_bytes));
            parameters.delegate_key_sha256 = Some(sha256_hex(&key_der));
            let path = format!("delegates/{}.pem", purpose.name);
            let summary = format!(
                "Issue the {} delegate CA ({}) for key sha256:{}",
                purpose.name,
                purpose.delegate_subject,
                sha256_hex(&key_der)
            );
            plan(
                &mut outputs,
                &mut warnings,
                &path,
                OutputType::Certificate,
                &format!("delegate:{}", purpose.name),
                prepared,
            );
            summary
        }
        TemplateKind::DelegateRenew { purpose } => {
            let root = root.ok_or_else(|| refused(template, "there is no root yet"))?;
            let purpose = policy.purpose(purpose)?;
            let path = format!("delegates/{}.pem", purpose.name);
            let current = inputs.state.latest_output(&path)?.ok_or_else(|| {
                refused(
                    template,
                    &format!("no {path} was issued by a ceremony (use delegate-issue)"),
                )
            })?;
            let current = parse_certificate(&current, &path)?;
            if current_revocations(inputs.state)?
                .iter()
                .any(|r| &r.serial == current.tbs_certificate().serial_number())
            {
                return Err(refused(
                    template,
                    &format!("{path} is revoked: issue a new delegate key instead"),
                ));
            }
            let key = current.tbs_certificate().subject_public_key_info().clone();
            let key_der = der::Encode::to_der(&key).map_err(|source| Error::RequestDer {
                field: "delegate key".into(),
                source,
            })?;
            let prepared = prepare_delegate(&policy, &root, purpose, key, inputs.now, None)?;
            parameters.purpose = Some(purpose.name.clone());
            parameters.delegate_key_sha256 = Some(sha256_hex(&key_der));
            let summary = format!(
                "Renew the {} delegate CA (same key sha256:{}, previous serial {})",
                purpose.name,
                sha256_hex(&key_der),
                hex::encode(current.tbs_certificate().serial_number().as_bytes())
            );
            plan(
                &mut outputs,
                &mut warnings,
                &path,
                OutputType::Certificate,
                &format!("delegate:{}", purpose.name),
                prepared,
            );
            summary
        }
        TemplateKind::DelegateRevoke { purpose, reason } => {
            let root = root.ok_or_else(|| refused(template, "there is no root yet"))?;
            let purpose = policy.purpose(purpose)?;
            let path = format!("delegates/{}.pem", purpose.name);
            let delegate = inputs
                .state
                .latest_output(&path)?
                .ok_or_else(|| refused(template, &format!("no {path} was issued by a ceremony")))?;
            let delegate = parse_certificate(&delegate, &path)?;
            let reason = reason
                .as_deref()
                .map(parse_reason)
                .transpose()
                .map_err(|e| refused(template, &e))?;
            let mut revoked = current_revocations(inputs.state)?;
            let entry = Revocation::of(&delegate, &root, inputs.now, reason)?;
            if revoked.iter().any(|r| r.serial == entry.serial) {
                return Err(refused(template, &format!("{path} is revoked already")));
            }
            revoked.push(entry);
            parameters.purpose = Some(purpose.name.clone());
            parameters.revoked_serials = serials(&revoked);
            let number =
                crate::history::next_root_crl_number(inputs.state, unix_seconds(inputs.now))?;
            let prepared = prepare_crl(&policy, &root, revoked, inputs.now, Some(number))?;
            let serial = hex::encode(delegate.tbs_certificate().serial_number().as_bytes());
            plan(
                &mut outputs,
                &mut warnings,
                "root.crl",
                OutputType::Crl,
                "root-crl",
                prepared,
            );
            format!(
                "Revoke the {} delegate CA (serial {serial}) on a new root CRL",
                purpose.name
            )
        }
        TemplateKind::RootRotate { key_label } => {
            let root = root
                .ok_or_else(|| refused(template, "there is no root to rotate (use root-init)"))?;
            let current_end = root.tbs_certificate().validity().not_after.to_system_time();
            if policy.root.not_after <= current_end {
                return Err(refused(
                    template,
                    "the policy's root.not_after is not later than the current root's: update [root] in the policy (subject, not_after) for the new root first",
                ));
            }
            parameters.key_label = Some(key_label.clone());
            format!(
                "Rotate the root: new key `{key_label}`, new root {} until {}, cross-certificates with {} both ways",
                policy.root.subject,
                rfc3339(policy.root.not_after),
                root.tbs_certificate().subject()
            )
        }
        TemplateKind::RosterChange { new_roster } => {
            if root.is_none() {
                return Err(refused(
                    template,
                    "there is no root yet: root-init shares the PINs to the roster",
                ));
            }
            let bytes = read(new_roster)?;
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                refused(template, &format!("{} is not UTF-8", new_roster.display()))
            })?;
            let new = Roster::parse(text, new_roster, &policy.quorum)?;
            new.check_hsm(&policy.hsm)?;
            let ids = |r: &Roster| r.members().iter().map(|m| m.id.clone()).collect::<Vec<_>>();
            let (old_ids, new_ids) = (ids(&roster), ids(&new));
            let added: Vec<_> = new_ids
                .iter()
                .filter(|id| !old_ids.contains(id))
                .cloned()
                .collect();
            let removed: Vec<_> = old_ids
                .iter()
                .filter(|id| !new_ids.contains(id))
                .cloned()
                .collect();
            parameters.new_roster = Some(<base64ct::Base64 as base64ct::Encoding>::encode_string(
                &bytes,
            ));
            parameters.new_roster_sha256 = Some(sha256_hex(&bytes));
            format!(
                "Replace the roster (added: {}; removed: {}): new token PINs, shared to the new members only",
                if added.is_empty() {
                    "none".into()
                } else {
                    added.join(", ")
                },
                if removed.is_empty() {
                    "none".into()
                } else {
                    removed.join(", ")
                },
            )
        }
        TemplateKind::ClusterInit { cluster_id, csr } => {
            let root = root
                .ok_or_else(|| refused(template, "there is no root yet (run root-init first)"))?;
            let Some(cluster) = &policy.cluster else {
                return Err(refused(
                    template,
                    &format!(
                        "cluster-init is refused: policy {} has no [cluster] section (eku, \
                         max_validity_days, min_rsa_bits), so it allows no CloudHSM cluster \
                         certificate",
                        inputs.policy.name.display()
                    ),
                ));
            };
            let path = cluster_output_path(cluster_id);
            if inputs.state.latest_output(&path)?.is_some() {
                return Err(refused(
                    template,
                    &format!(
                        "{path} was issued by an earlier ceremony: a cluster is initialised \
                         once (upload that certificate again if the upload failed)"
                    ),
                ));
            }
            let csr_bytes = read(csr)?;
            let request = read_cluster_csr(csr, cluster.min_rsa_bits)?;
            let key_der =
                der::Encode::to_der(&request.public_key).map_err(|source| Error::RequestDer {
                    field: "csr".into(),
                    source,
                })?;
            let prepared = prepare_cluster(&policy, &root, &request, inputs.now)?;
            let validity = validity_of(&prepared.tbs)?;
            parameters.cluster_id = Some(cluster_id.clone());
            parameters.csr_sha256 = Some(sha256_hex(&csr_bytes));
            parameters.cluster_key_sha256 = Some(sha256_hex(&key_der));
            let summary = format!(
                "Certify CloudHSM cluster {cluster_id} HSM key sha256:{} (RSA {}, subject {}) \
                 for {validity}, EKU {}",
                sha256_hex(&key_der),
                request.rsa_bits,
                request.subject,
                cluster.eku
            );
            plan(
                &mut outputs,
                &mut warnings,
                &path,
                OutputType::Certificate,
                CLUSTER_PROFILE,
                prepared,
            );
            summary
        }
        TemplateKind::RootCrl => {
            let root = root.ok_or_else(|| refused(template, "there is no root yet"))?;
            let revoked = current_revocations(inputs.state)?;
            parameters.revoked_serials = serials(&revoked);
            let count = revoked.len();
            let number =
                crate::history::next_root_crl_number(inputs.state, unix_seconds(inputs.now))?;
            let prepared = prepare_crl(&policy, &root, revoked, inputs.now, Some(number))?;
            plan(
                &mut outputs,
                &mut warnings,
                "root.crl",
                OutputType::Crl,
                "root-crl",
                prepared,
            );
            format!("Re-sign the root CRL ({count} revoked certificate(s) carried over)")
        }
    };

    let kind = template.ceremony.kind();
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|source| rust_pki_ca::Error::Random { source })?;
    let ceremony_key = age::x25519::Identity::generate();
    let not_after = inputs.now + Duration::from_secs(u64::from(template.window_hours) * 3600);
    let request = Request {
        format: REQUEST_FORMAT.into(),
        id: hex::encode(id),
        kind,
        hsm: RequestHsm::of(&policy.hsm),
        summary,
        prepared_at: rfc3339(inputs.now),
        not_before: rfc3339(inputs.now),
        not_after: rfc3339(not_after),
        policy_sha256: sha256_hex(policy_bytes),
        roster_sha256: sha256_hex(&roster_bytes),
        previous_record_sha256: head,
        tool_sha256: inputs.tool_sha256.to_owned(),
        ceremony_recipient: ceremony_key.to_public().to_string(),
        parameters,
        outputs,
    };

    // Never ask members to approve what `show` and `execute` would refuse.
    crate::validate::validate(&request, &template.path)?;
    crate::history::check_history(inputs.state, &request)?;
    let text = request.to_toml()?;
    crate::validate::check_size(text.as_bytes(), &template.path)?;
    let dir = inputs.state.new_ceremony(kind)?;
    write_secret(
        &dir.path.join(CEREMONY_KEY_FILE),
        ceremony_key.to_string().expose_secret().as_bytes(),
    )?;
    rust_pki_ca::output::write_new(&dir.request(), text.as_bytes())?;
    Ok(PreparedCeremony {
        fingerprint: Request::fingerprint(text.as_bytes()),
        dir,
        request,
        warnings,
    })
}

/// "N days (until <notAfter>)" of a prepared certificate TBS, for the summary.
fn validity_of(tbs: &[u8]) -> Result<String> {
    let tbs = x509_cert::TbsCertificate::from_der(tbs).map_err(|source| Error::RequestDer {
        field: "output tbs".into(),
        source,
    })?;
    let validity = tbs.validity();
    let (from, until) = (
        validity.not_before.to_system_time(),
        validity.not_after.to_system_time(),
    );
    let days = until
        .duration_since(from)
        .map_or(0, |span| span.as_secs() / 86_400);
    Ok(format!("{days} days (until {})", rfc3339(until)))
}

fn plan(
    outputs: &mut Vec<PlannedOutput>,
    warnings: &mut Vec<Finding>,
    path: &str,
    output_type: OutputType,
    profile: &str,
    prepared: Prepared,
) {
    outputs.push(PlannedOutput::new(
        path,
        output_type,
        profile,
        &prepared.tbs,
    ));
    warnings.extend(prepared.warnings);
}

/// Whole seconds since the Unix epoch (the root CRL number's usual value).
fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The entries of the latest root CRL issued by a ceremony.
fn current_revocations(state: &State) -> Result<Vec<Revocation>> {
    let Some(text) = state.latest_output("root.crl")? else {
        return Ok(Vec::new());
    };
    let der =
        pem::decode_der(text.as_bytes(), pem::label::CRL).map_err(|reason| Error::Request {
            field: "root.crl".into(),
            reason,
        })?;
    Ok(revocations_of(&parse_crl(&der)?.tbs_cert_list)?)
}

fn serials(revoked: &[Revocation]) -> Vec<String> {
    revoked
        .iter()
        .map(|r| hex::encode(r.serial.as_bytes()))
        .collect()
}

fn refused(template: &Template, reason: &str) -> Error {
    Error::Template {
        path: template.path.clone(),
        reason: reason.to_owned(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Write a secret to a new file readable by its owner only (0600, never overwritten).
fn write_secret(path: &Path, secret: &[u8]) -> Result<()> {
    durable::create_new(path, secret, Mode::Private).map_err(Error::Write)
}
