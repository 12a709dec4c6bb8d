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
