//! Plans: the AWS calls that change something, decided from what the `Describe*` calls
//! saw, before any of them is made. `--dry-run` prints a plan; the executor runs it.

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::settings::Settings;
use crate::state::{self, Backup, Cluster, Instance};
use crate::{Error, Result};

/// One API call (or the wait loop of `up`, a series of DescribeClusters calls).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// ec2:StartInstances.
    StartInstance {
        /// The bastion instance.
        instance_id: String,
    },
    /// ec2:StopInstances.
    StopInstance {
        /// The bastion instance.
        instance_id: String,
    },
    /// cloudhsmv2:CreateHsm; on a cluster that had HSMs, AWS restores the latest backup
    /// onto the new HSM.
    CreateHsm {
        /// The cluster that gets the HSM.
        cluster_id: String,
        /// Where the HSM is created (a zone with a subnet of the cluster).
        availability_zone: String,
    },
    /// DescribeClusters until every HSM of the cluster is ACTIVE.
    WaitHsmsActive {
        /// The cluster polled.
        cluster_id: String,
        /// When to give up.
        timeout: Duration,
        /// The first wait between two calls (it grows from there).
        first_interval: Duration,
    },
    /// cloudhsmv2:DeleteHsm.
    DeleteHsm {
        /// The cluster the HSM belongs to.
        cluster_id: String,
        /// The HSM deleted.
        hsm_id: String,
    },
    /// ec2-instance-connect:SendSSHPublicKey (the key is usable for 60 seconds).
    SendSshPublicKey {
        /// The bastion instance.
        instance_id: String,
        /// The OS user the key logs in as.
        os_user: String,
        /// The instance's zone (the API requires it).
        availability_zone: String,
        /// The roster member whose key it is.
        member: String,
        /// The OpenSSH public key line.
        public_key: String,
    },
    /// cloudhsmv2:InitializeCluster.
    InitializeCluster {
        /// The cluster initialised.
        cluster_id: String,
        /// The cluster certificate (PEM), issued for the cluster's CSR.
        signed_cert: String,
        /// The certificate (PEM) that issued it, which the cluster will trust.
        trust_anchor: String,
    },
    /// cloudhsmv2:CopyBackupToRegion.
    CopyBackupToRegion {
        /// The backup copied.
        backup_id: String,
        /// The region receiving the copy.
        destination_region: String,
    },
}

impl Step {
    /// The API operation.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::StartInstance { .. } => "StartInstances",
            Self::StopInstance { .. } => "StopInstances",
            Self::CreateHsm { .. } => "CreateHsm",
            Self::WaitHsmsActive { .. } => "DescribeClusters",
            Self::DeleteHsm { .. } => "DeleteHsm",
            Self::SendSshPublicKey { .. } => "SendSSHPublicKey",
            Self::InitializeCluster { .. } => "InitializeCluster",
            Self::CopyBackupToRegion { .. } => "CopyBackupToRegion",
        }
    }

    /// The service, as in IAM action names.
    pub fn service(&self) -> &'static str {
        match self {
            Self::StartInstance { .. } | Self::StopInstance { .. } => "ec2",
            Self::SendSshPublicKey { .. } => "ec2-instance-connect",
            _ => "cloudhsm",
        }
    }

    /// Parameters as sent (certificates shortened to their size).
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::StartInstance { instance_id } | Self::StopInstance { instance_id } => {
                vec![("InstanceIds", instance_id.clone())]
            }
            Self::CreateHsm {
                cluster_id,
                availability_zone,
            } => vec![
                ("ClusterId", cluster_id.clone()),
                ("AvailabilityZone", availability_zone.clone()),
            ],
            Self::WaitHsmsActive { cluster_id, .. } => {
                vec![("Filters", format!("clusterIds={cluster_id}"))]
            }
            Self::DeleteHsm { cluster_id, hsm_id } => {
                vec![("ClusterId", cluster_id.clone()), ("HsmId", hsm_id.clone())]
            }
            Self::SendSshPublicKey {
                instance_id,
                os_user,
                availability_zone,
                member,
                public_key,
            } => vec![
                ("InstanceId", instance_id.clone()),
                ("InstanceOSUser", os_user.clone()),
                ("AvailabilityZone", availability_zone.clone()),
                (
                    "SSHPublicKey",
                    format!("{} (member {member})", key_summary(public_key)),
                ),
            ],
            Self::InitializeCluster {
                cluster_id,
                signed_cert,
                trust_anchor,
            } => vec![
                ("ClusterId", cluster_id.clone()),
                ("SignedCert", format!("<PEM, {} bytes>", signed_cert.len())),
                (
                    "TrustAnchor",
                    format!("<PEM, {} bytes>", trust_anchor.len()),
                ),
            ],
            Self::CopyBackupToRegion {
                backup_id,
                destination_region,
            } => vec![
                ("BackupId", backup_id.clone()),
                ("DestinationRegion", destination_region.clone()),
            ],
        }
    }

    /// The IAM action the call needs.
    pub fn iam_action(&self) -> String {
        iam_action(self.operation())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service(), self.operation())?;
        for (name, value) in self.parameters() {
            write!(f, " {name}={value}")?;
        }
        if let Self::WaitHsmsActive {
            timeout,
            first_interval,
            ..
        } = self
        {
            write!(
                f,
                " (repeated every {}-{} s until every HSM is ACTIVE, at most {} s)",
                first_interval.as_secs(),
                crate::settings::MAX_POLL_INTERVAL.as_secs(),
                timeout.as_secs()
            )?;
        }
        Ok(())
    }
}

