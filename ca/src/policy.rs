//! The CA policy (`policy/rust-root.toml`): parsed strictly (unknown fields are errors),
//! then validated field by field into [`Policy`]. Profiles and the linter read only this.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, SystemTime},
};

use serde::Deserialize;
use x509_cert::name::Name;

use crate::{
    Error, KeyAlgorithm, Result,
    oid::{self, Oid},
};

const DAY: u64 = 24 * 60 * 60;
/// The policy format this code reads.
pub const POLICY_VERSION: u32 = 1;

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// The root CA.
    pub root: RootPolicy,
    /// Delegate (intermediate) CAs, one per purpose.
    pub delegate: DelegatePolicy,
    /// Leaf certificates issued by delegates.
    pub leaf: LeafPolicy,
    /// Purposes by name (`releases`, `crates-io`, `bors`, …).
    pub purposes: BTreeMap<String, Purpose>,
    /// Who must approve a root operation.
    pub quorum: QuorumPolicy,
    /// How long before each deadline a ceremony becomes due (`ceremony due`).
    pub schedule: SchedulePolicy,
    /// The AWS CloudHSM cluster certificate (`cluster-init`); `None` when the policy has
    /// no `[cluster]` section, and then no cluster certificate may be issued.
    pub cluster: Option<ClusterPolicy>,
    /// Where the published CRLs are served (the CRL distribution points).
    pub publication: PublicationPolicy,
    /// The HSM that holds the root key: every request pins it, and `ceremony execute`
    /// drives that backend and refuses any other.
    pub hsm: HsmPolicy,
    /// A test policy may use example-arc OIDs in ceremonies; a production one may not.
    pub test_policy: bool,
}

/// Which HSM holds the root key (`[hsm]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmPolicy {
    /// The backend.
    pub backend: HsmBackend,
    /// The AWS CloudHSM cluster (`cluster-…`); present exactly when the backend is
    /// CloudHSM.
    pub cluster_id: Option<String>,
}

/// An HSM backend a ceremony can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum HsmBackend {
    /// SoftHSM2 through PKCS#11 (tests and the demo: keys in files, no real HSM).
    #[serde(rename = "softhsm2")]
    SoftHsm2,
    /// AWS CloudHSM through `cloudhsm-cli` (production).
    #[serde(rename = "cloudhsm")]
    CloudHsm,
}

impl HsmBackend {
    /// The name in policies, requests and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::SoftHsm2 => "softhsm2",
            Self::CloudHsm => "cloudhsm",
        }
    }
}

impl std::fmt::Display for HsmBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HsmBackend {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "softhsm2" => Ok(Self::SoftHsm2),
            "cloudhsm" => Ok(Self::CloudHsm),
            other => Err(format!(
                "`{other}` is not an HSM backend: \"softhsm2\" or \"cloudhsm\""
            )),
        }
    }
}

/// Whether `id` has the shape of an AWS CloudHSM cluster id: `cluster-` and 11 to 16
/// characters of `[2-7a-z]` (the API's pattern is `cluster-[2-7a-zA-Z]{11,16}`, AWS
/// CloudHSM API Reference, "Cluster"; ids are issued in lower case and name files here).
#[must_use]
pub fn is_cloudhsm_cluster_id(id: &str) -> bool {
    id.strip_prefix("cluster-").is_some_and(|rest| {
        (11..=16).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    })
}

/// Quorum rules for ceremonies (docs/threat-model.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumPolicy {
    /// Approvals needed (M).
    pub threshold: usize,
    /// Roster size (N).
    pub members: usize,
    /// At most this many members from one organisation.
    pub max_per_organisation: usize,
    /// At most this many members from one country.
    pub max_per_country: usize,
    /// SHA-256 (64 lower-case hex digits) of the genesis roster file: the roster in force
    /// until the first roster change, so the operator cannot substitute another one.
    pub genesis_roster_sha256: String,
}

