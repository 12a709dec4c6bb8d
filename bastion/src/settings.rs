//! `policy/aws.toml`: where the bastion and the cluster live and how long to wait for them.
//! Parsed strictly: unknown fields are errors, and each error names the file and field.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

/// Default path, relative to the repository root.
pub const DEFAULT_PATH: &str = "policy/aws.toml";

/// CloudHSM's bounds on a cluster's backup retention (API reference,
/// `BackupRetentionPolicy`: "a number of days between 7 and 379").
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 7..=379;

/// The settings of policy/aws.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Region of the cluster and the bastion (overridden by `--region`).
    pub region: String,
    /// Disaster-recovery region that `backups copy` copies backups to.
    pub dr_region: String,
    /// Backup retention the cluster should have (terraform sets it; `backups` compares).
    pub backup_retention_days: u32,
    /// Host number of every ceremony HSM in its subnet: `up` passes CreateHsm the fixed
    /// `IpAddress` = this host of the subnet the cluster has in the chosen zone, so the
    /// CloudHSM client configuration baked into the bastion (terraform `hsm_host_number`,
    /// the same value) stays valid for every new HSM.
    pub hsm_host_number: u32,
    /// How long `up` waits for a new HSM to become ACTIVE.
    pub hsm_wait_timeout_seconds: u64,
    /// First interval between DescribeClusters polls while waiting; doubled after each poll
    /// up to [`MAX_POLL_INTERVAL`].
    pub hsm_poll_interval_seconds: u64,
    /// Attempts per AWS call (the SDK's standard retry mode: exponential backoff with
    /// jitter, throttling and transient errors retried).
    pub max_attempts: u32,
}

/// AWS reserves hosts 0-3 of every subnet.
pub const FIRST_USABLE_HOST: u32 = 4;

/// Upper bound of the poll interval.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

impl Settings {
    /// Reads and checks the file.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::SettingsSyntax`] (unknown or missing field, bad TOML) or
    /// [`Error::Settings`] naming the field that breaks a rule.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks settings text; `path` is for messages.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let settings: Self = toml::from_str(text).map_err(|source| Error::SettingsSyntax {
            path: path.to_owned(),
            source,
        })?;
        let field = |field: &str, message: String| Error::Settings {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        for (name, value) in [
            ("region", &settings.region),
            ("dr_region", &settings.dr_region),
        ] {
            if !is_region(value) {
                return Err(field(name, format!("{value:?} is not an AWS region name")));
            }
        }
        if settings.dr_region == settings.region {
            return Err(field(
                "dr_region",
                "must differ from region: a copy in the same region does not survive its loss"
                    .to_owned(),
            ));
        }
        if !RETENTION_DAYS.contains(&settings.backup_retention_days) {
            return Err(field(
                "backup_retention_days",
                format!(
                    "{} is outside CloudHSM's {}..={} days",
                    settings.backup_retention_days,
                    RETENTION_DAYS.start(),
                    RETENTION_DAYS.end()
                ),
            ));
        }
        // "The first four IP addresses and the last IP address in each subnet CIDR block are
        // not available for your use" (Amazon VPC User Guide, "Subnet CIDR blocks",
        // https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html); the upper
        // bound depends on the subnet and is checked when `up` plans.
        if settings.hsm_host_number < FIRST_USABLE_HOST {
            return Err(field(
                "hsm_host_number",
                format!(
                    "{} is reserved by AWS in every subnet; use {FIRST_USABLE_HOST} or more",
                    settings.hsm_host_number
                ),
            ));
        }
        if settings.hsm_wait_timeout_seconds == 0 {
            return Err(field("hsm_wait_timeout_seconds", "must be > 0".to_owned()));
        }
        if settings.hsm_poll_interval_seconds == 0 {
            return Err(field("hsm_poll_interval_seconds", "must be > 0".to_owned()));
        }
        if !(1..=20).contains(&settings.max_attempts) {
            return Err(field("max_attempts", "must be 1..=20".to_owned()));
        }
        Ok(settings)
    }

    /// `hsm_wait_timeout_seconds` as a duration.
    pub fn hsm_wait_timeout(&self) -> Duration {
        Duration::from_secs(self.hsm_wait_timeout_seconds)
    }

    /// `hsm_poll_interval_seconds` as a duration.
    pub fn hsm_poll_interval(&self) -> Duration {
        Duration::from_secs(self.hsm_poll_interval_seconds)
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: lowercase words and a number.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
region = "us-east-1"
dr_region = "us-west-2"
backup_retention_days = 90
hsm_host_number = 10
hsm_wait_timeout_seconds = 1800
hsm_poll_interval_seconds = 15
max_attempts = 8
"#;

    fn parse(text: &str) -> Result<Settings> {
        Settings::parse(text, Path::new("policy/aws.toml"))
    }

    #[test]
    fn repository_settings_are_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/aws.toml");
        Settings::load(&path).unwrap();
    }

    #[test]
    fn accepts_good_settings() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.hsm_host_number, 10);
    }

    #[test]
    fn rejects_unknown_field_naming_file_and_field() {
        let err = parse(&format!("{GOOD}\nretention = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("policy/aws.toml:"), "{err}");
        assert!(err.contains("retention"), "{err}");
    }

    #[test]
    fn rejects_missing_field() {
        let text = GOOD.replace("max_attempts = 8\n", "");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("max_attempts"), "{err}");
    }

    #[test]
    fn rejects_dr_region_equal_to_region() {
        let text = GOOD.replace("us-west-2", "us-east-1");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("policy/aws.toml: dr_region:"), "{err}");
    }

    #[test]
    fn rejects_retention_outside_cloudhsm_bounds() {
        let text = GOOD.replace("= 90", "= 3");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("backup_retention_days"), "{err}");
    }

    #[test]
    fn rejects_host_number_aws_reserves() {
        let text = GOOD.replace("hsm_host_number = 10", "hsm_host_number = 3");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("policy/aws.toml: hsm_host_number: 3 is reserved"),
            "{err}"
        );
    }

    #[test]
    fn rejects_the_old_zone_list() {
        // Zone names differ per account: the zones come from the cluster's subnets.
        let text = GOOD.replace(
            "hsm_host_number = 10",
            "hsm_host_number = 10\nhsm_availability_zones = [\"us-east-1a\"]",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("hsm_availability_zones"), "{err}");
    }
}
