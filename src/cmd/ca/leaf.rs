//! `rust-pki ca leaf`: a leaf issued by a delegate, and with `--log` logged and stapled
//! before it is written.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::SystemTime,
};

use anyhow::{Context, bail};
use rust_pki_ca::{
    authority::issue_leaf,
    output::{ensure_absent, write_new},
    pem::{self, label},
    policy::Policy,
};
use x509_cert::{Certificate, name::Name};

use der::{Decode, Encode};
use rust_pki_tlog::bundle_file::StapledBundle;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::writer::Log;

use super::SubjectKeyArgs;
use crate::cmd::common::{describe_certificate, open_key, print_warnings};
use crate::cmd::log::staple::{
    Issued, LogTarget, Stapled, bundle_path, delegate_entry, report_stapled, write_bundle,
};

/// What `ca leaf` (and `delegate leaf`, `delegate rotate`) issues.
pub(crate) struct LeafArgs<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) delegate: &'a Certificate,
    pub(crate) issuer_key: &'a str,
    pub(crate) subject: Name,
    pub(crate) subject_key: &'a SubjectKeyArgs,
    pub(crate) now: SystemTime,
    pub(crate) not_after: Option<SystemTime>,
    pub(crate) out: &'a Path,
}

impl LeafArgs<'_> {
    pub(crate) fn issue(&self) -> anyhow::Result<rust_pki_ca::issue::Signed> {
        let key = self.subject_key.public_key()?;
        let signer = open_key(self.issuer_key, "--issuer-key")?;
        Ok(issue_leaf(
            self.policy,
            self.delegate,
            &signer,
            self.subject.clone(),
            key,
            self.now,
            self.not_after,
        )?)
    }
}

/// Where `ca leaf --log` keeps a signed leaf until its log entry and bundle exist.
fn pending_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".pending");
    PathBuf::from(name)
}

/// `ca leaf --log`, in the order that never leaves a certificate without its log entry and
/// bundle: sign (kept as OUT.pending), append to the log, write the bundle (with the
/// delegate's ceremony entry), then write OUT. A rerun after a crash finds OUT.pending and
/// finishes it: its entry is not appended twice, and nothing is signed again.
/// `on_signed` gets the leaf as soon as it exists (signed, or found from an earlier run),
/// before it is logged: `delegate leaf` registers it there. Returns the index of its
/// `leaf-issuance` entry.
pub(crate) fn issue_logged_leaf(
    leaf: &LeafArgs<'_>,
    target: &LogTarget,
    log: &mut Log,
    delegate_bundle: &Path,
    on_signed: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let delegate_der = leaf.delegate.to_der()?;
    let delegate_entry = delegate_entry(delegate_bundle, &delegate_der, log, "--issuer-cert")?;
    let out = leaf.out;
    let bundle_file = bundle_path(out);
    let pending = pending_path(out);
    // A crash after OUT was written, before its pending copy was removed: already done.
    if pending.symlink_metadata().is_ok()
        && out.symlink_metadata().is_ok()
        && std::fs::read(out).ok() == std::fs::read(&pending).ok()
    {
        let der = pem::read_der(out, label::CERTIFICATE)?;
        on_signed(&der)?;
        let entry = Entry::leaf_issuance(&der, &delegate_der)?.encode()?;
        let index = log
            .find_entry(&entry)
            .context("the leaf was issued already, but its entry is not in the log")?;
        std::fs::remove_file(&pending).with_context(|| format!("{}", pending.display()))?;
        writeln!(
            std::io::stdout().lock(),
            "{} was issued and logged already; removed {}",
            out.display(),
            pending.display()
        )?;
        return Ok(index);
    }
    ensure_absent([out])?;
    let der = if pending.symlink_metadata().is_ok() {
        let der = resume_pending(&pending, leaf)?;
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "resuming {}: finishing its logging (nothing signed again)",
            pending.display()
        )?;
        der
    } else {
        ensure_absent([bundle_file.as_path()])?;
        let signed = leaf.issue()?;
        write_new(
            &pending,
            pem::encode(label::CERTIFICATE, &signed.der)?.as_bytes(),
        )?;
        print_warnings(&signed);
        signed.der
    };
    on_signed(&der)?;
    let entry = Entry::leaf_issuance(&der, &delegate_der)?.encode()?;
    let mut stapled = target.staple(
        log,
        &[Issued {
            entry: entry.clone(),
            bundles: Vec::new(),
        }],
    )?;
    let Some(Stapled { index, written }) = stapled.first_mut() else {
        bail!("the log returned no index for the leaf's entry");
    };
    let logged_index = *index;
    let mut bundle = StapledBundle::from_log(log, *index, &entry, vec![der.clone(), delegate_der])?;
    bundle.add_delegate(log, &delegate_entry)?;
    if write_bundle(&bundle_file, &bundle)? {
        written.push(bundle_file);
    }
    report_stapled(&stapled, log)?;
    write_new(out, pem::encode(label::CERTIFICATE, &der)?.as_bytes())?;
    std::fs::remove_file(&pending).with_context(|| format!("{}", pending.display()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "wrote {}: {}",
        out.display(),
        describe_certificate(&der)?
    )?;
    Ok(logged_index)
}

/// The leaf an interrupted run left in `pending`, if it is the one these arguments ask
/// for (issuer, subject, key) and the delegate's key signed it.
fn resume_pending(pending: &Path, leaf: &LeafArgs<'_>) -> anyhow::Result<Vec<u8>> {
    let der = pem::read_der(pending, label::CERTIFICATE)?;
    let cert = Certificate::from_der(&der)
        .with_context(|| format!("{}: malformed certificate", pending.display()))?;
    let tbs = cert.tbs_certificate();
    let issuer = leaf.delegate.tbs_certificate();
    if tbs.issuer() != issuer.subject()
        || tbs.subject() != &leaf.subject
        || tbs.subject_public_key_info() != &leaf.subject_key.public_key()?
    {
        bail!(
            "{} was left by an interrupted `ca leaf` for another issuer, subject or key: \
             rerun that issuance, or remove the file if that certificate is not wanted",
            pending.display()
        );
    }
    let signature = cert
        .signature()
        .as_bytes()
        .with_context(|| format!("{}: signature has unused bits", pending.display()))?;
    rust_pki_ca::signature::verify_signature(
        issuer.subject_public_key_info(),
        cert.signature_algorithm(),
        &tbs.to_der()?,
        signature,
        &pending.display().to_string(),
    )?;
    Ok(der)
}