/// Lead times of the ceremony schedule (`rust-pki ceremony due`): how long before each
/// hard deadline the ceremony that meets it becomes due, so that a quorum can be
/// gathered in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Re-sign the root CRL this long before its nextUpdate.
    pub root_crl_resign_before: Duration,
    /// Renew a delegate certificate this long before its notAfter (the overlap in which
    /// old and new delegate certificates are both valid).
    pub delegate_renew_before: Duration,
    /// Rotate the root this long before its notAfter.
    pub root_rotate_before: Duration,
    /// Re-appoint (or replace) a roster member this long before their `reappoint_by` date.
    pub reappoint_notice: Duration,
    /// Re-sign a delegate CRL this long before its nextUpdate (`rust-pki delegate due`).
    pub delegate_crl_resign_before: Duration,
    /// Issue a leaf's successor this long before its notAfter (`rust-pki delegate due`).
    pub leaf_rotate_before: Duration,
}

/// Root CA rules.
#[derive(Debug, Clone)]
pub struct RootPolicy {
    /// Subject (and issuer) of the root certificate.
    pub subject: Name,
    /// The fixed end of the root's validity.
    pub not_after: SystemTime,
    /// Longest validity a root certificate may have.
    pub max_validity: Duration,
    /// Key algorithms allowed for the root key.
    pub key_algorithms: Vec<KeyAlgorithm>,
    /// Longest thisUpdate→nextUpdate span of a root CRL.
    pub crl_lifetime: Duration,
}

/// Delegate CA rules.
#[derive(Debug, Clone)]
pub struct DelegatePolicy {
    /// Longest validity of a delegate certificate (also capped by the root's).
    pub max_validity: Duration,
    /// Key algorithms a delegate key may use.
    pub key_algorithms: Vec<KeyAlgorithm>,
    /// Longest thisUpdate→nextUpdate span of a delegate CRL.
    pub crl_lifetime: Duration,
}

/// Leaf certificate rules.
#[derive(Debug, Clone)]
pub struct LeafPolicy {
    /// Validity used when the operator asks for none.
    pub default_validity: Duration,
    /// Longest validity of a leaf (also capped by its delegate's).
    pub max_validity: Duration,
    /// Key algorithms a leaf key may use.
    pub key_algorithms: Vec<KeyAlgorithm>,
}

/// AWS CloudHSM cluster certificate rules (`cluster-init`, docs/ceremony-runbook.md): the root certifies
/// the RSA key that the cluster's HSMs generated when AWS's InitializeCluster asks for it.
#[derive(Debug, Clone)]
pub struct ClusterPolicy {
    /// The EKU of the cluster certificate: its own OID, never a purpose's, so a cluster
    /// certificate is no good for releases, crates.io or bors.
    pub eku: Oid,
    /// Longest validity of a cluster certificate (also capped by the root's).
    pub max_validity: Duration,
    /// Smallest RSA modulus (bits) accepted for the cluster key.
    pub min_rsa_bits: u32,
}

/// Where `rust-pki log publish`'s `crl/` folder is served: delegates carry
/// `<crl_base_url>root.crl` and leaves `<crl_base_url><purpose>.crl` as their CRL
/// distribution point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationPolicy {
    /// `http://` or `https://`, ends with `/`, printable ASCII without spaces, no query,
    /// fragment or user name.
    pub crl_base_url: String,
}

impl PublicationPolicy {
    /// The published name of the root's CRL (`crl/root.crl`).
    pub const ROOT_CRL: &'static str = "root";

    /// The distribution point URL of the CRL published as `crl/<name>.crl` (`root`, or a
    /// purpose's name).
    pub fn crl_url(&self, name: &str) -> String {
        format!("{}{name}.crl", self.crl_base_url)
    }
}

/// The smallest `cluster.min_rsa_bits` a policy may set.
pub const MIN_RSA_BITS: u32 = 2048;
/// The largest RSA modulus the `rsa` crate checks signatures with (its default limit).
pub const MAX_RSA_BITS: u32 = 4096;

/// A purpose: the EKU every non-root certificate of its chains carries.
#[derive(Debug, Clone)]
pub struct Purpose {
    /// Policy name, e.g. `releases`.
    pub name: String,
    /// The extended key usage OID.
    pub eku: Oid,
    /// Subject of the delegate CA for this purpose.
    pub delegate_subject: Name,
    /// What the purpose is for (shown to quorum members).
    pub description: String,
}