/// The IAM action of an API operation of EC2, EC2 Instance Connect or CloudHSMv2.
pub fn iam_action(operation: &str) -> String {
    let service = match operation {
        "StartInstances" | "StopInstances" | "DescribeInstances" => "ec2",
        "SendSSHPublicKey" => "ec2-instance-connect",
        _ => "cloudhsm",
    };
    format!("{service}:{operation}")
}

fn key_summary(public_key: &str) -> String {
    let mut fields = public_key.split_whitespace();
    let kind = fields.next().unwrap_or("?");
    let body = fields.next().unwrap_or("");
    let tail: String = body
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{kind} …{tail}")
}

/// What a command will do: the calls that change something, and what the operator should
/// know (which backup is restored, what to do next).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The calls, in the order they run.
    pub steps: Vec<Step>,
    /// What the operator should know, one sentence each.
    pub notes: Vec<String>,
}

/// The resources a plan touches (for the transparency log entry).
pub fn resources(plan: &Plan) -> Vec<String> {
    let mut ids = Vec::new();
    for step in &plan.steps {
        let id = match step {
            Step::StartInstance { instance_id }
            | Step::StopInstance { instance_id }
            | Step::SendSshPublicKey { instance_id, .. } => instance_id,
            Step::CreateHsm { cluster_id, .. }
            | Step::WaitHsmsActive { cluster_id, .. }
            | Step::InitializeCluster { cluster_id, .. } => cluster_id,
            Step::DeleteHsm { hsm_id, .. } => hsm_id,
            Step::CopyBackupToRegion { backup_id, .. } => backup_id,
        };
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// `up`: start the bastion, have an HSM (create one unless the cluster has one, or
/// another one with `add_hsm`), wait until every HSM is ACTIVE.
///
/// # Errors
/// [`Error::ClusterState`] for a cluster neither ACTIVE nor UNINITIALIZED (e.g. being
/// initialized or deleted), [`Error::NoBackup`] for an initialized cluster without HSM or
/// backup, [`Error::AvailabilityZone`] when no configured zone has a subnet in the cluster.
pub fn up(
    settings: &Settings,
    cluster: &Cluster,
    backups: &[Backup],
    bastion: &Instance,
    add_hsm: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    match bastion.state.as_str() {
        "running" | "pending" => plan.notes.push(format!(
            "bastion {} is already {}",
            bastion.id, bastion.state
        )),
        _ => plan.steps.push(Step::StartInstance {
            instance_id: bastion.id.clone(),
        }),
    }

    let live: Vec<_> = cluster
        .hsms
        .iter()
        .filter(|h| matches!(h.state.as_str(), "ACTIVE" | "CREATE_IN_PROGRESS"))
        .collect();
    if live.is_empty() || add_hsm {
        let initialized = match cluster.state.as_str() {
            "ACTIVE" | "INITIALIZED" | "DEGRADED" => true,
            "UNINITIALIZED" => false,
            _ => {
                return Err(Error::ClusterState {
                    cluster_id: cluster.id.clone(),
                    state: cluster.state.clone(),
                    operation: "up",
                    wanted: "ACTIVE (or UNINITIALIZED, before init-cluster)",
                });
            }
        };
        // Prefer a zone without a live HSM (a second HSM elsewhere survives a zone outage).
        let usable = |z: &&String| cluster.availability_zones.contains(z);
        let zone = settings
            .hsm_availability_zones
            .iter()
            .filter(usable)
            .find(|z| !live.iter().any(|h| &h.availability_zone == *z))
            .or_else(|| settings.hsm_availability_zones.iter().find(usable))
            .ok_or_else(|| Error::AvailabilityZone {
                zone: settings.hsm_availability_zones.join(", "),
                cluster_id: cluster.id.clone(),
                available: cluster.availability_zones.clone(),
            })?;
        if !live.is_empty() {
            plan.notes.push(format!(
                "adding an HSM in {zone} next to {}: CloudHSM clones the cluster onto it and \
                 makes a backup (adding an HSM to an active cluster triggers one)",
                live.iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if initialized {
            // "When you add an HSM to a cluster that previously contained one or more active
            // HSMs, the service restores the latest backup onto the new HSM." (AWS CloudHSM
            // User Guide, "Cluster backups in AWS CloudHSM", manage-backups.html)
            let backup = state::latest_ready(backups).ok_or_else(|| Error::NoBackup {
                cluster_id: cluster.id.clone(),
            })?;
            plan.notes.push(format!(
                "cluster {} has no HSM: AWS restores its latest backup {} (created {}) onto the new HSM in {zone}",
                cluster.id,
                backup.id,
                backup.created_text()
            ));
        } else {
            plan.notes.push(format!(
                "cluster {} is UNINITIALIZED: its first HSM is created empty in {zone}; then run \
                 `rust-pki bastion init-cluster csr`",
                cluster.id
            ));
        }
        plan.steps.push(Step::CreateHsm {
            cluster_id: cluster.id.clone(),
            availability_zone: zone.clone(),
        });
    }
    if !add_hsm {
        for hsm in &live {
            plan.notes.push(format!(
                "reusing HSM {} ({}, {})",
                hsm.id, hsm.availability_zone, hsm.state
            ));
        }
    }
    plan.steps.push(Step::WaitHsmsActive {
        cluster_id: cluster.id.clone(),
        timeout: settings.hsm_wait_timeout(),
        first_interval: settings.hsm_poll_interval(),
    });
    Ok(plan)
}

/// `down`: delete every HSM of the cluster and stop the bastion — only when a READY
/// backup created after `since` (the ceremony start) exists, so the cluster is never left
/// without a backup of what the ceremony did.
///
/// # Errors
/// [`Error::NoFreshBackup`], saying how to get one.
pub fn down(
    cluster: &Cluster,
    backups: &[Backup],
    bastion: &Instance,
    since: OffsetDateTime,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let hsms: Vec<_> = cluster
        .hsms
        .iter()
        .filter(|h| !matches!(h.state.as_str(), "DELETE_IN_PROGRESS" | "DELETED"))
        .collect();
    if !hsms.is_empty() {
        let fresh = backups
            .iter()
            .filter(|b| b.is_ready() && b.created.is_some_and(|c| c > since))
            .max_by(|a, b| a.created.cmp(&b.created));
        let Some(fresh) = fresh else {
            let latest = state::latest_ready(backups).map_or_else(
                || "there is no READY backup at all".to_owned(),
                |b| {
                    format!(
                        "the latest READY backup is {} from {}",
                        b.id,
                        b.created_text()
                    )
                },
            );
            // AWS CloudHSM User Guide, "Cluster backups in AWS CloudHSM"
            // (https://docs.aws.amazon.com/cloudhsm/latest/userguide/manage-backups.html):
            // "AWS CloudHSM makes periodic backups of your cluster at least once every 24
            // hours" and "You can't instruct the service to make backups, but ... the service
            // makes a backup when you ... activate a cluster, add an HSM to an active
            // cluster, remove an HSM from an active cluster". There is no CreateBackup call.
            return Err(Error::NoFreshBackup(format!(
                "refusing to delete the HSMs of cluster {}: no READY backup created after {} \
                 ({latest}). CloudHSM cannot be asked for a backup; it makes one at least every \
                 24 hours and whenever an HSM is added to or removed from an active cluster. \
                 To get one now: add a second HSM (`rust-pki bastion up --add-hsm`), wait until \
                 `rust-pki bastion backups` lists a READY backup newer than {}, then rerun \
                 `rust-pki bastion down`",
                cluster.id,
                state::rfc3339(since),
                state::rfc3339(since),
            )));
        };
        plan.notes.push(format!(
            "backup {} (READY, created {}) holds the cluster as of the ceremony; CloudHSM \
             also backs up the cluster when an HSM is removed from it",
            fresh.id,
            fresh.created_text()
        ));
        for hsm in hsms {
            plan.steps.push(Step::DeleteHsm {
                cluster_id: cluster.id.clone(),
                hsm_id: hsm.id.clone(),
            });
        }
    } else {
        plan.notes
            .push(format!("cluster {} has no HSM to delete", cluster.id));
    }
    match bastion.state.as_str() {
        "stopped" | "stopping" | "terminated" => plan.notes.push(format!(
            "bastion {} is already {}",
            bastion.id, bastion.state
        )),
        _ => plan.steps.push(Step::StopInstance {
            instance_id: bastion.id.clone(),
        }),
    }
    Ok(plan)
}

/// `admit`: push each member's key to the running bastion. `members` are (member id,
/// OpenSSH public key line), already resolved against the roster.
///
/// # Errors
/// [`Error::BastionNotRunning`].
pub fn admit(bastion: &Instance, os_user: &str, members: &[(String, String)]) -> Result<Plan> {
    if bastion.state != "running" {
        return Err(Error::BastionNotRunning {
            instance_id: bastion.id.clone(),
            state: bastion.state.clone(),
        });
    }
    let steps = members
        .iter()
        .map(|(member, key)| Step::SendSshPublicKey {
            instance_id: bastion.id.clone(),
            os_user: os_user.to_owned(),
            availability_zone: bastion.availability_zone.clone(),
            member: member.clone(),
            public_key: key.clone(),
        })
        .collect();
    Ok(Plan {
        steps,
        notes: vec![format!(
            "each key is accepted for 60 seconds: connect now as {os_user}@{} (through the EC2 \
             Instance Connect Endpoint)",
            bastion.id
        )],
    })
}

/// `backups copy`: copy one READY backup of the cluster to the DR region.
///
/// # Errors
/// [`Error::BackupNotFound`] for an id that is not a READY backup of the cluster.
pub fn copy_backup(
    cluster: &Cluster,
    backups: &[Backup],
    backup_id: &str,
    dr_region: &str,
) -> Result<Plan> {
    let found = backups
        .iter()
        .find(|b| b.id == backup_id && b.is_ready())
        .ok_or_else(|| Error::BackupNotFound {
            backup_id: backup_id.to_owned(),
            cluster_id: cluster.id.clone(),
        })?;
    Ok(Plan {
        steps: vec![Step::CopyBackupToRegion {
            backup_id: found.id.clone(),
            destination_region: dr_region.to_owned(),
        }],
        notes: vec![format!(
            "the copy in {dr_region} is a new backup with its own id; list it with `--region {dr_region} backups`"
        )],
    })
}

/// `init-cluster upload`: the checked certificate and anchor go to InitializeCluster.
///
/// # Errors
/// [`Error::ClusterState`] unless the cluster is UNINITIALIZED.
pub fn initialize(cluster: &Cluster, signed_cert: &str, trust_anchor: &str) -> Result<Plan> {
    require_uninitialized(cluster, "init-cluster")?;
    Ok(Plan {
        steps: vec![Step::InitializeCluster {
            cluster_id: cluster.id.clone(),
            signed_cert: signed_cert.to_owned(),
            trust_anchor: trust_anchor.to_owned(),
        }],
        notes: vec![format!(
            "then activate the cluster from the bastion with the CloudHSM CLI (cluster \
             activate) and back it up: activating makes a backup"
        )],
    })
}

/// The cluster must be UNINITIALIZED.
///
/// # Errors
/// [`Error::ClusterState`].
pub fn require_uninitialized(cluster: &Cluster, operation: &'static str) -> Result<()> {
    if cluster.state == "UNINITIALIZED" {
        Ok(())
    } else {
        Err(Error::ClusterState {
            cluster_id: cluster.id.clone(),
            state: cluster.state.clone(),
            operation,
            wanted: "UNINITIALIZED",
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::state::Hsm;

    fn settings() -> Settings {
        Settings::parse(
            "region = \"us-east-1\"\ndr_region = \"us-west-2\"\nbackup_retention_days = 90\n\
             hsm_availability_zones = [\"us-east-1a\", \"us-east-1b\"]\n\
             hsm_wait_timeout_seconds = 60\nhsm_poll_interval_seconds = 5\nmax_attempts = 3\n",
            Path::new("t.toml"),
        )
        .unwrap()
    }

    fn cluster(state: &str, hsms: &[(&str, &str, &str)]) -> Cluster {
        Cluster {
            id: "cluster-1".to_owned(),
            state: state.to_owned(),
            hsms: hsms
                .iter()
                .map(|(id, az, st)| Hsm {
                    id: (*id).to_owned(),
                    availability_zone: (*az).to_owned(),
                    state: (*st).to_owned(),
                    state_message: None,
                    eni_ip: None,
                })
                .collect(),
            availability_zones: vec!["us-east-1a".to_owned(), "us-east-1b".to_owned()],
            backup_retention: None,
            csr: None,
        }
    }

    fn instance(state: &str) -> Instance {
        Instance {
            id: "i-1".to_owned(),
            state: state.to_owned(),
            availability_zone: "us-east-1a".to_owned(),
            private_ip: None,
            launch_time: None,
        }
    }

    fn backup(id: &str, state: &str, at: i64) -> Backup {
        Backup {
            id: id.to_owned(),
            state: state.to_owned(),
            created: OffsetDateTime::from_unix_timestamp(at).ok(),
            cluster_id: None,
            source_region: None,
            never_expires: false,
        }
    }

    #[test]
    fn up_refuses_initialized_cluster_without_hsm_or_backup() {
        let err = up(
            &settings(),
            &cluster("ACTIVE", &[]),
            &[backup("b", "CREATE_IN_PROGRESS", 1)],
            &instance("stopped"),
            false,
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoBackup { .. }), "{err}");
    }

    #[test]
    fn up_on_uninitialized_cluster_creates_first_hsm_and_points_to_init_cluster() {
        let plan = up(
            &settings(),
            &cluster("UNINITIALIZED", &[]),
            &[],
            &instance("stopped"),
            false,
        )
        .unwrap();
        assert_eq!(plan.steps[0].operation(), "StartInstances");
        assert_eq!(plan.steps[1].operation(), "CreateHsm");
        assert!(
            plan.notes[0].contains("init-cluster csr"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn up_add_hsm_prefers_a_zone_without_hsm() {
        let plan = up(
            &settings(),
            &cluster("ACTIVE", &[("hsm-1", "us-east-1a", "ACTIVE")]),
            &[backup("b", "READY", 1)],
            &instance("running"),
            true,
        )
        .unwrap();
        assert_eq!(
            plan.steps[0],
            Step::CreateHsm {
                cluster_id: "cluster-1".to_owned(),
                availability_zone: "us-east-1b".to_owned()
            }
        );
    }

    #[test]
    fn up_refuses_cluster_being_deleted() {
        let err = up(
            &settings(),
            &cluster("DELETE_IN_PROGRESS", &[]),
            &[],
            &instance("running"),
            false,
        )
        .unwrap_err();
        assert!(matches!(err, Error::ClusterState { .. }), "{err}");
    }

    #[test]
    fn down_without_hsm_only_stops_the_bastion() {
        let plan = down(
            &cluster("ACTIVE", &[]),
            &[],
            &instance("running"),
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            plan.steps,
            [Step::StopInstance {
                instance_id: "i-1".to_owned()
            }]
        );
    }

    #[test]
    fn admit_refuses_stopped_bastion() {
        let err = admit(&instance("stopped"), "ceremony", &[]).unwrap_err();
        assert!(matches!(err, Error::BastionNotRunning { .. }), "{err}");
    }

    #[test]
    fn step_display_names_operation_and_parameters() {
        let step = Step::CreateHsm {
            cluster_id: "cluster-1".to_owned(),
            availability_zone: "us-east-1a".to_owned(),
        };
        assert_eq!(
            step.to_string(),
            "cloudhsm:CreateHsm ClusterId=cluster-1 AvailabilityZone=us-east-1a"
        );
        assert_eq!(step.iam_action(), "cloudhsm:CreateHsm");
    }
}
