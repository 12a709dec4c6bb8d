//! `rust-pki ca …`: issue the root, delegates, leaves and CRLs. Every certificate is
//! linted (signed first with a throwaway key) before the HSM key is asked to sign.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
    str::FromStr,
    time::SystemTime,
};

use anyhow::{Context, bail};
use rust_pki_ca::{
    Signer,
    authority::{issue_crl_for, issue_delegate, issue_leaf, issue_root},
    crl::Revocation,
    csr::read_csr,
    output::{ensure_absent, write_new},
    pem::{self, label},
    policy::Policy,
};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::{Certificate, ext::pkix::CrlReason, name::Name};

use der::{Decode, Encode};
use rust_pki_tlog::bundle_file::StapledBundle;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::writer::Log;

use super::common::{
    DEFAULT_POLICY, describe_certificate, load_certificate, load_policy, open_key, parse_time,
    print_warnings, write_output,
};
use super::log::staple::{Issued, LogTarget, Stapled, bundle_path, report_stapled, write_bundle};

#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Issue the self-signed root certificate for an HSM key (normally inside a ceremony).
    ///
    /// Subject and validity (now until the policy's root.not_after) come from the policy.
    Root {
        #[command(flatten)]
        policy: PolicyArg,
        /// The root key: a PKCS#11 URI, e.g.
        /// 'pkcs11:token=rust-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/root.pin'.
        /// The PIN is read from pin-source (file:PATH, env:NAME or fd:N), never from argv.
        #[arg(long, value_name = "PKCS11-URI")]
        key: String,
        /// Where to write the certificate (PEM); must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Certify a delegate CA key for one purpose, signed by the root key.
    ///
    /// Only the public key is taken from the CSR (whose signature must verify); subject,
    /// extensions and EKU come from the policy's purpose.
    Delegate {
        #[command(flatten)]
        policy: PolicyArg,
        /// The root certificate (PEM or DER).
        #[arg(long, value_name = "FILE")]
        root_cert: PathBuf,
        /// The root key (PKCS#11 URI, see `ca root --help`).
        #[arg(long, value_name = "PKCS11-URI")]
        root_key: String,
        /// The purpose, as named in the policy: releases, crates-io or bors.
        #[arg(long)]
        purpose: String,
        #[command(flatten)]
        subject_key: SubjectKeyArgs,
        /// End of validity (RFC 3339). Default: policy delegate.max_validity_days,
        /// capped at the root's notAfter.
        #[arg(long, value_name = "RFC3339")]
        not_after: Option<String>,
        /// Where to write the certificate (PEM); must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Issue a short-lived leaf certificate with a delegate key; the purpose (EKU) is the
    /// delegate's.
    Leaf {
        #[command(flatten)]
        policy: PolicyArg,
        /// The issuing delegate's certificate.
        #[arg(long, value_name = "FILE")]
        issuer_cert: PathBuf,
        /// The delegate key (PKCS#11 URI).
        #[arg(long, value_name = "PKCS11-URI")]
        issuer_key: String,
        /// Leaf subject, RFC 4514, e.g. 'CN=rust 1.95.0 release,O=The Rust Project'.
        #[arg(long, value_name = "NAME")]
        subject: String,
        #[command(flatten)]
        subject_key: SubjectKeyArgs,
        /// End of validity (RFC 3339). Default: policy leaf.default_validity_days,
        /// capped at the delegate's notAfter.
        #[arg(long, value_name = "RFC3339")]
        not_after: Option<String>,
        /// Where to write the certificate (PEM); must not exist. With --log, its bundle
        /// goes next to it (FILE with the extension .bundle), and the certificate is
        /// written only once it is logged and its bundle exists; until then it is kept as
        /// FILE.pending, which a rerun with the same arguments finishes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// With --log: the delegate's own bundle, whose ceremony-record entry (which must
        /// be in the --log) is proven in the leaf's bundle. Default: --issuer-cert with the
        /// extension .bundle, as `ceremony execute` publishes it.
        #[arg(long, value_name = "FILE", requires = "dir")]
        delegate_bundle: Option<PathBuf>,
        #[command(flatten)]
        log: LogTarget,
    },
    /// Issue a CRL signed by the root or a delegate key.
    ///
    /// nextUpdate = now + the policy's CRL lifetime for that issuer (root or delegate).
    Crl {
        #[command(flatten)]
        policy: PolicyArg,
        /// The issuer's certificate (root or delegate).
        #[arg(long, value_name = "FILE")]
        issuer_cert: PathBuf,
        /// The issuer's key (PKCS#11 URI).
        #[arg(long, value_name = "PKCS11-URI")]
        issuer_key: String,
        /// A certificate to revoke (repeatable); it must have been issued by this issuer.
        #[arg(long, value_name = "CERT")]
        revoke: Vec<PathBuf>,
        /// Reason code for the revoked certificates: key-compromise, ca-compromise,
        /// affiliation-changed, superseded, cessation-of-operation, certificate-hold,
        /// privilege-withdrawn. Default: none (unspecified).
        #[arg(long, value_parser = rust_pki_ca::crl::parse_reason)]
        reason: Option<CrlReason>,
        /// cRLNumber. Default: thisUpdate in Unix seconds, which always increases.
        #[arg(long)]
        number: Option<u64>,
        /// Where to write the CRL (PEM); must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct PolicyArg {
    /// The CA policy (strict TOML).
    #[arg(id = "policy", long = "policy", value_name = "FILE", default_value = DEFAULT_POLICY)]
    pub path: PathBuf,
}

/// The key to certify: from a CSR, or a key in an HSM.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct SubjectKeyArgs {
    /// A PKCS#10 CSR (PEM or DER) whose signature proves possession of the key.
    #[arg(long, value_name = "FILE")]
    csr: Option<PathBuf>,
    /// A key in a PKCS#11 token (e.g. the same HSM); its public key is certified.
    #[arg(long, value_name = "PKCS11-URI")]
    subject_key: Option<String>,
}

impl SubjectKeyArgs {
    fn public_key(&self) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
        match (&self.csr, &self.subject_key) {
            (Some(csr), _) => Ok(read_csr(csr)?.public_key),
            (None, Some(uri)) => Ok(open_key(uri, "--subject-key")?.public_key().clone()),
            (None, None) => anyhow::bail!("give --csr or --subject-key"),
        }
    }
}

