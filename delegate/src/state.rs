//! Opening, checking and saving a delegate state directory (the format is specified in
//! the crate documentation). Every read re-validates everything the state claims against
//! the files beside it and, when given, the transparency log: a state that was edited,
//! restored from an old backup or copied from another delegate is refused, naming the
//! file, field and rule.

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use der::{Decode, Encode};
use rust_pki_ca::{crl::revocations_of, pem, signature::verify_signature};
use rust_pki_fs::{DirLock, durable};
use rust_pki_tlog::entry::Entry;
use x509_cert::{
    Certificate,
    crl::CertificateList,
    ext::pkix::{AuthorityKeyIdentifier, CrlReason, SubjectKeyIdentifier},
};

use crate::{
    Error, Result,
    format::{
        CrlSection, DelegateSection, LeafRecord, RevocationRecord, STATE_FORMAT, StateFile,
        check_digest, format_time, normalise_serial, parse_time, sha256_hex,
    },
};

/// The state file in the state directory.
pub const STATE_FILE: &str = "state.toml";
/// The copy of the delegate certificate (PEM), written once by `init`.
pub const DELEGATE_FILE: &str = "delegate.pem";
/// One PEM copy per registered certificate: `issued/<serial>.pem`.
pub const ISSUED_DIR: &str = "issued";
/// One PEM copy per signed CRL: `crls/<number>.crl`.
pub const CRLS_DIR: &str = "crls";
/// What the lock names the directory as.
pub const LOCK_WHAT: &str = "delegate state";

/// Largest state file read (a register of a few hundred thousand leaves).
const MAX_STATE_LEN: u64 = 64 << 20;

/// The last CRL as the state records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCrl {
    /// Its cRLNumber.
    pub number: u64,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate.
    pub next_update: SystemTime,
    /// Its log index, once logged.
    pub log_index: Option<u64>,
}

/// An open, validated delegate state. Opened with [`DelegateState::open`] it holds the
/// directory's lock until dropped.
#[derive(Debug)]
pub struct DelegateState {
    pub(crate) dir: PathBuf,
    _lock: Option<DirLock>,
    pub(crate) file: StateFile,
    pub(crate) certificate: Certificate,
    pub(crate) certificate_der: Vec<u8>,
    /// Serials listed on the highest-numbered CRL in `crls/`, with date and reason.
    pub(crate) listed: BTreeMap<String, (String, String)>,
}

