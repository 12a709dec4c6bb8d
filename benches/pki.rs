//! `cargo bench --bench pki`: rust-pki's leaf issuance, chain verification and signed-file
//! verification rates, each next to a raw baseline measured in the same process,
//! interleaved with it. Not a test:
//! nothing is asserted about speed. Run it through `scripts/bench`, which makes the SoftHSM2
//! token, keys, certificates and CRLs and passes them in the environment:
//!
//! - `RUST_PKI_BENCH_DIR`: `root.pem`, `delegate.pem`, `leaf.pem`, `root.crl`, `delegate.crl`
//! - `RUST_PKI_BENCH_DELEGATE_KEY`: PKCS#11 URI of the delegate key (`pin-source=file:`)
//! - `RUST_PKI_BENCH_SIGNED_DIR`: files `f0.txt`, `f1.txt`, … with their `.sig`, made by
//!   `rust-pki sign` with the releases leaf of `RUST_PKI_BENCH_DIR` (no log bundle)
//! - `RUST_PKI_BENCH_SECONDS`: measured seconds per side of each comparison (default 3)
//! - `RUST_PKI_BENCH_OPENSSL_SIGN`, `RUST_PKI_BENCH_OPENSSL_VERIFY`: `openssl speed
//!   ecdsap384` results from the same run, shown for context (optional)
//!
//! The policy is read from `policy/rust-root.toml` (cargo runs benches in the package root).

