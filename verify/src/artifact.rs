//! The whole check of a signed file (docs/signatures.md, "Verification"), as a library call
//! rustup, cargo or a mirror can make: CMS structure, message digest, signature, the log
//! bundle and the proven time, the chain at that time, CRLs current now.
//!
//! ```no_run
//! # use std::path::Path;
//! use rust_pki_verify::artifact::ArtifactVerifier;
//! use rust_pki_verify::sig_file::SigFile;
//! use rust_pki_verify::{Purpose, Root};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = Root::from_file(Path::new("rust-root.pem"))?;
//! let verifier = ArtifactVerifier::new(root, Purpose::built_in("releases")?);
//! let sig = SigFile::from_file(Path::new("rustc.tar.xz.sig"))?;
//! let verified = verifier.verify_file(Path::new("rustc.tar.xz"), &sig)?;
//! # let _ = verified;
//! # Ok(())
//! # }
//! ```
//!
//! Time: with [`LogTrust`], the proven time is the `min_witnesses`-th earliest cosignature
//! timestamp of the bundle's checkpoint ([`VerifiedBundle::existed_by`]); the chain is checked
//! at that time, and the signing-time attribute must lie inside the leaf's validity and be
//! at most [`CLOCK_SKEW`] after the proven time (the signer's clock may run a little ahead of
//! the witnesses'). Without a proof of time the chain is checked now, and an expired
//! certificate is [`Error::NoProofOfTime`]. CRLs are always checked against now as well: a
//! CRL past its nextUpdate is stale whatever time the chain is checked at. A revoked leaf is
//! refused whatever its revocation date (a compromised key may have signed before it).
//!
//! Many files under one chain: the chain validation is cached per (leaf and delegate DER,
//! time), so a release of hundreds of files signed in one run is validated once
//! ([`ArtifactVerifier::chain_validations`]).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use ring::digest;
use rust_pki_tlog::bundle_file::{self, VerifiedBundle};
use rust_pki_tlog::entry::Entry;
use rust_pki_tlog::note::VerifierKey;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::cert::{Chain, Root};
use crate::chain::Store;
use crate::cms::{ContentDigests, ParsedCms};
use crate::crl::{self, Crl};
use crate::error::{CertRef, Error};
use crate::purpose::Purpose;
use crate::report::VerifiedChain;
use crate::sig_file::SigFile;
use crate::verify::verify;

/// How far the signing-time attribute may be after the proven time.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The keys that make a log bundle a proof: the log's, the witnesses', and how many
/// witnesses must have cosigned.
#[derive(Clone, Debug)]
pub struct LogTrust {
    /// The log's signed-note verifier key.
    pub log_key: VerifierKey,
    /// The witnesses' cosignature verifier keys.
    pub witness_keys: Vec<VerifierKey>,
    /// How many of them must have cosigned; also the quorum of the proven time.
    pub min_witnesses: usize,
}

/// Checks signed files against one pinned root, purpose, CRLs and optional log trust.
#[derive(Debug)]
pub struct ArtifactVerifier {
    root: Root,
    purpose: Purpose,
    crls: Vec<Crl>,
    /// `--require-crl`: a CRL of every CA of each chain ([`VerifiedChain::require_crls`]).
    require_crls: bool,
    log: Option<LogTrust>,
    /// Cross-certificates the client holds besides its pinned root (never from a signature).
    cross: Vec<Vec<u8>>,
    now: OffsetDateTime,
    chains: Mutex<ChainCache>,
}

#[derive(Debug, Default)]
struct ChainCache {
    /// By SHA-256 of leaf DER ‖ delegate DER, and the time the chain was checked at (the
    /// rest of the inputs is fixed per verifier).
    verified: HashMap<([u8; 32], i64), VerifiedChain>,
    validations: usize,
}