impl Policy {
    /// Read and validate a policy file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML, has unknown or missing fields, or a
    /// value breaks a rule; the error names the file and field.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Validate policy text; `path` is used in messages only.
    ///
    /// # Errors
    /// As [`Policy::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file: PolicyFile = toml::from_str(text).map_err(|source| Error::PolicySyntax {
            path: path.to_owned(),
            source,
        })?;
        let field_error = |field: &str, message: String| Error::Policy {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let oid_error = |field: &str, source: oid::OidError| Error::PolicyOid {
            path: path.to_owned(),
            field: field.to_owned(),
            source,
        };

        if file.version != POLICY_VERSION {
            return Err(field_error(
                "version",
                format!(
                    "this rust-pki reads policy version {POLICY_VERSION}, not {}",
                    file.version
                ),
            ));
        }

        let root = RootPolicy {
            subject: parse_subject(&file.root.subject)
                .map_err(|m| field_error("root.subject", m))?,
            not_after: parse_rfc3339(&file.root.not_after)
                .map_err(|m| field_error("root.not_after", m))?,
            max_validity: days(
                file.root.max_validity_days,
                "root.max_validity_days",
                &field_error,
            )?,
            key_algorithms: file.root.key_algorithms,
            crl_lifetime: days(
                file.root.crl_lifetime_days,
                "root.crl_lifetime_days",
                &field_error,
            )?,
        };
        if root.key_algorithms != [KeyAlgorithm::EcdsaP384] {
            return Err(field_error(
                "root.key_algorithms",
                "the root key must be [\"P-384\"] (the HSM quorum-signing path is ECDSA P-384)"
                    .into(),
            ));
        }

        let delegate = DelegatePolicy {
            max_validity: days(
                file.delegate.max_validity_days,
                "delegate.max_validity_days",
                &field_error,
            )?,
            key_algorithms: non_empty(
                file.delegate.key_algorithms,
                "delegate.key_algorithms",
                &field_error,
            )?,
            crl_lifetime: days(
                file.delegate.crl_lifetime_days,
                "delegate.crl_lifetime_days",
                &field_error,
            )?,
        };
        if delegate.max_validity > root.max_validity {
            return Err(field_error(
                "delegate.max_validity_days",
                "must not exceed root.max_validity_days".into(),
            ));
        }

        let leaf = LeafPolicy {
            default_validity: days(
                file.leaf.default_validity_days,
                "leaf.default_validity_days",
                &field_error,
            )?,
            max_validity: days(
                file.leaf.max_validity_days,
                "leaf.max_validity_days",
                &field_error,
            )?,
            key_algorithms: non_empty(
                file.leaf.key_algorithms,
                "leaf.key_algorithms",
                &field_error,
            )?,
        };
        if leaf.default_validity > leaf.max_validity {
            return Err(field_error(
                "leaf.default_validity_days",
                "must not exceed leaf.max_validity_days".into(),
            ));
        }
        if leaf.max_validity > delegate.max_validity {
            return Err(field_error(
                "leaf.max_validity_days",
                "must not exceed delegate.max_validity_days".into(),
            ));
        }

        if file.purposes.is_empty() {
            return Err(field_error(
                "purposes",
                "at least one purpose is required".into(),
            ));
        }
        let mut purposes = BTreeMap::new();
        for (name, section) in file.purposes {
            let field = |leaf: &str| format!("purposes.{name}.{leaf}");
            if !is_purpose_name(&name) {
                return Err(field_error(
                    &format!("purposes.{name}"),
                    "purpose names are lowercase letters, digits and '-', starting with a letter"
                        .into(),
                ));
            }
            let eku =
                oid::parse_policy_oid(&section.eku).map_err(|e| oid_error(&field("eku"), e))?;
            let delegate_subject = parse_subject(&section.delegate_subject)
                .map_err(|m| field_error(&field("delegate_subject"), m))?;
            if section.description.trim().is_empty() {
                return Err(field_error(
                    &field("description"),
                    "must not be empty".into(),
                ));
            }
            let purpose = Purpose {
                name: name.clone(),
                eku,
                delegate_subject,
                description: section.description,
            };
            purposes.insert(name, purpose);
        }
        check_distinct(&purposes, |p| p.eku.to_string(), "eku", &field_error)?;
        check_distinct(
            &purposes,
            |p| p.delegate_subject.to_string(),
            "delegate_subject",
            &field_error,
        )?;

        let quorum = QuorumPolicy {
            threshold: file.quorum.threshold,
            members: file.quorum.members,
            max_per_organisation: file.quorum.max_per_organisation,
            max_per_country: file.quorum.max_per_country,
            genesis_roster_sha256: file.quorum.genesis_roster_sha256,
        };
        let digest = &quorum.genesis_roster_sha256;
        if digest.len() != 64
            || !digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(field_error(
                "quorum.genesis_roster_sha256",
                "must be the SHA-256 of the genesis roster file, 64 lower-case hex digits"
                    .to_owned(),
            ));
        }
        if quorum.threshold < 2 || quorum.threshold > quorum.members {
            return Err(field_error(
                "quorum.threshold",
                format!("must be between 2 and quorum.members ({})", quorum.members),
            ));
        }
        // No one organisation or country may approve alone, nor block a quorum.
        for (field, limit) in [
            ("quorum.max_per_organisation", quorum.max_per_organisation),
            ("quorum.max_per_country", quorum.max_per_country),
        ] {
            if limit == 0 || limit >= quorum.threshold || quorum.members - limit < quorum.threshold
            {
                return Err(field_error(
                    field,
                    format!(
                        "must be at least 1 and below quorum.threshold ({}), and the other \
                         members must still reach it",
                        quorum.threshold
                    ),
                ));
            }
        }

        let schedule = SchedulePolicy {
            root_crl_resign_before: days(
                file.schedule.root_crl_resign_before_days,
                "schedule.root_crl_resign_before_days",
                &field_error,
            )?,
            delegate_renew_before: days(
                file.schedule.delegate_renew_before_days,
                "schedule.delegate_renew_before_days",
                &field_error,
            )?,
            root_rotate_before: days(
                file.schedule.root_rotate_before_days,
                "schedule.root_rotate_before_days",
                &field_error,
            )?,
            reappoint_notice: days(
                file.schedule.reappoint_notice_days,
                "schedule.reappoint_notice_days",
                &field_error,
            )?,
            delegate_crl_resign_before: days(
                file.schedule.delegate_crl_resign_before_days,
                "schedule.delegate_crl_resign_before_days",
                &field_error,
            )?,
            leaf_rotate_before: days(
                file.schedule.leaf_rotate_before_days,
                "schedule.leaf_rotate_before_days",
                &field_error,
            )?,
        };
        // A lead time as long as the lifetime it precedes would make every new CRL or
        // certificate due for replacement the moment it is signed.
        for (field, lead, lifetime, lifetime_field) in [
            (
                "schedule.root_crl_resign_before_days",
                schedule.root_crl_resign_before,
                root.crl_lifetime,
                "root.crl_lifetime_days",
            ),
            (
                "schedule.delegate_renew_before_days",
                schedule.delegate_renew_before,
                delegate.max_validity,
                "delegate.max_validity_days",
            ),
            (
                "schedule.root_rotate_before_days",
                schedule.root_rotate_before,
                root.max_validity,
                "root.max_validity_days",
            ),
            (
                "schedule.delegate_crl_resign_before_days",
                schedule.delegate_crl_resign_before,
                delegate.crl_lifetime,
                "delegate.crl_lifetime_days",
            ),
            (
                "schedule.leaf_rotate_before_days",
                schedule.leaf_rotate_before,
                leaf.default_validity,
                "leaf.default_validity_days",
            ),
        ] {
            if lead >= lifetime {
                return Err(field_error(
                    field,
                    format!(
                        "must be less than {lifetime_field} ({}), or a fresh one would be due \
                         for replacement as soon as it is signed",
                        lifetime.as_secs() / DAY
                    ),
                ));
            }
        }

        let cluster = file
            .cluster
            .map(|section| parse_cluster(section, &root, &purposes, &field_error, &oid_error))
            .transpose()?;
        let publication = PublicationPolicy {
            crl_base_url: check_crl_base_url(&file.publication.crl_base_url)
                .map_err(|m| field_error("publication.crl_base_url", m))?,
        };
        let hsm = parse_hsm(file.hsm, &field_error)?;

        Ok(Self {
            path: path.to_owned(),
            root,
            delegate,
            leaf,
            purposes,
            quorum,
            schedule,
            cluster,
            publication,
            hsm,
            test_policy: file.test_policy,
        })
    }

    /// The purpose named `name`.
    ///
    /// # Errors
    /// No such purpose in this policy; the message lists the known ones.
    pub fn purpose(&self, name: &str) -> Result<&Purpose> {
        self.purposes
            .get(name)
            .ok_or_else(|| Error::UnknownPurpose {
                name: name.to_owned(),
                known: self.purposes.keys().cloned().collect(),
            })
    }

    /// Purposes whose EKU is under the ITU-T example arc (fine for tests, not production).
    pub fn example_arc_purposes(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes
            .values()
            .filter(|p| oid::is_example_arc(&p.eku))
    }
}

