//! The issuance register: every leaf the delegate issued, with a copy in `issued/`.

use std::path::Path;

use der::Decode;
use rust_pki_ca::pem;
use rust_pki_fs::durable;
use x509_cert::Certificate;

use crate::{
    Error, Result,
    format::LeafRecord,
    state::{DelegateState, refused},
};

impl DelegateState {
    /// Registers the certificate `der`, which this delegate must have issued (name, key
    /// identifier and signature are checked): its copy goes to `issued/<serial>.pem`, its
    /// entry into the register, and the state is saved. Registering the same certificate
    /// again returns its entry (a rerun after a crash).
    ///
    /// # Errors
    /// [`Error::Refused`]: another delegate's certificate (`other-issuer`), another
    /// certificate with the same serial (`duplicate-serial`); write failures.
    pub fn register_leaf(&mut self, der: &[u8], given_as: &Path) -> Result<LeafRecord> {
        let record = self.issued_record(der, given_as, "certificate")?;
        if let Some(existing) = self.leaf(&record.serial) {
            if existing.sha256 == record.sha256 {
                return Ok(existing.clone());
            }
            return Err(refused(
                given_as,
                "serial",
                "duplicate-serial",
                format!(
                    "serial {} is registered already for another certificate",
                    record.serial
                ),
            ));
        }
        let copy = self.issued_path(&record.serial);
        let text = pem::encode(pem::label::CERTIFICATE, der)?;
        if std::fs::read(&copy).ok().as_deref() != Some(text.as_bytes()) {
            durable::create_new(&copy, text.as_bytes(), durable::Mode::Public)?;
        }
        self.file.leaves.push(record.clone());
        self.save()?;
        Ok(record)
    }

    /// Records the log index of the registered leaf `serial`'s `leaf-issuance` entry.
    ///
    /// # Errors
    /// An unknown serial; write failures.
    pub fn set_leaf_log_index(&mut self, serial: &str, index: u64) -> Result<()> {
        let path = self.state_path();
        let leaf = self
            .file
            .leaves
            .iter_mut()
            .find(|l| l.serial == serial)
            .ok_or_else(|| refused(&path, "leaf", "unknown-serial", format!("no leaf {serial}")))?;
        leaf.log_index = Some(index);
        self.save()
    }

    /// The newest registered leaf (latest notBefore, then latest registered) whose subject
    /// is `subject` (RFC 4514, as the register spells it).
    #[must_use]
    pub fn newest_leaf(&self, subject: &str) -> Option<&LeafRecord> {
        self.file
            .leaves
            .iter()
            .enumerate()
            .filter(|(_, l)| l.subject == subject)
            .max_by(|(i, a), (j, b)| (&a.not_before, i).cmp(&(&b.not_before, j)))
            .map(|(_, l)| l)
    }

    /// The registered certificate `serial`, from its copy in `issued/`.
    ///
    /// # Errors
    /// An unknown serial (`unknown-serial`); an unreadable copy.
    pub fn leaf_certificate(&self, serial: &str) -> Result<(Vec<u8>, Certificate)> {
        if self.leaf(serial).is_none() {
            return Err(refused(
                &self.state_path(),
                "SERIAL",
                "unknown-serial",
                format!("serial {serial} is not in this delegate's issuance register"),
            ));
        }
        let copy = self.issued_path(serial);
        let der = pem::read_der(&copy, pem::label::CERTIFICATE)?;
        let cert = Certificate::from_der(&der).map_err(|e| Error::Invalid {
            file: copy,
            field: "certificate".into(),
            rule: "certificate-format",
            message: e.to_string(),
        })?;
        Ok((der, cert))
    }
}
