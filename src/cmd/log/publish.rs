//! `rust-pki log publish`: verify a log directory and write its static site and its
//! `crl/` folder beside the tiles (`rust_pki_monitor::publish`); prints what was written.

use std::io::Write;
use std::path::PathBuf;

use rust_pki_monitor::site::{CRL_DIR, RECORDS_DIR};

use super::VKEY_FILE;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The log directory (C2SP tlog-tiles layout). Its checkpoint and every tile are
    /// verified first; only then are DIR/index.html, DIR/records/ and DIR/crl/ written
    /// (crl/root.crl and crl/<purpose>.crl: the newest CRL of the root, from the ceremony
    /// records, and of each delegate, from its `crl` entries; the highest number wins).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The log's verifier key file (signed-note vkey text). Default: DIR/log.vkey, which
    /// only proves the directory is self-consistent; auditors and mirrors should pass a
    /// key obtained independently of DIR.
    #[arg(long = "log-vkey", alias = "log-key", value_name = "VKEY")]
    log_key: Option<PathBuf>,
    /// Directory of ceremony record files, looked up by the logged file name for entries
    /// that carry only a record's digest: DIR2/<name>, or, for the ceremony state
    /// directory, DIR2/<name without .toml>/record.toml (`ceremony execute` logs the
    /// record of folder 003-delegate-issue as 003-delegate-issue.toml). Each is checked
    /// against the entry's size and SHA-256 and copied to DIR/records/ to be published.
    #[arg(long, value_name = "DIR2")]
    records: Option<PathBuf>,
}

pub fn publish(args: &PublishArgs) -> anyhow::Result<()> {
    let key_path = args
        .log_key
        .clone()
        .unwrap_or_else(|| args.dir.join(VKEY_FILE));
    let vkey = super::read_vkey(&key_path)?;
    let published = rust_pki_monitor::publish(&args.dir, &vkey, args.records.as_deref())?;
    let counts = &published.counts;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "published {}: {} size {}: {} ceremonies ({} records copied to {RECORDS_DIR}/, {} \
         already there, {} not published), {} leaf issuances, {} artifacts, {} CRLs in \
         {CRL_DIR}/{}",
        published.index_path.display(),
        published.origin,
        published.size,
        counts.ceremonies,
        counts.copied,
        counts.already,
        counts.missing,
        counts.leaves,
        counts.artifacts,
        counts.crls,
        if counts.unreadable > 0 {
            format!(", {} unreadable entries", counts.unreadable)
        } else {
            String::new()
        }
    )?;
    Ok(())
}
