//! `rust-pki sign`: detached CMS signatures of files (docs/signatures.md) made by a leaf
//! key in a PKCS#11 token, all over one session, each checked before anything is written,
//! logged in one batched append with the witnesses' cosignature, and written as FILE.sig
//! (the CMS block, then the stapled log bundle).
//!
//! Order, so that a crash never leaves a signature without its log entry: refuse existing
//! FILE.sig, open (and lock) the log, check the leaf, sign and check everything, append
//! all entries, get the cosignatures, then write each FILE.sig. A rerun after a crash
//! between the append and the writes signs again (a new signing-time) but its entries
//! (name, size, SHA-256, signer) are the same, so they are found and not appended twice.
//! With --log, a FILE.sig that such a run finished (this leaf and delegate, the entry of
//! FILE's bytes, in the log) is kept and FILE not signed again; any other existing
//! FILE.sig is refused, and without --log every existing one is.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use rust_pki_ca::Signer;
use rust_pki_ca::pem::{self, label};
use rust_pki_ca::signer::Pkcs11Signer;
use rust_pki_sign::sigfile::{
    refuse_existing, sig_text, signature_path, unfinished, write_signatures,
};
use rust_pki_sign::{SignedFile, SigningLeaf, check_files, sign_files};
use rust_pki_tlog::bundle_file::StapledBundle;
use rust_pki_tlog::writer::Log;
use rust_pki_verify::Purpose;

use crate::cmd::ca::PolicyArg;
use crate::cmd::common::{describe_certificate, parse_key_uri, quiet, warn};
use crate::cmd::log::staple::{Issued, LogTarget, bundle_path, delegate_entry};

