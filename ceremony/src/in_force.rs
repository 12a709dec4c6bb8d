//! What the state's records say is in force: the roster (the genesis roster until a
//! roster change installs another) and the root certificate. Used by `prepare` and again by
//! `execute`.

use std::path::Path;

use der::Decode;
use rust_pki_ca::pem;
use x509_cert::Certificate;

use crate::{
    Error, Result,
    request::{Kind, sha256_hex},
    state::State,
};

/// The roster in force is the genesis roster the policy pins by digest, then the one the
/// latest roster-change record installed: the roster file given must be that one, for
/// the first ceremony too (an operator's substitute with other keys is refused).
///
/// # Errors
/// [`Error::RosterNotGenesis`] before any roster change, [`Error::RosterNotInForce`]
/// after one.
pub fn check_roster_in_force(
    state: &State,
    roster_path: &Path,
    quorum: &rust_pki_ca::policy::QuorumPolicy,
) -> Result<()> {
    let found = sha256_hex(&read(roster_path)?);
    let records = state.records()?;
    let Some((dir, record, _)) = records
        .iter()
        .rev()
        .find(|(_, r, _)| r.kind == Kind::RosterChange)
    else {
        if found != quorum.genesis_roster_sha256 {
            return Err(Error::RosterNotGenesis {
                path: roster_path.to_owned(),
                pinned: quorum.genesis_roster_sha256.clone(),
                found,
            });
        }
        return Ok(());
    };
    let installed = record
        .outputs
        .iter()
        .find(|o| o.path == "roster.toml")
        .map(|o| o.sha256.clone())
        .unwrap_or_default();
    if found != installed {
        return Err(Error::RosterNotInForce {
            path: roster_path.to_owned(),
            record: dir.record(),
        });
    }
    Ok(())
}

/// The root certificate issued by the latest root-init (or rotation) record.
///
/// # Errors
/// Malformed records or certificate.
pub fn current_root(state: &State) -> Result<Option<Certificate>> {
    state
        .latest_output("root.pem")?
        .map(|pem| parse_certificate(&pem, "root.pem"))
        .transpose()
}

pub(crate) fn parse_certificate(pem_text: &str, what: &str) -> Result<Certificate> {
    let der = pem::decode_der(pem_text.as_bytes(), pem::label::CERTIFICATE).map_err(|reason| {
        Error::Request {
            field: what.into(),
            reason,
        }
    })?;
    Certificate::from_der(&der).map_err(|e| Error::Request {
        field: what.into(),
        reason: e.to_string(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::bounded::read(path, crate::bounded::MAX_STATE_FILE_BYTES)
}
