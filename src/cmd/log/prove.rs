//! `rust-pki log prove`: inclusion and consistency proofs, as base64 lines.

use std::fs::{self};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64ct::{Base64, Encoding};
use rust_pki_tlog::bundle;
use rust_pki_tlog::tiles::{FULL_WIDTH, entries_path};
use rust_pki_tlog::writer::Log;

use super::{VKEY_FILE, no_signer, read_vkey};

#[derive(Debug, clap::Args)]
pub struct ProveArgs {
    /// The log directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Index (0-based) of the entry whose inclusion in the current tree to prove.
    #[arg(long, value_name = "N")]
    index: u64,
    /// Also prove that the tree of this size is a prefix of the current tree.
    #[arg(long, value_name = "M")]
    old_size: Option<u64>,
}

pub(super) fn prove(args: &ProveArgs) -> anyhow::Result<()> {
    let vkey = read_vkey(&args.dir.join(VKEY_FILE))?;
    let log = Log::open(&args.dir, vkey.name(), no_signer)?;
    let (proof, head) = log.prove_inclusion(args.index)?;
    let entry = read_entry(&args.dir, args.index, head.size)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "size: {}", head.size)?;
    writeln!(out, "root: {}", Base64::encode_string(&head.root.0))?;
    writeln!(out, "index: {}", args.index)?;
    writeln!(out, "entry: {}", Base64::encode_string(&entry))?;
    writeln!(out, "inclusion-proof: {}", proof.len())?;
    for hash in &proof {
        writeln!(out, "{}", Base64::encode_string(&hash.0))?;
    }
    if let Some(old_size) = args.old_size {
        let (proof, _) = log.prove_consistency(old_size)?;
        writeln!(out, "old-size: {old_size}")?;
        writeln!(out, "consistency-proof: {}", proof.len())?;
        for hash in &proof {
            writeln!(out, "{}", Base64::encode_string(&hash.0))?;
        }
    }
    Ok(())
}

/// Entry `index` of the tree of `size`, read from its entry bundle.
fn read_entry(dir: &Path, index: u64, size: u64) -> anyhow::Result<Vec<u8>> {
    let full = u64::from(FULL_WIDTH);
    let n = index / full;
    let width = u32::try_from((size - n * full).min(full))?;
    let path = dir.join(entries_path(n, width)?);
    let data = fs::read(&path).with_context(|| format!("{}", path.display()))?;
    let mut entries = bundle::decode(&data).with_context(|| format!("{}", path.display()))?;
    let i = usize::try_from(index % full)?;
    if i >= entries.len() {
        bail!("{}: entry {index} missing", path.display());
    }
    Ok(entries.swap_remove(i))
}