impl DelegateState {
    /// Creates the state of the delegate `certificate_der` in `dir` (created if missing),
    /// whose key is `key_uri`; `key_public` is that key's public key as the token reports
    /// it, which must be the certificate's. Records the SHA-256 of `policy_bytes`.
    ///
    /// # Errors
    /// [`Error::Refused`]: a state exists in `dir` (`state-exists`), the key is not the
    /// certificate's (`key-mismatch`), the certificate is not a CA (`not-a-delegate`);
    /// the lock or a write fails.
    pub fn init(
        dir: &Path,
        certificate_der: &[u8],
        key_uri: &str,
        key_public: &spki::SubjectPublicKeyInfoOwned,
        policy_bytes: &[u8],
        now: SystemTime,
        lock_timeout: Duration,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let lock = DirLock::acquire(dir, LOCK_WHAT, lock_timeout)?;
        let state_path = dir.join(STATE_FILE);
        if state_path.symlink_metadata().is_ok() {
            return Err(refused(
                &state_path,
                "state",
                "state-exists",
                "a delegate state exists here already; `delegate init` never replaces one",
            ));
        }
        let certificate = Certificate::from_der(certificate_der).map_err(|e| Error::Invalid {
            file: dir.join(DELEGATE_FILE),
            field: "--cert".into(),
            rule: "certificate-format",
            message: format!("malformed certificate: {e}"),
        })?;
        let tbs = certificate.tbs_certificate();
        if tbs.subject_public_key_info() != key_public {
            return Err(refused(
                dir,
                "--key",
                "key-mismatch",
                format!("the key is not the one {} certifies", tbs.subject()),
            ));
        }
        if tbs.issuer() == tbs.subject() || subject_key_id(&certificate).is_none() {
            return Err(refused(
                dir,
                "--cert",
                "not-a-delegate",
                format!(
                    "{} is a root or has no subjectKeyIdentifier: give the delegate CA \
                     certificate a delegate-issue ceremony published",
                    tbs.subject()
                ),
            ));
        }
        key_uri
            .parse::<rust_pki_ca::Pkcs11Uri>()
            .map_err(|e| Error::Invalid {
                file: dir.to_owned(),
                field: "--key".into(),
                rule: "key-uri",
                message: e.to_string(),
            })?;
        let pem_text = pem::encode(pem::label::CERTIFICATE, certificate_der)?;
        let copy = dir.join(DELEGATE_FILE);
        // A rerun after a crash between the copy and the state file finds its own copy.
        if std::fs::read(&copy).ok().as_deref() != Some(pem_text.as_bytes()) {
            durable::create_new(&copy, pem_text.as_bytes(), durable::Mode::Public)?;
        }
        for sub in [ISSUED_DIR, CRLS_DIR] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| Error::Io { path, source })?;
        }
        let file = StateFile {
            format: STATE_FORMAT.to_owned(),
            delegate: DelegateSection {
                certificate_sha256: sha256_hex(certificate_der),
                key: key_uri.to_owned(),
                policy_sha256: sha256_hex(policy_bytes),
                initialised_at: format_time(now),
            },
            crl: CrlSection::default(),
            leaves: Vec::new(),
            revocations: Vec::new(),
        };
        let text = toml::to_string(&file).map_err(|e| Error::Invalid {
            file: state_path.clone(),
            field: "state".into(),
            rule: "state-syntax",
            message: e.to_string(),
        })?;
        durable::create_new(&state_path, text.as_bytes(), durable::Mode::Public)?;
        Ok(Self {
            dir: dir.to_owned(),
            _lock: Some(lock),
            file,
            certificate,
            certificate_der: certificate_der.to_vec(),
            listed: BTreeMap::new(),
        })
    }

    /// Opens the state in `dir` for a command that changes it: takes the directory's lock
    /// (waiting at most `lock_timeout`), then reads and validates everything.
    /// `policy_bytes` must be the policy the state was initialised with.
    ///
    /// # Errors
    /// The lock is held by another process ([`Error::Lock`]); the state is malformed
    /// ([`Error::Syntax`], [`Error::Invalid`]) or does not tell the truth
    /// ([`Error::Refused`]).
    pub fn open(dir: &Path, policy_bytes: &[u8], lock_timeout: Duration) -> Result<Self> {
        if !dir.join(STATE_FILE).is_file() {
            return Err(no_state(dir));
        }
        let lock = DirLock::acquire(dir, LOCK_WHAT, lock_timeout)?;
        Self::load(dir, policy_bytes, Some(lock))
    }

    /// Reads and validates the state in `dir` without locking it (for `delegate due`,
    /// which writes nothing).
    ///
    /// # Errors
    /// As [`DelegateState::open`], lock aside.
    pub fn read(dir: &Path, policy_bytes: &[u8]) -> Result<Self> {
        if !dir.join(STATE_FILE).is_file() {
            return Err(no_state(dir));
        }
        Self::load(dir, policy_bytes, None)
    }

    fn load(dir: &Path, policy_bytes: &[u8], lock: Option<DirLock>) -> Result<Self> {
        let path = dir.join(STATE_FILE);
        let text = read_limited(&path)?;
        let file: StateFile = toml::from_str(&text).map_err(|source| Error::Syntax {
            file: path.clone(),
            source: Box::new(source),
        })?;
        if file.format != STATE_FORMAT {
            return Err(Error::Invalid {
                file: path,
                field: "format".into(),
                rule: "state-format",
                message: format!("{:?} is not {STATE_FORMAT:?}", file.format),
            });
        }
        let copy = dir.join(DELEGATE_FILE);
        let certificate_der = pem::read_der(&copy, pem::label::CERTIFICATE)?;
        check_digest(
            &path,
            "delegate.certificate_sha256",
            &file.delegate.certificate_sha256,
        )?;
        if sha256_hex(&certificate_der) != file.delegate.certificate_sha256 {
            return Err(refused(
                &copy,
                "delegate.certificate_sha256",
                "delegate-certificate",
                "the delegate certificate is not the one the state was initialised with",
            ));
        }
        let certificate = Certificate::from_der(&certificate_der).map_err(|e| Error::Invalid {
            file: copy.clone(),
            field: "certificate".into(),
            rule: "certificate-format",
            message: format!("malformed certificate: {e}"),
        })?;
        let policy_sha256 = sha256_hex(policy_bytes);
        if policy_sha256 != file.delegate.policy_sha256 {
            return Err(refused(
                &path,
                "delegate.policy_sha256",
                "policy-changed",
                format!(
                    "the state was initialised with the policy of SHA-256 {}, this one is {}: \
                     give the policy it was initialised with (--policy FILE)",
                    file.delegate.policy_sha256, policy_sha256
                ),
            ));
        }
        file.delegate
            .key
            .parse::<rust_pki_ca::Pkcs11Uri>()
            .map_err(|e| Error::Invalid {
                file: path.clone(),
                field: "delegate.key".into(),
                rule: "key-uri",
                message: e.to_string(),
            })?;
        parse_time(
            &path,
            "delegate.initialised_at",
            &file.delegate.initialised_at,
        )?;
        let mut state = Self {
            dir: dir.to_owned(),
            _lock: lock,
            file,
            certificate,
            certificate_der,
            listed: BTreeMap::new(),
        };
        state.check_leaves()?;
        state.check_revocations()?;
        state.check_crls()?;
        Ok(state)
    }

    fn check_leaves(&self) -> Result<()> {
        let path = self.state_path();
        let mut seen = BTreeMap::new();
        for (i, leaf) in self.file.leaves.iter().enumerate() {
            let field = |name: &str| format!("leaf[{i}].{name}");
            if normalise_serial(&path, &field("serial"), &leaf.serial)? != leaf.serial {
                return Err(invalid(
                    &path,
                    field("serial"),
                    "serial-format",
                    "not lowercase hex",
                ));
            }
            if seen.insert(leaf.serial.as_str(), i).is_some() {
                return Err(refused(
                    &path,
                    field("serial"),
                    "duplicate-serial",
                    format!("serial {} is registered twice", leaf.serial),
                ));
            }
            check_digest(&path, &field("sha256"), &leaf.sha256)?;
            parse_time(&path, &field("not_before"), &leaf.not_before)?;
            parse_time(&path, &field("not_after"), &leaf.not_after)?;
            let copy = self.issued_path(&leaf.serial);
            let der = pem::read_der(&copy, pem::label::CERTIFICATE).map_err(|e| {
                refused(
                    &copy,
                    field("serial"),
                    "leaf-copy",
                    format!("the registered certificate's copy is missing or unreadable: {e}"),
                )
            })?;
            if sha256_hex(&der) != leaf.sha256 {
                return Err(refused(
                    &copy,
                    field("sha256"),
                    "leaf-copy",
                    "the copy is not the registered certificate",
                ));
            }
            let record = self.issued_record(&der, &copy, &field("serial"))?;
            if record.serial != leaf.serial
                || record.subject != leaf.subject
                || record.not_before != leaf.not_before
                || record.not_after != leaf.not_after
            {
                return Err(refused(
                    &path,
                    format!("leaf[{i}]"),
                    "leaf-mismatch",
                    format!(
                        "the register says serial {} subject {} valid {} to {}, its certificate \
                         serial {} subject {} valid {} to {}",
                        leaf.serial,
                        leaf.subject,
                        leaf.not_before,
                        leaf.not_after,
                        record.serial,
                        record.subject,
                        record.not_before,
                        record.not_after
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_revocations(&self) -> Result<()> {
        let path = self.state_path();
        let mut seen = BTreeMap::new();
        for (i, revocation) in self.file.revocations.iter().enumerate() {
            let field = |name: &str| format!("revocation[{i}].{name}");
            if seen.insert(revocation.serial.as_str(), i).is_some() {
                return Err(refused(
                    &path,
                    field("serial"),
                    "duplicate-revocation",
                    format!("serial {} is revoked twice", revocation.serial),
                ));
            }
            reason_code(&path, &field("reason"), &revocation.reason)?;
            parse_time(&path, &field("revoked_at"), &revocation.revoked_at)?;
            parse_time(&path, &field("not_after"), &revocation.not_after)?;
            check_digest(
                &path,
                &field("certificate_sha256"),
                &revocation.certificate_sha256,
            )?;
            let Some(leaf) = self.leaf(&revocation.serial) else {
                return Err(refused(
                    &path,
                    field("serial"),
                    "revocation-unknown-serial",
                    format!(
                        "serial {} is revoked but not in the issuance register",
                        revocation.serial
                    ),
                ));
            };
            if leaf.sha256 != revocation.certificate_sha256
                || leaf.not_after != revocation.not_after
            {
                return Err(refused(
                    &path,
                    format!("revocation[{i}]"),
                    "revocation-mismatch",
                    format!(
                        "the revocation of serial {} names another certificate or notAfter than \
                         the register",
                        revocation.serial
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The CRL numbers and copies: no copy and no recorded number above the reserved one,
    /// the last CRL's copy matches, and every revocation the newest CRL lists is still in
    /// the state with its date and reason.
    fn check_crls(&mut self) -> Result<()> {
        let path = self.state_path();
        let crl = &self.file.crl;
        if crl.last_number > crl.reserved_number {
            return Err(refused(
                &path,
                "crl.last_number",
                "crl-number-lowered",
                format!(
                    "the last CRL number {} is above the reserved number {}",
                    crl.last_number, crl.reserved_number
                ),
            ));
        }
        let crls_dir = self.dir.join(CRLS_DIR);
        let mut numbers = Vec::new();
        let listing = std::fs::read_dir(&crls_dir).map_err(|source| Error::Io {
            path: crls_dir.clone(),
            source,
        })?;
        for item in listing {
            let item = item.map_err(|source| Error::Io {
                path: crls_dir.clone(),
                source,
            })?;
            let name = item.file_name().to_string_lossy().into_owned();
            // Temporary files a crash of a durable write leaves behind.
            if name.starts_with('.') {
                continue;
            }
            let number = name
                .strip_suffix(".crl")
                .filter(|n| !n.starts_with('0'))
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| {
                    refused(
                        &item.path(),
                        "crls",
                        "unexpected-file",
                        "only <number>.crl files belong in crls/",
                    )
                })?;
            if number > crl.reserved_number {
                return Err(refused(
                    &path,
                    "crl.reserved_number",
                    "crl-number-lowered",
                    format!(
                        "{} was signed with number {number}, but the state has reserved numbers \
                         only up to {}: the state was edited or restored from an old copy, and \
                         a new CRL could reuse a number",
                        item.path().display(),
                        crl.reserved_number
                    ),
                ));
            }
            numbers.push(number);
        }
        if crl.last_number > 0 {
            let (Some(this_update), Some(next_update), Some(sha256)) =
                (&crl.this_update, &crl.next_update, &crl.sha256)
            else {
                return Err(invalid(
                    &path,
                    "crl",
                    "crl-fields",
                    "a state with a last CRL needs its this_update, next_update and sha256",
                ));
            };
            parse_time(&path, "crl.this_update", this_update)?;
            parse_time(&path, "crl.next_update", next_update)?;
            check_digest(&path, "crl.sha256", sha256)?;
            let copy = self.crl_path(crl.last_number);
            let der = pem::read_der(&copy, pem::label::CRL).map_err(|e| {
                refused(
                    &copy,
                    "crl.last_number",
                    "crl-copy",
                    format!("missing or unreadable: {e}"),
                )
            })?;
            if &sha256_hex(&der) != sha256 {
                return Err(refused(
                    &copy,
                    "crl.sha256",
                    "crl-copy",
                    "the copy is not the CRL the state records",
                ));
            }
        }
        if let Some(newest) = numbers.iter().max() {
            self.listed = self.check_listed(*newest)?;
        }
        Ok(())
    }

    /// The revocations the CRL numbered `number` lists; each must be in the state,
    /// unchanged.
    fn check_listed(&self, number: u64) -> Result<BTreeMap<String, (String, String)>> {
        let copy = self.crl_path(number);
        let der = pem::read_der(&copy, pem::label::CRL)?;
        let crl = <CertificateList>::from_der(&der).map_err(|e| Error::Invalid {
            file: copy.clone(),
            field: "crl".into(),
            rule: "crl-format",
            message: e.to_string(),
        })?;
        let tbs_der = crl.tbs_cert_list.to_der().map_err(|e| Error::Invalid {
            file: copy.clone(),
            field: "crl".into(),
            rule: "crl-format",
            message: e.to_string(),
        })?;
        let signature = crl.signature.as_bytes().unwrap_or_default();
        verify_signature(
            self.certificate.tbs_certificate().subject_public_key_info(),
            &crl.signature_algorithm,
            &tbs_der,
            signature,
            &copy.display().to_string(),
        )
        .map_err(|e| refused(&copy, "signature", "crl-issuer", e.to_string()))?;
        let mut listed = BTreeMap::new();
        for entry in revocations_of(&crl.tbs_cert_list)? {
            let serial = hex::encode(entry.serial.as_bytes());
            let date = format_time(entry.date);
            let reason = reason_name(entry.reason).to_owned();
            match self.revocation(&serial) {
                None => {
                    return Err(refused(
                        &self.state_path(),
                        "revocation",
                        "revocation-removed",
                        format!(
                            "{} (CRL number {number}) lists serial {serial} (revoked {date}, \
                             {reason}) but the state has no such revocation: it was removed",
                            copy.display()
                        ),
                    ));
                }
                Some(r) if r.revoked_at != date || r.reason != reason => {
                    return Err(refused(
                        &self.state_path(),
                        "revocation",
                        "revocation-changed",
                        format!(
                            "{} (CRL number {number}) lists serial {serial} as revoked {date} \
                             ({reason}), the state says {} ({})",
                            copy.display(),
                            r.revoked_at,
                            r.reason
                        ),
                    ));
                }
                Some(_) => {}
            }
            listed.insert(serial, (date, reason));
        }
        Ok(listed)
    }

    /// Checks the state against the transparency log's entries (in log order; `log` names
    /// it in errors): no `crl` entry of this delegate has a number above the reserved one,
    /// every `revocation` entry of this delegate is in the state unchanged, and every log
    /// index the state records points at its entry.
    ///
    /// # Errors
    /// [`Error::Refused`] with rule `crl-number-lowered`, `revocation-removed`,
    /// `revocation-changed` or `log-index`.
    pub fn check_log(&self, log: &Path, entries: &[Vec<u8>]) -> Result<()> {
        let ours = self.certificate_digest();
        let reserved = self.file.crl.reserved_number;
        for (index, bytes) in (0u64..).zip(entries) {
            match Entry::parse(bytes) {
                Ok(Entry::Crl {
                    issuer_sha256,
                    number,
                    ..
                }) if issuer_sha256 == ours && number > reserved => {
                    return Err(refused(
                        log,
                        format!("entry {index}"),
                        "crl-number-lowered",
                        format!(
                            "the log holds this delegate's CRL number {number}, but the state {} \
                             has reserved numbers only up to {reserved}: it was edited or \
                             restored from an old copy",
                            self.state_path().display()
                        ),
                    ));
                }
                Ok(Entry::Revocation {
                    issuer_sha256,
                    serial,
                    reason,
                    revoked_at,
                    ..
                }) if issuer_sha256 == ours => {
                    let serial = hex::encode(serial);
                    let rule = match self.revocation(&serial) {
                        None => "revocation-removed",
                        Some(r) if r.reason != reason || r.revoked_at != revoked_at => {
                            "revocation-changed"
                        }
                        Some(_) => continue,
                    };
                    return Err(refused(
                        log,
                        format!("entry {index}"),
                        rule,
                        format!(
                            "the log records the revocation of serial {serial} at {revoked_at} \
                             ({reason}); the state {} does not",
                            self.state_path().display()
                        ),
                    ));
                }
                _ => {}
            }
        }
        let entry_at = |index: u64| {
            usize::try_from(index)
                .ok()
                .and_then(|i| entries.get(i))
                .and_then(|bytes| Entry::parse(bytes).ok())
        };
        let bad_index = |field: String, index: u64| {
            refused(
                &self.state_path(),
                field,
                "log-index",
                format!(
                    "log entry {index} of {} is not the entry this names",
                    log.display()
                ),
            )
        };
        for (i, leaf) in self.file.leaves.iter().enumerate() {
            if let Some(index) = leaf.log_index {
                let ok = matches!(entry_at(index), Some(Entry::LeafIssuance { certificate, .. })
                    if sha256_hex(&certificate) == leaf.sha256);
                if !ok {
                    return Err(bad_index(format!("leaf[{i}].log_index"), index));
                }
            }
        }
        for (i, r) in self.file.revocations.iter().enumerate() {
            if let Some(index) = r.log_index {
                let ok = matches!(entry_at(index), Some(Entry::Revocation { issuer_sha256, serial, .. })
                    if issuer_sha256 == ours && hex::encode(&serial) == r.serial);
                if !ok {
                    return Err(bad_index(format!("revocation[{i}].log_index"), index));
                }
            }
        }
        if let Some(index) = self.file.crl.log_index {
            let ok = matches!(entry_at(index), Some(Entry::Crl { issuer_sha256, number, .. })
                if issuer_sha256 == ours && number == self.file.crl.last_number);
            if !ok {
                return Err(bad_index("crl.log_index".into(), index));
            }
        }
        Ok(())
    }

    /// Writes the state file (durably: the old or the new one survives a crash).
    pub(crate) fn save(&self) -> Result<()> {
        let path = self.state_path();
        let text = toml::to_string(&self.file).map_err(|e| Error::Invalid {
            file: path.clone(),
            field: "state".into(),
            rule: "state-syntax",
            message: e.to_string(),
        })?;
        durable::replace(&path, text.as_bytes())?;
        Ok(())
    }

    /// The register entry of `der` as this delegate issued it: refused unless the
    /// delegate's name and key identifier are its issuer's and the delegate's key signed it.
    pub(crate) fn issued_record(&self, der: &[u8], file: &Path, field: &str) -> Result<LeafRecord> {
        let not_ours = |why: String| refused(file, field, "other-issuer", why);
        let cert = Certificate::from_der(der).map_err(|e| Error::Invalid {
            file: file.to_owned(),
            field: field.to_owned(),
            rule: "certificate-format",
            message: format!("malformed certificate: {e}"),
        })?;
        let tbs = cert.tbs_certificate();
        let delegate = self.certificate.tbs_certificate();
        if tbs.issuer() != delegate.subject() {
            return Err(not_ours(format!(
                "issued by {}, not by this delegate {}",
                tbs.issuer(),
                delegate.subject()
            )));
        }
        let aki = tbs
            .get_extension::<AuthorityKeyIdentifier>()
            .ok()
            .flatten()
            .and_then(|(_, aki)| aki.key_identifier)
            .map(|id| id.as_bytes().to_vec());
        if aki.is_none() || aki != subject_key_id(&self.certificate) {
            return Err(not_ours(
                "its authorityKeyIdentifier is not this delegate's key (another delegate of \
                 the same name?)"
                    .into(),
            ));
        }
        let tbs_der = tbs.to_der().map_err(|e| not_ours(e.to_string()))?;
        verify_signature(
            delegate.subject_public_key_info(),
            cert.signature_algorithm(),
            &tbs_der,
            cert.signature().as_bytes().unwrap_or_default(),
            &file.display().to_string(),
        )
        .map_err(|e| not_ours(format!("this delegate's key did not sign it: {e}")))?;
        Ok(LeafRecord {
            serial: hex::encode(tbs.serial_number().as_bytes()),
            subject: tbs.subject().to_string(),
            not_before: format_time(tbs.validity().not_before.to_system_time()),
            not_after: format_time(tbs.validity().not_after.to_system_time()),
            sha256: sha256_hex(der),
            log_index: None,
        })
    }

    /// The state directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/state.toml`.
    #[must_use]
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// `DIR/issued/<serial>.pem`.
    #[must_use]
    pub fn issued_path(&self, serial: &str) -> PathBuf {
        self.dir.join(ISSUED_DIR).join(format!("{serial}.pem"))
    }

    /// `DIR/crls/<number>.crl`.
    #[must_use]
    pub fn crl_path(&self, number: u64) -> PathBuf {
        self.dir.join(CRLS_DIR).join(format!("{number}.crl"))
    }

    /// The delegate certificate.
    #[must_use]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The delegate certificate's DER.
    #[must_use]
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// SHA-256 of the delegate certificate's DER (what log entries name it by).
    #[must_use]
    pub fn certificate_digest(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.certificate_der).into()
    }

    /// The delegate key's PKCS#11 URI.
    #[must_use]
    pub fn key_uri(&self) -> &str {
        &self.file.delegate.key
    }

    /// The issuance register, in the order of registration.
    #[must_use]
    pub fn leaves(&self) -> &[LeafRecord] {
        &self.file.leaves
    }

    /// The register entry of `serial` (canonical lowercase hex).
    #[must_use]
    pub fn leaf(&self, serial: &str) -> Option<&LeafRecord> {
        self.file.leaves.iter().find(|l| l.serial == serial)
    }

    /// The revocations, in the order recorded.
    #[must_use]
    pub fn revocations(&self) -> &[RevocationRecord] {
        &self.file.revocations
    }

    /// The revocation of `serial`, if any.
    #[must_use]
    pub fn revocation(&self, serial: &str) -> Option<&RevocationRecord> {
        self.file.revocations.iter().find(|r| r.serial == serial)
    }

    /// The highest CRL number reserved (signed or about to be): the next CRL gets a
    /// higher one.
    #[must_use]
    pub fn reserved_crl_number(&self) -> u64 {
        self.file.crl.reserved_number
    }

    /// The last CRL signed and saved, if any.
    #[must_use]
    pub fn last_crl(&self) -> Option<LastCrl> {
        let crl = &self.file.crl;
        if crl.last_number == 0 {
            return None;
        }
        let path = self.state_path();
        let time = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .and_then(|v| parse_time(&path, field, v).ok())
        };
        Some(LastCrl {
            number: crl.last_number,
            this_update: time("crl.this_update", &crl.this_update)?,
            next_update: time("crl.next_update", &crl.next_update)?,
            log_index: crl.log_index,
        })
    }

    /// Whether the newest CRL in the state lists `serial`.
    #[must_use]
    pub fn listed_on_latest_crl(&self, serial: &str) -> bool {
        self.listed.contains_key(serial)
    }
}

/// The certificate's subjectKeyIdentifier.
fn subject_key_id(certificate: &Certificate) -> Option<Vec<u8>> {
    certificate
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .ok()
        .flatten()
        .map(|(_, ski)| ski.0.as_bytes().to_vec())
}

/// The kebab-case name of a CRL reason (`None`: `unspecified`).
#[must_use]
pub fn reason_name(reason: Option<CrlReason>) -> &'static str {
    match reason {
        None | Some(CrlReason::Unspecified) => "unspecified",
        Some(CrlReason::KeyCompromise) => "key-compromise",
        Some(CrlReason::CaCompromise) => "ca-compromise",
        Some(CrlReason::AffiliationChanged) => "affiliation-changed",
        Some(CrlReason::Superseded) => "superseded",
        Some(CrlReason::CessationOfOperation) => "cessation-of-operation",
        Some(CrlReason::CertificateHold) => "certificate-hold",
        Some(CrlReason::RemoveFromCRL) => "remove-from-crl",
        Some(CrlReason::PrivilegeWithdrawn) => "privilege-withdrawn",
        Some(CrlReason::AaCompromise) => "aa-compromise",
    }
}

/// The CRL reason named `name` (kebab-case; `unspecified` is `None`).
///
/// # Errors
/// [`Error::Invalid`] (rule `reason`) naming the known reasons.
pub fn reason_code(file: &Path, field: &str, name: &str) -> Result<Option<CrlReason>> {
    if name == "unspecified" {
        return Ok(None);
    }
    rust_pki_ca::crl::parse_reason(name)
        .map(Some)
        .map_err(|message| invalid(file, field, "reason", message + ", or unspecified"))
}

pub(crate) fn refused(
    file: &Path,
    field: impl Into<String>,
    rule: &'static str,
    message: impl Into<String>,
) -> Error {
    Error::Refused {
        file: file.to_owned(),
        field: field.into(),
        rule,
        message: message.into(),
    }
}

pub(crate) fn invalid(
    file: &Path,
    field: impl Into<String>,
    rule: &'static str,
    message: impl Into<String>,
) -> Error {
    Error::Invalid {
        file: file.to_owned(),
        field: field.into(),
        rule,
        message: message.into(),
    }
}

fn no_state(dir: &Path) -> Error {
    Error::Invalid {
        file: dir.join(STATE_FILE),
        field: "--state".into(),
        rule: "no-state",
        message: "no delegate state here: create one with `rust-pki delegate init`".into(),
    }
}

fn read_limited(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_STATE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_STATE_LEN {
        return Err(invalid(
            path,
            "state",
            "state-size",
            format!("larger than {MAX_STATE_LEN} bytes"),
        ));
    }
    Ok(text)
}