/// Sign files with a leaf key in a PKCS#11 token: FILE.sig next to each FILE.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The leaf's private key: a PKCS#11 URI (RFC 7512) with a pin-source.
    #[arg(long, value_name = "URI")]
    key: String,
    /// The leaf certificate (PEM) of --key, issued by the --chain delegate.
    #[arg(long, value_name = "LEAF_PEM")]
    cert: PathBuf,
    /// The delegate CA certificate (PEM) that issued the leaf.
    #[arg(long, value_name = "DELEGATE_PEM")]
    chain: PathBuf,
    /// What the signatures are for (`releases`, `crates-io`, `bors`): the leaf and its
    /// delegate must carry this purpose's EKU.
    #[arg(long, value_name = "PURPOSE")]
    purpose: String,
    #[command(flatten)]
    policy: PolicyArg,
    #[command(flatten)]
    log: LogTarget,
    /// With --log: the delegate's bundle from its delegate-issue ceremony, stapled into
    /// each signature's bundle. Default: --chain with the extension `.bundle`.
    #[arg(long, value_name = "FILE", requires = "dir")]
    delegate_bundle: Option<PathBuf>,
    /// The files to sign; FILE.sig must not exist for any of them.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    let policy = args.policy.load()?;
    let purpose = policy.purpose(&args.purpose)?;
    let purpose = Purpose::new(purpose.name.clone(), purpose.eku.clone());
    check_files(&args.files)?;
    let leaf_der = pem::read_der(&args.cert, label::CERTIFICATE)?;
    let delegate_der = pem::read_der(&args.chain, label::CERTIFICATE)?;
    let uri = parse_key_uri(&args.key, "--key")?;
    // The log is opened, locked and checked before the token is touched.
    let mut log = args.log.open()?;
    let (files, delegate) = match &log {
        Some(log) => {
            let bundle = args
                .delegate_bundle
                .clone()
                .unwrap_or_else(|| bundle_path(&args.chain));
            let delegate = delegate_entry(&bundle, &delegate_der, log, "--chain")?;
            // A crash while the .sig files were written: keep those finished, sign the rest.
            let (files, finished) = unfinished(&args.files, &leaf_der, &delegate_der, &|e| {
                log.find_entry(e).is_some()
            })?;
            let mut stdout = std::io::stdout().lock();
            for path in &finished {
                writeln!(
                    stdout,
                    "kept {}: signed and logged by an earlier run",
                    path.display()
                )?;
            }
            (files, Some(delegate))
        }
        None => {
            refuse_existing(&args.files)?;
            (args.files.clone(), None)
        }
    };
    if files.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let signer = Pkcs11Signer::open(&uri)?;
    let leaf = SigningLeaf::check(&leaf_der, &delegate_der, signer.public_key(), &purpose, now)?;
    let mut progress = Progress::new(files.len());
    let signed = sign_files(&signer, &leaf, &files, now, &mut |n| progress.update(n))?;
    drop(signer);

    let written = match (&mut log, &delegate) {
        (Some(log), Some(delegate)) => {
            let indices = append_all(&args.log, log, &leaf, &signed)?;
            let chain = vec![leaf.leaf_der().to_vec(), leaf.delegate_der().to_vec()];
            // Each text is made as the writers take them: a run may sign millions of files.
            let log: &Log = log;
            write_signatures(signed.iter().zip(&indices).map(
                |(file, (index, entry))| -> anyhow::Result<(PathBuf, String)> {
                    let mut bundle = StapledBundle::from_log(log, *index, entry, chain.clone())?;
                    bundle.add_delegate(log, delegate)?;
                    let text = sig_text(&file.cms_der(&leaf)?, Some(&bundle.to_text()))?;
                    Ok((signature_path(&file.path), text))
                },
            ))?
        }
        _ => {
            warn(
                "no --log: the signatures carry no proof of time, so they stop verifying \
                 when the leaf expires",
            );
            write_signatures(signed.iter().map(|file| -> anyhow::Result<_> {
                Ok((
                    signature_path(&file.path),
                    sig_text(&file.cms_der(&leaf)?, None)?,
                ))
            }))?
        }
    };
    let mut stdout = std::io::stdout().lock();
    for path in &written {
        writeln!(stdout, "wrote {}", path.display())?;
    }
    writeln!(
        stdout,
        "signed {} file(s) for {} with {}",
        signed.len(),
        purpose.name,
        describe_certificate(&leaf_der)?
    )?;
    if let Some(log) = &log {
        writeln!(
            stdout,
            "logged in {} (tree size {}), bundles stapled",
            log.dir().display(),
            log.head().size
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One append of every signature's entry and the witnesses' cosignatures on the new
/// checkpoint; returns each file's index and entry.
fn append_all(
    target: &LogTarget,
    log: &mut Log,
    leaf: &SigningLeaf,
    signed: &[SignedFile],
) -> anyhow::Result<Vec<(u64, Vec<u8>)>> {
    let entries = signed
        .iter()
        .map(|s| s.log_entry(leaf.leaf_der()))
        .collect::<Result<Vec<_>, _>>()?;
    // Two files with the same name and bytes (in different directories) have one entry:
    // it is logged once and both bundles prove it.
    let mut position = std::collections::HashMap::new();
    let mut issued = Vec::new();
    for entry in &entries {
        position.entry(entry.as_slice()).or_insert_with(|| {
            issued.push(Issued {
                entry: entry.clone(),
                bundles: Vec::new(),
            });
            issued.len() - 1
        });
    }
    let stapled = target.staple(log, &issued)?;
    let indices: Vec<u64> = entries
        .iter()
        .map(|entry| stapled[position[entry.as_slice()]].index)
        .collect();
    Ok(indices.into_iter().zip(entries).collect())
}

/// "signed 12000/1000000 files, 3400/s" on stderr, at most once a second, unless --quiet.
struct Progress {
    total: usize,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(total: usize) -> Self {
        let now = Instant::now();
        Self {
            total,
            start: now,
            last: now,
        }
    }

    fn update(&mut self, done: usize) {
        if quiet() || self.last.elapsed().as_secs() < 1 {
            return;
        }
        self.last = Instant::now();
        let rate = done as f64 / self.start.elapsed().as_secs_f64();
        let _ = writeln!(
            std::io::stderr().lock(),
            "signed {done}/{} files, {rate:.0}/s",
            self.total
        );
    }
}
