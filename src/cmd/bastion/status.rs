//! `rust-pki bastion status`: the cluster, its backups and the bastion, read-only.

use std::io::Write;
use std::process::ExitCode;

use rust_pki_bastion::aws::Aws;

pub(super) fn status(aws: &Aws) -> anyhow::Result<ExitCode> {
    let cluster = aws.cluster()?;
    let backups = aws.backups(&cluster.id)?;
    let bastion = aws.bastion()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "region   {}\ncluster  {} {}",
        aws.region().unwrap_or("-"),
        cluster.id,
        cluster.state
    )?;
    if cluster.hsms.is_empty() {
        writeln!(out, "HSMs     none")?;
    }
    for h in &cluster.hsms {
        writeln!(
            out,
            "HSM      {} {} {} {}",
            h.id,
            h.availability_zone,
            h.state,
            h.eni_ip.as_deref().unwrap_or("-")
        )?;
    }
    if backups.is_empty() {
        writeln!(out, "backups  none")?;
    }
    for b in backups.iter().take(3) {
        writeln!(out, "backup   {} {} {}", b.id, b.state, b.created_text())?;
    }
    writeln!(
        out,
        "bastion  {} {} {} {}",
        bastion.id,
        bastion.state,
        bastion.availability_zone,
        bastion.private_ip.as_deref().unwrap_or("-")
    )?;
    Ok(ExitCode::SUCCESS)
}
