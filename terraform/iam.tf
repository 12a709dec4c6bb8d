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

# The ceremony operator's role: exactly the calls `rust-pki bastion` makes (bastion/src/aws.rs;
# tests/terraform/check_names.py fails when a call there is missing here, or an action here
# is called nowhere), assumable only with MFA, and every statement requires MFA again.
# Condition keys: aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge (IAM User Guide, "AWS
# global condition context keys",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
resource "aws_iam_role" "operator" {
  name                 = local.names.operator_role
  description          = "rust-pki operator: bastion, ephemeral HSMs, backups, with MFA"
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OperatorWithMfa"
      Effect    = "Allow"
      Principal = { AWS = var.operator_principal_arns }
      Action    = "sts:AssumeRole"
      Condition = {
        Bool            = { "aws:MultiFactorAuthPresent" = "true" }
        NumericLessThan = { "aws:MultiFactorAuthAge" = "3600" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "operator" {
  name = "bastion-operator"
  role = aws_iam_role.operator.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Describe* calls support no resource-level restriction.
        Sid      = "Observe"
        Effect   = "Allow"
        Action   = ["cloudhsm:DescribeClusters", "cloudhsm:DescribeBackups", "ec2:DescribeInstances", "ec2:DescribeSubnets"]
        Resource = "*"
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        Sid      = "CeremonyHsmsAndClusterInit"
        Effect   = "Allow"
        Action   = ["cloudhsm:CreateHsm", "cloudhsm:DeleteHsm", "cloudhsm:InitializeCluster"]
        Resource = "arn:${local.partition}:cloudhsm:${var.region}:${local.account_id}:cluster/${aws_cloudhsm_v2_cluster.root.cluster_id}"
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        # `backups copy`: the source backup in the primary region; the copy is created and
        # tagged (TagList: role and retain-until) in the DR region.
        Sid    = "CopyBackupsToDrRegion"
        Effect = "Allow"
        Action = ["cloudhsm:CopyBackupToRegion", "cloudhsm:TagResource"]
        Resource = [
          "arn:${local.partition}:cloudhsm:${var.region}:${local.account_id}:backup/*",
          "arn:${local.partition}:cloudhsm:${var.dr_region}:${local.account_id}:backup/*",
        ]
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        # `backups prune`: only copies `backups copy` tagged, only in the DR region.
        Sid      = "PruneExpiredCopies"
        Effect   = "Allow"
        Action   = "cloudhsm:DeleteBackup"
        Resource = "arn:${local.partition}:cloudhsm:${var.dr_region}:${local.account_id}:backup/*"
        Condition = {
          StringEquals = { "aws:ResourceTag/${local.names.tag_key}" = local.names.backup_copy_role }
          Bool         = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        Sid      = "BastionPower"
        Effect   = "Allow"
        Action   = ["ec2:StartInstances", "ec2:StopInstances"]
        Resource = aws_instance.bastion.arn
        Condition = {
          Bool = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        # StartInstances on a volume encrypted with a customer managed key: the caller lets
        # EC2 decrypt it through a grant ("use the kms:GrantIsForAWSResource condition key
        # to allow the user to create grants on the KMS key only when the grant is created
        # on the user's behalf by an AWS service", Amazon EBS User Guide, "Requirements for
        # Amazon EBS encryption", ebs-encryption-requirements.html).
        Sid      = "StartEncryptedBastion"
        Effect   = "Allow"
        Action   = "kms:CreateGrant"
        Resource = aws_kms_key.bastion.arn
        Condition = {
          Bool = { "kms:GrantIsForAWSResource" = "true", "aws:MultiFactorAuthPresent" = "true" }
        }
      },
      {
        # `bastion admit`: the members' roster keys, for the ceremony OS user only.
        Sid      = "AdmitMembers"
        Effect   = "Allow"
        Action   = "ec2-instance-connect:SendSSHPublicKey"
        Resource = aws_instance.bastion.arn
        Condition = {
          StringEquals = { "ec2:osuser" = local.names.bastion_os_user }
          Bool         = { "aws:MultiFactorAuthPresent" = "true" }
        }
      },
    ]
  })
}
