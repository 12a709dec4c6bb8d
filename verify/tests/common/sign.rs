//! Signatures made without the sign crate: `openssl cms -sign` (P-384, real OpenSSL), and a
//! small builder over the cms crate's types with ring keys (P-384 and Ed25519), whose knobs
//! break one rule of docs/signatures.md at a time. And a real log with a witness, to staple
//! bundles.

use std::path::Path;
use std::process::Command;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use rust_pki_tlog::bundle_file::StapledBundle;
use rust_pki_tlog::checkpoint::SignedCheckpoint;
use rust_pki_tlog::cosignature::cosign;
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::{KeyType, SignerKey, VerifierKey, sign_note};
use rust_pki_tlog::writer::Log;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

use super::{Issued, pem_encode};

pub const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const ID_DATA: &str = "1.2.840.113549.1.7.1";
pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
pub const SHA512: &str = "2.16.840.1.101.3.4.2.3";
pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";

fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new(s).unwrap()
}

/// `openssl cms -sign` of `content` by `leaf` (P-384) with `delegate` in the certificates:
/// the `.sig` text OpenSSL writes.
pub fn openssl_sign(dir: &Path, leaf: &Issued, delegate: &Issued, content: &Path) -> String {
    let leaf_pem = dir.join("signer.pem");
    let key = dir.join("signer.key");
    let delegate_pem = dir.join("delegate-for-openssl.pem");
    std::fs::write(&leaf_pem, leaf.pem()).unwrap();
    std::fs::write(&key, leaf.key.serialize_pem()).unwrap();
    std::fs::write(&delegate_pem, delegate.pem()).unwrap();
    let out = Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-md",
            "sha384",
            "-nosmimecap",
            "-signer",
        ])
        .arg(&leaf_pem)
        .arg("-inkey")
        .arg(&key)
        .arg("-certfile")
        .arg(&delegate_pem)
        .args(["-outform", "PEM", "-in"])
        .arg(content)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A detached CMS signature built field by field; each knob breaks one rule.
pub struct CmsBuilder<'a> {
    pub leaf: &'a Issued,
    /// DER certificates to put in `certificates`.
    pub certs: Vec<Vec<u8>>,
    pub signing_time: OffsetDateTime,
    /// Override of the digest algorithm (both places).
    pub digest_oid: Option<&'static str>,
    pub extra_attribute: bool,
    pub no_signed_attributes: bool,
    pub extra_signer: bool,
    pub econtent: bool,
}

impl<'a> CmsBuilder<'a> {
    pub fn new(leaf: &'a Issued, delegate: &Issued, signing_time: OffsetDateTime) -> Self {
        Self {
            leaf,
            certs: vec![leaf.der(), delegate.der()],
            signing_time,
            digest_oid: None,
            extra_attribute: false,
            no_signed_attributes: false,
            extra_signer: false,
            econtent: false,
        }
    }

    fn ed25519(&self) -> bool {
        self.leaf.key.algorithm() == &rcgen::PKCS_ED25519
    }