// A benchmark binary, neither library code nor a test: it fails loudly and prints its table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, anyhow, bail};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use der::{Decode as _, Encode as _};
use ring::signature::{self as ring_sig, KeyPair as _};
use rust_pki_ca::{
    Signer,
    authority::{issue_delegate, issue_leaf, issue_root, purpose_of},
    lint::{CertLintContext, lint_certificate},
    pem::{decode_der, label},
    pin::PinSource,
    pkcs11_uri::Pkcs11Uri,
    policy::Policy,
    profile::CertKind,
    signature::verify_signature,
    signer::{KeyAlgorithm, MemorySigner, Pkcs11Signer},
};
use rust_pki_verify::{artifact::ArtifactVerifier, sig_file::SigFile};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, UnixTime};
use sha2::{Digest as _, Sha384};
use spki::SubjectPublicKeyInfoOwned;
use webpki::{
    BorrowedCertRevocationList, CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_cert::{Certificate, name::Name};

/// The algorithms rust-pki-verify accepts (its `ALGS`), for the raw rustls-webpki baseline.
const ALGS: &[&dyn SignatureVerificationAlgorithm] =
    &[webpki::ring::ECDSA_P384_SHA384, webpki::ring::ED25519];
/// Warm-up per side before measuring: lazy statics (the throwaway lint key), caches, clocks.
const WARMUP: Duration = Duration::from_millis(300);
/// Each side's measured time is split into this many slices, alternating with the other
/// side (and which goes first), so drift from other load hits both alike.
const ROUNDS: u32 = 6;

type Op<'a> = &'a mut dyn FnMut() -> Result<()>;

fn main() -> Result<()> {
    // `cargo bench` passes --bench; `cargo test --benches` (or --all-targets) does not, and
    // then building it was the test: nothing to measure without scripts/bench's token.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!("pki bench: not run under `cargo bench`; scripts/bench runs it");
        return Ok(());
    }
    let seconds: f64 = match std::env::var("RUST_PKI_BENCH_SECONDS") {
        Ok(s) => s.parse().context("RUST_PKI_BENCH_SECONDS")?,
        Err(_) => 3.0,
    };
    let dir = PathBuf::from(
        std::env::var_os("RUST_PKI_BENCH_DIR")
            .context("RUST_PKI_BENCH_DIR is not set: run scripts/bench")?,
    );
    let uri: Pkcs11Uri = std::env::var("RUST_PKI_BENCH_DELEGATE_KEY")
        .context("RUST_PKI_BENCH_DELEGATE_KEY is not set: run scripts/bench")?
        .parse()?;
    let policy = Policy::load(Path::new("policy/rust-root.toml"))?;
    let files = Files::read(&dir)?;
    let mut rows = Vec::new();

    // 1. Raw C_Sign, opened the way any PKCS#11 client would, before rust-pki touches the
    //    module (its C_Initialize and C_Login then find both already done, which it accepts).
    let raw_signer = RawSigner::open(&uri)?;
    let digest = Sha384::digest(b"rust-pki bench: a 48-byte SHA-384 digest");

    // 2. Leaf issuance with the same key, for any public key (here a fresh in-memory one's).
    let delegate_signer = Pkcs11Signer::open(&uri)?;
    let delegate_cert = Certificate::from_der(&files.delegate)?;
    let issuer = Issuer {
        policy: &policy,
        cert: &delegate_cert,
        signer: &delegate_signer,
    };
    let subject: Name = "CN=rust-pki bench leaf,O=The Rust Project".parse()?;
    let leaf_key = MemorySigner::generate(KeyAlgorithm::EcdsaP384)?
        .public_key()
        .clone();
    let (c_sign, issuance) = compare(
        seconds,
        &mut || sink(raw_signer.sign(&digest)?),
        &mut || sink(issuer.issue(&leaf_key, &subject)?),
    )?;
    rows.push(Row {
        what: "leaf issuance: issue_leaf (lint, C_Sign, checks)",
        ops: issuance,
        baseline: Some(("raw C_Sign (cryptoki)", c_sign)),
        goal: Some(0.8),
    });

    // 3. Chain verification, without and with the root and delegate CRLs.
    let purpose = purpose_of(&policy, &delegate_cert)?;
    let verify_purpose = rust_pki_verify::Purpose::new(purpose.name.clone(), purpose.eku.clone());
    // KeyUsage::required takes a &'static OID; the bench leaks one small Vec for it.
    let eku: &'static [u8] = Vec::leak(purpose.eku.as_bytes().to_vec());
    let root = rust_pki_verify::Root::from_bytes("root.pem", &files.root_pem)?;
    let chain = rust_pki_verify::Chain::from_bytes("chain.pem", &files.chain_pem)?;
    let crls = [
        rust_pki_verify::Crl::from_bytes("root.crl", &files.root_crl_pem)?,
        rust_pki_verify::Crl::from_bytes("delegate.crl", &files.delegate_crl_pem)?,
    ];
    let now = time::OffsetDateTime::now_utc();
    let unix_now = UnixTime::now();
    let root_der = CertificateDer::from(files.root.as_slice());
    let leaf_der = CertificateDer::from(files.leaf.as_slice());
    let intermediates = [CertificateDer::from(files.delegate.as_slice())];
    let crl_ders = [files.root_crl.as_slice(), files.delegate_crl.as_slice()];

    let raw_verify = |with_crls: bool| -> Result<()> {
        let anchors = [webpki::anchor_from_trusted_cert(&root_der)?];
        let leaf = EndEntityCert::try_from(&leaf_der)?;
        let parsed = if with_crls {
            crl_ders
                .iter()
                .map(|der| BorrowedCertRevocationList::from_der(der).map(CertRevocationList::from))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let refs: Vec<&CertRevocationList<'_>> = parsed.iter().collect();
        let revocation = RevocationOptionsBuilder::new(&refs).ok().map(|builder| {
            builder
                .with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(UnknownStatusPolicy::Allow)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        });
        sink(leaf.verify_for_usage(
            ALGS,
            &anchors,
            &intermediates,
            unix_now,
            KeyUsage::required(eku),
            revocation,
            None,
        )?)
    };
    let ours_verify = |crls: &[rust_pki_verify::Crl]| -> Result<()> {
        sink(rust_pki_verify::verify(
            &root,
            &chain,
            crls,
            &verify_purpose,
            now,
        )?)
    };
    let (raw, ours) = compare(seconds, &mut || raw_verify(false), &mut || ours_verify(&[]))?;
    rows.push(Row {
        what: "chain verify: rust_pki_verify::verify",
        ops: ours,
        baseline: Some(("rustls-webpki verify_for_usage", raw)),
        goal: Some(0.9),
    });
    let (raw, ours) = compare(seconds, &mut || raw_verify(true), &mut || {
        ours_verify(&crls)
    })?;
    rows.push(Row {
        what: "chain verify + 2 CRLs: verify",
        ops: ours,
        baseline: Some(("rustls-webpki + RevocationOptions", raw)),
        goal: None,
    });

    // 4. Signed files under one chain: the library's whole check of each (read FILE.sig,
    //    strict CMS, digest, signature, chain from the cache) against ring's bare P-384
    //    verification of the same signatures.
    let signed_dir = PathBuf::from(
        std::env::var_os("RUST_PKI_BENCH_SIGNED_DIR")
            .context("RUST_PKI_BENCH_SIGNED_DIR is not set: run scripts/bench")?,
    );
    let signed = SignedFiles::read(&signed_dir)?;
    let verifier = ArtifactVerifier::new(root.clone(), verify_purpose.clone());
    let mut next_file = signed.paths.iter().cycle();
    let mut next_raw = signed.raw.iter().cycle();
    let (raw, ours) = compare(
        seconds,
        &mut || {
            let (key, message, signature) = next_raw.next().context("no signed files")?;
            ring_sig::UnparsedPublicKey::new(&ring_sig::ECDSA_P384_SHA384_ASN1, key)
                .verify(message, signature)
                .map_err(|e| anyhow!("ring: {e}"))
        },
        &mut || {
            let (file, sig) = next_file.next().context("no signed files")?;
            let sig = SigFile::from_file(sig)?;
            sink(verifier.verify_file(file, &sig)?)
        },
    )?;
    rows.push(Row {
        what: "verify artifact: SigFile + verify_file",
        ops: ours,
        baseline: Some(("ring ECDSA P-384 verify (same sigs)", raw)),
        goal: Some(0.8),
    });
    let validations = verifier.chain_validations();

    // 5. Context: the raw token against OpenSSL's own P-384 (SoftHSM2 signs with libcrypto).
    let openssl = |name: &str| -> Result<Option<f64>> {
        std::env::var(name)
            .ok()
            .map(|v| v.parse::<f64>().with_context(|| format!("{name}={v}")))
            .transpose()
    };
    let openssl_sign = openssl("RUST_PKI_BENCH_OPENSSL_SIGN")?;
    rows.push(Row {
        what: "raw C_Sign, SoftHSM2 (on libcrypto)",
        ops: c_sign,
        baseline: openssl_sign.map(|o| ("openssl speed ecdsap384 sign", o)),
        goal: None,
    });
    if let Some(verify) = openssl("RUST_PKI_BENCH_OPENSSL_VERIFY")? {
        rows.push(Row {
            what: "openssl speed ecdsap384 verify",
            ops: verify,
            baseline: None,
            goal: None,
        });
    }
    print_table(&rows, seconds);
    println!(
        "verify artifact: {} files signed by `rust-pki sign` under one chain, taken in turn; \
         chain validations: {validations}",
        signed.paths.len()
    );

    // Where issuance time goes: its steps, timed one by one (interleaved) on a leaf it issued.
    breakdown(seconds / 2.0, &issuer, &raw_signer, &leaf_key, &subject)?;
    Ok(())
}

/// The inputs, as PEM (for rust-pki-verify) and DER (for rustls-webpki and x509-cert).
struct Files {
    root_pem: Vec<u8>,
    chain_pem: Vec<u8>,
    root_crl_pem: Vec<u8>,
    delegate_crl_pem: Vec<u8>,
    root: Vec<u8>,
    delegate: Vec<u8>,
    leaf: Vec<u8>,
    root_crl: Vec<u8>,
    delegate_crl: Vec<u8>,
}

impl Files {
    fn read(dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
        };
        let der = |bytes: &[u8], label: &str| decode_der(bytes, label).map_err(|e| anyhow!(e));
        let root_pem = read("root.pem")?;
        let delegate_pem = read("delegate.pem")?;
        let leaf_pem = read("leaf.pem")?;
        let root_crl_pem = read("root.crl")?;
        let delegate_crl_pem = read("delegate.crl")?;
        Ok(Self {
            root: der(&root_pem, label::CERTIFICATE)?,
            delegate: der(&delegate_pem, label::CERTIFICATE)?,
            leaf: der(&leaf_pem, label::CERTIFICATE)?,
            root_crl: der(&root_crl_pem, label::CRL)?,
            delegate_crl: der(&delegate_crl_pem, label::CRL)?,
            chain_pem: [leaf_pem, delegate_pem].concat(),
            root_pem,
            root_crl_pem,
            delegate_crl_pem,
        })
    }
}

