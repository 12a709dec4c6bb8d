//! What the read-only `Describe*` calls saw, independent of the SDK's types so that the
//! planners are plain functions tested without AWS.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A CloudHSM cluster (DescribeClusters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The cluster id (`cluster-…`).
    pub id: String,
    /// `UNINITIALIZED`, `INITIALIZED`, `ACTIVE`, ...
    pub state: String,
    /// Its HSMs, in the order AWS listed them.
    pub hsms: Vec<Hsm>,
    /// The cluster's subnets by zone name (its SubnetMapping), sorted by zone. Zone names
    /// differ per account for the same zone id, so the zones come from here, never from a
    /// setting.
    pub subnets: Vec<ClusterSubnet>,
    /// `BackupRetentionPolicy` as `TYPE VALUE` (e.g. `DAYS 90`), if set.
    pub backup_retention: Option<(String, String)>,
    /// `Certificates.ClusterCsr` (PEM), present while the cluster is UNINITIALIZED and has
    /// an HSM.
    pub csr: Option<String>,
}

/// One entry of a cluster's SubnetMapping ("A map from availability zone to the cluster's
/// subnet in that availability zone", API reference `Cluster`,
/// https://docs.aws.amazon.com/cloudhsm/latest/APIReference/API_Cluster.html).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSubnet {
    /// The zone name as this account sees it (e.g. `us-east-1a`).
    pub availability_zone: String,
    /// The subnet id.
    pub subnet_id: String,
}

/// A subnet (EC2 DescribeSubnets): where CreateHsm's fixed address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// The subnet id.
    pub id: String,
    /// Its IPv4 CIDR block, e.g. `10.42.0.0/24`.
    pub cidr_block: String,
}

/// An HSM of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hsm {
    /// The HSM id (`hsm-…`).
    pub id: String,
    /// Its zone.
    pub availability_zone: String,
    /// `CREATE_IN_PROGRESS`, `ACTIVE`, `DEGRADED`, `DELETE_IN_PROGRESS`, `DELETED`.
    pub state: String,
    /// AWS's explanation of the state, if any.
    pub state_message: Option<String>,
    /// The address of its network interface in the cluster's subnet, once it has one.
    pub eni_ip: Option<String>,
}

/// A cluster backup (DescribeBackups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The backup id (`backup-…`).
    pub id: String,
    /// `CREATE_IN_PROGRESS`, `READY`, `DELETED`, `PENDING_DELETION`.
    pub state: String,
    /// When it was taken.
    pub created: Option<OffsetDateTime>,
    /// The cluster it was taken from (absent once that cluster is deleted).
    pub cluster_id: Option<String>,
    /// Set on a copy: the region it was copied from.
    pub source_region: Option<String>,
    /// Exempt from the cluster's retention policy.
    pub never_expires: bool,
    /// Set on a copy: the cluster the source backup was taken from.
    pub source_cluster: Option<String>,
    /// Its tags (key, value).
    pub tags: Vec<(String, String)>,
}

impl Backup {
    /// Whether the backup can be restored.
    pub fn is_ready(&self) -> bool {
        self.state == "READY"
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Create time as RFC 3339, or `-`.
    pub fn created_text(&self) -> String {
        self.created.map_or_else(|| "-".to_owned(), rfc3339)
    }
}

/// The bastion EC2 instance (DescribeInstances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance id (`i-…`).
    pub id: String,
    /// `pending`, `running`, `stopping`, `stopped`, ...
    pub state: String,
    /// Its zone.
    pub availability_zone: String,
    /// Its private address in the VPC, while it has one.
    pub private_ip: Option<String>,
    /// When the instance was last started (EC2 LaunchTime is updated by each start).
    pub launch_time: Option<OffsetDateTime>,
}

/// Backups sorted newest first (those without a create time last).
pub fn newest_first(backups: &mut [Backup]) {
    backups.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
}

/// The newest READY backup.
pub fn latest_ready(backups: &[Backup]) -> Option<&Backup> {
    backups
        .iter()
        .filter(|b| b.is_ready())
        .max_by(|a, b| a.created.cmp(&b.created))
}

/// RFC 3339 in UTC, whole seconds.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}
