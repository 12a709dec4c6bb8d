//! The executor (feature `aws`): observes the account with read-only `Describe*` calls and
//! runs [`Plan`]s with the AWS SDK.
//!
//! Region, credentials and endpoint come from the standard AWS config chain (environment,
//! profiles, SSO-less role assumption, IMDS), with `--region` / `--endpoint-url` overrides.
//! Every call uses the SDK's standard retry mode with `max_attempts` from policy/aws.toml:
//! exponential backoff with jitter, and throttling errors (`ThrottlingException`,
//! `RequestLimitExceeded`, ...) and transient errors (5xx, timeouts) retried. Access-denied
//! errors are not retryable and become [`Error::AccessDenied`] naming the IAM action.

use std::io::Write;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudhsmv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use time::OffsetDateTime;

use crate::names::Names;
use crate::plan::{Plan, Step, iam_action};
use crate::settings::MAX_POLL_INTERVAL;
use crate::state::{Backup, Cluster, ClusterSubnet, Hsm, Instance, Subnet};
use crate::{Error, Result};

/// Error codes that mean "not allowed" across EC2 (`UnauthorizedOperation`), CloudHSMv2
/// (`CloudHsmAccessDeniedException`) and EC2 Instance Connect (`AccessDeniedException`).
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "CloudHsmAccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
];

/// Where to connect and how hard to retry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Region override (`--region`); else the config chain's, else policy/aws.toml's.
    pub region: Option<String>,
    /// Fallback region (policy/aws.toml) when neither `--region` nor the chain sets one.
    pub default_region: Option<String>,
    /// Endpoint override for every service (`--endpoint-url`), e.g. a local emulator.
    pub endpoint_url: Option<String>,
    /// Attempts per call (policy/aws.toml `max_attempts`).
    pub max_attempts: u32,
}

/// The SDK's standard retry mode with `max_attempts`.
pub fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard().with_max_attempts(max_attempts.max(1))
}

/// AWS clients and the runtime that drives them; methods block.
#[derive(Debug)]
pub struct Aws {
    runtime: tokio::runtime::Runtime,
    names: Names,
    hsm: aws_sdk_cloudhsmv2::Client,
    ec2: aws_sdk_ec2::Client,
    connect: aws_sdk_ec2instanceconnect::Client,
    region: Option<String>,
    /// The configs the clients came from, for [`Aws::in_region`].
    configs: (SdkConfig, SdkConfig),
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Aws {
            operation: "starting the async runtime",
            message: e.to_string(),
        })
}

impl Aws {
    /// Clients from the standard AWS config chain with the overrides of `options`. HTTPS
    /// is rustls with ring (no C toolchain beyond ring's).
    ///
    /// # Errors
    /// [`Error::Aws`] when the runtime cannot start.
    pub fn from_environment(names: Names, options: &Options) -> Result<Self> {
        let runtime = runtime()?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(retry_config(options.max_attempts));
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let mut config = runtime.block_on(loader.load());
        if config.region().is_none()
            && let Some(region) = &options.default_region
        {
            config = config
                .into_builder()
                .region(Region::new(region.clone()))
                .build();
        }
        Ok(Self::from_configs(runtime, names, &config, &config))
    }

    /// Clients from given SDK configs: CloudHSMv2 from `hsm`, EC2 and EC2 Instance Connect
    /// from `ec2` (tests give a replay client for one and an emulator for the other).
    ///
    /// # Errors
    /// [`Error::Aws`] when the runtime cannot start.
    pub fn with_configs(names: Names, hsm: &SdkConfig, ec2: &SdkConfig) -> Result<Self> {
        Ok(Self::from_configs(runtime()?, names, hsm, ec2))
    }

    fn from_configs(
        runtime: tokio::runtime::Runtime,
        names: Names,
        hsm: &SdkConfig,
        ec2: &SdkConfig,
    ) -> Self {
        Self {
            runtime,
            names,
            hsm: aws_sdk_cloudhsmv2::Client::new(hsm),
            ec2: aws_sdk_ec2::Client::new(ec2),
            connect: aws_sdk_ec2instanceconnect::Client::new(ec2),
            region: hsm.region().map(ToString::to_string),
            configs: (hsm.clone(), ec2.clone()),
        }
    }

