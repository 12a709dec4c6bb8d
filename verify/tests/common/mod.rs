//! Test PKI, built with rcgen at test time: P-384 root → delegate CA (pathLen 0, purpose EKU)
//! → leaf (purpose EKU), and variations.
#![allow(dead_code)]
// each test crate uses part of it
// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests does not reach them.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod clients;
pub mod mutate;
pub mod sign;

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P384_SHA384, PKCS_ED25519, RevocationReason, RevokedCertParams, SerialNumber,
    SignatureAlgorithm,
};
use rust_pki_verify::{Chain, Crl, Error, Oid, Purpose, Root, VerifiedChain};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

pub const RELEASES: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 1, 1];
pub const CRATES_IO: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 1, 2];
pub const BORS: &[u64] = &[1, 3, 6, 1, 4, 1, 32473, 1, 3];

/// The verification time of most tests.
pub const AT: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

pub fn oid(arcs: &[u64]) -> Oid {
    let dotted = arcs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".");
    dotted.parse().unwrap()
}

pub fn purpose(name: &str, arcs: &[u64]) -> Purpose {
    Purpose::new(name, oid(arcs))
}

pub fn releases() -> Purpose {
    purpose("releases", RELEASES)
}

/// Parameters of a certificate to issue.
pub struct Spec {
    params: CertificateParams,
    alg: &'static SignatureAlgorithm,
}

impl Spec {
    /// A CA: basicConstraints cA (unconstrained), keyCertSign + cRLSign, no EKU.
    pub fn ca(cn: &str, serial: u64) -> Self {
        let mut params = base(cn, serial);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = datetime!(2026-01-01 00:00 UTC);
        params.not_after = datetime!(2036-01-01 00:00 UTC);
        Self {
            params,
            alg: &PKCS_ECDSA_P384_SHA384,
        }
    }

    /// A leaf: cA false, digitalSignature, valid 2026-06-01 .. 2027-06-01.
    pub fn leaf(cn: &str, serial: u64) -> Self {
        let mut params = base(cn, serial);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = datetime!(2026-06-01 00:00 UTC);
        params.not_after = datetime!(2027-06-01 00:00 UTC);
        Self {
            params,
            alg: &PKCS_ECDSA_P384_SHA384,
        }
    }

    pub fn eku(mut self, arcs: &[u64]) -> Self {
        self.params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::Other(arcs.to_vec()));
        self
    }

    pub fn path_len(mut self, n: u8) -> Self {
        self.params.is_ca = IsCa::Ca(BasicConstraints::Constrained(n));
        self
    }

    pub fn valid(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.params.not_before = not_before;
        self.params.not_after = not_after;
        self
    }

    pub fn basic_constraints(mut self, is_ca: IsCa) -> Self {
        self.params.is_ca = is_ca;
        self
    }

    pub fn ed25519(mut self) -> Self {
        self.alg = &PKCS_ED25519;
        self
    }

    /// The key algorithm of the certificate's own key.
    pub fn alg(mut self, alg: &'static SignatureAlgorithm) -> Self {
        self.alg = alg;
        self
    }

    /// Any other change to the parameters.
    pub fn with(mut self, change: impl FnOnce(&mut CertificateParams)) -> Self {
        change(&mut self.params);
        self
    }

    pub fn self_signed(self) -> Issued {
        let key = KeyPair::generate_for(self.alg).unwrap();
        let cert = self.params.self_signed(&key).unwrap();
        Issued {
            params: self.params,
            key,
            cert,
        }
    }

    pub fn signed_by(self, issuer: &Issued) -> Issued {
        let key = KeyPair::generate_for(self.alg).unwrap();
        let cert = self.params.signed_by(&key, &issuer.issuer()).unwrap();
        Issued {
            params: self.params,
            key,
            cert,
        }
    }
}

fn base(cn: &str, serial: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Rust Project Test");
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from(serial));
    params.use_authority_key_identifier_extension = true;
    params
}

/// An issued certificate with its key.
pub struct Issued {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub cert: rcgen::Certificate,
}

impl Issued {
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    pub fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// The same name and key usages, another key: signs things that look like this CA's.
    pub fn impostor(&self) -> Issued {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let cert = self.params.self_signed(&key).unwrap();
        Issued {
            params: self.params.clone(),
            key,
            cert,
        }
    }
}

