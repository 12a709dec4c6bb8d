//! The crate's one error type.

use std::path::PathBuf;

/// What went wrong, naming the AWS operation, resource or file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// terraform/names.json (compiled in) lacks a value.
    #[error("terraform/names.json: {0}")]
    Names(String),
    /// terraform/names.json (compiled in) is not JSON or lacks a key.
    #[error("terraform/names.json: {0}")]
    NamesSyntax(#[source] serde_json::Error),
    /// policy/aws.toml cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// policy/aws.toml is not valid TOML or has unknown/missing fields.
    #[error("{}: {source}", path.display())]
    SettingsSyntax {
        /// The settings file.
        path: PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
    },
    /// A field of policy/aws.toml breaks a rule.
    #[error("{}: {field}: {message}", path.display())]
    Settings {
        /// The settings file.
        path: PathBuf,
        /// The field, e.g. `region`.
        field: String,
        /// The rule it breaks.
        message: String,
    },
    /// No CloudHSM cluster carries the tag.
    #[error(
        "no CloudHSM cluster is tagged {tag_key}={value} (is terraform applied in this region?)"
    )]
    ClusterNotFound {
        /// The tag's key.
        tag_key: String,
        /// The tag's value.
        value: String,
    },
    /// More than one cluster carries the tag.
    #[error("several CloudHSM clusters are tagged {tag_key}={value}: {ids:?}; expected one")]
    ClusterAmbiguous {
        /// The tag's key.
        tag_key: String,
        /// The tag's value.
        value: String,
        /// The ids of the clusters tagged.
        ids: Vec<String>,
    },
    /// No (non-terminated) EC2 instance carries the tag.
    #[error("no EC2 instance is tagged {tag_key}={value} (is terraform applied in this region?)")]
    BastionNotFound {
        /// The tag's key.
        tag_key: String,
        /// The tag's value.
        value: String,
    },
    /// More than one instance carries the tag.
    #[error("several EC2 instances are tagged {tag_key}={value}: {ids:?}; expected one")]
    BastionAmbiguous {
        /// The tag's key.
        tag_key: String,
        /// The tag's value.
        value: String,
        /// The ids of the instances tagged.
        ids: Vec<String>,
    },
    /// The cluster is not in a state the operation accepts.
    #[error("cluster {cluster_id} is {state}; {operation} needs it {wanted}")]
    ClusterState {
        /// The cluster's id.
        cluster_id: String,
        /// The cluster's state, as AWS reports it.
        state: String,
        /// The operation, e.g. `up`.
        operation: &'static str,
        /// The state or states it needs.
        wanted: &'static str,
    },
    /// `up` on an initialized cluster without HSMs and without a READY backup: a new HSM
    /// would come up empty.
    #[error(
        "cluster {cluster_id} has no HSM and no READY backup: a new HSM would not hold the root \
         key. Restore from the disaster-recovery region (`backups` lists them) before `up`"
    )]
    NoBackup {
        /// The cluster's id.
        cluster_id: String,
    },
    /// `down` without a READY backup made after the ceremony started.
    #[error("{0}")]
    NoFreshBackup(String),
    /// The cluster's SubnetMapping is empty.
    #[error("cluster {cluster_id} has no subnet (SubnetMapping is empty): is terraform applied?")]
    NoSubnet {
        /// The cluster's id.
        cluster_id: String,
    },
    /// The fixed HSM address cannot be made in the subnet (DescribeSubnets did not list it,
    /// its CIDR is not IPv4, or `hsm_host_number` does not fit in it).
    #[error("subnet {subnet_id} ({cidr}): {message}")]
    HsmAddress {
        /// The subnet.
        subnet_id: String,
        /// Its CIDR block, or `-`.
        cidr: String,
        /// What is wrong.
        message: String,
    },
    /// The HSM did not become ACTIVE (or finish deleting) in time.
    #[error(
        "HSM {hsm_id} is still {state} after {waited_seconds} s (hsm_wait_timeout_seconds in \
         policy/aws.toml); check `rust-pki bastion status` and the CloudHSM console, then rerun \
         `up` (it reuses the HSM)"
    )]
    HsmTimeout {
        /// The HSM's id.
        hsm_id: String,
        /// The HSM's state, as AWS reports it.
        state: String,
        /// How long we waited, in seconds.
        waited_seconds: u64,
    },
    /// The HSM went to a state it does not come back from (DEGRADED, DELETED, ...).
    #[error("HSM {hsm_id} is {state}: {message}")]
    HsmFailed {
        /// The HSM's id.
        hsm_id: String,
        /// The HSM's state, as AWS reports it.
        state: String,
        /// AWS's state message, or `-`.
        message: String,
    },
    /// The bastion must be running (e.g. for `admit`).
    #[error("bastion instance {instance_id} is {state}; run `rust-pki bastion up` first")]
    BastionNotRunning {
        /// The instance's id.
        instance_id: String,
        /// The instance's state, as AWS reports it.
        state: String,
    },
    /// A backup id that is not a backup of the cluster.
    #[error("no backup {backup_id} of cluster {cluster_id}")]
    BackupNotFound {
        /// The backup id given.
        backup_id: String,
        /// The cluster's id.
        cluster_id: String,
    },
    /// init-cluster: the CSR, the signed certificate or the trust anchor is wrong.
    #[error("{0}")]
    Certificate(String),
    /// The caller lacks an IAM permission.
    #[error(
        "{operation}: access denied ({code}); the caller needs the IAM action {iam_action} \
         (assume the operator role, terraform output operator_role_arn, with MFA). AWS says: \
         {message}"
    )]
    AccessDenied {
        /// The AWS operation, e.g. `CreateHsm`.
        operation: &'static str,
        /// The IAM action it needs, e.g. `cloudhsm:CreateHsm`.
        iam_action: String,
        /// AWS's error code.
        code: String,
        /// AWS's error message, or `-`.
        message: String,
    },
    /// Any other failure of an AWS call (after the SDK's retries).
    #[error("{operation}: {message}")]
    Aws {
        /// The AWS operation, e.g. `SendSSHPublicKey`.
        operation: &'static str,
        /// What went wrong.
        message: String,
    },
    /// An AWS response lacks a field we need.
    #[error("{operation}: the response has no {field}")]
    Missing {
        /// The AWS operation, e.g. `CreateHsm`.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// Writing progress.
    #[error("writing progress: {0}")]
    Progress(std::io::Error),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