/// The files of `RUST_PKI_BENCH_SIGNED_DIR` with their `.sig`, and what the raw baseline
/// verifies of each signature: the leaf's public key, the DER of the signed attributes (as
/// RFC 5652 §5.4 signs them) and the signature, taken out with the cms crate directly.
struct SignedFiles {
    paths: Vec<(PathBuf, PathBuf)>,
    raw: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

impl SignedFiles {
    fn read(dir: &Path) -> Result<Self> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "txt") {
                let sig = path.with_extension("txt.sig");
                paths.push((path, sig));
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!("no signed .txt files in {}", dir.display());
        }
        let raw = paths
            .iter()
            .map(|(_, sig)| raw_signature(sig))
            .collect::<Result<_>>()?;
        Ok(Self { paths, raw })
    }
}

/// (leaf public key, signed attributes DER, signature) of the CMS in the `.sig` at `path`.
fn raw_signature(path: &Path) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let der = decode_der(&text, "CMS").map_err(|e| anyhow!(e))?;
    let info = cms::content_info::ContentInfo::from_der(&der)?;
    let signed: cms::signed_data::SignedData = info.content.decode_as()?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        bail!("{}: not one signer", path.display());
    };
    let cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        bail!("{}: signer not named by issuer and serial", path.display());
    };
    let leaf = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(cert)
                if cert.tbs_certificate().serial_number() == &sid.serial_number =>
            {
                Some(cert)
            }
            _ => None,
        })
        .with_context(|| format!("{}: no signing certificate", path.display()))?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .with_context(|| format!("{}: no signed attributes", path.display()))?;
    Ok((
        leaf.tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec(),
        attrs.to_der()?,
        signer.signature.as_bytes().to_vec(),
    ))
}