    /// The ContentInfo DER over `content`.
    pub fn sign(&self, content: &[u8]) -> Vec<u8> {
        let (digest_alg, default_oid, sig_oid) = if self.ed25519() {
            (&digest::SHA512, SHA512, "1.3.101.112")
        } else {
            (&digest::SHA384, SHA384, "1.2.840.10045.4.3.3")
        };
        let digest_oid = self.digest_oid.unwrap_or(default_oid);
        let md = digest::digest(digest_alg, content);
        let alg = |o: &str| AlgorithmIdentifierOwned {
            oid: oid(o),
            parameters: None,
        };
        let attr = |o: &str, value: Any| Attribute {
            oid: oid(o),
            values: SetOfVec::try_from(vec![value]).unwrap(),
        };
        let mut attrs = vec![
            attr(
                "1.2.840.113549.1.9.3",
                Any::encode_from(&oid(ID_DATA)).unwrap(),
            ),
            attr(
                "1.2.840.113549.1.9.4",
                Any::encode_from(&OctetString::new(md.as_ref()).unwrap()).unwrap(),
            ),
            attr(
                "1.2.840.113549.1.9.5",
                Any::encode_from(
                    &Time::try_from(std::time::SystemTime::from(self.signing_time)).unwrap(),
                )
                .unwrap(),
            ),
        ];
        if self.extra_attribute {
            // smimeCapabilities, as OpenSSL adds without -nosmimecap.
            attrs.push(attr(
                "1.2.840.113549.1.9.15",
                Any::encode_from(&SetOfVec::<ObjectIdentifier>::new()).unwrap(),
            ));
        }
        let attrs: x509_cert::attr::Attributes = SetOfVec::try_from(attrs).unwrap();
        let signed_bytes = if self.no_signed_attributes {
            content.to_vec()
        } else {
            attrs.to_der().unwrap()
        };
        let leaf = Certificate::from_der(&self.leaf.der()).unwrap();
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.tbs_certificate().issuer().clone(),
                serial_number: leaf.tbs_certificate().serial_number().clone(),
            }),
            digest_alg: alg(digest_oid),
            signed_attrs: (!self.no_signed_attributes).then_some(attrs),
            signature_algorithm: alg(sig_oid),
            signature: OctetString::new(self.raw_sign(&signed_bytes)).unwrap(),
            unsigned_attrs: None,
        };
        let mut signers = vec![signer.clone()];
        if self.extra_signer {
            let mut other = signer;
            other.signature = OctetString::new(vec![1; 8]).unwrap();
            signers.push(other);
        }
        let certs = self
            .certs
            .iter()
            .map(|der| CertificateChoices::Certificate(Certificate::from_der(der).unwrap()))
            .collect::<Vec<_>>();
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![alg(digest_oid)]).unwrap(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oid(ID_DATA),
                econtent: self
                    .econtent
                    .then(|| Any::encode_from(&OctetString::new(content).unwrap()).unwrap()),
            },
            certificates: Some(CertificateSet::try_from(certs).unwrap()),
            crls: None,
            signer_infos: SignerInfos::try_from(signers).unwrap(),
        };
        ContentInfo {
            content_type: oid(ID_SIGNED_DATA),
            content: Any::encode_from(&signed).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn raw_sign(&self, message: &[u8]) -> Vec<u8> {
        let pkcs8 = self.leaf.key.serialize_der();
        if self.ed25519() {
            let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8).unwrap();
            key.sign(message).as_ref().to_vec()
        } else {
            let rng = SystemRandom::new();
            let key =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &pkcs8, &rng).unwrap();
            key.sign(&rng, message).unwrap().as_ref().to_vec()
        }
    }

    /// The `.sig` text: the CMS PEM block alone.
    pub fn sig_text(&self, content: &[u8]) -> String {
        pem_encode("CMS", &self.sign(content))
    }
}

/// A real log (tlog writer) with one witness: the delegate's ceremony record, then signed
/// artifact entries; bundles cosigned at a given time.
pub struct TestLog {
    _dir: tempfile::TempDir,
    pub log: Log,
    pub log_key: VerifierKey,
    pub witness: SignerKey,
    delegate_record: Vec<u8>,
}

pub const ORIGIN: &str = "example.com/artifact-log";

impl TestLog {
    pub fn new(delegate: &Issued) -> Self {
        let key = SignerKey::generate(ORIGIN, KeyType::Ed25519).unwrap();
        let log_key = key.verifier();
        let dir = tempfile::tempdir().unwrap();
        let signer = move |body: &[u8]| sign_note(body, &key);
        let mut log = Log::create(dir.path().join("log"), ORIGIN, signer).unwrap();
        let delegate_record =
            Entry::ceremony_record("002-delegate-issue.toml", b"record", &[delegate.der()])
                .unwrap()
                .encode()
                .unwrap();
        log.append(std::slice::from_ref(&delegate_record)).unwrap();
        Self {
            _dir: dir,
            log,
            log_key,
            witness: SignerKey::generate("witness.example/w1", KeyType::CosignatureV1).unwrap(),
            delegate_record,
        }
    }

