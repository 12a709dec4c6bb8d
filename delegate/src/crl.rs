//! Signing the delegate's CRL: every revocation whose certificate has not expired, with
//! its original date and reason, under a number that only grows.
//!
//! The number is reserved in the state, durably, before the key signs; a crash anywhere
//! after that leaves the reservation, so the next CRL gets a higher number even if this
//! one was published. A lower or equal number is never signed.

use std::time::SystemTime;

use der::Decode;
use rust_pki_ca::{Signer, authority::issue_crl_for, crl::Revocation, pem, policy::Policy};
use rust_pki_fs::durable;
use rust_pki_tlog::entry::Entry;
use x509_cert::{crl::CertificateList, serial_number::SerialNumber};

use crate::{
    Error, Result, fault,
    format::{format_time, parse_time, sha256_hex, whole_seconds},
    state::{DelegateState, LastCrl, reason_code, refused},
};

/// A CRL just signed and saved in the state.
#[derive(Debug, Clone)]
pub struct SignedCrl {
    /// Its cRLNumber.
    pub number: u64,
    /// DER.
    pub der: Vec<u8>,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate.
    pub next_update: SystemTime,
    /// How many revocations it lists.
    pub listed: usize,
    /// Revocations left out because their certificates expired before thisUpdate.
    pub expired: usize,
    /// Lint warnings of the signed CRL.
    pub warnings: Vec<String>,
}

impl DelegateState {
    /// Signs the next CRL with `signer` (the delegate's key): number = the highest
    /// reserved + 1, reserved durably before signing; thisUpdate `now`, nextUpdate from
    /// the policy's delegate CRL lifetime; copied to `crls/<number>.crl` and recorded as
    /// the last CRL.
    ///
    /// # Errors
    /// The signer is not the delegate's key, lint findings (nothing signed; the number
    /// stays reserved), write failures.
    pub fn sign_crl(
        &mut self,
        policy: &Policy,
        signer: &dyn Signer,
        now: SystemTime,
    ) -> Result<SignedCrl> {
        let state_path = self.state_path();
        let number = self
            .file
            .crl
            .reserved_number
            .max(self.file.crl.last_number)
            .checked_add(1)
            .ok_or_else(|| {
                refused(
                    &state_path,
                    "crl.reserved_number",
                    "crl-number",
                    "exhausted",
                )
            })?;
        let this_update = whole_seconds(now);
        let mut revoked = Vec::new();
        let mut expired = 0;
        for record in &self.file.revocations {
            let not_after = parse_time(&state_path, "revocation.not_after", &record.not_after)?;
            if not_after < this_update {
                expired += 1;
                continue;
            }
            let (_, cert) = self.leaf_certificate(&record.serial)?;
            revoked.push(Revocation {
                serial: SerialNumber::clone(cert.tbs_certificate().serial_number()),
                date: parse_time(&state_path, "revocation.revoked_at", &record.revoked_at)?,
                reason: reason_code(&state_path, "revocation.reason", &record.reason)?,
            });
        }
        self.file.crl.reserved_number = number;
        self.save()?;
        fault::point("crl-reserved");

        let signed = issue_crl_for(
            policy,
            &self.certificate,
            signer,
            revoked,
            this_update,
            Some(number),
        )?;
        fault::point("crl-signed");
        let crl = <CertificateList>::from_der(&signed.der).map_err(|e| Error::Invalid {
            file: self.crl_path(number),
            field: "crl".into(),
            rule: "crl-format",
            message: e.to_string(),
        })?;
        let tbs = &crl.tbs_cert_list;
        let next_update = tbs.next_update.map_or(this_update, |t| t.to_system_time());
        let listed = tbs.revoked_certificates.as_ref().map_or(0, Vec::len);
        let text = pem::encode(pem::label::CRL, &signed.der)?;
        durable::create_new(
            &self.crl_path(number),
            text.as_bytes(),
            durable::Mode::Public,
        )?;
        fault::point("crl-saved");

        let section = &mut self.file.crl;
        section.last_number = number;
        section.this_update = Some(format_time(this_update));
        section.next_update = Some(format_time(next_update));
        section.sha256 = Some(sha256_hex(&signed.der));
        section.log_index = None;
        self.save()?;
        self.listed = self
            .file
            .revocations
            .iter()
            .filter(|r| {
                parse_time(&state_path, "not_after", &r.not_after).is_ok_and(|t| t >= this_update)
            })
            .map(|r| (r.serial.clone(), (r.revoked_at.clone(), r.reason.clone())))
            .collect();
        Ok(SignedCrl {
            number,
            der: signed.der,
            this_update,
            next_update,
            listed,
            expired,
            warnings: signed.warnings.iter().map(ToString::to_string).collect(),
        })
    }

    /// The `crl` log entry of the last CRL when it is not logged yet.
    ///
    /// # Errors
    /// Its copy is unreadable; the entry cannot be built.
    pub fn unlogged_crl(&self) -> Result<Option<(LastCrl, Entry)>> {
        let Some(last) = self.last_crl() else {
            return Ok(None);
        };
        if last.log_index.is_some() {
            return Ok(None);
        }
        let der = pem::read_der(&self.crl_path(last.number), pem::label::CRL)?;
        let entry = Entry::crl(self.certificate_der(), last.number, &der)?;
        Ok(Some((last, entry)))
    }

    /// Records the log index of the last CRL's `crl` entry.
    ///
    /// # Errors
    /// `number` is not the last CRL's; write failures.
    pub fn set_crl_log_index(&mut self, number: u64, index: u64) -> Result<()> {
        if self.file.crl.last_number != number {
            return Err(refused(
                &self.state_path(),
                "crl.last_number",
                "crl-number",
                format!(
                    "CRL {number} is not the last one ({})",
                    self.file.crl.last_number
                ),
            ));
        }
        self.file.crl.log_index = Some(index);
        self.save()
    }
}
