# One role per quorum member, named local.names.member_role_prefix + the roster id, assumable
# only by that member's principal and only with MFA. It may do exactly two things: open an EIC
# tunnel to the bastion's SSH port, and push an SSH key for the ceremony OS user of the
# bastion. Both again require MFA (the session of a role assumed with MFA carries it).

resource "aws_iam_role" "member" {
  for_each = local.members

  name                 = "${local.names.member_role_prefix}${each.key}"
  description          = "rust-pki quorum member ${each.key}: bastion access with MFA"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "MemberWithMfa"
      Effect    = "Allow"
      Principal = { AWS = each.value.principal_arn }
      Action    = "sts:AssumeRole"
      Condition = {
        Bool            = { "aws:MultiFactorAuthPresent" = "true" }
        NumericLessThan = { "aws:MultiFactorAuthAge" = "3600" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "member_bastion_access" {
  for_each = local.members

  name = "bastion-access"
  role = aws_iam_role.member[each.key].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PushSshKeyForCeremonyUser"
        Effect   = "Allow"
        Action   = "ec2-instance-connect:SendSSHPublicKey"
        Resource = aws_instance.bastion.arn
        Condition = {
          StringEquals = { "ec2:osuser" = local.names.bastion_os_user }
          Bool         = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        Sid      = "TunnelToBastionSsh"
        Effect   = "Allow"
        Action   = "ec2-instance-connect:OpenTunnel"
        Resource = aws_ec2_instance_connect_endpoint.bastion.arn
        Condition = {
          NumericEquals = { "ec2-instance-connect:remotePort" = "22" }
          IpAddress     = { "ec2-instance-connect:privateIpAddress" = "${aws_instance.bastion.private_ip}/32" }
          Bool          = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        # `aws ec2-instance-connect ssh` and `rust-pki bastion admit` look the instance and the
        # endpoint up first. EC2 Describe* calls support no resource-level restriction.
        Sid      = "FindBastionAndEndpoint"
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"]
        Resource = "*"
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
    ]
  })
}
