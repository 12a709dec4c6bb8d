# The ceremony bastion: no public IP, reached only through the EC2 Instance Connect Endpoint
# (members push a 60-second SSH key with `rust-pki bastion admit`, which calls
# SendSSHPublicKey for the OS user local.names.bastion_os_user). Terraform cannot create an
# instance in the stopped state: after the first apply, `rust-pki bastion down` stops it and it
# stays stopped between ceremonies (`rust-pki bastion up` starts it). To rebuild it from the
# pinned AMI before a ceremony, termination protection goes off for that one apply:
# `-var bastion_termination_protection=false` apply, then `terraform apply
# -replace=aws_instance.bastion -var bastion_termination_protection=false`, then apply
# with it on again (docs/ceremony-runbook.md). Each step is a ModifyInstanceAttribute or
# TerminateInstances call that pages every member (audit.tf).

resource "aws_security_group" "eic_endpoint" {
  name        = "rust-pki-eic-endpoint"
  description = "EC2 Instance Connect Endpoint: SSH out to the bastion only"
  vpc_id      = aws_vpc.pki.id
}

resource "aws_vpc_security_group_egress_rule" "eic_to_bastion_ssh" {
  security_group_id            = aws_security_group.eic_endpoint.id
  description                  = "SSH to the bastion only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.bastion.id
}

resource "aws_security_group" "bastion" {
  name        = "rust-pki-bastion"
  description = "Ceremony bastion: SSH in from the EIC endpoint, CloudHSM client ports out to the HSMs"
  vpc_id      = aws_vpc.pki.id
}

resource "aws_vpc_security_group_ingress_rule" "bastion_ssh_from_eic" {
  #checkov:skip=CKV_AWS_24:False positive: the check ignores referenced_security_group_id on aws_vpc_security_group_ingress_rule; the only source is the EIC endpoint security group, no CIDR (tests/terraform/check_names.py asserts that)
  security_group_id            = aws_security_group.bastion.id
  description                  = "SSH from the EC2 Instance Connect Endpoint only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.eic_endpoint.id
}

resource "aws_vpc_security_group_egress_rule" "bastion_to_hsm" {
  security_group_id            = aws_security_group.bastion.id
  description                  = "CloudHSM client ports to the HSM ENIs only"
  ip_protocol                  = "tcp"
  from_port                    = local.hsm_port_from
  to_port                      = local.hsm_port_to
  referenced_security_group_id = aws_cloudhsm_v2_cluster.root.security_group_id
}

resource "aws_ec2_instance_connect_endpoint" "bastion" {
  subnet_id          = aws_subnet.private[0].id
  security_group_ids = [aws_security_group.eic_endpoint.id]
  # The bastion sees the endpoint's address, so its SSH rule can reference the endpoint SG.
  preserve_client_ip = false

  tags = {
    Name = "rust-pki-bastion"
  }
}

resource "aws_instance" "bastion" {
  ami                         = var.bastion_ami_id
  instance_type               = var.bastion_instance_type
  subnet_id                   = aws_subnet.private[0].id
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  associate_public_ip_address = false
  iam_instance_profile        = aws_iam_instance_profile.bastion.name
  ebs_optimized               = true
  monitoring                  = true
  disable_api_termination     = var.bastion_termination_protection
  user_data_replace_on_change = true

  # The only login account: the OS user EC2 Instance Connect pushes members' keys for. No
  # default (ec2-user) account, no password, no sudo: the CloudHSM client is configured at
  # first boot for the HSMs' fixed addresses and the cluster's trust anchor, so the ceremony
  # user never needs root (a sudo rule for configure-cli would let whoever holds the
  # session point the client at another address).
  user_data = templatefile("${path.module}/bastion-cloud-init.yaml.tftpl", {
    os_user      = local.names.bastion_os_user
    hsm_ips      = local.hsm_ips
    trust_anchor = var.cluster_trust_anchor_pem
  })

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = aws_kms_key.bastion.arn
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags = {
    Name                    = "rust-pki-bastion"
    (local.names.tag_key) = local.names.bastion_role
  }
}

# The bastion's own role has no permissions: it exists so no one attaches a broader one
# later without it showing up in review, and for the SSM-free, API-free bastion it needs none.
resource "aws_iam_role" "bastion" {
  name = "rust-pki-bastion-instance"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_instance_profile" "bastion" {
  name = "rust-pki-bastion-instance"
  role = aws_iam_role.bastion.name
}

resource "aws_kms_key" "bastion" {
  description             = "rust-pki bastion EBS volumes"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersThroughIam"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