/// What a verification established about one file.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedArtifact {
    /// The file as given.
    pub file: String,
    /// Its name (no directory), as the log entry names it.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The CMS message digest, hex.
    pub message_digest: String,
    /// The message digest's algorithm (`SHA-384`, `SHA-512`).
    pub digest_algorithm: &'static str,
    /// The leaf's key type.
    pub key: &'static str,
    /// The signing leaf.
    pub signer: CertRef,
    /// The purpose the chain was verified for.
    pub purpose: String,
    /// The signing-time attribute.
    #[serde(with = "time::serde::rfc3339")]
    pub signing_time: OffsetDateTime,
    /// The time the log proves (None without log trust).
    #[serde(with = "time::serde::rfc3339::option")]
    pub proven_time: Option<OffsetDateTime>,
    /// The witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// The log entry's index.
    pub log_index: Option<u64>,
    /// The log's origin.
    pub log_origin: Option<String>,
    /// The validated chain (path, time, CRLs).
    pub chain: VerifiedChain,
}

impl ArtifactVerifier {
    /// A verifier for `purpose` under `root`, at the current time, without CRLs or log trust.
    pub fn new(root: Root, purpose: Purpose) -> Self {
        Self {
            root,
            purpose,
            crls: Vec::new(),
            require_crls: false,
            log: None,
            cross: Vec::new(),
            now: OffsetDateTime::now_utc(),
            chains: Mutex::default(),
        }
    }

    /// CRLs to check revocation against (they must be current now). Like every `with_`
    /// setting, clears the cache of validated chains.
    #[must_use]
    pub fn with_crls(mut self, crls: Vec<Crl>) -> Self {
        self.crls = crls;
        self.chains = Mutex::default();
        self
    }

    /// Requires a CRL of every CA of each signature's chain (the root, the delegate and a
    /// cross-certificate level): a chain with a CA whose revocations were not checked fails
    /// with [`Error::CrlRequired`].
    #[must_use]
    pub fn with_required_crls(mut self) -> Self {
        self.require_crls = true;
        self.chains = Mutex::default();
        self
    }

    /// Requires a log bundle in every signature and proves its time with it.
    #[must_use]
    pub fn with_log(mut self, log: LogTrust) -> Self {
        self.log = Some(log);
        self.chains = Mutex::default();
        self
    }

    /// Cross-certificates to build paths through after a root rotation (a client pinned to
    /// the old root reaches a delegate of the new one through the new root's cross-certificate
    /// signed by the old one). The signature carries only the leaf and the delegate, so these
    /// come from the client, like the root.
    #[must_use]
    pub fn with_cross_certificates(mut self, certs: &Chain) -> Self {
        self.cross = certs.certs.iter().map(|c| c.der.to_vec()).collect();
        self.chains = Mutex::default();
        self
    }

