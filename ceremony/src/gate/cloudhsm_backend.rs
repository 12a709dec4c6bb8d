//! The AWS CloudHSM backend of `ceremony execute` (policy `[hsm] backend = "cloudhsm"`).

use std::path::{Path, PathBuf};

use rust_pki_ca::policy::{HsmBackend, Policy};

use crate::{
    Error, Result,
    gate::{CreatedRoot, Hsm, QuorumGate},
    request::Request,
    roster::Roster,
    state::{CeremonyDir, State},
};

/// AWS CloudHSM, driven through `cloudhsm-cli`: root-init creates the cluster's users and
/// the root key, later ceremonies unlock it through CloudHSM's own quorum.
#[derive(Debug, Clone)]
pub struct CloudHsm {
    /// The `cloudhsm-cli` program.
    pub program: PathBuf,
    /// The cluster the policy pins.
    pub cluster_id: Option<String>,
}

impl CloudHsm {
    /// The backend for `policy`'s cluster, driven through `program`.
    pub fn new(program: &Path, policy: &Policy) -> Self {
        Self {
            program: program.to_owned(),
            cluster_id: policy.hsm.cluster_id.clone(),
        }
    }
}

impl Hsm for CloudHsm {
    fn backend(&self) -> HsmBackend {
        HsmBackend::CloudHsm
    }

    fn create_root(
        &self,
        _ceremony: &CeremonyDir,
        _roster: &Roster,
        _threshold: usize,
        _request: &Request,
    ) -> Result<CreatedRoot> {
        Err(Error::CloudHsmConfig {
            reason: "root-init on CloudHSM is not implemented yet".into(),
        })
    }

    fn gate(&self, _state: &State) -> Result<Box<dyn QuorumGate>> {
        Err(Error::CloudHsmConfig {
            reason: "the CloudHSM gate is not implemented yet".into(),
        })
    }
}