/// The delegate key reached with cryptoki alone: module, token, login, key, C_Sign.
struct RawSigner {
    // Kept so the module outlives the session (cryptoki never finalises on drop).
    _pkcs11: Pkcs11,
    session: cryptoki::session::Session,
    key: cryptoki::object::ObjectHandle,
}

impl RawSigner {
    fn open(uri: &Pkcs11Uri) -> Result<Self> {
        let pkcs11 = Pkcs11::new(&uri.module_path)?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(e.into()),
        }
        let mut slot = None;
        for candidate in pkcs11.get_slots_with_token()? {
            if pkcs11.get_token_info(candidate)?.label() == uri.token {
                slot = Some(candidate);
            }
        }
        let slot = slot.with_context(|| format!("no token labelled {}", uri.token))?;
        let session = pkcs11.open_ro_session(slot)?;
        let Some(PinSource::File(pin_file)) = &uri.pin_source else {
            bail!("the delegate key URI needs pin-source=file:");
        };
        let pin = std::fs::read_to_string(pin_file)?;
        let pin = AuthPin::from(pin.trim_end_matches(['\r', '\n']));
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(e.into()),
        }
        let keys = session.find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(uri.object.as_bytes().to_vec()),
        ])?;
        let [key] = keys[..] else {
            bail!("{} private keys labelled {}", keys.len(), uri.object);
        };
        Ok(Self {
            _pkcs11: pkcs11,
            session,
            key,
        })
    }

    fn sign(&self, digest: &[u8]) -> Result<Vec<u8>> {
        Ok(self.session.sign(&Mechanism::Ecdsa, self.key, digest)?)
    }
}

/// Keeps the optimiser from dropping a result unused.
fn sink<T>(value: T) -> Result<()> {
    black_box(value);
    Ok(())
}

/// Runs `op` until `budget` has passed; returns the count and the time taken.
fn run_for(budget: Duration, op: Op<'_>) -> Result<(u64, Duration)> {
    let start = Instant::now();
    let mut count = 0;
    loop {
        op()?;
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok((count, elapsed));
        }
    }
}

/// ops/s of `baseline` and `ours`, `seconds` each (see [`measure`]).
fn compare(seconds: f64, baseline: Op<'_>, ours: Op<'_>) -> Result<(f64, f64)> {
    let rates = measure(seconds, &mut [baseline, ours])?;
    Ok((rates[0], rates[1]))
}

