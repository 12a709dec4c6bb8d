# The one source of truth for the names and tags that `rust-pki bastion` (crate bastion/, which
# reads the same file with include_str!) looks resources up by. Use local.names.<key>; never
# repeat one of its values literally in a .tf file (tests/terraform/check_names.py enforces it).
locals {
  names = jsondecode(file("${path.module}/names.json"))

  members = { for member in var.members : member.id => member }

  # Everything that pages the quorum: each member's address and any extra ones.
  alarm_emails = toset(concat([for member in var.members : member.email], var.extra_alarm_emails))

  # The CloudHSM client on the bastion talks to the HSM ENIs on these ports only.
  hsm_port_from = 2223
  hsm_port_to   = 2225

  # The fixed address of a ceremony HSM in each subnet (CreateHsm IpAddress, computed the
  # same way by `rust-pki bastion up` from policy/aws.toml hsm_host_number).
  hsm_ips = [for subnet in aws_subnet.private : cidrhost(subnet.cidr_block, var.hsm_host_number)]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