/// The standard PKI: root → releases delegate (pathLen 0) → releases leaf.
pub struct Pki {
    pub root: Issued,
    pub delegate: Issued,
    pub leaf: Issued,
}

pub fn root() -> Issued {
    Spec::ca("Rust Test Root CA", 1).self_signed()
}

pub fn delegate(root: &Issued, eku: Option<&[u64]>) -> Issued {
    let spec = Spec::ca("Rust Test Delegate", 0x0100).path_len(0);
    match eku {
        Some(arcs) => spec.eku(arcs),
        None => spec,
    }
    .signed_by(root)
}

pub fn pki() -> Pki {
    let root = root();
    let delegate = delegate(&root, Some(RELEASES));
    let leaf = Spec::leaf("Rust Test Leaf", 0x1001)
        .eku(RELEASES)
        .signed_by(&delegate);
    Pki {
        root,
        delegate,
        leaf,
    }
}

/// A CRL issued by `issuer`, valid 2026-11-01 .. 2027-01-01, revoking `serials`
/// (keyCompromise, 2026-11-15).
pub fn crl(issuer: &Issued, serials: &[u64]) -> String {
    crl_with(
        issuer,
        serials,
        datetime!(2026-11-01 00:00 UTC),
        datetime!(2027-01-01 00:00 UTC),
    )
}

pub fn crl_with(
    issuer: &Issued,
    serials: &[u64],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> String {
    make_crl(issuer, serials, this_update, next_update)
        .pem()
        .unwrap()
}

/// As [`crl`], DER.
pub fn crl_der(issuer: &Issued, serials: &[u64]) -> Vec<u8> {
    make_crl(
        issuer,
        serials,
        datetime!(2026-11-01 00:00 UTC),
        datetime!(2027-01-01 00:00 UTC),
    )
    .der()
    .to_vec()
}

fn make_crl(
    issuer: &Issued,
    serials: &[u64],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> rcgen::CertificateRevocationList {
    CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(7),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|&serial| RevokedCertParams {
                serial_number: SerialNumber::from(serial),
                revocation_time: datetime!(2026-11-15 00:00 UTC),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer.issuer())
    .unwrap()
}

/// Input files in a temporary directory.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }

    pub fn name(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Writes root.pem, chain.pem (`chain` concatenated) and the CRLs, then verifies.
pub fn verify_pems(
    files: &Files,
    root: &str,
    chain: &[&str],
    crls: &[&str],
    purpose: &Purpose,
    at: OffsetDateTime,
) -> Result<VerifiedChain, Error> {
    let root = Root::from_file(&files.write("root.pem", root))?;
    let chain = Chain::from_file(&files.write("chain.pem", chain.concat()))?;
    let crls = crls
        .iter()
        .enumerate()
        .map(|(i, pem)| Crl::from_file(&files.write(&format!("crl{i}.pem"), pem)))
        .collect::<Result<Vec<_>, _>>()?;
    rust_pki_verify::verify(&root, &chain, &crls, purpose, at)
}

/// Verifies the standard chain shape leaf + delegate against root, for `releases` at [`AT`].
pub fn verify_chain(
    root: &Issued,
    delegate: &Issued,
    leaf: &Issued,
) -> Result<VerifiedChain, Error> {
    let files = Files::new();
    verify_pems(
        &files,
        &root.pem(),
        &[&leaf.pem(), &delegate.pem()],
        &[],
        &releases(),
        AT,
    )
}

/// Minimal PEM encoder (base64, 64-column lines), to re-wrap tampered DER.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Validates `(name, envelope)` pairs against docs/cli-json.schema.json with the Python
/// `jsonschema` of `.venv` (scripts/install-deps).
pub fn validate_against_schema(envelopes: &[(&str, Value)]) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = repo.join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} missing: run scripts/install-deps",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("envelopes.jsonl");
    let lines: Vec<String> = envelopes
        .iter()
        .map(|(name, envelope)| serde_json::json!({"name": name, "envelope": envelope}).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = Command::new(&python)
        .arg(repo.join("tests/scripts/check_envelopes.py"))
        .arg(repo.join("docs/cli-json.schema.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "envelopes do not match the schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
