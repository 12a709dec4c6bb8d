variable "region" {
  description = "AWS region of the CloudHSM cluster, the bastion and the audit trail."
  type        = string
}

variable "dr_region" {
  description = "Disaster-recovery region: `rust-pki bastion backups copy` copies CloudHSM backups there, and the audit-trail bucket is replicated there."
  type        = string

  validation {
    condition     = var.dr_region != var.region
    error_message = "dr_region must differ from region."
  }
}

variable "members" {
  description = "Quorum members (policy/roster.toml ids). principal_arn: the IAM user or account root allowed to assume the member's role (with MFA); email: where alarms go."
  type = list(object({
    id            = string
    principal_arn = string
    email         = string
  }))

  validation {
    condition     = alltrue([for member in var.members : can(regex("^[a-z0-9-]+$", member.id))])
    error_message = "Member ids are roster ids: [a-z0-9-]+."
  }

  validation {
    condition     = length(distinct([for member in var.members : member.id])) == length(var.members)
    error_message = "Member ids must be unique."
  }

  validation {
    condition     = alltrue([for member in var.members : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|user/.+)$", member.principal_arn))])
    error_message = "principal_arn must be an IAM user ARN or an account root ARN (arn:aws:iam::123456789012:root)."
  }
}

variable "extra_alarm_emails" {
  description = "Additional addresses (e.g. the security team) subscribed to the bastion alarms, besides every member's."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "CIDR of the isolated VPC; two private /24 subnets are carved from it."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block."
  }
}

variable "availability_zone_ids" {
  description = "Exactly two zone ids (e.g. use1-az1, use1-az2) in `region` where CloudHSM offers hsm_type; the private subnets go there. Zone ids, unlike zone names, mean the same zone in every account."
  type        = list(string)

  validation {
    condition     = length(var.availability_zone_ids) == 2 && length(distinct(var.availability_zone_ids)) == 2
    error_message = "Give exactly two distinct availability zone ids."
  }
}

variable "hsm_type" {
  description = "CloudHSM HSM type."
  type        = string
  default     = "hsm2m.medium"

  validation {
    condition     = contains(["hsm1.medium", "hsm2m.medium"], var.hsm_type)
    error_message = "hsm_type must be hsm1.medium or hsm2m.medium."
  }
}

variable "backup_retention_days" {
  description = "CloudHSM backup retention (days, 7-379). The AWS provider has no argument for it; see hsm.tf. Keep equal to backup_retention_days in policy/aws.toml (tests/terraform/check_names.py checks it), which `rust-pki bastion backups` compares with the cluster."
  type        = number
  default     = 90

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 379
    error_message = "CloudHSM accepts a backup retention of 7 to 379 days."
  }
}

variable "bastion_ami_id" {
  description = "Pinned bastion AMI (with the CloudHSM client and ec2-instance-connect installed). Pin an id, never a 'latest' lookup: every signing record names it."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.bastion_ami_id))
    error_message = "bastion_ami_id must be an AMI id (ami-...)."
  }
}

variable "bastion_instance_type" {
  description = "Bastion instance type."
  type        = string
  default     = "t3.small"
}

variable "log_retention_days" {
  description = "Retention of the CloudTrail and VPC flow log groups (days)."
  type        = number
  default     = 731
}

variable "operator_principal_arns" {
  description = "IAM users (or account roots) allowed to assume the operator's role (local.names.operator_role), with MFA: whoever runs `rust-pki bastion up/down/admit/backups/init-cluster`."
  type        = list(string)

  validation {
    condition     = length(var.operator_principal_arns) > 0 && alltrue([for arn in var.operator_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|user/.+)$", arn))])
    error_message = "Give at least one IAM user ARN or account root ARN."
  }
}

variable "hsm_host_number" {
  description = "Host number of every ephemeral HSM in its subnet: `rust-pki bastion up` passes CreateHsm IpAddress = cidrhost(subnet, hsm_host_number), and the bastion's CloudHSM client is configured for those addresses at build. Keep equal to hsm_host_number in policy/aws.toml (tests/terraform/check_names.py checks it)."
  type        = number
  default     = 10

  validation {
    condition     = var.hsm_host_number >= 4 && var.hsm_host_number <= 250
    error_message = "AWS reserves hosts 0-3 and the last of every subnet: use 4 to 250 in a /24."
  }
}

variable "cluster_trust_anchor_pem" {
  description = "The one-time trust anchor of `rust-pki bastion init-cluster sign` (trust-anchor.pem), installed on the bastion as the CloudHSM client's /opt/cloudhsm/etc/customerCA.crt. Empty before the cluster is initialised. Changing it rebuilds the bastion (user_data_replace_on_change)."
  type        = string
  default     = ""

  validation {
    condition     = var.cluster_trust_anchor_pem == "" || startswith(trimspace(var.cluster_trust_anchor_pem), "-----BEGIN CERTIFICATE-----")
    error_message = "cluster_trust_anchor_pem must be one PEM certificate (trust-anchor.pem), or empty."
  }
}

variable "bastion_termination_protection" {
  description = "EC2 termination protection on the bastion. Rebuilding it (`terraform apply -replace=aws_instance.bastion`) needs it off for that apply: set false, apply, replace, set true, apply (see the runbook in docs/; each change raises the instance-attribute alarm)."
  type        = bool
  default     = true
}