    /// Appends the artifact entries of `files` (name, content) signed by `leaf`; returns
    /// their indexes.
    pub fn append(&mut self, leaf: &Issued, files: &[(&str, &[u8])]) -> Vec<u64> {
        let start = self.log.head().size;
        let entries = files
            .iter()
            .map(|(name, content)| entry(name, content, leaf))
            .collect::<Vec<_>>();
        self.log.append(&entries).unwrap();
        (start..start + files.len() as u64).collect()
    }

    /// The bundle of entry `index` (`name`, `content`), cosigned by the witness at `time`.
    pub fn bundle(
        &self,
        index: u64,
        name: &str,
        content: &[u8],
        leaf: &Issued,
        delegate: &Issued,
        time: OffsetDateTime,
    ) -> StapledBundle {
        let mut b = StapledBundle::from_log(
            &self.log,
            index,
            &entry(name, content, leaf),
            vec![leaf.der(), delegate.der()],
        )
        .unwrap();
        b.add_delegate(&self.log, &self.delegate_record).unwrap();
        let cp = SignedCheckpoint::verify(&b.checkpoint, &self.log_key).unwrap();
        let line = cosign(
            &self.witness,
            &cp.body().unwrap(),
            u64::try_from(time.unix_timestamp()).unwrap(),
        )
        .unwrap();
        b.checkpoint = cp.with_signature_lines(std::slice::from_ref(&line)).note;
        b
    }
}

pub fn entry(name: &str, content: &[u8], leaf: &Issued) -> Vec<u8> {
    let sha: [u8; 32] = digest::digest(&digest::SHA256, content)
        .as_ref()
        .try_into()
        .unwrap();
    Entry::signed_artifact(name, content.len() as u64, sha, &leaf.der())
        .unwrap()
        .encode()
        .unwrap()
}

impl TestLog {
    /// Trust in this log and its witness, `min` cosignatures required.
    pub fn trust(&self, min: usize) -> rust_pki_verify::artifact::LogTrust {
        rust_pki_verify::artifact::LogTrust {
            log_key: self.log_key.clone(),
            witness_keys: vec![self.witness.verifier()],
            min_witnesses: min,
        }
    }
}

/// Who signs files into a download folder, and how.
pub struct Signer<'a> {
    pub leaf: &'a Issued,
    pub delegate: &'a Issued,
    /// The signing time ([`CmsBuilder`]) and the witness's cosignature time.
    pub time: OffsetDateTime,
    /// Sign with `openssl cms -sign` (P-384; its signing time is the clock's) instead of
    /// [`CmsBuilder`].
    pub openssl: bool,
}

impl Signer<'_> {
    /// Writes each `(name, content)` into `dir` with `name.sig` next to it: the CMS, and with
    /// `log`, the bundle of the file's artifact entry (appended in one batch).
    pub fn write(&self, dir: &Path, log: Option<&mut TestLog>, files: &[(&str, &[u8])]) {
        let scratch = tempfile::tempdir().unwrap();
        let bundles = match log {
            Some(log) => {
                let indexes = log.append(self.leaf, files);
                files
                    .iter()
                    .zip(indexes)
                    .map(|((name, content), index)| {
                        let b =
                            log.bundle(index, name, content, self.leaf, self.delegate, self.time);
                        b.to_text()
                    })
                    .collect()
            }
            None => vec![String::new(); files.len()],
        };
        for ((name, content), bundle) in files.iter().zip(bundles) {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            let cms = if self.openssl {
                openssl_sign(scratch.path(), self.leaf, self.delegate, &path)
            } else {
                CmsBuilder::new(self.leaf, self.delegate, self.time).sig_text(content)
            };
            std::fs::write(dir.join(format!("{name}.sig")), cms + &bundle).unwrap();
        }
    }
}