fn parse_cluster(
    section: ClusterSection,
    root: &RootPolicy,
    purposes: &BTreeMap<String, Purpose>,
    field_error: &impl Fn(&str, String) -> Error,
    oid_error: &impl Fn(&str, oid::OidError) -> Error,
) -> Result<ClusterPolicy> {
    let eku = oid::parse_policy_oid(&section.eku).map_err(|e| oid_error("cluster.eku", e))?;
    if let Some(purpose) = purposes.values().find(|p| p.eku == eku) {
        return Err(field_error(
            "cluster.eku",
            format!(
                "same EKU as purposes.{}: the cluster certificate needs its own, or it would be \
                 valid for that purpose",
                purpose.name
            ),
        ));
    }
    let max_validity = days(
        section.max_validity_days,
        "cluster.max_validity_days",
        field_error,
    )?;
    if max_validity > root.max_validity {
        return Err(field_error(
            "cluster.max_validity_days",
            "must not exceed root.max_validity_days".into(),
        ));
    }
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&section.min_rsa_bits) {
        return Err(field_error(
            "cluster.min_rsa_bits",
            format!(
                "must be {MIN_RSA_BITS} to {MAX_RSA_BITS} (RSA below 2048 bits is too weak; the \
                 CloudHSM cluster key is RSA 2048)"
            ),
        ));
    }
    Ok(ClusterPolicy {
        eku,
        max_validity,
        min_rsa_bits: section.min_rsa_bits,
    })
}

