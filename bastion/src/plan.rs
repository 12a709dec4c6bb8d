//! Plans: the AWS calls that change something, decided from what the `Describe*` calls
//! saw, before any of them is made. `--dry-run` prints a plan; the executor runs it.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use time::OffsetDateTime;

use crate::names::{Names, RETAIN_UNTIL_TAG};
use crate::settings::Settings;
use crate::state::{self, Backup, Cluster, Instance, Subnet};
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
        /// Its fixed address: `hsm_host_number` of the zone's subnet. "If you specify an IP
        /// address, use an available address from the subnet that maps to the Availability
        /// Zone where you are creating the HSM" (API reference, CreateHsm,
        /// https://docs.aws.amazon.com/cloudhsm/latest/APIReference/API_CreateHsm.html).
        ip_address: String,
    },
    /// DescribeClusters until the HSMs being deleted are gone: an HSM in
    /// DELETE_IN_PROGRESS (e.g. `up` right after `down`) still holds its fixed address.
    WaitHsmsDeleted {
        /// The cluster polled.
        cluster_id: String,
        /// The HSMs being deleted.
        hsm_ids: Vec<String>,
        /// When to give up.
        timeout: Duration,
        /// The first wait between two calls (it grows from there).
        first_interval: Duration,
    },
    /// DescribeClusters until our HSMs (those reused, and those this plan creates) are
    /// ACTIVE; HSMs of the cluster being deleted are not ours and are ignored.
    WaitHsmsActive {
        /// The cluster polled.
        cluster_id: String,
        /// The HSMs reused; the executor adds those it created.
        hsm_ids: Vec<String>,
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
    /// cloudhsmv2:CopyBackupToRegion, tagging the copy: a copy "is no longer associated
    /// with a cluster and has no backup retention policy. You must manually delete any
    /// backups not associated with a cluster" (User Guide, "Configure AWS CloudHSM backup
    /// retention policy",
    /// https://docs.aws.amazon.com/cloudhsm/latest/userguide/manage-backup-retention.html),
    /// so the copy carries the date it may be deleted, and `backups prune` deletes it then.
    CopyBackupToRegion {
        /// The backup copied.
        backup_id: String,
        /// The region receiving the copy.
        destination_region: String,
        /// TagList of the copy (key, value): the role tag and the retain-until date.
        tags: Vec<(String, String)>,
    },
    /// cloudhsmv2:DeleteBackup of an expired copy in the DR region ("A backup can be
    /// restored up to 7 days after the DeleteBackup request is made", API reference,
    /// https://docs.aws.amazon.com/cloudhsm/latest/APIReference/API_DeleteBackup.html).
    DeleteBackup {
        /// The copy deleted.
        backup_id: String,
    },
}

impl Step {
    /// The API operation.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::StartInstance { .. } => "StartInstances",
            Self::StopInstance { .. } => "StopInstances",
            Self::CreateHsm { .. } => "CreateHsm",
            Self::WaitHsmsDeleted { .. } | Self::WaitHsmsActive { .. } => "DescribeClusters",
            Self::DeleteHsm { .. } => "DeleteHsm",
            Self::SendSshPublicKey { .. } => "SendSSHPublicKey",
            Self::InitializeCluster { .. } => "InitializeCluster",
            Self::CopyBackupToRegion { .. } => "CopyBackupToRegion",
            Self::DeleteBackup { .. } => "DeleteBackup",
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
                ip_address,
            } => vec![
                ("ClusterId", cluster_id.clone()),
                ("AvailabilityZone", availability_zone.clone()),
                ("IpAddress", ip_address.clone()),
            ],
            Self::WaitHsmsDeleted { cluster_id, .. } | Self::WaitHsmsActive { cluster_id, .. } => {
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
                tags,
            } => vec![
                ("BackupId", backup_id.clone()),
                ("DestinationRegion", destination_region.clone()),
                (
                    "TagList",
                    tags.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ],
            Self::DeleteBackup { backup_id } => vec![("BackupId", backup_id.clone())],
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
        let (until, timeout, first_interval) = match self {
            Self::WaitHsmsActive {
                timeout,
                first_interval,
                ..
            } => ("our HSMs are ACTIVE", timeout, first_interval),
            Self::WaitHsmsDeleted {
                hsm_ids,
                timeout,
                first_interval,
                ..
            } => {
                write!(f, " (HSMs {})", hsm_ids.join(", "))?;
                ("they are deleted", timeout, first_interval)
            }
            _ => return Ok(()),
        };
        write!(
            f,
            " (repeated every {}-{} s until {until}, at most {} s)",
            first_interval.as_secs(),
            crate::settings::MAX_POLL_INTERVAL.as_secs(),
            timeout.as_secs()
        )
    }
}

