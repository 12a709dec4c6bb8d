# An isolated VPC: two private subnets (CloudHSM wants subnets in at least two AZs, named by
# zone id in var.availability_zone_ids so the set never changes under us), no
# internet gateway, no NAT, no public IPs. Nothing in it needs the internet: operators reach
# the bastion through the EC2 Instance Connect Endpoint, the bastion reaches only the HSM ENIs,
# and `rust-pki bastion` calls the AWS APIs from the operator's machine, not from the bastion.

resource "aws_vpc" "pki" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "rust-pki"
  }
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id                  = aws_vpc.pki.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, count.index)
  availability_zone_id    = var.availability_zone_ids[count.index]
  map_public_ip_on_launch = false

  tags = {
    Name = "rust-pki-private-${count.index}"
  }
}

# Keep each subnet's HSM address free for CreateHsm: an explicit reservation means AWS
# never hands the address out automatically (to the bastion, the EIC endpoint, ...), while
# it can still be assigned on request (Amazon VPC User Guide, "Subnet CIDR reservations",
# https://docs.aws.amazon.com/vpc/latest/userguide/subnet-cidr-reservation.html).
resource "aws_ec2_subnet_cidr_reservation" "hsm" {
  count = 2

  subnet_id        = aws_subnet.private[count.index].id
  cidr_block       = "${local.hsm_ips[count.index]}/32"
  reservation_type = "explicit"
  description      = "CloudHSM ephemeral HSM address (rust-pki bastion up)"
}

# Only the implicit local route: no 0.0.0.0/0 anywhere.
resource "aws_route_table" "private" {
  vpc_id = aws_vpc.pki.id

  tags = {
    Name = "rust-pki-private"
  }
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# Strip every rule from the VPC's default security group so nothing lands in it by accident.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.pki.id
}

# VPC flow logs (all traffic, accepted and rejected) to an encrypted log group.
resource "aws_flow_log" "pki" {
  vpc_id               = aws_vpc.pki.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/rust-pki/vpc-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.audit.arn
}

resource "aws_iam_role" "flow_logs" {
  name = "rust-pki-vpc-flow-logs"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  name = "write-flow-logs"
  role = aws_iam_role.flow_logs.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
      ]
      Resource = "${aws_cloudwatch_log_group.flow_logs.arn}:*"
    }]
  })
}