pub fn run(command: CaCommand) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    match command {
        CaCommand::Root { policy, key, out } => {
            let policy = load_policy(&policy.path)?;
            ensure_absent([out.as_path()])?;
            let signer = open_key(&key, "--key")?;
            let signed = issue_root(&policy, &signer, now)?;
            write_output(
                &out,
                label::CERTIFICATE,
                &signed,
                &describe_certificate(&signed.der)?,
            )?;
        }
        CaCommand::Delegate {
            policy,
            root_cert,
            root_key,
            purpose,
            subject_key,
            not_after,
            out,
        } => {
            let policy = load_policy(&policy.path)?;
            let purpose = policy.purpose(&purpose)?.clone();
            let root = load_certificate(&root_cert)?;
            let not_after = not_after.as_deref().map(parse_time).transpose()?;
            ensure_absent([out.as_path()])?;
            let key = subject_key.public_key()?;
            let signer = open_key(&root_key, "--root-key")?;
            let signed = issue_delegate(&policy, &root, &signer, &purpose, key, now, not_after)?;
            write_output(
                &out,
                label::CERTIFICATE,
                &signed,
                &describe_certificate(&signed.der)?,
            )?;
        }
        CaCommand::Leaf {
            policy,
            issuer_cert,
            issuer_key,
            subject,
            subject_key,
            not_after,
            out,
            delegate_bundle,
            log,
        } => {
            let policy = load_policy(&policy.path)?;
            let delegate = load_certificate(&issuer_cert)?;
            let subject = Name::from_str(&subject)
                .with_context(|| format!("--subject `{subject}` is not an RFC 4514 name"))?;
            let not_after = not_after.as_deref().map(parse_time).transpose()?;
            let leaf = LeafArgs {
                policy: &policy,
                delegate: &delegate,
                issuer_key: &issuer_key,
                subject,
                subject_key: &subject_key,
                now,
                not_after,
                out: &out,
            };
            // The log is opened (and locked) before the key signs anything.
            match log.open()? {
                Some(mut opened) => {
                    let delegate_bundle =
                        delegate_bundle.unwrap_or_else(|| bundle_path(&issuer_cert));
                    issue_logged_leaf(&leaf, &log, &mut opened, &delegate_bundle)?;
                }
                None => {
                    ensure_absent([out.as_path()])?;
                    let signed = leaf.issue()?;
                    write_output(
                        &out,
                        label::CERTIFICATE,
                        &signed,
                        &describe_certificate(&signed.der)?,
                    )?;
                }
            }
        }
        CaCommand::Crl {
            policy,
            issuer_cert,
            issuer_key,
            revoke,
            reason,
            number,
            out,
        } => {
            let policy = load_policy(&policy.path)?;
            let issuer = load_certificate(&issuer_cert)?;
            let mut revoked = Vec::with_capacity(revoke.len());
            for path in &revoke {
                let cert = load_certificate(path)?;
                let revocation = Revocation::of(&cert, &issuer, now, reason)
                    .with_context(|| format!("--revoke {}", path.display()))?;
                revoked.push(revocation);
            }
            ensure_absent([out.as_path()])?;
            let signer = open_key(&issuer_key, "--issuer-key")?;
            let signed = issue_crl_for(&policy, &issuer, &signer, revoked, now, number)?;
            let summary = format!(
                "CRL of {} revoking {} certificate(s)",
                issuer.tbs_certificate().subject(),
                revoke.len()
            );
            write_output(&out, label::CRL, &signed, &summary)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `ca leaf` issues.
struct LeafArgs<'a> {
    policy: &'a Policy,
    delegate: &'a Certificate,
    issuer_key: &'a str,
    subject: Name,
    subject_key: &'a SubjectKeyArgs,
    now: SystemTime,
    not_after: Option<SystemTime>,
    out: &'a Path,
}

impl LeafArgs<'_> {
    fn issue(&self) -> anyhow::Result<rust_pki_ca::issue::Signed> {
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
fn issue_logged_leaf(
    leaf: &LeafArgs<'_>,
    target: &LogTarget,
    log: &mut Log,
    delegate_bundle: &Path,
) -> anyhow::Result<()> {
    let delegate_der = leaf.delegate.to_der()?;
    let delegate_entry = delegate_entry(delegate_bundle, &delegate_der, log)?;
    let out = leaf.out;
    let bundle_file = bundle_path(out);
    let pending = pending_path(out);
    // A crash after OUT was written, before its pending copy was removed: already done.
    if pending.symlink_metadata().is_ok()
        && out.symlink_metadata().is_ok()
        && std::fs::read(out).ok() == std::fs::read(&pending).ok()
    {
        std::fs::remove_file(&pending).with_context(|| format!("{}", pending.display()))?;
        writeln!(
            std::io::stdout().lock(),
            "{} was issued and logged already; removed {}",
            out.display(),
            pending.display()
        )?;
        return Ok(());
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
    Ok(())
}

/// The ceremony-record entry of the delegate, from its bundle: it must name the delegate
/// certificate and be in `log` (checked before anything is signed).
fn delegate_entry(bundle: &Path, delegate_der: &[u8], log: &Log) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(bundle).with_context(|| {
        format!(
            "{}: the delegate's bundle (from its delegate-issue ceremony) is needed to prove \
             the delegate is logged; give --delegate-bundle",
            bundle.display()
        )
    })?;
    let parsed = StapledBundle::parse(&bytes).with_context(|| format!("{}", bundle.display()))?;
    let named = Entry::parse(&parsed.entry).is_ok_and(|e| {
        matches!(e, Entry::CeremonyRecord { .. }) && e.names_certificate(delegate_der)
    });
    if !named {
        bail!(
            "{}: its entry is not the ceremony record of the --issuer-cert delegate",
            bundle.display()
        );
    }
    if log.find_entry(&parsed.entry).is_none() {
        bail!(
            "{}: the delegate's ceremony record is not in the log {}",
            bundle.display(),
            log.dir().display()
        );
    }
    Ok(parsed.entry)
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
