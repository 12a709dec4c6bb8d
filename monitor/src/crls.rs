//! The CRLs a log holds, by issuer: the root's (the `root.crl` outputs of ceremony
//! records: `root-crl` and `delegate-revoke` issue them) and each delegate's (`crl`
//! entries, named by the SHA-256 of the delegate certificate, whose purpose is the
//! `delegates/<purpose>.pem` path of the ceremony record that issued it). `log publish`
//! writes the newest of each under a stable name; the audit flags a CRL number that does
//! not grow (rule `crl-number`).

use std::collections::{BTreeMap, BTreeSet};

use der::{Decode, Encode};
use rust_pki_ceremony::record::Record;
use rust_pki_ceremony::validate::ROOT_CRL;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlNumber;

/// The stable name of the root's CRL (`crl/root.crl`); a delegate's is its purpose.
pub(crate) const ROOT_NAME: &str = "root";

/// One CRL found in the log.
#[derive(Debug, Clone)]
pub(crate) struct LoggedCrl {
    /// The entry that holds it (a ceremony record, or a `crl` entry).
    pub(crate) index: u64,
    /// Its cRLNumber.
    pub(crate) number: u64,
    /// Its DER.
    pub(crate) der: Vec<u8>,
}

/// The CRLs of a log, collected entry by entry.
#[derive(Debug, Default)]
pub(crate) struct LogCrls {
    /// Root CRLs from ceremony records, in log order.
    root: Vec<LoggedCrl>,
    /// Delegate CRLs: (SHA-256 of the issuer certificate, the CRL), in log order.
    delegate: Vec<([u8; 32], LoggedCrl)>,
    /// Purpose and key (SubjectPublicKeyInfo DER) of each delegate certificate a ceremony
    /// record issued, by the certificate's SHA-256.
    purposes: BTreeMap<[u8; 32], (String, Vec<u8>)>,
    /// The key of each purpose's latest delegate certificate: after a delegate is revoked
    /// and re-issued with a new key, the CRLs of the old key are no longer the purpose's.
    current_keys: BTreeMap<String, Vec<u8>>,
}

impl LogCrls {
    /// What a ceremony record at `index` adds: its root CRL, the purposes of its delegates.
    pub(crate) fn record(&mut self, index: u64, record: &Record) {
        for (path, der) in record.certificates() {
            let Some(purpose) = delegate_purpose(path) else {
                continue;
            };
            let Some(key) = Certificate::from_der(&der).ok().and_then(|cert| {
                cert.tbs_certificate()
                    .subject_public_key_info()
                    .to_der()
                    .ok()
            }) else {
                continue;
            };
            self.add_delegate(Sha256::digest(&der).into(), purpose, key);
        }
        for output in record.outputs.iter().filter(|o| o.path == ROOT_CRL) {
            let Ok(der) = rust_pki_ca::pem::decode_der(
                output.contents.as_bytes(),
                rust_pki_ca::pem::label::CRL,
            ) else {
                continue;
            };
            if let Some(number) = crl_number(&der) {
                self.root.push(LoggedCrl { index, number, der });
            }
        }
    }

    fn add_delegate(&mut self, sha256: [u8; 32], purpose: &str, key: Vec<u8>) {
        self.current_keys.insert(purpose.to_owned(), key.clone());
        self.purposes.insert(sha256, (purpose.to_owned(), key));
    }

    /// A `crl` entry at `index`.
    pub(crate) fn entry(&mut self, index: u64, issuer_sha256: [u8; 32], number: u64, der: &[u8]) {
        self.delegate.push((
            issuer_sha256,
            LoggedCrl {
                index,
                number,
                der: der.to_vec(),
            },
        ));
    }

    /// The newest CRL of the root and of each purpose (the highest number; the later entry
    /// of equal ones), by stable name: `root` first, then the purposes in order. A
    /// purpose's CRLs are those of the key of its latest delegate certificate (a renewed
    /// certificate keeps the key, and its CRLs carry on). CRLs of a certificate no ceremony
    /// record issued as a delegate have no name and are left out.
    pub(crate) fn newest(&self) -> Vec<(String, LoggedCrl)> {
        let mut by_name: BTreeMap<String, LoggedCrl> = BTreeMap::new();
        let named = self.delegate.iter().filter_map(|(issuer, crl)| {
            let (purpose, key) = self.purposes.get(issuer)?;
            (self.current_keys.get(purpose) == Some(key)).then_some((purpose.as_str(), crl))
        });
        for (name, crl) in named {
            keep_newest(&mut by_name, name, crl);
        }
        let mut out: Vec<(String, LoggedCrl)> = Vec::new();
        let mut root = BTreeMap::new();
        for crl in &self.root {
            keep_newest(&mut root, ROOT_NAME, crl);
        }
        out.extend(root);
        out.extend(by_name);
        out
    }

