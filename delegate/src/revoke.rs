//! Revocations: recorded once each, with the date and reason given; every later CRL
//! carries them unchanged.

use std::{path::Path, time::SystemTime};

use rust_pki_tlog::entry::Entry;

use crate::{
    Result,
    format::{RevocationRecord, format_time, normalise_serial, parse_time, whole_seconds},
    state::{DelegateState, invalid, reason_code, refused},
};

/// Which certificate to revoke.
#[derive(Debug, Clone, Copy)]
pub enum RevokeTarget<'a> {
    /// A registered serial (hex, `:` separators allowed).
    Serial(&'a str),
    /// A certificate (DER) this delegate issued, read from `file`; registered first if the
    /// register does not hold it (e.g. issued with `ca leaf` before the state existed).
    Certificate {
        /// Its DER.
        der: &'a [u8],
        /// Where it was read from (for messages).
        file: &'a Path,
    },
}

impl DelegateState {
    /// Records the revocation of `target` for `reason` (kebab-case, `unspecified`
    /// allowed) at `at` (whole seconds; default the caller's now), and saves the state.
    ///
    /// # Errors
    /// [`crate::Error::Refused`]: an unknown serial (`unknown-serial`), a certificate of
    /// another delegate (`other-issuer`), a serial revoked already (`already-revoked`);
    /// [`crate::Error::Invalid`]: an unknown reason (`reason`), a date after `now`
    /// (`revoked-at-in-future`) or before the certificate's notBefore
    /// (`revoked-before-issued`). Nothing is written then.
    pub fn revoke(
        &mut self,
        target: RevokeTarget<'_>,
        reason: &str,
        at: SystemTime,
        now: SystemTime,
    ) -> Result<RevocationRecord> {
        let state_path = self.state_path();
        reason_code(&state_path, "--reason", reason)?;
        // Everything is checked before anything is written: a refused revocation leaves
        // the state unchanged.
        let (leaf, unregistered) = match target {
            RevokeTarget::Serial(text) => {
                let serial = normalise_serial(&state_path, "SERIAL", text)?;
                let Some(leaf) = self.leaf(&serial) else {
                    return Err(refused(
                        &state_path,
                        "SERIAL",
                        "unknown-serial",
                        format!(
                            "serial {serial} is not in this delegate's issuance register: \
                             revoke a certificate of another delegate with its own state, or \
                             give the certificate with --cert"
                        ),
                    ));
                };
                (leaf.clone(), None)
            }
            RevokeTarget::Certificate { der, file } => {
                let record = self.issued_record(der, file, "--cert")?;
                let registered = self.leaf(&record.serial).is_some();
                (record, (!registered).then_some((der, file)))
            }
        };
        if let Some(earlier) = self.revocation(&leaf.serial) {
            return Err(already(&state_path, earlier));
        }
        let at = whole_seconds(at);
        if at > now {
            return Err(invalid(
                &state_path,
                "--at",
                "revoked-at-in-future",
                format!(
                    "{} is later than now ({}): a revocation date is when it happened",
                    format_time(at),
                    format_time(now)
                ),
            ));
        }
        if at < parse_time(&state_path, "not_before", &leaf.not_before)? {
            return Err(invalid(
                &state_path,
                "--at",
                "revoked-before-issued",
                format!(
                    "{} is before the certificate's notBefore {}",
                    format_time(at),
                    leaf.not_before
                ),
            ));
        }
        let leaf = match unregistered {
            Some((der, file)) => self.register_leaf(der, file)?,
            None => leaf,
        };
        let serial = leaf.serial.clone();
        let record = RevocationRecord {
            serial,
            reason: reason.to_owned(),
            revoked_at: format_time(at),
            not_after: leaf.not_after,
            certificate_sha256: leaf.sha256,
            log_index: None,
        };
        self.file.revocations.push(record.clone());
        self.save()?;
        Ok(record)
    }

    /// The `revocation` log entry of the recorded revocation `record`.
    ///
    /// # Errors
    /// The certificate's copy is unreadable; the entry cannot be built.
    pub fn revocation_entry(&self, record: &RevocationRecord) -> Result<Entry> {
        let (der, _) = self.leaf_certificate(&record.serial)?;
        let serial = hex::decode(&record.serial).map_err(|e| {
            invalid(
                &self.state_path(),
                "revocation.serial",
                "serial-format",
                e.to_string(),
            )
        })?;
        Ok(Entry::revocation(
            self.certificate_der(),
            &serial,
            &record.reason,
            &record.revoked_at,
            Some(&der),
        )?)
    }

    /// The revocations not logged yet (a run without `--log`, or interrupted before its
    /// append), in the order recorded.
    #[must_use]
    pub fn unlogged_revocations(&self) -> Vec<RevocationRecord> {
        self.file
            .revocations
            .iter()
            .filter(|r| r.log_index.is_none())
            .cloned()
            .collect()
    }

    /// Records the log index of the revocation of `serial`.
    ///
    /// # Errors
    /// Not revoked; write failures.
    pub fn set_revocation_log_index(&mut self, serial: &str, index: u64) -> Result<()> {
        let path = self.state_path();
        let record = self
            .file
            .revocations
            .iter_mut()
            .find(|r| r.serial == serial)
            .ok_or_else(|| refused(&path, "revocation", "unknown-serial", serial.to_owned()))?;
        record.log_index = Some(index);
        self.save()
    }
}

fn already(state_path: &Path, earlier: &RevocationRecord) -> crate::Error {
    refused(
        state_path,
        "SERIAL",
        "already-revoked",
        format!(
            "serial {} was revoked already at {} ({}); a revocation is recorded once, and \
             every CRL keeps its date and reason",
            earlier.serial, earlier.revoked_at, earlier.reason
        ),
    )
}