/// ops/s of each of `ops`: run for `seconds` each after a warm-up, in [`ROUNDS`] slices
/// taken in turn (the order rotating each round), so that drift from other load on the
/// machine hits them alike; the median of the slices' rates, so a burst of load in one
/// slice does not move it.
fn measure(seconds: f64, ops: &mut [Op<'_>]) -> Result<Vec<f64>> {
    for op in ops.iter_mut() {
        run_for(WARMUP, &mut **op)?;
    }
    let slice = Duration::from_secs_f64(seconds / f64::from(ROUNDS));
    let mut rates = vec![Vec::new(); ops.len()];
    for round in 0..ROUNDS as usize {
        for k in 0..ops.len() {
            let i = (round + k) % ops.len();
            let (count, elapsed) = run_for(slice, &mut *ops[i])?;
            rates[i].push(count as f64 / elapsed.as_secs_f64());
        }
    }
    Ok(rates.into_iter().map(median).collect())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 0 => (values[mid - 1] + values[mid]) / 2.0,
        _ => values[mid],
    }
}

struct Row {
    what: &'static str,
    ops: f64,
    baseline: Option<(&'static str, f64)>,
    goal: Option<f64>,
}

fn print_table(rows: &[Row], seconds: f64) {
    println!();
    println!(
        "rust-pki bench: ECDSA P-384, SoftHSM2; {seconds} s per side in {ROUNDS} alternating \
         slices, median slice rate"
    );
    println!(
        "{:<48} {:>9}  {:<34} {:>9}  {:>5}  goal",
        "measurement", "ops/s", "baseline", "ops/s", "ratio"
    );
    for row in rows {
        let (name, base, ratio) = match row.baseline {
            Some((name, base)) => (name, format!("{base:.0}"), format!("{:.2}", row.ops / base)),
            None => ("-", "-".into(), "-".into()),
        };
        let goal = row.goal.map_or(String::new(), |g| format!(">= {g:.2}"));
        println!(
            "{:<48} {:>9.0}  {name:<34} {base:>9}  {ratio:>5}  {goal}",
            row.what, row.ops
        );
    }
}

/// A delegate certificate with its key.
struct Issuer<'a> {
    policy: &'a Policy,
    cert: &'a Certificate,
    signer: &'a dyn Signer,
}

impl Issuer<'_> {
    fn issue(&self, key: &SubjectPublicKeyInfoOwned, subject: &Name) -> Result<Vec<u8>> {
        let signed = issue_leaf(
            self.policy,
            self.cert,
            self.signer,
            subject.clone(),
            key.clone(),
            SystemTime::now(),
            None,
        )?;
        Ok(signed.der)
    }
}

