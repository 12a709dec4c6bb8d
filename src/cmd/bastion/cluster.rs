//! `rust-pki bastion init-cluster`: the new cluster's CSR, its one-time trust anchor, then
//! InitializeCluster.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use rust_pki_bastion::aws::Aws;
use rust_pki_bastion::plan::{self};
use time::OffsetDateTime;

use super::{DryRun, log_event, print_plan};
use crate::cmd::log::staple::LogTarget;

/// File names `sign` writes in its --out folder.
const ANCHOR_FILE: &str = "trust-anchor.pem";
const CLUSTER_CERT_FILE: &str = "cluster-cert.pem";

#[derive(Debug, clap::Subcommand)]
pub(super) enum InitClusterCommand {
    /// Step 1: write the UNINITIALIZED cluster's CSR (Certificates.ClusterCsr) to a new
    /// file, the input of `sign`.
    Csr {
        /// Where to write the CSR (PEM; must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Step 2 (no AWS call): check the CSR's signature, make a one-time P-384 key in
    /// memory, self-sign the trust anchor "rust-pki one-time cluster trust anchor
    /// <cluster-id>", sign the CSR with it, drop the key (never written), write
    /// trust-anchor.pem and cluster-cert.pem into --out (new files), and log a
    /// bastion-event `init-cluster-sign` naming both certificates' SHA-256.
    Sign {
        /// The cluster's CSR, from `init-cluster csr`.
        #[arg(long, value_name = "FILE")]
        csr: PathBuf,
        /// The cluster's id (the anchor's subject names it).
        #[arg(long, value_name = "CLUSTER_ID")]
        cluster_id: String,
        /// Folder for trust-anchor.pem and cluster-cert.pem (created; files must not exist).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        log: LogTarget,
    },
    /// Step 3: InitializeCluster with the cluster certificate and the trust anchor that
    /// signed it (from `sign`), after checking the certificate certifies the cluster's
    /// current CSR key and is signed by the anchor.
    Upload {
        /// The cluster certificate (PEM), e.g. DIR/cluster-cert.pem of `sign`.
        #[arg(long, value_name = "FILE")]
        cluster_cert: PathBuf,
        /// The self-signed certificate that signed it (PEM), e.g. DIR/trust-anchor.pem.
        #[arg(long, value_name = "FILE")]
        trust_anchor: PathBuf,
        #[command(flatten)]
        dry: DryRun,
    },
}

pub(super) fn init_cluster(aws: &Aws, command: InitClusterCommand) -> anyhow::Result<ExitCode> {
    match command {
        InitClusterCommand::Sign {
            csr,
            cluster_id,
            out,
            log,
        } => return sign(&csr, &cluster_id, &out, &log),
        InitClusterCommand::Csr { out } => {
            let (cluster, csr) = uninitialized(aws)?;
            rust_pki_ca::output::write_new(&out, csr.as_bytes())?;
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "wrote {}: CSR of cluster {}; next: `rust-pki bastion init-cluster sign --csr {} \
                 --cluster-id {} --out DIR`",
                out.display(),
                cluster.id,
                out.display(),
                cluster.id
            )?;
        }
        InitClusterCommand::Upload {
            cluster_cert,
            trust_anchor,
            dry,
        } => {
            let (cluster, csr) = uninitialized(aws)?;
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))
            };
            let (cert, anchor) = (read(&cluster_cert)?, read(&trust_anchor)?);
            rust_pki_bastion::cert::check_cluster_certificate(&csr, &cert, &anchor)?;
            let plan = plan::initialize(&cluster, &cert, &anchor)?;
            print_plan(&plan, dry.dry_run)?;
            if !dry.dry_run {
                let done = aws.execute(&plan, &mut std::io::stderr())?;
                let mut out = std::io::stdout().lock();
                for line in &done.lines {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The tagged cluster, which must be UNINITIALIZED, and its CSR.
fn uninitialized(aws: &Aws) -> anyhow::Result<(rust_pki_bastion::state::Cluster, String)> {
    let cluster = aws.cluster()?;
    plan::require_uninitialized(&cluster, "init-cluster")?;
    let csr = cluster.csr.clone().with_context(|| {
        format!(
            "cluster {} has no CSR yet: it appears once the cluster's first HSM is ACTIVE \
             (`rust-pki bastion up`)",
            cluster.id
        )
    })?;
    Ok((cluster, csr))
}

/// `init-cluster sign`: everything is checked and signed before anything is written.
fn sign(csr: &Path, cluster_id: &str, out: &Path, log: &LogTarget) -> anyhow::Result<ExitCode> {
    let Some(mut opened) = log.open()? else {
        bail!(
            "`bastion init-cluster sign` logs the anchor it makes to the transparency log: give \
             --log DIR and --log-skey SKEY_FILE"
        );
    };
    let csr_pem = std::fs::read_to_string(csr).with_context(|| format!("{}", csr.display()))?;
    let made =
        rust_pki_bastion::anchor::sign_cluster_csr(&csr_pem, cluster_id, OffsetDateTime::now_utc())
            .with_context(|| format!("{}", csr.display()))?;
    let (anchor_path, cert_path) = (out.join(ANCHOR_FILE), out.join(CLUSTER_CERT_FILE));
    for path in [&anchor_path, &cert_path] {
        if path.exists() {
            bail!("{} exists: choose a new --out folder", path.display());
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    rust_pki_ca::output::write_new(&anchor_path, made.trust_anchor_pem.as_bytes())?;
    rust_pki_ca::output::write_new(&cert_path, made.cluster_cert_pem.as_bytes())?;
    log_event(
        log,
        &mut opened,
        "init-cluster-sign",
        &[],
        &[
            cluster_id.to_owned(),
            format!("trust-anchor-sha256:{}", made.trust_anchor_sha256),
            format!("cluster-cert-sha256:{}", made.cluster_cert_sha256),
        ],
    )?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "wrote {} (SHA-256 {}) and {} (SHA-256 {}); the one-time key is destroyed.\nnext: \
         `rust-pki bastion init-cluster upload --cluster-cert {} --trust-anchor {}`, then pin \
         {} as the bastion's customerCA.crt (docs/ceremony-runbook.md)",
        anchor_path.display(),
        made.trust_anchor_sha256,
        cert_path.display(),
        made.cluster_cert_sha256,
        cert_path.display(),
        anchor_path.display(),
        anchor_path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
