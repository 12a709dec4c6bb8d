//! Ceremony templates (`policy/ceremonies/<kind>.toml`): one strict file per kind that an
//! operator copies, fills in and hands to `ceremony prepare`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, Result, request::Kind, validate::is_cluster_id};

/// A parsed template: the kind, its window and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Where it was read from (relative paths in it are relative to its directory).
    pub path: PathBuf,
    /// How long members have to approve and the operator to execute, in hours.
    pub window_hours: u32,
    /// What to do.
    pub ceremony: TemplateKind,
}

/// The kind-specific part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateKind {
    /// Initialise the root token and key.
    RootInit {
        /// Token label.
        token: String,
        /// Root key label.
        key_label: String,
    },
    /// Certify a delegate key from a CSR.
    DelegateIssue {
        /// Purpose name from policy.
        purpose: String,
        /// The CSR (PEM or DER).
        csr: PathBuf,
    },
    /// Certify the current delegate key of a purpose again (a new certificate, new
    /// validity, same key).
    DelegateRenew {
        /// Purpose name from policy.
        purpose: String,
    },
    /// Revoke the current delegate certificate of a purpose on a new root CRL (the
    /// entries of the current root CRL carry over).
    DelegateRevoke {
        /// Purpose name from policy.
        purpose: String,
        /// RFC 5280 reason, kebab-case (e.g. `key-compromise`); `None` for unspecified.
        reason: Option<String>,
    },
    /// Re-sign the root CRL (the entries of the current one carry over).
    RootCrl,
    /// A new root key (in the root token), a new self-signed root from the policy's
    /// `[root]` section, and cross-certificates between the old and new roots.
    RootRotate {
        /// Label of the new root key.
        key_label: String,
    },
    /// Replace the roster with the one in `new_roster`.
    RosterChange {
        /// The new roster file.
        new_roster: PathBuf,
    },
    /// Certify the AWS CloudHSM cluster's key from its CSR (InitializeCluster).
    ClusterInit {
        /// The CloudHSM cluster id, `cluster-[a-z0-9]+`.
        cluster_id: String,
        /// The cluster's CSR (`<cluster id>_ClusterCsr.csr`, PEM or DER).
        csr: PathBuf,
    },
}