    /// Another "now" (tests, or re-checking as of a past date).
    #[must_use]
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self.chains = Mutex::default();
        self
    }

    /// How many chain validations ran (the rest were served from the cache).
    pub fn chain_validations(&self) -> usize {
        self.lock().validations
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChainCache> {
        // A panic while holding the lock cannot leave a half-written entry: recover it.
        self.chains.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verifies the file at `path` (its name: the path's last component).
    ///
    /// # Errors
    /// As [`ArtifactVerifier::verify`]; [`Error::Read`] if the file cannot be opened.
    pub fn verify_file(&self, path: &Path, sig: &SigFile) -> Result<VerifiedArtifact, Error> {
        let file = path.display().to_string();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.clone());
        let mut content = std::fs::File::open(path).map_err(|source| Error::Read {
            file: file.clone(),
            source,
        })?;
        self.verify(&file, &name, &mut content, sig)
    }

    /// Verifies `content` (read to its end), named `name` in the log entry and `file` in
    /// errors, against the signature `sig`.
    ///
    /// # Errors
    /// The first broken rule: the CMS's ([`crate::cms`]), the log proof's
    /// ([`Error::NoLogProof`], [`Error::LogProof`], [`Error::BundleCertificates`],
    /// [`Error::LogEntryMismatch`]), the chain's (the variants of [`crate::verify()`]),
    /// [`Error::NoProofOfTime`], [`Error::SigningTime`].
    pub fn verify(
        &self,
        file: &str,
        name: &str,
        content: &mut dyn Read,
        sig: &SigFile,
    ) -> Result<VerifiedArtifact, Error> {
        let sig_name = sig.file();
        let cms = ParsedCms::parse(sig_name, sig.cms_der())?;
        let digests = cms.digest(file, content)?;
        if let Err(error) = cms.check(sig_name, &digests) {
            // The digest error is about the signed file; the signature error about the .sig.
            return Err(match error {
                Error::MessageDigestMismatch { size, .. } => Error::MessageDigestMismatch {
                    file: file.to_owned(),
                    size,
                },
                other => other,
            });
        }
        let logged = self.check_log(sig, &cms, name, &digests)?;
        let proven = match (&self.log, &logged) {
            (Some(log), Some(logged)) => logged.existed_by(log.min_witnesses).and_then(|secs| {
                OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()
            }),
            _ => None,
        };
        let chain = self.chain(sig_name, &cms, proven)?;
        check_signing_time(sig_name, &cms, &chain, proven.unwrap_or(self.now))?;
        let leaf = chain
            .path
            .first()
            .map(|c| c.cert.clone())
            .ok_or(Error::Path {
                source: webpki::Error::UnknownIssuer,
            })?;
        Ok(VerifiedArtifact {
            file: file.to_owned(),
            name: name.to_owned(),
            size: digests.size,
            sha256: hex(&digests.sha256),
            message_digest: hex(&digests.message_digest),
            digest_algorithm: match cms.key {
                crate::cms::KeyKind::P384 => "SHA-384",
                crate::cms::KeyKind::Ed25519 => "SHA-512",
            },
            key: cms.key.name(),
            signer: leaf,
            purpose: self.purpose.name.clone(),
            signing_time: cms.signing_time,
            proven_time: proven,
            witnesses: logged
                .as_ref()
                .map(|l| l.witnesses.clone())
                .unwrap_or_default(),
            log_index: logged.as_ref().map(|l| l.index),
            log_origin: logged.map(|l| l.origin),
            chain,
        })
    }

    /// With log trust: the bundle verifies, holds the CMS's certificates, and its entry is
    /// this file's artifact entry signed by this leaf.
    fn check_log(
        &self,
        sig: &SigFile,
        cms: &ParsedCms,
        name: &str,
        digests: &ContentDigests,
    ) -> Result<Option<VerifiedBundle>, Error> {
        let file = sig.file();
        let Some(log) = &self.log else {
            return Ok(None);
        };
        let bundle = sig.bundle().ok_or_else(|| Error::NoLogProof {
            file: file.to_owned(),
        })?;
        let expected = [cms.leaf_der.as_slice(), cms.delegate_der.as_slice()];
        let differs = |detail: &str| Error::BundleCertificates {
            file: file.to_owned(),
            detail: detail.to_owned(),
        };
        if bundle.certificates.len() != 2 {
            return Err(differs(&format!(
                "{} certificates, the CMS has the leaf and its delegate",
                bundle.certificates.len()
            )));
        }
        for ((ours, theirs), what) in expected
            .iter()
            .zip(&bundle.certificates)
            .zip(["the leaf", "the delegate"])
        {
            if *ours != theirs.as_slice() {
                return Err(differs(&format!("{what} is another certificate")));
            }
        }
        let logged =
            bundle_file::verify_bundle(bundle, &log.log_key, &log.witness_keys, log.min_witnesses)
                .map_err(|e| Error::LogProof {
                    file: file.to_owned(),
                    check: bundle_file::rule(&e),
                    detail: e.to_string(),
                })?;
        let mismatch = |field, logged: String, actual: String| Error::LogEntryMismatch {
            file: file.to_owned(),
            field,
            logged,
            actual,
        };
        let entry = Entry::parse(&logged.entry).map_err(|e| Error::LogProof {
            file: file.to_owned(),
            check: "entry",
            detail: e.to_string(),
        })?;
        let Entry::Artifact {
            name: logged_name,
            size,
            sha256,
            signer_sha256,
        } = entry
        else {
            return Err(mismatch("kind", entry.kind().to_owned(), "artifact".into()));
        };
        if logged_name != name {
            return Err(mismatch("name", logged_name, name.to_owned()));
        }
        if size != digests.size {
            return Err(mismatch("size", size.to_string(), digests.size.to_string()));
        }
        if sha256 != digests.sha256 {
            return Err(mismatch("sha256", hex(&sha256), hex(&digests.sha256)));
        }
        let leaf_sha = sha256_of(&cms.leaf_der);
        if signer_sha256 != Some(leaf_sha) {
            return Err(mismatch(
                "signer-sha256",
                signer_sha256.map_or_else(|| "absent".into(), |s| hex(&s)),
                hex(&leaf_sha),
            ));
        }
        Ok(Some(logged))
    }

    /// The chain of the CMS (leaf, delegate) to the root, at the proven time or now, from the
    /// cache when this chain was validated at that time already; CRLs current now.
    fn chain(
        &self,
        file: &str,
        cms: &ParsedCms,
        proven: Option<OffsetDateTime>,
    ) -> Result<VerifiedChain, Error> {
        let at = proven.unwrap_or(self.now);
        let key = (
            sha256_of(&[cms.leaf_der.as_slice(), &cms.delegate_der].concat()),
            at.unix_timestamp(),
        );
        if let Some(hit) = self.lock().verified.get(&key) {
            return Ok(hit.clone());
        }
        let mut ders = vec![cms.leaf_der.as_slice(), &cms.delegate_der];
        ders.extend(self.cross.iter().map(Vec::as_slice));
        let chain = Chain::from_ders(file, &ders)?;
        // Staleness is judged now even when the chain is checked in the past.
        crl::check_all(&self.crls, &Store::new(&self.root, &chain)?.cas(), self.now)?;
        let verified = verify(&self.root, &chain, &self.crls, &self.purpose, at).map_err(
            |error| match error {
                Error::Expired {
                    cert,
                    not_after,
                    at,
                    ..
                } if proven.is_none() => Error::NoProofOfTime {
                    file: file.to_owned(),
                    cert,
                    not_after,
                    at,
                },
                other => other,
            },
        )?;
        if self.require_crls {
            verified.require_crls()?;
        }
        let mut cache = self.lock();
        cache.validations += 1;
        cache.verified.insert(key, verified.clone());
        Ok(verified)
    }
}

/// signing-time inside the leaf's validity and not after `bound` (+ [`CLOCK_SKEW`]).
fn check_signing_time(
    file: &str,
    cms: &ParsedCms,
    chain: &VerifiedChain,
    bound: OffsetDateTime,
) -> Result<(), Error> {
    let fail = |detail: String| Error::SigningTime {
        file: file.to_owned(),
        signing_time: cms.signing_time,
        detail,
    };
    if let Some(leaf) = chain.path.first()
        && (cms.signing_time < leaf.not_before || cms.signing_time > leaf.not_after)
    {
        return Err(fail(format!(
            "outside the leaf's validity {}..{}",
            crate::times::rfc3339(leaf.not_before),
            crate::times::rfc3339(leaf.not_after)
        )));
    }
    if cms.signing_time > bound + CLOCK_SKEW {
        return Err(fail(format!(
            "after {} (the proven time, or now without a log proof) by more than {} minutes",
            crate::times::rfc3339(bound),
            CLOCK_SKEW.whole_minutes()
        )));
    }
    Ok(())
}

fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
