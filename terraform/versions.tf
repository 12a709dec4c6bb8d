# rust-pki AWS infrastructure (docs/ceremony-runbook.md): the CloudHSM cluster that holds the root key, the
# ceremony bastion that alone reaches it, the quorum members' MFA-bound roles, and the audit
# trail + alarms. HSMs themselves are NOT defined here: they are ephemeral, created by
# `rust-pki bastion up` (restored from the latest backup) and deleted by `rust-pki bastion down`.
#
# No terraform binary runs in CI (none can be fetched there): `scripts/check-terraform` checks
# these files with checkov and tests/terraform/check_names.py (python-hcl2).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = "rust-pki"
    }
  }
}

# The disaster-recovery region: replica of the audit-trail bucket (dr.tf). CloudHSM backups are
# copied there by `rust-pki bastion backups copy`, not by terraform.
provider "aws" {
  alias  = "dr"
  region = var.dr_region

  default_tags {
    tags = {
      project = "rust-pki"
    }
  }
}
