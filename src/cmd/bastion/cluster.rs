//! `rust-pki bastion init-cluster`: the new cluster's CSR, then its certificates.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rust_pki_bastion::aws::Aws;
use rust_pki_bastion::plan::{self};

use super::{DryRun, print_plan};

#[derive(Debug, clap::Subcommand)]
pub(super) enum InitClusterCommand {
    /// Step 1: write the UNINITIALIZED cluster's CSR (Certificates.ClusterCsr) to a new
    /// file, the input of the `cluster-init` ceremony.
    Csr {
        /// Where to write the CSR (PEM; must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Step 2: InitializeCluster with the certificate the ceremony issued and the root
    /// (trust anchor), after checking the certificate certifies the CSR's key and is
    /// signed by the anchor.
    Upload {
        /// The cluster certificate issued by the `cluster-init` ceremony (PEM).
        #[arg(long, value_name = "FILE")]
        cluster_cert: PathBuf,
        /// The root certificate that signed it (PEM).
        #[arg(long, value_name = "ROOT.pem")]
        trust_anchor: PathBuf,
        #[command(flatten)]
        dry: DryRun,
    },
}

pub(super) fn init_cluster(aws: &Aws, command: InitClusterCommand) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    plan::require_uninitialized(&cluster, "init-cluster")?;
    let csr = cluster.csr.clone().with_context(|| {
        format!(
            "cluster {} has no CSR yet: it appears once the cluster's first HSM is ACTIVE \
             (`rust-pki bastion up`)",
            cluster.id
        )
    })?;
    match command {
        InitClusterCommand::Csr { out } => {
            rust_pki_ca::output::write_new(&out, csr.as_bytes())?;
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "wrote {}: CSR of cluster {}; next: a `cluster-init` ceremony signs it, then \
                 `rust-pki bastion init-cluster upload`",
                out.display(),
                cluster.id
            )?;
        }
        InitClusterCommand::Upload {
            cluster_cert,
            trust_anchor,
            dry,
        } => {
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