/// `[hsm]`: rules `hsm-backend`, `cluster-id-required`, `cluster-id-format` and
/// `cluster-id-refused`.
fn parse_hsm(
    section: HsmSection,
    field_error: &impl Fn(&str, String) -> Error,
) -> Result<HsmPolicy> {
    let backend = section
        .backend
        .parse::<HsmBackend>()
        .map_err(|m| field_error("hsm.backend", format!("{m} (rule hsm-backend)")))?;
    match (backend, &section.cluster_id) {
        (HsmBackend::CloudHsm, None) => {
            return Err(field_error(
                "hsm.cluster_id",
                "required when hsm.backend = \"cloudhsm\": the cluster every request pins \
                 (rule cluster-id-required)"
                    .into(),
            ));
        }
        (HsmBackend::CloudHsm, Some(id)) if !is_cloudhsm_cluster_id(id) => {
            return Err(field_error(
                "hsm.cluster_id",
                format!(
                    "`{id}` is not an AWS CloudHSM cluster id: `cluster-` and 11 to 16 \
                     characters of [2-7a-z] (rule cluster-id-format)"
                ),
            ));
        }
        (HsmBackend::SoftHsm2, Some(_)) => {
            return Err(field_error(
                "hsm.cluster_id",
                "only for hsm.backend = \"cloudhsm\"; SoftHSM2 has no cluster \
                 (rule cluster-id-refused)"
                    .into(),
            ));
        }
        _ => {}
    }
    Ok(HsmPolicy {
        backend,
        cluster_id: section.cluster_id,
    })
}