    /// Every CRL whose number is not higher than an earlier one of the same issuer (the
    /// root, or one delegate certificate): (the CRL, the earlier one it does not exceed).
    pub(crate) fn numbers_not_growing(&self) -> Vec<(&LoggedCrl, &LoggedCrl)> {
        let mut out = Vec::new();
        let mut groups: Vec<Vec<&LoggedCrl>> = vec![self.root.iter().collect()];
        let issuers: BTreeSet<&[u8; 32]> = self.delegate.iter().map(|(issuer, _)| issuer).collect();
        for issuer in issuers {
            groups.push(
                self.delegate
                    .iter()
                    .filter(|(i, _)| i == issuer)
                    .map(|(_, crl)| crl)
                    .collect(),
            );
        }
        for group in groups {
            let mut highest: Option<&LoggedCrl> = None;
            for crl in group {
                match highest {
                    Some(top) if crl.number <= top.number => out.push((crl, top)),
                    _ => highest = Some(crl),
                }
            }
        }
        out.sort_by_key(|(crl, _)| crl.index);
        out
    }
}

fn keep_newest(by_name: &mut BTreeMap<String, LoggedCrl>, name: &str, crl: &LoggedCrl) {
    match by_name.get(name) {
        Some(kept) if kept.number > crl.number => {}
        _ => {
            by_name.insert(name.to_owned(), crl.clone());
        }
    }
}

/// The purpose of a record's `delegates/<purpose>.pem` output, if it is a name that can be
/// a file name of the `crl/` folder (and is not the root's).
fn delegate_purpose(path: &str) -> Option<&str> {
    let purpose = path.strip_prefix("delegates/")?.strip_suffix(".pem")?;
    let plain = !purpose.is_empty()
        && purpose != ROOT_NAME
        && !purpose.starts_with('.')
        && purpose
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plain.then_some(purpose)
}

/// The cRLNumber of a DER CRL, if it parses and the number fits in 64 bits.
pub(crate) fn crl_number(der: &[u8]) -> Option<u64> {
    let crl = <CertificateList>::from_der(der).ok()?;
    let ext = crl
        .tbs_cert_list
        .crl_extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == <CrlNumber as der::oid::AssociatedOid>::OID)?;
    let number = CrlNumber::from_der(ext.extn_value.as_bytes()).ok()?;
    let bytes = number.0.as_bytes();
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crl(index: u64, number: u64) -> LoggedCrl {
        LoggedCrl {
            index,
            number,
            der: Vec::new(),
        }
    }

    #[test]
    fn newest_is_the_highest_number_per_purpose_and_unknown_issuers_are_left_out() {
        let mut crls = LogCrls::default();
        crls.add_delegate([1; 32], "releases", b"key 1".to_vec());
        // bors: a first delegate whose key was replaced; its CRLs are not bors's any more.
        crls.add_delegate([3; 32], "bors", b"old key".to_vec());
        crls.add_delegate([2; 32], "bors", b"key 2".to_vec());
        // releases renewed: same key, new certificate; both certificates' CRLs count.
        crls.add_delegate([4; 32], "releases", b"key 1".to_vec());
        for (issuer, c) in [
            ([1; 32], crl(3, 5)),
            ([1; 32], crl(4, 7)),
            ([1; 32], crl(5, 6)),
            ([2; 32], crl(6, 1)),
            ([9; 32], crl(7, 99)),
            ([3; 32], crl(8, 50)),
            ([4; 32], crl(9, 7)),
        ] {
            crls.delegate.push((issuer, c));
        }
        crls.root.push(crl(1, 100));
        crls.root.push(crl(2, 100));
        let newest: Vec<(String, u64, u64)> = crls
            .newest()
            .into_iter()
            .map(|(name, c)| (name, c.index, c.number))
            .collect();
        assert_eq!(
            newest,
            [
                ("root".to_owned(), 2, 100),
                ("bors".to_owned(), 6, 1),
                ("releases".to_owned(), 9, 7)
            ]
        );
        let flagged: Vec<(u64, u64)> = crls
            .numbers_not_growing()
            .into_iter()
            .map(|(c, top)| (c.index, top.index))
            .collect();
        assert_eq!(flagged, [(2, 1), (5, 4)]);
    }

    #[test]
    fn only_plain_purposes_name_files() {
        assert_eq!(
            delegate_purpose("delegates/crates-io.pem"),
            Some("crates-io")
        );
        for path in [
            "delegates/root.pem",
            "delegates/../x.pem",
            "delegates/.hidden.pem",
            "delegates/a/b.pem",
            "root.pem",
            "delegates/x.crl",
        ] {
            assert_eq!(delegate_purpose(path), None, "{path}");
        }
    }
}
