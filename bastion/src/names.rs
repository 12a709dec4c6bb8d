//! The names shared with terraform: `terraform/names.json` is the one source of truth for
//! the tags and names terraform gives resources and this crate looks them up by.

use serde::Deserialize;

use crate::{Error, Result};

/// The text of `terraform/names.json`, compiled in.
pub const NAMES_JSON: &str = include_str!("../../terraform/names.json");

/// Tag on a DR copy of a backup: the RFC 3339 time after which `backups prune` deletes it.
/// Data, not a name resources are found by, so not in names.json.
pub const RETAIN_UNTIL_TAG: &str = "rust-pki:retain-until";

/// Tag key and values, user and resource names (see terraform/names.json).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Names {
    /// The tag key whose value says a resource's role.
    pub tag_key: String,
    /// Value of `tag_key` on the CloudHSM cluster.
    pub cluster_role: String,
    /// Value of `tag_key` on the bastion EC2 instance.
    pub bastion_role: String,
    /// Value of `tag_key` on the copies `backups copy` makes in the DR region (the only
    /// backups the operator role may delete).
    pub backup_copy_role: String,
    /// The OS user members log in as (EC2 Instance Connect pushes keys for it).
    pub bastion_os_user: String,
    /// Prefix of the per-member IAM roles.
    pub member_role_prefix: String,
    /// The ceremony operator's IAM role (every call `rust-pki bastion` makes, with MFA).
    pub operator_role: String,
    /// SNS topic of the alarms.
    pub alarm_topic: String,
    /// CloudTrail trail name.
    pub trail: String,
}

impl Names {
    /// The compiled-in names.
    ///
    /// # Errors
    /// [`Error::NamesSyntax`] when terraform/names.json lacks a key or is not JSON,
    /// [`Error::Names`] when a value is empty.
    pub fn load() -> Result<Self> {
        Self::parse(NAMES_JSON)
    }

    /// Parses names.json text.
    ///
    /// # Errors
    /// As [`Names::load`].
    pub fn parse(text: &str) -> Result<Self> {
        let names: Self = serde_json::from_str(text).map_err(Error::NamesSyntax)?;
        for (key, value) in [
            ("tag_key", &names.tag_key),
            ("cluster_role", &names.cluster_role),
            ("bastion_role", &names.bastion_role),
            ("backup_copy_role", &names.backup_copy_role),
            ("bastion_os_user", &names.bastion_os_user),
        ] {
            if value.is_empty() {
                return Err(Error::Names(format!("{key} is empty")));
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_names_parse() {
        let names = Names::load().unwrap();
        assert!(!names.tag_key.is_empty());
        assert_ne!(names.cluster_role, names.bastion_role);
    }

    #[test]
    fn rejects_names_without_a_key() {
        let err = Names::parse(r#"{"tag_key": "k"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
    }
}
