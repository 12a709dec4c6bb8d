//! What the read-only `Describe*` calls saw, independent of the SDK's types so that the
//! planners are plain functions tested without AWS.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A CloudHSM cluster (DescribeClusters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub id: String,
    /// `UNINITIALIZED`, `INITIALIZED`, `ACTIVE`, ...
    pub state: String,
    pub hsms: Vec<Hsm>,
    /// Zones with a subnet in the cluster (keys of its SubnetMapping), sorted.
    pub availability_zones: Vec<String>,
    /// `BackupRetentionPolicy` as `TYPE VALUE` (e.g. `DAYS 90`), if set.
    pub backup_retention: Option<(String, String)>,
    /// `Certificates.ClusterCsr` (PEM), present while the cluster is UNINITIALIZED and has
    /// an HSM.
    pub csr: Option<String>,
}

/// An HSM of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hsm {
    pub id: String,
    pub availability_zone: String,
    /// `CREATE_IN_PROGRESS`, `ACTIVE`, `DEGRADED`, `DELETE_IN_PROGRESS`, `DELETED`.
    pub state: String,
    pub state_message: Option<String>,
    pub eni_ip: Option<String>,
}

/// A cluster backup (DescribeBackups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub id: String,
    /// `CREATE_IN_PROGRESS`, `READY`, `DELETED`, `PENDING_DELETION`.
    pub state: String,
    pub created: Option<OffsetDateTime>,
    pub cluster_id: Option<String>,
    /// Set on a copy: the region it was copied from.
    pub source_region: Option<String>,
    pub never_expires: bool,
}

impl Backup {
    /// Whether the backup can be restored.
    pub fn is_ready(&self) -> bool {
        self.state == "READY"
    }

    /// Create time as RFC 3339, or `-`.
    pub fn created_text(&self) -> String {
        self.created.map_or_else(|| "-".to_owned(), rfc3339)
    }
}

/// The bastion EC2 instance (DescribeInstances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// `pending`, `running`, `stopping`, `stopped`, ...
    pub state: String,
    pub availability_zone: String,
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