/// Times the steps of `issue_leaf` one by one, interleaved (`seconds` each), on a leaf
/// issued by `hsm`, and the whole issuance with an in-memory delegate key (everything but
/// C_Sign); prints microseconds per step.
fn breakdown(
    seconds: f64,
    hsm: &Issuer<'_>,
    raw: &RawSigner,
    leaf_key: &SubjectPublicKeyInfoOwned,
    subject: &Name,
) -> Result<()> {
    let policy = hsm.policy;
    let purpose = purpose_of(policy, hsm.cert)?;
    let now = SystemTime::now();
    // The same issuance with every key in memory: root, delegate, throwaway.
    let memory_root = MemorySigner::generate(KeyAlgorithm::EcdsaP384)?;
    let memory_root_cert = Certificate::from_der(&issue_root(policy, &memory_root, now)?.der)?;
    let memory_delegate = MemorySigner::generate(KeyAlgorithm::EcdsaP384)?;
    let memory_delegate_cert = Certificate::from_der(
        &issue_delegate(
            policy,
            &memory_root_cert,
            &memory_root,
            purpose,
            memory_delegate.public_key().clone(),
            now,
            None,
        )?
        .der,
    )?;
    let memory = Issuer {
        policy,
        cert: &memory_delegate_cert,
        signer: &memory_delegate,
    };

    let der = hsm.issue(leaf_key, subject)?;
    let leaf = Certificate::from_der(&der)?;
    let tbs = leaf.tbs_certificate().to_der()?;
    let signature = leaf
        .signature()
        .as_bytes()
        .context("signature has unused bits")?
        .to_vec();
    let algorithm = leaf.signature_algorithm();
    let kind = CertKind::Leaf {
        eku: purpose.eku.clone(),
    };
    let ctx = CertLintContext {
        policy,
        kind: &kind,
        issuer: Some(hsm.cert),
    };
    let throwaway = MemorySigner::generate(KeyAlgorithm::EcdsaP384)?;
    let digest = Sha384::digest(&tbs);

    // ring, which rust-pki-verify already links (through rustls-webpki), as an alternative
    // for the in-process P-384 work.
    let rng = ring::rand::SystemRandom::new();
    let ring_alg = &ring_sig::ECDSA_P384_SHA384_ASN1_SIGNING;
    fn ring_err(e: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("ring: {e}")
    }
    let pkcs8 = ring_sig::EcdsaKeyPair::generate_pkcs8(ring_alg, &rng).map_err(ring_err)?;
    let ring_key =
        ring_sig::EcdsaKeyPair::from_pkcs8(ring_alg, pkcs8.as_ref(), &rng).map_err(ring_err)?;
    let ring_signature = ring_key.sign(&rng, &tbs).map_err(ring_err)?;
    let ring_public = ring_sig::UnparsedPublicKey::new(
        &ring_sig::ECDSA_P384_SHA384_ASN1,
        ring_key.public_key().as_ref().to_vec(),
    );

    let rates = measure(
        seconds,
        &mut [
            &mut || sink(hsm.issue(leaf_key, subject)?),
            &mut || sink(memory.issue(leaf_key, subject)?),
            &mut || sink(raw.sign(&digest)?),
            &mut || sink(hsm.signer.sign(&tbs)?),
            &mut || sink(throwaway.sign(&tbs)?),
            &mut || {
                Ok(verify_signature(
                    hsm.signer.public_key(),
                    algorithm,
                    &tbs,
                    &signature,
                    "bench",
                )?)
            },
            &mut || sink(lint_certificate(&leaf, &ctx)),
            &mut || sink(Certificate::from_der(&der)?.tbs_certificate().to_der()?),
            &mut || sink(ring_key.sign(&rng, &tbs).map_err(ring_err)?),
            &mut || {
                ring_public
                    .verify(&tbs, ring_signature.as_ref())
                    .map_err(ring_err)
            },
        ],
    )?;
    let us: Vec<f64> = rates.iter().map(|rate| 1e6 / rate).collect();
    let [
        total,
        memory_total,
        raw_sign,
        c_sign,
        throwaway,
        check,
        lint,
        parse,
        ring_sign,
        ring_verify,
    ] = us[..]
    else {
        bail!("one rate per step");
    };
    let steps = [
        ("C_Sign: Pkcs11Signer::sign (SHA-384, C_Sign, DER)", c_sign),
        ("throwaway-key sign: MemorySigner (p384 crate)", throwaway),
        ("signature check: verify_signature (p384 crate)", check),
        ("lint_certificate x2 (before and after C_Sign)", 2.0 * lint),
        ("x509-cert parse + TBS re-encode x2", 2.0 * parse),
    ];
    let rest = total - steps.iter().map(|(_, us)| us).sum::<f64>();
    let line = |what: &str, us: f64| {
        println!("{what:<56} {us:>8.0}  {:>4.0}%", 100.0 * us / total);
    };
    println!();
    println!("where one leaf issuance goes ({seconds} s per step, interleaved; µs per op):");
    line("issue_leaf, delegate key in SoftHSM2", total);
    for (what, us) in steps {
        line(&format!("  {what}"), us);
    }
    line(
        "  rest (difference: TBS build, serial, key checks, noise)",
        rest,
    );
    println!("context:");
    line("  raw C_Sign (cryptoki, digest given)", raw_sign);
    line(
        "  issue_leaf, in-memory delegate key (no PKCS#11)",
        memory_total,
    );
    line(
        "  ring P-384 sign (alternative for the throwaway key)",
        ring_sign,
    );
    line(
        "  ring P-384 verify (alternative for the check)",
        ring_verify,
    );
    Ok(())
}