    /// The same clients in another region (the primary region for the cluster, the DR
    /// region for the copies of its backups).
    ///
    /// # Errors
    /// [`Error::Aws`] when the runtime cannot start.
    pub fn in_region(&self, region: &str) -> Result<Self> {
        let with = |c: &SdkConfig| {
            c.clone()
                .into_builder()
                .region(Region::new(region.to_owned()))
                .build()
        };
        Ok(Self::from_configs(
            runtime()?,
            self.names.clone(),
            &with(&self.configs.0),
            &with(&self.configs.1),
        ))
    }

    /// The region the clients use.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The names the resources are found by.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The cluster tagged `tag_key` = `cluster_role` (DescribeClusters; the tag is read
    /// from each cluster's TagList).
    ///
    /// # Errors
    /// [`Error::ClusterNotFound`], [`Error::ClusterAmbiguous`], or the call's error.
    pub fn cluster(&self) -> Result<Cluster> {
        let (key, value) = (&self.names.tag_key, &self.names.cluster_role);
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .runtime
                .block_on(
                    self.hsm
                        .describe_clusters()
                        .set_next_token(token.take())
                        .send(),
                )
                .map_err(|e| sdk_error("DescribeClusters", e))?;
            for c in out.clusters() {
                if c.tag_list()
                    .iter()
                    .any(|t| t.key() == key.as_str() && t.value() == value.as_str())
                {
                    found.push(cluster_from_sdk(c));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        match found.len() {
            0 => Err(Error::ClusterNotFound {
                tag_key: key.clone(),
                value: value.clone(),
            }),
            1 => Ok(found.remove(0)),
            _ => Err(Error::ClusterAmbiguous {
                tag_key: key.clone(),
                value: value.clone(),
                ids: found.into_iter().map(|c| c.id).collect(),
            }),
        }
    }

    /// The subnets `ids` (EC2 DescribeSubnets): their CIDR blocks give the HSMs' fixed
    /// addresses.
    ///
    /// # Errors
    /// The call's error.
    pub fn subnets(&self, ids: &[String]) -> Result<Vec<Subnet>> {
        let out = self
            .runtime
            .block_on(
                self.ec2
                    .describe_subnets()
                    .set_subnet_ids(Some(ids.to_vec()))
                    .send(),
            )
            .map_err(|e| sdk_error("DescribeSubnets", e))?;
        Ok(out
            .subnets()
            .iter()
            .map(|s| Subnet {
                id: s.subnet_id().unwrap_or_default().to_owned(),
                cidr_block: s.cidr_block().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The cluster by id (one DescribeClusters with a clusterIds filter).
    fn cluster_by_id(&self, cluster_id: &str) -> Result<Cluster> {
        let out = self
            .runtime
            .block_on(
                self.hsm
                    .describe_clusters()
                    .filters("clusterIds", vec![cluster_id.to_owned()])
                    .send(),
            )
            .map_err(|e| sdk_error("DescribeClusters", e))?;
        out.clusters()
            .iter()
            .find(|c| c.cluster_id() == Some(cluster_id))
            .map(cluster_from_sdk)
            .ok_or(Error::Missing {
                operation: "DescribeClusters",
                field: "the cluster",
            })
    }

    /// The cluster's backups, newest first (DescribeBackups filtered by cluster id).
    ///
    /// # Errors
    /// The call's error.
    pub fn backups(&self, cluster_id: &str) -> Result<Vec<Backup>> {
        self.describe_backups(Some(cluster_id))
    }

    /// The copies of `cluster_id`'s backups in this region (a copy belongs to no cluster:
    /// DescribeBackups unfiltered, kept when its SourceCluster is `cluster_id`), newest first.
    ///
    /// # Errors
    /// The call's error.
    pub fn copies(&self, cluster_id: &str) -> Result<Vec<Backup>> {
        let mut all = self.describe_backups(None)?;
        all.retain(|b| b.source_cluster.as_deref() == Some(cluster_id));
        Ok(all)
    }

    fn describe_backups(&self, cluster_id: Option<&str>) -> Result<Vec<Backup>> {
        let mut backups = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .runtime
                .block_on(
                    self.hsm
                        .describe_backups()
                        .set_filters(cluster_id.map(|id| {
                            std::iter::once(("clusterIds".to_owned(), vec![id.to_owned()]))
                                .collect()
                        }))
                        .set_next_token(token.take())
                        .send(),
                )
                .map_err(|e| sdk_error("DescribeBackups", e))?;
            backups.extend(out.backups().iter().map(|b| {
                Backup {
                    id: b.backup_id().to_owned(),
                    state: b
                        .backup_state()
                        .map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned()),
                    created: b.create_timestamp().and_then(to_time),
                    cluster_id: b.cluster_id().map(ToOwned::to_owned),
                    source_region: b.source_region().map(ToOwned::to_owned),
                    never_expires: b.never_expires().unwrap_or(false),
                    source_cluster: b.source_cluster().map(ToOwned::to_owned),
                    tags: b
                        .tag_list()
                        .iter()
                        .map(|t| (t.key().to_owned(), t.value().to_owned()))
                        .collect(),
                }
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        crate::state::newest_first(&mut backups);
        Ok(backups)
    }

    /// The bastion: the one non-terminated instance tagged `tag_key` = `bastion_role`
    /// (DescribeInstances with a `tag:<tag_key>` filter).
    ///
    /// # Errors
    /// [`Error::BastionNotFound`], [`Error::BastionAmbiguous`], or the call's error.
    pub fn bastion(&self) -> Result<Instance> {
        use aws_sdk_ec2::types::Filter;
        let (key, value) = (&self.names.tag_key, &self.names.bastion_role);
        let out = self
            .runtime
            .block_on(
                self.ec2
                    .describe_instances()
                    .filters(
                        Filter::builder()
                            .name(format!("tag:{key}"))
                            .values(value.clone())
                            .build(),
                    )
                    .filters(
                        Filter::builder()
                            .name("instance-state-name")
                            .set_values(Some(
                                ["pending", "running", "stopping", "stopped"]
                                    .map(String::from)
                                    .to_vec(),
                            ))
                            .build(),
                    )
                    .send(),
            )
            .map_err(|e| sdk_error("DescribeInstances", e))?;
        let mut found: Vec<Instance> = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .map(|i| Instance {
                id: i.instance_id().unwrap_or_default().to_owned(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map_or_else(|| "-".to_owned(), |n| n.as_str().to_owned()),
                availability_zone: i
                    .placement()
                    .and_then(|p| p.availability_zone())
                    .unwrap_or_default()
                    .to_owned(),
                private_ip: i.private_ip_address().map(ToOwned::to_owned),
                launch_time: i
                    .launch_time()
                    .and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok()),
            })
            .collect();
        match found.len() {
            0 => Err(Error::BastionNotFound {
                tag_key: key.clone(),
                value: value.clone(),
            }),
            1 => Ok(found.remove(0)),
            _ => Err(Error::BastionAmbiguous {
                tag_key: key.clone(),
                value: value.clone(),
                ids: found.into_iter().map(|i| i.id).collect(),
            }),
        }
    }

    /// Runs the plan's steps in order, writing progress to `progress`; returns one line
    /// per step saying what was done, and the ids of resources created.
    ///
    /// # Errors
    /// The first failing step's error; the steps before it stay done (each command is
    /// safe to rerun: `up` reuses, `down` re-plans).
    pub fn execute(&self, plan: &Plan, progress: &mut dyn Write) -> Result<Executed> {
        let mut done = Executed::default();
        for step in &plan.steps {
            self.execute_step(step, progress, &mut done)?;
        }
        Ok(done)
    }

    fn execute_step(
        &self,
        step: &Step,
        progress: &mut dyn Write,
        done: &mut Executed,
    ) -> Result<()> {
        let op = step.operation();
        match step {
            Step::StartInstance { instance_id } => {
                let out = self
                    .runtime
                    .block_on(self.ec2.start_instances().instance_ids(instance_id).send())
                    .map_err(|e| sdk_error(op, e))?;
                let change = out.starting_instances().first();
                done.lines.push(format!(
                    "bastion {instance_id}: {} -> {}",
                    instance_state(change.and_then(|c| c.previous_state())),
                    instance_state(change.and_then(|c| c.current_state()))
                ));
            }
            Step::StopInstance { instance_id } => {
                let out = self
                    .runtime
                    .block_on(self.ec2.stop_instances().instance_ids(instance_id).send())
                    .map_err(|e| sdk_error(op, e))?;
                let change = out.stopping_instances().first();
                done.lines.push(format!(
                    "bastion {instance_id}: {} -> {}",
                    instance_state(change.and_then(|c| c.previous_state())),
                    instance_state(change.and_then(|c| c.current_state()))
                ));
            }
            Step::CreateHsm {
                cluster_id,
                availability_zone,
                ip_address,
            } => {
                let out = self
                    .runtime
                    .block_on(
                        self.hsm
                            .create_hsm()
                            .cluster_id(cluster_id)
                            .availability_zone(availability_zone)
                            .ip_address(ip_address)
                            .send(),
                    )
                    .map_err(|e| sdk_error(op, e))?;
                let hsm = out.hsm().ok_or(Error::Missing {
                    operation: "CreateHsm",
                    field: "Hsm",
                })?;
                done.lines.push(format!(
                    "created HSM {} in {availability_zone} at {ip_address} ({})",
                    hsm.hsm_id(),
                    hsm.state().map_or("-", |s| s.as_str())
                ));
                done.created.push(hsm.hsm_id().to_owned());
            }
            Step::WaitHsmsDeleted {
                cluster_id,
                hsm_ids,
                timeout,
                first_interval,
            } => {
                self.wait_deleted(cluster_id, hsm_ids, *timeout, *first_interval, progress)?;
                done.lines
                    .push(format!("HSMs {} deleted", hsm_ids.join(", ")));
            }
            Step::WaitHsmsActive {
                cluster_id,
                hsm_ids,
                timeout,
                first_interval,
            } => {
                let ours: Vec<String> = hsm_ids.iter().chain(&done.created).cloned().collect();
                let hsms =
                    self.wait_active(cluster_id, &ours, *timeout, *first_interval, progress)?;
                for h in hsms {
                    done.lines.push(format!(
                        "HSM {} ACTIVE in {} at {}",
                        h.id,
                        h.availability_zone,
                        h.eni_ip.as_deref().unwrap_or("-")
                    ));
                }
            }
            Step::DeleteHsm { cluster_id, hsm_id } => {
                self.runtime
                    .block_on(
                        self.hsm
                            .delete_hsm()
                            .cluster_id(cluster_id)
                            .hsm_id(hsm_id)
                            .send(),
                    )
                    .map_err(|e| sdk_error(op, e))?;
                done.lines.push(format!("deleting HSM {hsm_id}"));
            }
            Step::SendSshPublicKey {
                instance_id,
                os_user,
                availability_zone,
                member,
                public_key,
            } => {
                let out = self
                    .runtime
                    .block_on(
                        self.connect
                            .send_ssh_public_key()
                            .instance_id(instance_id)
                            .instance_os_user(os_user)
                            .availability_zone(availability_zone)
                            .ssh_public_key(public_key)
                            .send(),
                    )
                    .map_err(|e| sdk_error(op, e))?;
                if !out.success() {
                    return Err(Error::Aws {
                        operation: "SendSSHPublicKey",
                        message: format!("AWS did not accept the key of {member}"),
                    });
                }
                let until = OffsetDateTime::now_utc() + Duration::from_secs(60);
                done.lines.push(format!(
                    "admitted {member} as {os_user}@{instance_id} until {} (60 s; request {})",
                    crate::state::rfc3339(until),
                    out.request_id().unwrap_or("-")
                ));
            }
            Step::InitializeCluster {
                cluster_id,
                signed_cert,
                trust_anchor,
            } => {
                let out = self
                    .runtime
                    .block_on(
                        self.hsm
                            .initialize_cluster()
                            .cluster_id(cluster_id)
                            .signed_cert(signed_cert)
                            .trust_anchor(trust_anchor)
                            .send(),
                    )
                    .map_err(|e| sdk_error(op, e))?;
                done.lines.push(format!(
                    "cluster {cluster_id}: {}{}",
                    out.state().map_or("-", |s| s.as_str()),
                    out.state_message()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ));
            }
            Step::CopyBackupToRegion {
                backup_id,
                destination_region,
                tags,
            } => {
                let tag_list = tags
                    .iter()
                    .map(|(k, v)| {
                        aws_sdk_cloudhsmv2::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .map_err(|e| Error::Aws {
                                operation: "CopyBackupToRegion",
                                message: e.to_string(),
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let out = self
                    .runtime
                    .block_on(
                        self.hsm
                            .copy_backup_to_region()
                            .backup_id(backup_id)
                            .destination_region(destination_region)
                            .set_tag_list(Some(tag_list))
                            .send(),
                    )
                    .map_err(|e| sdk_error(op, e))?;
                let dest = out.destination_backup();
                done.lines.push(format!(
                    "copying backup {backup_id} to {destination_region}: {}",
                    dest.and_then(|d| d.source_backup())
                        .map_or_else(|| "started".to_owned(), |s| format!("from {s}"))
                ));
            }
            Step::DeleteBackup { backup_id } => {
                let out = self
                    .runtime
                    .block_on(self.hsm.delete_backup().backup_id(backup_id).send())
                    .map_err(|e| sdk_error(op, e))?;
                done.lines.push(format!(
                    "deleted backup {backup_id} ({}; restorable for 7 days)",
                    out.backup()
                        .and_then(|b| b.backup_state())
                        .map_or("-", |s| s.as_str())
                ));
            }
        }
        Ok(())
    }

    /// Polls DescribeClusters (interval doubling from `first_interval` up to
    /// [`MAX_POLL_INTERVAL`]) until every HSM of `ours` is ACTIVE. Other HSMs (one being
    /// deleted after `down`, say) are not ours and do not fail the wait; one of ours that
    /// goes DEGRADED, DELETE_IN_PROGRESS or DELETED, or disappears, does. HSM states:
    /// https://docs.aws.amazon.com/cloudhsm/latest/APIReference/API_Hsm.html.
    fn wait_active(
        &self,
        cluster_id: &str,
        ours: &[String],
        timeout: Duration,
        first_interval: Duration,
        progress: &mut dyn Write,
    ) -> Result<Vec<Hsm>> {
        let start = Instant::now();
        let mut interval = first_interval;
        loop {
            let cluster = self.cluster_by_id(cluster_id)?;
            let mine: Vec<&Hsm> = ours
                .iter()
                .map(|id| {
                    cluster
                        .hsms
                        .iter()
                        .find(|h| &h.id == id)
                        .ok_or_else(|| Error::HsmFailed {
                            hsm_id: id.clone(),
                            state: "gone".to_owned(),
                            message: "DescribeClusters no longer lists it".to_owned(),
                        })
                })
                .collect::<Result<_>>()?;
            if let Some(h) = mine.iter().find(|h| {
                matches!(
                    h.state.as_str(),
                    "DEGRADED" | "DELETE_IN_PROGRESS" | "DELETED"
                )
            }) {
                return Err(Error::HsmFailed {
                    hsm_id: h.id.clone(),
                    state: h.state.clone(),
                    message: h.state_message.clone().unwrap_or_else(|| "-".to_owned()),
                });
            }
            let pending = mine.iter().find(|h| h.state != "ACTIVE");
            let elapsed = start.elapsed();
            if pending.is_none() && !mine.is_empty() {
                writeln!(progress, "our HSMs ACTIVE after {} s", elapsed.as_secs())
                    .map_err(Error::Progress)?;
                return Ok(mine.into_iter().cloned().collect());
            }
            let (id, state) =
                pending.map_or(("(none)", "-"), |h| (h.id.as_str(), h.state.as_str()));
            self.pause(start, timeout, &mut interval, id, state, progress)?;
        }
    }

    /// Polls DescribeClusters until none of `hsm_ids` is listed other than DELETED.
    fn wait_deleted(
        &self,
        cluster_id: &str,
        hsm_ids: &[String],
        timeout: Duration,
        first_interval: Duration,
        progress: &mut dyn Write,
    ) -> Result<()> {
        let start = Instant::now();
        let mut interval = first_interval;
        loop {
            let cluster = self.cluster_by_id(cluster_id)?;
            let Some(h) = cluster
                .hsms
                .iter()
                .find(|h| hsm_ids.contains(&h.id) && h.state != "DELETED")
            else {
                return Ok(());
            };
            self.pause(start, timeout, &mut interval, &h.id, &h.state, progress)?;
        }
    }

    /// Reports the wait, fails with [`Error::HsmTimeout`] once `timeout` is over, else
    /// sleeps `interval` (doubled for the next time, up to [`MAX_POLL_INTERVAL`]).
    fn pause(
        &self,
        start: Instant,
        timeout: Duration,
        interval: &mut Duration,
        hsm_id: &str,
        state: &str,
        progress: &mut dyn Write,
    ) -> Result<()> {
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(Error::HsmTimeout {
                hsm_id: hsm_id.to_owned(),
                state: state.to_owned(),
                waited_seconds: elapsed.as_secs(),
            });
        }
        writeln!(
            progress,
            "[{:>4} s / {} s] HSM {hsm_id}: {state}; next check in {} s",
            elapsed.as_secs(),
            timeout.as_secs(),
            interval.as_secs_f32()
        )
        .map_err(Error::Progress)?;
        let sleep = (*interval).min(timeout.saturating_sub(elapsed));
        self.runtime
            .block_on(async { tokio::time::sleep(sleep).await });
        *interval = (*interval * 2).min(MAX_POLL_INTERVAL);
        Ok(())
    }
}

/// What [`Aws::execute`] did.
#[derive(Debug, Default, Clone)]
pub struct Executed {
    /// One line per step.
    pub lines: Vec<String>,
    /// Ids of resources created (new HSMs).
    pub created: Vec<String>,
}

fn instance_state(state: Option<&aws_sdk_ec2::types::InstanceState>) -> &str {
    state.and_then(|s| s.name()).map_or("-", |n| n.as_str())
}

fn cluster_from_sdk(c: &aws_sdk_cloudhsmv2::types::Cluster) -> Cluster {
    let mut subnets: Vec<ClusterSubnet> = c
        .subnet_mapping()
        .map(|m| {
            m.iter()
                .map(|(zone, subnet)| ClusterSubnet {
                    availability_zone: zone.clone(),
                    subnet_id: subnet.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    subnets.sort_by(|a, b| a.availability_zone.cmp(&b.availability_zone));
    Cluster {
        id: c.cluster_id().unwrap_or_default().to_owned(),
        state: c
            .state()
            .map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned()),
        hsms: c
            .hsms()
            .iter()
            .map(|h| Hsm {
                id: h.hsm_id().to_owned(),
                availability_zone: h.availability_zone().unwrap_or_default().to_owned(),
                state: h
                    .state()
                    .map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned()),
                state_message: h.state_message().map(ToOwned::to_owned),
                eni_ip: h.eni_ip().map(ToOwned::to_owned),
            })
            .collect(),
        subnets,
        backup_retention: c.backup_retention_policy().map(|p| {
            (
                p.r#type().map_or("-", |t| t.as_str()).to_owned(),
                p.value().unwrap_or("-").to_owned(),
            )
        }),
        csr: c
            .certificates()
            .and_then(|x| x.cluster_csr())
            .filter(|s| !s.is_empty())
            .map(ToOwned::to_owned),
    }
}

fn to_time(t: &aws_sdk_cloudhsmv2::primitives::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.secs()).ok()
}

/// An SDK error as ours: access denied names the IAM action; others keep the SDK's full
/// context (error code, message, request id).
fn sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(code) = error.code()
        && ACCESS_DENIED_CODES.contains(&code)
    {
        return Error::AccessDenied {
            operation,
            iam_action: iam_action(operation),
            code: code.to_owned(),
            message: error.message().unwrap_or("-").to_owned(),
        };
    }
    Error::Aws {
        operation,
        message: DisplayErrorContext(&error).to_string(),
    }
}
