//! History replay glue: the ceremony records found in the log, replayed from the genesis
//! roster with `rust_pki_ceremony::replay` (each had its quorum from the roster in force).

use std::fs;
use std::path::{Path, PathBuf};

use rust_pki_ca::policy::Policy;
use rust_pki_ceremony::replay::Replay;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::logged::LoggedRecord;

/// Replays `records` (in log order) from the genesis `roster` under the policies at
/// `policy_paths`; the first record that breaks a rule is a finding and ends the replay.
/// Returns the replay's part of the report.
pub(crate) fn replay(
    roster: &Path,
    policy_paths: &[PathBuf],
    records: &[LoggedRecord],
    findings: &mut Vec<Finding>,
) -> Result<Value> {
    let mut policies = Vec::with_capacity(policy_paths.len());
    for path in policy_paths {
        let bytes = fs::read(path).map_err(Error::io(path))?;
        let text = std::str::from_utf8(&bytes).map_err(|source| Error::PolicyNotUtf8 {
            path: path.clone(),
            source,
        })?;
        let policy = Policy::parse(text, path)?;
        policies.push((policy, bytes));
    }
    let threshold = policies
        .first()
        .map(|(policy, _)| policy.quorum.threshold)
        .ok_or(Error::NoPolicy)?;
    let roster_bytes = fs::read(roster).map_err(Error::io(roster))?;
    let mut replay = Replay::new(policies, &roster_bytes, roster).map_err(Error::Replay)?;
    let genesis = replay.roster_sha256().to_owned();
    let mut checked = Vec::new();
    for logged in records {
        let name = format!("entry {} ({})", logged.index, logged.file_name);
        match replay.check(&logged.bytes, &name) {
            Ok(done) => checked.push(json!({
                "index": logged.index,
                "sequence": done.record.sequence,
                "kind": done.record.kind.name(),
                "approved_by": done.approved_by,
                "roster_sha256": done.roster_sha256,
                "installed_roster_sha256": done.installed_roster_sha256,
            })),
            Err(e) => {
                findings.push(Finding {
                    rule: e.rule,
                    entry: Some(logged.index),
                    file: Some(PathBuf::from(&logged.file_name)),
                    message: format!("history replay: {e} (later records were not replayed)"),
                });
                break;
            }
        }
    }
    Ok(json!({
        "genesis_roster_sha256": genesis,
        "threshold": threshold,
        "roster_in_force_sha256": replay.roster_sha256(),
        "records": checked,
    }))
}