/// The IAM action of an API operation of EC2, EC2 Instance Connect or CloudHSMv2.
pub fn iam_action(operation: &str) -> String {
    let service = match operation {
        "StartInstances" | "StopInstances" | "DescribeInstances" | "DescribeSubnets" => "ec2",
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
            | Step::WaitHsmsDeleted { cluster_id, .. }
            | Step::WaitHsmsActive { cluster_id, .. }
            | Step::InitializeCluster { cluster_id, .. } => cluster_id,
            Step::DeleteHsm { hsm_id, .. } => hsm_id,
            Step::CopyBackupToRegion { backup_id, .. } | Step::DeleteBackup { backup_id } => {
                backup_id
            }
        };
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// `up`: start the bastion, have an HSM (create one unless the cluster has one, or
/// another one with `add_hsm`), wait until our HSMs are ACTIVE. A new HSM goes to a zone
/// of the cluster's SubnetMapping (one without a live HSM first) at its fixed address
/// ([`hsm_address`] of that zone's subnet from `subnets`); HSMs still being deleted are
/// waited out first, since they hold that address.
///
/// # Errors
/// [`Error::ClusterState`] for a cluster neither ACTIVE nor UNINITIALIZED (e.g. being
/// initialized or deleted), [`Error::NoBackup`] for an initialized cluster without HSM or
/// backup, [`Error::NoSubnet`] / [`Error::HsmAddress`] when no address can be made.
pub fn up(
    settings: &Settings,
    cluster: &Cluster,
    subnets: &[Subnet],
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
        // A zone without a live HSM: each zone's subnet has one fixed address, and a second
        // HSM elsewhere survives a zone outage.
        let first = cluster.subnets.first().ok_or_else(|| Error::NoSubnet {
            cluster_id: cluster.id.clone(),
        })?;
        let subnet = cluster
            .subnets
            .iter()
            .find(|s| {
                !live
                    .iter()
                    .any(|h| h.availability_zone == s.availability_zone)
            })
            .ok_or_else(|| Error::HsmAddress {
                subnet_id: first.subnet_id.clone(),
                cidr: "-".to_owned(),
                message: format!(
                    "every zone of cluster {} already has a live HSM at its fixed address; \
                     a further HSM needs a subnet in another zone (terraform)",
                    cluster.id
                ),
            })?;
        let zone = &subnet.availability_zone;
        let ip_address = hsm_address(subnets, &subnet.subnet_id, settings.hsm_host_number)?;
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
        let deleting: Vec<String> = cluster
            .hsms
            .iter()
            .filter(|h| h.state == "DELETE_IN_PROGRESS")
            .map(|h| h.id.clone())
            .collect();
        if !deleting.is_empty() {
            plan.notes.push(format!(
                "HSMs {} are still being deleted: waiting until they are gone, as one may hold \
                 the address {ip_address}",
                deleting.join(", ")
            ));
            plan.steps.push(Step::WaitHsmsDeleted {
                cluster_id: cluster.id.clone(),
                hsm_ids: deleting,
                timeout: settings.hsm_wait_timeout(),
                first_interval: settings.hsm_poll_interval(),
            });
        }
        plan.steps.push(Step::CreateHsm {
            cluster_id: cluster.id.clone(),
            availability_zone: zone.clone(),
            ip_address,
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
        hsm_ids: live.iter().map(|h| h.id.clone()).collect(),
        timeout: settings.hsm_wait_timeout(),
        first_interval: settings.hsm_poll_interval(),
    });
    Ok(plan)
}

/// The fixed address of an HSM in `subnet_id`: host `host` of its IPv4 CIDR, which must
/// be neither one of the four addresses AWS reserves at the start of every subnet nor the
/// last (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
///
/// # Errors
/// [`Error::HsmAddress`].
pub fn hsm_address(subnets: &[Subnet], subnet_id: &str, host: u32) -> Result<String> {
    let bad = |cidr: &str, message: String| Error::HsmAddress {
        subnet_id: subnet_id.to_owned(),
        cidr: cidr.to_owned(),
        message,
    };
    let subnet = subnets
        .iter()
        .find(|s| s.id == subnet_id)
        .ok_or_else(|| bad("-", "DescribeSubnets did not list it".to_owned()))?;
    let cidr = subnet.cidr_block.as_str();
    let (base, prefix) = cidr
        .split_once('/')
        .and_then(|(a, p)| Some((a.parse::<Ipv4Addr>().ok()?, p.parse::<u32>().ok()?)))
        .filter(|(_, p)| *p <= 30)
        .ok_or_else(|| bad(cidr, "not an IPv4 CIDR block of /30 or larger".to_owned()))?;
    let size = 1u64 << (32 - prefix);
    if u64::from(host) < u64::from(crate::settings::FIRST_USABLE_HOST)
        || u64::from(host) >= size - 1
    {
        return Err(bad(
            cidr,
            format!(
                "hsm_host_number {host} is not a usable host of this subnet ({}..={})",
                crate::settings::FIRST_USABLE_HOST,
                size - 2
            ),
        ));
    }
    Ok(Ipv4Addr::from(u32::from(base) + host).to_string())
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

/// `backups copy`: copy one READY backup of the cluster to the DR region, tagged with
/// the role `names.backup_copy_role` and [`RETAIN_UNTIL_TAG`] = `retain_until`.
///
/// # Errors
/// [`Error::BackupNotFound`] for an id that is not a READY backup of the cluster.
pub fn copy_backup(
    names: &Names,
    cluster: &Cluster,
    backups: &[Backup],
    backup_id: &str,
    dr_region: &str,
    retain_until: OffsetDateTime,
) -> Result<Plan> {
    let found = backups
        .iter()
        .find(|b| b.id == backup_id && b.is_ready())
        .ok_or_else(|| Error::BackupNotFound {
            backup_id: backup_id.to_owned(),
            cluster_id: cluster.id.clone(),
        })?;
    let until = state::rfc3339(retain_until);
    Ok(Plan {
        steps: vec![Step::CopyBackupToRegion {
            backup_id: found.id.clone(),
            destination_region: dr_region.to_owned(),
            tags: vec![
                (names.tag_key.clone(), names.backup_copy_role.clone()),
                (RETAIN_UNTIL_TAG.to_owned(), until.clone()),
            ],
        }],
        notes: vec![format!(
            "the copy in {dr_region} is a new backup with its own id and no retention policy \
             (copies have none); it is tagged {RETAIN_UNTIL_TAG}={until}, after which \
             `rust-pki bastion backups prune` deletes it"
        )],
    })
}

/// `backups prune`: delete the copies of `cluster_id`'s backups in the DR region
/// (`copies`: DescribeBackups there) whose [`RETAIN_UNTIL_TAG`] is before `now`. Only
/// copies tagged with `names.backup_copy_role` by `backups copy` are considered, and the
/// newest READY copy is always kept, as CloudHSM keeps a cluster's last backup.
pub fn prune_copies(
    names: &Names,
    cluster_id: &str,
    copies: &[Backup],
    now: OffsetDateTime,
) -> Plan {
    let mut plan = Plan::default();
    let mut ours: Vec<&Backup> = Vec::new();
    for copy in copies
        .iter()
        .filter(|b| b.source_cluster.as_deref() == Some(cluster_id) && b.is_ready())
    {
        if copy.tag(&names.tag_key) == Some(names.backup_copy_role.as_str()) {
            ours.push(copy);
        } else {
            plan.notes.push(format!(
                "copy {} is not tagged {}={} (not made by `backups copy`): kept; delete it by hand",
                copy.id, names.tag_key, names.backup_copy_role
            ));
        }
    }
    let newest = ours
        .iter()
        .max_by(|a, b| a.created.cmp(&b.created))
        .map(|b| b.id.clone());
    for copy in ours {
        let until = copy.tag(RETAIN_UNTIL_TAG).and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        match until {
            None => plan.notes.push(format!(
                "copy {} has no readable {RETAIN_UNTIL_TAG} tag: kept; tag it or delete it by hand",
                copy.id
            )),
            Some(until) if until < now && Some(&copy.id) != newest.as_ref() => {
                plan.steps.push(Step::DeleteBackup {
                    backup_id: copy.id.clone(),
                });
            }
            Some(until) if until < now => plan.notes.push(format!(
                "copy {} expired at {} but is the newest copy of {cluster_id}: kept",
                copy.id,
                state::rfc3339(until)
            )),
            Some(_) => {}
        }
    }
    plan
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
    use crate::state::{ClusterSubnet, Hsm};

    fn settings() -> Settings {
        Settings::parse(
            "region = \"us-east-1\"\ndr_region = \"us-west-2\"\nbackup_retention_days = 90\n\
             hsm_host_number = 10\n\
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
            subnets: vec![
                ClusterSubnet {
                    availability_zone: "us-east-1a".to_owned(),
                    subnet_id: "subnet-a".to_owned(),
                },
                ClusterSubnet {
                    availability_zone: "us-east-1b".to_owned(),
                    subnet_id: "subnet-b".to_owned(),
                },
            ],
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
            source_cluster: None,
            tags: vec![],
        }
    }

    fn subnets() -> Vec<Subnet> {
        vec![
            Subnet {
                id: "subnet-a".to_owned(),
                cidr_block: "10.42.0.0/24".to_owned(),
            },
            Subnet {
                id: "subnet-b".to_owned(),
                cidr_block: "10.42.1.0/24".to_owned(),
            },
        ]
    }

    #[test]
    fn up_refuses_initialized_cluster_without_hsm_or_backup() {
        let err = up(
            &settings(),
            &cluster("ACTIVE", &[]),
            &subnets(),
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
            &subnets(),
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
            &subnets(),
            &[backup("b", "READY", 1)],
            &instance("running"),
            true,
        )
        .unwrap();
        assert_eq!(
            plan.steps[0],
            Step::CreateHsm {
                cluster_id: "cluster-1".to_owned(),
                availability_zone: "us-east-1b".to_owned(),
                ip_address: "10.42.1.10".to_owned(),
            }
        );
    }

    #[test]
    fn up_refuses_cluster_being_deleted() {
        let err = up(
            &settings(),
            &cluster("DELETE_IN_PROGRESS", &[]),
            &subnets(),
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
            ip_address: "10.42.0.10".to_owned(),
        };
        assert_eq!(
            step.to_string(),
            "cloudhsm:CreateHsm ClusterId=cluster-1 AvailabilityZone=us-east-1a \
             IpAddress=10.42.0.10"
        );
        assert_eq!(step.iam_action(), "cloudhsm:CreateHsm");
    }

    #[test]
    fn up_right_after_down_waits_for_the_deleting_hsm_then_reuses_its_address() {
        let plan = up(
            &settings(),
            &cluster("ACTIVE", &[("hsm-old", "us-east-1a", "DELETE_IN_PROGRESS")]),
            &subnets(),
            &[backup("b", "READY", 1)],
            &instance("running"),
            false,
        )
        .unwrap();
        assert_eq!(
            plan.steps.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            [
                "cloudhsm:DescribeClusters Filters=clusterIds=cluster-1 (HSMs hsm-old) (repeated \
                 every 5-60 s until they are deleted, at most 60 s)",
                "cloudhsm:CreateHsm ClusterId=cluster-1 AvailabilityZone=us-east-1a \
                 IpAddress=10.42.0.10",
                "cloudhsm:DescribeClusters Filters=clusterIds=cluster-1 (repeated every 5-60 s \
                 until our HSMs are ACTIVE, at most 60 s)",
            ]
        );
        // The deleting HSM is not one the wait waits for.
        assert!(
            matches!(&plan.steps[2], Step::WaitHsmsActive { hsm_ids, .. } if hsm_ids.is_empty())
        );
    }

    #[test]
    fn hsm_address_is_the_host_of_the_zone_subnet_and_refuses_reserved_hosts() {
        assert_eq!(
            hsm_address(&subnets(), "subnet-b", 10).unwrap(),
            "10.42.1.10"
        );
        let small = [Subnet {
            id: "subnet-s".to_owned(),
            cidr_block: "10.0.0.0/28".to_owned(),
        }];
        assert_eq!(hsm_address(&small, "subnet-s", 14).unwrap(), "10.0.0.14");
        let err = hsm_address(&small, "subnet-s", 15).unwrap_err().to_string();
        assert!(
            err.contains("subnet subnet-s (10.0.0.0/28): hsm_host_number 15 is not a usable host"),
            "{err}"
        );
        let err = hsm_address(&small, "subnet-x", 10).unwrap_err().to_string();
        assert!(err.contains("DescribeSubnets did not list it"), "{err}");
    }

    #[test]
    fn up_refuses_a_cluster_without_subnets() {
        let mut c = cluster("UNINITIALIZED", &[]);
        c.subnets.clear();
        let err = up(
            &settings(),
            &c,
            &subnets(),
            &[],
            &instance("running"),
            false,
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoSubnet { .. }), "{err}");
    }

    #[test]
    fn copies_are_tagged_and_pruned_after_their_date_keeping_the_newest() {
        let names = Names::load().unwrap();
        let c = cluster("ACTIVE", &[]);
        let until = OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap();
        let plan = copy_backup(
            &names,
            &c,
            &[backup("b1", "READY", 1)],
            "b1",
            "us-west-2",
            until,
        )
        .unwrap();
        assert_eq!(
            plan.steps[0].to_string(),
            format!(
                "cloudhsm:CopyBackupToRegion BackupId=b1 DestinationRegion=us-west-2 \
                 TagList={}={},{RETAIN_UNTIL_TAG}=2033-05-18T03:33:20Z",
                names.tag_key, names.backup_copy_role
            )
        );
        let copy = |id: &str, at: i64, until: &str, cluster: &str| {
            let mut b = backup(id, "READY", at);
            b.source_cluster = Some(cluster.to_owned());
            b.tags = vec![
                (names.tag_key.clone(), names.backup_copy_role.clone()),
                (RETAIN_UNTIL_TAG.to_owned(), until.to_owned()),
            ];
            b
        };
        let copies = [
            copy("old", 10, "2020-01-01T00:00:00Z", "cluster-1"),
            copy("newest", 30, "2020-01-02T00:00:00Z", "cluster-1"),
            copy("young", 20, "2099-01-01T00:00:00Z", "cluster-1"),
            copy("other", 5, "2020-01-01T00:00:00Z", "cluster-other"),
        ];
        let plan = prune_copies(
            &names,
            "cluster-1",
            &copies,
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        );
        assert_eq!(
            plan.steps,
            [Step::DeleteBackup {
                backup_id: "old".to_owned()
            }]
        );
        assert!(
            plan.notes[0].contains("copy newest expired"),
            "{:?}",
            plan.notes
        );
    }

    #[test]
    fn add_hsm_refuses_when_every_zone_has_one_at_its_fixed_address() {
        let err = up(
            &settings(),
            &cluster(
                "ACTIVE",
                &[
                    ("hsm-1", "us-east-1a", "ACTIVE"),
                    ("hsm-2", "us-east-1b", "ACTIVE"),
                ],
            ),
            &subnets(),
            &[backup("b", "READY", 1)],
            &instance("running"),
            true,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("every zone of cluster cluster-1 already has a live HSM"),
            "{err}"
        );
    }
}