fn is_purpose_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check_distinct(
    purposes: &BTreeMap<String, Purpose>,
    key: impl Fn(&Purpose) -> String,
    what: &str,
    field_error: &impl Fn(&str, String) -> Error,
) -> Result<()> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (name, purpose) in purposes {
        if let Some(other) = seen.insert(key(purpose), name) {
            return Err(field_error(
                &format!("purposes.{name}.{what}"),
                format!("same {what} as purposes.{other}; each purpose needs its own"),
            ));
        }
    }
    Ok(())
}

/// `publication.crl_base_url`: a URL that goes into certificates as an IA5String URI, so
/// that `<url><name>.crl` is the file's address.
fn check_crl_base_url(url: &str) -> std::result::Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return Err(format!("`{url}` must name a host (and no user)"));
    }
    if !url.ends_with('/') {
        return Err(format!(
            "`{url}` must end with `/`: the CRL file names are appended to it"
        ));
    }
    if let Some(c) = url
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '?' | '#' | '"' | '<' | '>' | '\\'))
    {
        return Err(format!(
            "`{url}` contains {c:?}: printable ASCII without spaces, query or fragment"
        ));
    }
    Ok(url.to_owned())
}

fn days(value: u32, field: &str, field_error: &impl Fn(&str, String) -> Error) -> Result<Duration> {
    if value == 0 {
        return Err(field_error(field, "must be at least 1 day".into()));
    }
    Ok(Duration::from_secs(u64::from(value) * DAY))
}

fn non_empty(
    algorithms: Vec<KeyAlgorithm>,
    field: &str,
    field_error: &impl Fn(&str, String) -> Error,
) -> Result<Vec<KeyAlgorithm>> {
    if algorithms.is_empty() {
        return Err(field_error(
            field,
            "list at least one of \"P-384\", \"Ed25519\"".into(),
        ));
    }
    Ok(algorithms)
}

/// Parse an RFC 4514 subject that must contain a commonName.
pub(crate) fn parse_subject(text: &str) -> std::result::Result<Name, String> {
    let name =
        Name::from_str(text).map_err(|e| format!("`{text}` is not an RFC 4514 name: {e}"))?;
    let has_cn = name
        .iter_rdn()
        .flat_map(|rdn| rdn.iter())
        .any(|atv| atv.oid == const_oid::db::rfc4519::CN);
    if !has_cn {
        return Err(format!("`{text}` has no CN attribute"));
    }
    Ok(name)
}

/// Parse an RFC 3339 timestamp (whole seconds are kept).
pub fn parse_rfc3339(text: &str) -> std::result::Result<SystemTime, String> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 time (e.g. 2031-12-31T23:59:59Z): {e}")
        })?;
    Ok(SystemTime::from(
        parsed.replace_nanosecond(0).unwrap_or(parsed),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    test_policy: bool,
    quorum: QuorumSection,
    root: RootSection,
    delegate: DelegateSection,
    leaf: LeafSection,
    purposes: BTreeMap<String, PurposeSection>,
    schedule: ScheduleSection,
    #[serde(default)]
    cluster: Option<ClusterSection>,
    publication: PublicationSection,
    hsm: HsmSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HsmSection {
    backend: String,
    #[serde(default)]
    cluster_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicationSection {
    crl_base_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSection {
    eku: String,
    max_validity_days: u32,
    min_rsa_bits: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleSection {
    root_crl_resign_before_days: u32,
    delegate_renew_before_days: u32,
    root_rotate_before_days: u32,
    reappoint_notice_days: u32,
    delegate_crl_resign_before_days: u32,
    leaf_rotate_before_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuorumSection {
    threshold: usize,
    members: usize,
    max_per_organisation: usize,
    max_per_country: usize,
    genesis_roster_sha256: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RootSection {
    subject: String,
    not_after: String,
    max_validity_days: u32,
    key_algorithms: Vec<KeyAlgorithm>,
    crl_lifetime_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateSection {
    max_validity_days: u32,
    key_algorithms: Vec<KeyAlgorithm>,
    crl_lifetime_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafSection {
    default_validity_days: u32,
    max_validity_days: u32,
    key_algorithms: Vec<KeyAlgorithm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeSection {
    eku: String,
    delegate_subject: String,
    description: String,
}