impl TemplateKind {
    /// The ceremony kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::RootInit { .. } => Kind::RootInit,
            Self::DelegateIssue { .. } => Kind::DelegateIssue,
            Self::DelegateRenew { .. } => Kind::DelegateRenew,
            Self::DelegateRevoke { .. } => Kind::DelegateRevoke,
            Self::RootCrl => Kind::RootCrl,
            Self::RosterChange { .. } => Kind::RosterChange,
            Self::RootRotate { .. } => Kind::RootRotate,
            Self::ClusterInit { .. } => Kind::ClusterInit,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RootInitFile {
    kind: Kind,
    window_hours: u32,
    token: String,
    key_label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateIssueFile {
    kind: Kind,
    window_hours: u32,
    purpose: String,
    csr: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateRenewFile {
    kind: Kind,
    window_hours: u32,
    purpose: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateRevokeFile {
    kind: Kind,
    window_hours: u32,
    purpose: String,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RootCrlFile {
    kind: Kind,
    window_hours: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RootRotateFile {
    kind: Kind,
    window_hours: u32,
    key_label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterChangeFile {
    kind: Kind,
    window_hours: u32,
    new_roster: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterInitFile {
    kind: Kind,
    window_hours: u32,
    cluster_id: String,
    csr: PathBuf,
}

/// Longest execution window a template may ask for.
const MAX_WINDOW_HOURS: u64 = crate::validate::MAX_WINDOW.as_secs() / 3600;

impl Template {
    /// Read and check a template.
    ///
    /// # Errors
    /// Unreadable, not TOML, unknown kind, unknown or missing fields, bad window.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse template text; `path` anchors relative paths and names the file in errors.
    ///
    /// # Errors
    /// As [`Template::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let error = |reason: String| Error::Template {
            path: path.to_owned(),
            reason,
        };
        let syntax = |field| {
            move |source| Error::TemplateSyntax {
                path: path.to_owned(),
                field,
                source: Box::new(source),
            }
        };
        let table: toml::Table = toml::from_str(text).map_err(syntax(None))?;
        let kind: Kind = table
            .get("kind")
            .cloned()
            .ok_or_else(|| error("missing field `kind`".into()))?
            .try_into()
            .map_err(syntax(Some("kind")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let strict = syntax(None);
        let (window_hours, ceremony) = match kind {
            Kind::RootInit => {
                let f: RootInitFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::RootInit {
                        token: f.token,
                        key_label: f.key_label,
                    },
                )
            }
            Kind::DelegateIssue => {
                let f: DelegateIssueFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::DelegateIssue {
                        purpose: f.purpose,
                        csr: resolve(f.csr),
                    },
                )
            }
            Kind::DelegateRenew => {
                let f: DelegateRenewFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::DelegateRenew { purpose: f.purpose },
                )
            }
            Kind::DelegateRevoke => {
                let f: DelegateRevokeFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::DelegateRevoke {
                        purpose: f.purpose,
                        reason: f.reason,
                    },
                )
            }
            Kind::RootRotate => {
                let f: RootRotateFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::RootRotate {
                        key_label: f.key_label,
                    },
                )
            }
            Kind::RosterChange => {
                let f: RosterChangeFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (
                    f.window_hours,
                    TemplateKind::RosterChange {
                        new_roster: resolve(f.new_roster),
                    },
                )
            }
            Kind::ClusterInit => {
                let f: ClusterInitFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                if !is_cluster_id(&f.cluster_id) {
                    return Err(error(format!(
                        "field `cluster_id`: `{}` is not a CloudHSM cluster id \
                         (cluster-[a-z0-9]+, e.g. cluster-igklspoyj5v)",
                        f.cluster_id
                    )));
                }
                (
                    f.window_hours,
                    TemplateKind::ClusterInit {
                        cluster_id: f.cluster_id,
                        csr: resolve(f.csr),
                    },
                )
            }
            Kind::RootCrl => {
                let f: RootCrlFile = table.try_into().map_err(strict)?;
                debug_assert_eq!(f.kind, kind);
                (f.window_hours, TemplateKind::RootCrl)
            }
        };
        if window_hours == 0 || u64::from(window_hours) > MAX_WINDOW_HOURS {
            return Err(error(format!(
                "field `window_hours` must be 1 to {MAX_WINDOW_HOURS}"
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            window_hours,
            ceremony,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CLUSTER: &str = "kind = \"cluster-init\"\nwindow_hours = 24\ncluster_id = \"cluster-igklspoyj5v\"\ncsr = \"c.csr\"\n";

    #[test]
    fn parses_cluster_init() {
        let template = Template::parse(CLUSTER, Path::new("/t/cluster-init.toml")).unwrap();
        assert_eq!(
            template.ceremony,
            TemplateKind::ClusterInit {
                cluster_id: "cluster-igklspoyj5v".into(),
                csr: PathBuf::from("/t/c.csr"),
            }
        );
        assert_eq!(template.ceremony.kind(), Kind::ClusterInit);
        assert_eq!(Kind::ClusterInit.name(), "cluster-init");
        // The shipped template parses.
        let shipped = include_str!("../../policy/ceremonies/cluster-init.toml");
        let template = Template::parse(shipped, Path::new("cluster-init.toml")).unwrap();
        assert_eq!(template.ceremony.kind(), Kind::ClusterInit);
    }

    #[test]
    fn rejects_bad_cluster_ids_and_unknown_fields() {
        for bad in [
            "cluster-",
            "cluster_abc",
            "cluster-ABC",
            "cluster-../../x",
            "hsm-abc",
            "",
        ] {
            let text = CLUSTER.replace("cluster-igklspoyj5v", bad);
            let err = Template::parse(&text, Path::new("t.toml")).unwrap_err();
            assert!(err.to_string().contains("cluster_id"), "{bad}: {err}");
        }
        let long = format!("cluster-{}", "a".repeat(57));
        assert!(!is_cluster_id(&long));
        let text = format!("{CLUSTER}purpose = \"releases\"\n");
        let err = Template::parse(&text, Path::new("t.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
