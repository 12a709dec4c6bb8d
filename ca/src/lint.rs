//! The linter: profile conformance and RFC 5280 rules, run on every certificate and CRL
//! before an HSM signs it (on a throwaway-key signature) and again after.

use std::time::{Duration, SystemTime};

use const_oid::{AssociatedOid, ObjectIdentifier};
use der::{Decode, Encode};
use x509_cert::{
    Certificate,
    crl::CertificateList,
    ext::{
        Extension,
        pkix::{
            AuthorityKeyIdentifier, BasicConstraints, CrlNumber, CrlReason, KeyUsage, KeyUsages,
            SubjectKeyIdentifier,
            crl::CrlDistributionPoints,
            name::{DistributionPointName, GeneralName},
        },
    },
};

pub use crate::finding::{Finding, Severity};
use crate::{
    KeyAlgorithm,
    oid::{self, Oid},
    policy::{Policy, PublicationPolicy},
    profile::CertKind,
    profile::key_identifier,
    signature::rsa_public_key,
};

/// Rule ids that are also named outside the linter (the cluster CSR check refuses with
/// the same ids, so one name says what broke wherever it is caught).
pub mod rule {
    /// The policy has no `[cluster]` section, or the certificate's cluster EKU is not it.
    pub const CLUSTER_POLICY: &str = "cluster-policy";
    /// The cluster key must be RSA (rsaEncryption, NULL parameters).
    pub const CLUSTER_KEY_RSA: &str = "cluster-key-rsa";
    /// The cluster key's modulus must have at least `cluster.min_rsa_bits` bits.
    pub const CLUSTER_RSA_BITS: &str = "cluster-rsa-bits";
    /// The cluster CSR's sha256WithRSAEncryption self-signature must verify.
    pub const CLUSTER_CSR_SIGNATURE: &str = "cluster-csr-signature";
}

/// What a certificate is linted against.
#[derive(Debug, Clone, Copy)]
pub struct CertLintContext<'a> {
    /// The policy in force.
    pub policy: &'a Policy,
    /// The profile the certificate must follow.
    pub kind: &'a CertKind,
    /// The issuer's certificate; `None` for the self-signed root.
    pub issuer: Option<&'a Certificate>,
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn error(&mut self, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            severity: Severity::Error,
            rule,
            message: message.into(),
        });
    }
    fn warning(&mut self, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            severity: Severity::Warning,
            rule,
            message: message.into(),
        });
    }
    fn check(&mut self, ok: bool, rule: &'static str, message: impl FnOnce() -> String) {
        if !ok {
            self.error(rule, message());
        }
    }
}

