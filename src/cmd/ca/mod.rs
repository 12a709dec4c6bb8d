//! `rust-pki ca …`: issue the root, delegates, leaves and CRLs. Every certificate is
//! linted (signed first with a throwaway key) before the HSM key is asked to sign.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    str::FromStr,
    time::SystemTime,
};

use anyhow::Context;
use rust_pki_ca::{
    Signer,
    authority::{issue_delegate, issue_root},
    csr::read_csr,
    output::ensure_absent,
    pem::label,
    policy::Policy,
};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::name::Name;

use crate::cmd::common::{
    BUILT_IN_POLICY, BUILT_IN_POLICY_NAME, POLICY_ENV, describe_certificate, load_certificate,
    load_policy, open_key, parse_time, write_output,
};
use crate::cmd::log::staple::{LogTarget, bundle_path};

mod crl;
pub(crate) mod leaf;

use crl::CrlArgs;
use leaf::{LeafArgs, issue_logged_leaf};

#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Issue the self-signed root certificate for an HSM key (normally inside a ceremony).
    ///
    /// Subject and validity (now until the policy's root.not_after) come from the policy.
    #[command(after_help = "Examples:\n  rust-pki ca root --key \"$KEY\" --out demo-out/root.pem")]
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
    #[command(
        after_help = "Examples:\n  rust-pki ca delegate --root-cert demo-out/root.pem --root-key \"$KEY\" --purpose releases \\\n      --csr releases.csr --out demo-out/delegates/releases.pem"
    )]
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
    #[command(
        after_help = "Examples:\n  rust-pki ca leaf --issuer-cert demo-out/delegates/releases.pem --issuer-key \"$DELEGATE_KEY\" \\\n      --subject 'CN=rust 1.95.0,O=The Rust Project' --csr leaf.csr --out demo-out/leaves/releases.pem \\\n      --log demo-out/log --log-skey log.skey --witness-url http://127.0.0.1:PORT --witness-vkey demo-out/witness.vkey"
    )]
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
    #[command(
        after_help = "Examples:\n  rust-pki ca crl --issuer-cert demo-out/delegates/releases.pem --issuer-key \"$DELEGATE_KEY\" \\\n      --revoke demo-out/leaves/releases-revoked.pem --reason key-compromise --out releases.crl"
    )]
    Crl(CrlArgs),
}

#[derive(Debug, clap::Args)]
pub struct PolicyArg {
    /// The CA policy (strict TOML). Default: the policy built into this binary
    /// (policy/rust-root.toml of its source tree), so commands work outside the repository.
    #[arg(id = "policy", long = "policy", value_name = "FILE", env = POLICY_ENV)]
    pub path: Option<PathBuf>,
}

impl PolicyArg {
    /// The policy's bytes (what requests pin) and the parsed policy.
    pub fn load_with_bytes(&self) -> anyhow::Result<(Vec<u8>, Policy)> {
        match &self.path {
            Some(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                Ok((bytes, load_policy(path)?))
            }
            None => Ok((
                BUILT_IN_POLICY.as_bytes().to_vec(),
                Policy::parse(BUILT_IN_POLICY, self.name())?,
            )),
        }
    }

    /// The policy (`--policy`, else `RUST_PKI_POLICY`, else the built-in one).
    pub fn load(&self) -> anyhow::Result<Policy> {
        Ok(self.load_with_bytes()?.1)
    }

    /// The file given, or how the built-in policy is named in messages.
    pub fn name(&self) -> &Path {
        self.path
            .as_deref()
            .unwrap_or_else(|| Path::new(BUILT_IN_POLICY_NAME))
    }
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
    pub(crate) fn public_key(&self) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
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
            let policy = policy.load()?;
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
            let policy = policy.load()?;
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
            let policy = policy.load()?;
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
                    issue_logged_leaf(&leaf, &log, &mut opened, &delegate_bundle, &mut |_| Ok(()))?;
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
        CaCommand::Crl(args) => crl::run(args, now)?,
    }
    Ok(ExitCode::SUCCESS)
}