/// Lint a certificate against its profile, the policy and RFC 5280.
pub fn lint_certificate(cert: &Certificate, ctx: &CertLintContext<'_>) -> Vec<Finding> {
    let mut out = Findings::default();
    let tbs = cert.tbs_certificate();
    let issuer_tbs = ctx.issuer.map(Certificate::tbs_certificate).unwrap_or(tbs);

    out.check(tbs.version() == x509_cert::Version::V3, "version", || {
        "certificate must be X.509 v3".into()
    });
    lint_serial(&mut out, tbs.serial_number().as_bytes());
    out.check(
        tbs.signature() == cert.signature_algorithm(),
        "signature-algorithm-match",
        || "TBS signature algorithm differs from the outer signatureAlgorithm".into(),
    );
    match KeyAlgorithm::of_spki(issuer_tbs.subject_public_key_info()) {
        Some(alg) => out.check(
            tbs.signature() == &alg.signature_algorithm(),
            "signature-algorithm",
            || {
                format!(
                    "signature algorithm {} does not fit the issuer's {alg} key",
                    tbs.signature().oid
                )
            },
        ),
        None => out.error(
            "issuer-key-algorithm",
            "issuer key is neither P-384 nor Ed25519",
        ),
    }

    let (allowed, max_validity) = match ctx.kind {
        CertKind::Root | CertKind::Cross { .. } => (
            ctx.policy.root.key_algorithms.as_slice(),
            ctx.policy.root.max_validity,
        ),
        CertKind::Delegate { .. } => (
            ctx.policy.delegate.key_algorithms.as_slice(),
            ctx.policy.delegate.max_validity,
        ),
        CertKind::Leaf { .. } => (
            ctx.policy.leaf.key_algorithms.as_slice(),
            ctx.policy.leaf.max_validity,
        ),
        // The one RSA key we certify; its own rules (and no KeyAlgorithm list).
        CertKind::Cluster { eku } => (&[][..], lint_cluster(&mut out, cert, ctx, eku)),
    };
    if !matches!(ctx.kind, CertKind::Cluster { .. }) {
        match KeyAlgorithm::of_spki(tbs.subject_public_key_info()) {
            Some(alg) if allowed.contains(&alg) => {}
            found => out.error(
                "key-algorithm",
                format!(
                    "{} key algorithm {} is not allowed by policy (allowed: {})",
                    ctx.kind.name(),
                    found.map_or_else(
                        || tbs.subject_public_key_info().algorithm.oid.to_string(),
                        |a| a.to_string()
                    ),
                    allowed
                        .iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }

    out.check(!tbs.subject().is_empty(), "subject", || {
        "subject must not be empty".into()
    });
    out.check(
        tbs.issuer().to_der().ok() == issuer_tbs.subject().to_der().ok(),
        "issuer-name",
        || {
            format!(
                "issuer `{}` is not the issuer's subject `{}`",
                tbs.issuer(),
                issuer_tbs.subject()
            )
        },
    );
    lint_validity(&mut out, cert, issuer_tbs, ctx, max_validity);
    lint_extensions(&mut out, cert, ctx);
    out.0
}

/// The cluster certificate's own rules: the policy allows it, its EKU is the policy's,
/// its key is RSA of at least `cluster.min_rsa_bits`. Returns its longest validity.
fn lint_cluster(
    out: &mut Findings,
    cert: &Certificate,
    ctx: &CertLintContext<'_>,
    eku: &Oid,
) -> Duration {
    let Some(cluster) = &ctx.policy.cluster else {
        out.error(
            rule::CLUSTER_POLICY,
            format!(
                "policy {} has no [cluster] section: it allows no cluster certificate",
                ctx.policy.path.display()
            ),
        );
        return Duration::ZERO;
    };
    out.check(&cluster.eku == eku, rule::CLUSTER_POLICY, || {
        format!(
            "cluster EKU {eku} is not the policy's cluster.eku {}",
            cluster.eku
        )
    });
    match rsa_public_key(cert.tbs_certificate().subject_public_key_info()) {
        Err(e) => out.error(
            rule::CLUSTER_KEY_RSA,
            format!("the cluster key must be RSA: {e}"),
        ),
        Ok((_, bits)) => out.check(bits >= cluster.min_rsa_bits, rule::CLUSTER_RSA_BITS, || {
            format!(
                "the cluster key is RSA {bits}; policy cluster.min_rsa_bits asks for at least {}",
                cluster.min_rsa_bits
            )
        }),
    }
    cluster.max_validity
}

fn lint_serial(out: &mut Findings, serial: &[u8]) {
    out.check(
        serial.first().is_some_and(|b| b & 0x80 == 0) && serial.iter().any(|b| *b != 0),
        "serial-positive",
        || "serial number must be positive".into(),
    );
    out.check((8..=20).contains(&serial.len()), "serial-length", || {
        format!(
            "serial number is {} bytes; needs 8 (64 random bits) to 20",
            serial.len()
        )
    });
}

fn lint_validity(
    out: &mut Findings,
    cert: &Certificate,
    issuer_tbs: &x509_cert::TbsCertificate,
    ctx: &CertLintContext<'_>,
    max_validity: Duration,
) {
    let validity = cert.tbs_certificate().validity();
    let (nb, na) = (
        validity.not_before.to_system_time(),
        validity.not_after.to_system_time(),
    );
    let Ok(span) = na.duration_since(nb) else {
        out.error("validity-order", "notAfter is before notBefore");
        return;
    };
    out.check(span <= max_validity, "validity-max", || {
        format!(
            "{} validity is {} days; policy allows at most {} days",
            ctx.kind.name(),
            span.as_secs() / 86_400,
            max_validity.as_secs() / 86_400
        )
    });
    if ctx.kind == &CertKind::Root {
        out.check(na <= ctx.policy.root.not_after, "root-not-after", || {
            format!(
                "root notAfter {} is later than policy root.not_after",
                validity.not_after
            )
        });
    }
    if ctx.issuer.is_some() {
        let iv = issuer_tbs.validity();
        out.check(
            nb >= iv.not_before.to_system_time() && na <= iv.not_after.to_system_time(),
            "validity-nested",
            || {
                format!(
                    "validity {} .. {} is not inside the issuer's {} .. {}",
                    validity.not_before, validity.not_after, iv.not_before, iv.not_after
                )
            },
        );
    }
}

/// Where the CRL covering a delegate (the root's) or a leaf (its purpose's delegate's) is
/// published; `None` for other kinds, and for a leaf whose EKU is no purpose (its own
/// finding).
fn expected_crl_url(ctx: &CertLintContext<'_>) -> Option<String> {
    let publication = &ctx.policy.publication;
    match ctx.kind {
        CertKind::Delegate { .. } => Some(publication.crl_url(PublicationPolicy::ROOT_CRL)),
        CertKind::Leaf { eku } => ctx
            .policy
            .purposes
            .values()
            .find(|p| &p.eku == eku)
            .map(|p| publication.crl_url(&p.name)),
        _ => None,
    }
}

/// `crl-distribution-point`: non-critical, one distribution point, its full name the one
/// URI `url`. A certificate without the extension (issued before the policy named where
/// CRLs are published) is a warning: verifiers do not need it, relying parties do.
fn lint_crl_distribution_point(out: &mut Findings, ext: Option<&Extension>, url: &str) {
    const RULE: &str = "crl-distribution-point";
    let Some(ext) = ext else {
        out.warning(
            RULE,
            format!("no CRL distribution point: the policy publishes this CRL at {url}"),
        );
        return;
    };
    out.check(!ext.critical, RULE, || {
        "cRLDistributionPoints must not be critical".into()
    });
    let uris = match CrlDistributionPoints::from_der(ext.extn_value.as_bytes()) {
        Err(e) => return out.error(RULE, format!("cRLDistributionPoints is malformed: {e}")),
        Ok(points) => points
            .0
            .iter()
            .map(
                |point| match (&point.distribution_point, &point.reasons, &point.crl_issuer) {
                    (Some(DistributionPointName::FullName(names)), None, None) => names
                        .iter()
                        .map(|name| match name {
                            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                },
            )
            .collect::<Option<Vec<_>>>(),
    };
    out.check(uris == Some(vec![vec![url.to_owned()]]), RULE, || {
        format!(
            "cRLDistributionPoints must be one distribution point with the one URI {url} \
             (policy publication.crl_base_url), not {uris:?}"
        )
    });
}

fn lint_extensions(out: &mut Findings, cert: &Certificate, ctx: &CertLintContext<'_>) {
    let tbs = cert.tbs_certificate();
    let extensions = tbs.extensions().map(|e| e.as_slice()).unwrap_or_default();
    let expected: &[ObjectIdentifier] = match ctx.kind {
        CertKind::Root => &[
            BasicConstraints::OID,
            KeyUsage::OID,
            SubjectKeyIdentifier::OID,
            AuthorityKeyIdentifier::OID,
        ],
        CertKind::Delegate { .. } | CertKind::Leaf { .. } => &[
            BasicConstraints::OID,
            KeyUsage::OID,
            SubjectKeyIdentifier::OID,
            AuthorityKeyIdentifier::OID,
            oid::EXTENDED_KEY_USAGE,
            CrlDistributionPoints::OID,
        ],
        CertKind::Cross { .. } | CertKind::Cluster { .. } => &[
            BasicConstraints::OID,
            KeyUsage::OID,
            SubjectKeyIdentifier::OID,
            AuthorityKeyIdentifier::OID,
            oid::EXTENDED_KEY_USAGE,
        ],
    };
    for (i, ext) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            out.error(
                "extension-unique",
                format!("extension {} appears twice", ext.extn_id),
            );
        }
        if !expected.contains(&ext.extn_id) {
            out.error(
                "extension-profile",
                format!(
                    "extension {} is not in the {} profile",
                    ext.extn_id,
                    ctx.kind.name()
                ),
            );
        }
    }
    let find = |oid: ObjectIdentifier| extensions.iter().find(|e| e.extn_id == oid);
    if let Some(url) = expected_crl_url(ctx) {
        lint_crl_distribution_point(out, find(CrlDistributionPoints::OID), &url);
    }

    // basicConstraints
    match find(BasicConstraints::OID).map(|e| {
        (
            e.critical,
            BasicConstraints::from_der(e.extn_value.as_bytes()),
        )
    }) {
        None => out.error("basic-constraints", "basicConstraints is missing"),
        Some((_, Err(e))) => out.error(
            "basic-constraints",
            format!("basicConstraints is malformed: {e}"),
        ),
        Some((critical, Ok(bc))) => {
            out.check(critical, "basic-constraints-critical", || {
                "basicConstraints must be critical".into()
            });
            let (ca, path_len) = match ctx.kind {
                CertKind::Root | CertKind::Cross { .. } => (true, None),
                CertKind::Delegate { .. } => (true, Some(0)),
                CertKind::Leaf { .. } | CertKind::Cluster { .. } => (false, None),
            };
            out.check(bc.ca == ca, "basic-constraints-ca", || {
                format!("{} must have cA={ca}", ctx.kind.name())
            });
            out.check(bc.path_len_constraint == path_len, "path-len", || {
                format!(
                    "{} must have {}, has {}",
                    ctx.kind.name(),
                    path_len_text(path_len),
                    path_len_text(bc.path_len_constraint)
                )
            });
        }
    }

    // keyUsage
    match find(KeyUsage::OID).map(|e| (e.critical, KeyUsage::from_der(e.extn_value.as_bytes()))) {
        None => out.error("key-usage", "keyUsage is missing"),
        Some((_, Err(e))) => out.error("key-usage", format!("keyUsage is malformed: {e}")),
        Some((critical, Ok(ku))) => {
            out.check(critical, "key-usage-critical", || {
                "keyUsage must be critical".into()
            });
            let expected = match ctx.kind {
                CertKind::Leaf { .. } => KeyUsages::DigitalSignature.into(),
                CertKind::Cluster { .. } => {
                    KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment
                }
                CertKind::Root | CertKind::Delegate { .. } | CertKind::Cross { .. } => {
                    KeyUsages::KeyCertSign | KeyUsages::CRLSign
                }
            };
            out.check(ku.0 == expected, "key-usage-bits", || {
                format!(
                    "{} keyUsage must be exactly {}, is {}",
                    ctx.kind.name(),
                    key_usage_names(expected),
                    key_usage_names(ku.0)
                )
            });
        }
    }

    // subjectKeyIdentifier: RFC 5280 method 1 over this certificate's key.
    let own_key_id = key_identifier(der::referenced::OwnedToRef::owned_to_ref(
        tbs.subject_public_key_info(),
    ));
    match find(SubjectKeyIdentifier::OID).map(|e| {
        (
            e.critical,
            SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()),
        )
    }) {
        None => out.error("ski", "subjectKeyIdentifier is missing"),
        Some((_, Err(e))) => out.error("ski", format!("subjectKeyIdentifier is malformed: {e}")),
        Some((critical, Ok(ski))) => {
            out.check(!critical, "ski-critical", || {
                "subjectKeyIdentifier must not be critical".into()
            });
            out.check(ski.0.as_bytes() == own_key_id, "ski-method", || {
                "subjectKeyIdentifier is not SHA-1 of the public key (RFC 5280 method 1)".into()
            });
        }
    }

    // authorityKeyIdentifier: keyIdentifier only, equal to the issuer's SKI.
    let issuer_key_id = match ctx.issuer {
        None => Some(own_key_id),
        Some(issuer) => issuer
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .map(|(_, ski)| ski.0.as_bytes().to_vec()),
    };
    match find(AuthorityKeyIdentifier::OID).map(|e| {
        (
            e.critical,
            AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()),
        )
    }) {
        None => out.error("aki", "authorityKeyIdentifier is missing"),
        Some((_, Err(e))) => out.error("aki", format!("authorityKeyIdentifier is malformed: {e}")),
        Some((critical, Ok(aki))) => {
            out.check(!critical, "aki-critical", || {
                "authorityKeyIdentifier must not be critical".into()
            });
            out.check(
                aki.authority_cert_issuer.is_none() && aki.authority_cert_serial_number.is_none(),
                "aki-fields",
                || "authorityKeyIdentifier must carry keyIdentifier only".into(),
            );
            out.check(
                aki.key_identifier.as_ref().map(|k| k.as_bytes().to_vec()) == issuer_key_id,
                "aki-matches-issuer",
                || "authorityKeyIdentifier does not match the issuer's subjectKeyIdentifier".into(),
            );
        }
    }

    lint_eku(out, find(oid::EXTENDED_KEY_USAGE), ctx);
}

fn lint_eku(out: &mut Findings, ext: Option<&Extension>, ctx: &CertLintContext<'_>) {
    let expected: &[Oid] = match ctx.kind {
        CertKind::Root => {
            out.check(ext.is_none(), "eku-absent-in-root", || {
                "the root must not carry an extendedKeyUsage (purposes are bound at delegates)"
                    .into()
            });
            return;
        }
        CertKind::Delegate { eku } | CertKind::Leaf { eku } | CertKind::Cluster { eku } => {
            std::slice::from_ref(eku)
        }
        CertKind::Cross { ekus } => ekus,
    };
    let shown = |oids: &[Oid]| {
        oids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(ext) = ext else {
        out.error(
            "eku-present",
            format!(
                "{} must carry the purpose EKU(s) {}",
                ctx.kind.name(),
                shown(expected)
            ),
        );
        return;
    };
    match oid::decode_eku(ext.extn_value.as_bytes()) {
        Err(e) => out.error("eku-present", format!("extendedKeyUsage is malformed: {e}")),
        Ok(found) => {
            out.check(found == expected, "eku-purpose", || {
                format!(
                    "{} EKU must be exactly [{}], is [{}]",
                    ctx.kind.name(),
                    shown(expected),
                    shown(&found)
                )
            });
            out.check(!ext.critical, "eku-critical", || {
                "extendedKeyUsage must not be critical".into()
            });
        }
    }
    if let (CertKind::Leaf { eku }, Some(issuer)) = (ctx.kind, ctx.issuer) {
        let issuer_ekus = oid::certificate_ekus(issuer).ok().flatten();
        out.check(
            issuer_ekus.is_some_and(|ekus| ekus.contains(eku)),
            "eku-matches-issuer",
            || format!("leaf EKU {eku} is not the issuing delegate's EKU"),
        );
    }
    for eku in expected {
        if oid::is_example_arc(eku) {
            out.warning(
                "eku-example-arc",
                format!(
                    "EKU {eku} is under an example arc: register a PEN arc before a real ceremony"
                ),
            );
        }
        if let Some(problem) = oid::portability_problem(eku) {
            out.warning("eku-portability", problem);
        }
    }
}

/// Lint a CRL issued by `issuer` whose thisUpdate→nextUpdate span may be at most `lifetime`.
pub fn lint_crl(crl: &CertificateList, issuer: &Certificate, lifetime: Duration) -> Vec<Finding> {
    let mut out = Findings::default();
    let tbs = &crl.tbs_cert_list;
    let issuer_tbs = issuer.tbs_certificate();

    out.check(tbs.version == x509_cert::Version::V2, "crl-version", || {
        "CRL must be v2".into()
    });
    out.check(
        tbs.signature == crl.signature_algorithm,
        "signature-algorithm-match",
        || "TBS signature algorithm differs from the outer signatureAlgorithm".into(),
    );
    if let Some(alg) = KeyAlgorithm::of_spki(issuer_tbs.subject_public_key_info()) {
        out.check(
            tbs.signature == alg.signature_algorithm(),
            "signature-algorithm",
            || {
                format!(
                    "signature algorithm {} does not fit the issuer's {alg} key",
                    tbs.signature.oid
                )
            },
        );
    }
    out.check(
        tbs.issuer.to_der().ok() == issuer_tbs.subject().to_der().ok(),
        "crl-issuer",
        || {
            format!(
                "CRL issuer `{}` is not the issuer's subject `{}`",
                tbs.issuer,
                issuer_tbs.subject()
            )
        },
    );
    let crl_sign = issuer_tbs
        .get_extension::<KeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, ku)| ku.crl_sign());
    out.check(crl_sign, "crl-issuer-crl-sign", || {
        "issuer certificate lacks keyUsage cRLSign".into()
    });

    let this_update: SystemTime = tbs.this_update.to_system_time();
    match tbs.next_update.map(|t| t.to_system_time()) {
        None => out.error(
            "crl-next-update",
            "nextUpdate is required (RFC 5280 §5.1.2.5)",
        ),
        Some(next) => match next.duration_since(this_update) {
            Err(_) => out.error("crl-next-update", "nextUpdate is before thisUpdate"),
            Ok(span) => out.check(span <= lifetime, "crl-lifetime", || {
                format!(
                    "CRL lifetime is {} days; policy allows {}",
                    span.as_secs() / 86_400,
                    lifetime.as_secs() / 86_400
                )
            }),
        },
    }

    let extensions = tbs.crl_extensions.as_deref().unwrap_or_default();
    let find = |oid: ObjectIdentifier| extensions.iter().find(|e| e.extn_id == oid);
    match find(CrlNumber::OID) {
        None => out.error("crl-number", "cRLNumber is missing"),
        Some(ext) => {
            out.check(!ext.critical, "crl-number", || {
                "cRLNumber must not be critical".into()
            });
            match CrlNumber::from_der(ext.extn_value.as_bytes()) {
                Ok(n) => out.check(n.0.as_bytes().len() <= 20, "crl-number", || {
                    "cRLNumber exceeds 20 octets".into()
                }),
                Err(e) => out.error("crl-number", format!("cRLNumber is malformed: {e}")),
            }
        }
    }
    let issuer_key_id = issuer_tbs
        .get_extension::<SubjectKeyIdentifier>()
        .ok()
        .flatten()
        .map(|(_, s)| s.0);
    let aki = find(AuthorityKeyIdentifier::OID)
        .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok());
    out.check(
        aki.is_some_and(|a| a.key_identifier.is_some() && a.key_identifier == issuer_key_id),
        "crl-aki",
        || {
            "authorityKeyIdentifier is missing or does not match the issuer's subjectKeyIdentifier"
                .into()
        },
    );
    for ext in extensions {
        if ![CrlNumber::OID, AuthorityKeyIdentifier::OID].contains(&ext.extn_id) {
            out.error(
                "crl-extension-profile",
                format!("unexpected CRL extension {}", ext.extn_id),
            );
        }
    }

    let revoked = tbs.revoked_certificates.as_deref().unwrap_or_default();
    for (i, entry) in revoked.iter().enumerate() {
        let serial = hex::encode(entry.serial_number.as_bytes());
        if revoked[..i]
            .iter()
            .any(|e| e.serial_number == entry.serial_number)
        {
            out.error(
                "crl-entry-unique",
                format!("serial {serial} is listed twice"),
            );
        }
        for ext in entry.crl_entry_extensions.as_deref().unwrap_or_default() {
            if ext.extn_id != CrlReason::OID {
                out.error(
                    "crl-entry-extension",
                    format!(
                        "serial {serial}: unexpected entry extension {}",
                        ext.extn_id
                    ),
                );
            } else if matches!(
                CrlReason::from_der(ext.extn_value.as_bytes()),
                Ok(CrlReason::Unspecified)
            ) {
                out.error(
                    "crl-reason",
                    format!(
                        "serial {serial}: reason unspecified must be omitted (RFC 5280 §5.3.1)"
                    ),
                );
            }
        }
    }
    out.0
}

/// `pathLen 0` or `no pathLen`, as members and operators read it.
fn path_len_text(path_len: Option<u8>) -> String {
    path_len.map_or_else(|| "no pathLen".to_owned(), |n| format!("pathLen {n}"))
}

/// Key usages by their RFC 5280 names, comma-separated (`keyCertSign, cRLSign`), or
/// `none`.
pub fn key_usage_names(usages: impl IntoIterator<Item = KeyUsages>) -> String {
    let names: Vec<&str> = usages
        .into_iter()
        .map(|usage| match usage {
            KeyUsages::DigitalSignature => "digitalSignature",
            KeyUsages::NonRepudiation => "nonRepudiation",
            KeyUsages::KeyEncipherment => "keyEncipherment",
            KeyUsages::DataEncipherment => "dataEncipherment",
            KeyUsages::KeyAgreement => "keyAgreement",
            KeyUsages::KeyCertSign => "keyCertSign",
            KeyUsages::CRLSign => "cRLSign",
            KeyUsages::EncipherOnly => "encipherOnly",
            KeyUsages::DecipherOnly => "decipherOnly",
        })
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
