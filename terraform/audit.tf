# The RFC's alerting: a multi-region CloudTrail (validated, KMS-encrypted, versioned bucket)
# streamed to CloudWatch Logs, metric filters + alarms on bastion logins, power events, HSM
# lifecycle calls, instance attribute, security group, IAM and tag changes, all published to one KMS-encrypted SNS topic every quorum member is
# subscribed to. `rust-pki bastion` logs the same events to the transparency log; this is the
# independent record from AWS itself.

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  trail_arn  = "arn:${local.partition}:cloudtrail:${var.region}:${local.account_id}:trail/${local.names.trail}"

  # Each alarm: a CloudWatch Logs filter pattern over the CloudTrail records.
  alarms = {
    # Someone asked for an EIC tunnel or pushed an SSH key: a bastion login is under way.
    bastion-login = {
      description = "EC2 Instance Connect SendSSHPublicKey/OpenTunnel (bastion login)"
      pattern     = "{ ($.eventSource = \"ec2-instance-connect.amazonaws.com\") && (($.eventName = \"SendSSHPublicKey\") || ($.eventName = \"OpenTunnel\")) }"
    }
    # Start/stop/reboot/terminate of ANY instance in the account, not only the bastion's id:
    # a filter on requestParameters.instancesSet.items[0] would miss the bastion listed second
    # in one call, and this account runs no other instances.
    bastion-power = {
      description = "EC2 StartInstances/StopInstances/RebootInstances/TerminateInstances (bastion power)"
      pattern     = "{ ($.eventSource = \"ec2.amazonaws.com\") && (($.eventName = \"StartInstances\") || ($.eventName = \"StopInstances\") || ($.eventName = \"RebootInstances\") || ($.eventName = \"TerminateInstances\")) }"
    }
    hsm-lifecycle = {
      description = "CloudHSM CreateHsm/DeleteHsm and cluster/backup changes"
      pattern     = "{ ($.eventSource = \"cloudhsm.amazonaws.com\") && (($.eventName = \"CreateHsm\") || ($.eventName = \"DeleteHsm\") || ($.eventName = \"InitializeCluster\") || ($.eventName = \"ModifyCluster\") || ($.eventName = \"DeleteCluster\") || ($.eventName = \"RestoreBackup\") || ($.eventName = \"DeleteBackup\") || ($.eventName = \"ModifyBackupAttributes\") || ($.eventName = \"CopyBackupToRegion\")) }"
    }
    # A changed userData runs as root at the next start; the instance profile and the
    # termination protection are attributes too.
    instance-attribute = {
      description = "EC2 ModifyInstanceAttribute / instance profile changes (userData runs as root at the next start)"
      pattern     = "{ ($.eventSource = \"ec2.amazonaws.com\") && (($.eventName = \"ModifyInstanceAttribute\") || ($.eventName = \"AssociateIamInstanceProfile\") || ($.eventName = \"ReplaceIamInstanceProfileAssociation\") || ($.eventName = \"DisassociateIamInstanceProfile\") || ($.eventName = \"ModifyInstanceMetadataOptions\")) }"
    }
    # The four security-group rules are the network isolation of the bastion and the HSMs.
    security-group-change = {
      description = "EC2 security group or rule created, changed or deleted"
      pattern     = "{ ($.eventSource = \"ec2.amazonaws.com\") && (($.eventName = \"AuthorizeSecurityGroupIngress\") || ($.eventName = \"AuthorizeSecurityGroupEgress\") || ($.eventName = \"RevokeSecurityGroupIngress\") || ($.eventName = \"RevokeSecurityGroupEgress\") || ($.eventName = \"ModifySecurityGroupRules\") || ($.eventName = \"UpdateSecurityGroupRuleDescriptionsIngress\") || ($.eventName = \"UpdateSecurityGroupRuleDescriptionsEgress\") || ($.eventName = \"CreateSecurityGroup\") || ($.eventName = \"DeleteSecurityGroup\") || ($.eventName = \"ModifyNetworkInterfaceAttribute\")) }"
    }
    # Roles and policies decide who may use the root; IAM is global (us-east-1 events,
    # delivered through the multi-region trail).
    iam-change = {
      description = "IAM roles, policies, users, access keys or MFA devices changed"
      pattern     = "{ ($.eventSource = \"iam.amazonaws.com\") && (($.eventName = \"CreateRole\") || ($.eventName = \"DeleteRole\") || ($.eventName = \"UpdateRole\") || ($.eventName = \"UpdateAssumeRolePolicy\") || ($.eventName = \"PutRolePolicy\") || ($.eventName = \"DeleteRolePolicy\") || ($.eventName = \"AttachRolePolicy\") || ($.eventName = \"DetachRolePolicy\") || ($.eventName = \"PutRolePermissionsBoundary\") || ($.eventName = \"CreatePolicy\") || ($.eventName = \"CreatePolicyVersion\") || ($.eventName = \"SetDefaultPolicyVersion\") || ($.eventName = \"DeletePolicy\") || ($.eventName = \"CreateUser\") || ($.eventName = \"PutUserPolicy\") || ($.eventName = \"AttachUserPolicy\") || ($.eventName = \"AddUserToGroup\") || ($.eventName = \"PutGroupPolicy\") || ($.eventName = \"AttachGroupPolicy\") || ($.eventName = \"CreateAccessKey\") || ($.eventName = \"CreateLoginProfile\") || ($.eventName = \"UpdateLoginProfile\") || ($.eventName = \"DeactivateMFADevice\") || ($.eventName = \"DeleteVirtualMFADevice\") || ($.eventName = \"AddRoleToInstanceProfile\") || ($.eventName = \"RemoveRoleFromInstanceProfile\")) }"
    }
    # `rust-pki bastion` finds the cluster, the bastion and the DR copies by their role tag:
    # moving a tag would point it at another resource.
    tag-change = {
      description = "Tags changed on EC2 or CloudHSM resources (the role tags rust-pki bastion finds resources by)"
      pattern     = "{ (($.eventSource = \"ec2.amazonaws.com\") && (($.eventName = \"CreateTags\") || ($.eventName = \"DeleteTags\"))) || (($.eventSource = \"cloudhsm.amazonaws.com\") && (($.eventName = \"TagResource\") || ($.eventName = \"UntagResource\"))) }"
    }
    # Whoever wants to act unseen stops the trail first.
    audit-tamper = {
      description = "CloudTrail StopLogging/DeleteTrail/UpdateTrail/PutEventSelectors"
      pattern     = "{ ($.eventSource = \"cloudtrail.amazonaws.com\") && (($.eventName = \"StopLogging\") || ($.eventName = \"DeleteTrail\") || ($.eventName = \"UpdateTrail\") || ($.eventName = \"PutEventSelectors\")) }"
    }
    root-account-use = {
      description = "Any use of the account root user"
      pattern     = "{ ($.userIdentity.type = \"Root\") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != \"AwsServiceEvent\") }"
    }
  }
}

# ---------------------------------------------------------------------------------------------
# KMS key for the trail, its log groups and the alarm topic.

resource "aws_kms_key" "audit" {
  description             = "rust-pki audit: CloudTrail, CloudWatch Logs, alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudTrailEncryptsLogs"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceArn" = local.trail_arn }
          StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*" }
        }
      },
      {
        Sid       = "CloudWatchLogsEncryptsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*" }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Trail bucket (+ its access-log bucket).

resource "aws_s3_bucket" "trail" {
  #checkov:skip=CKV2_AWS_62:Object notifications would fire on every delivered log file; alerting runs on the trail's contents through the CloudWatch metric filters in audit.tf
  bucket = "${local.names.trail}-${local.account_id}-${var.region}"
}

resource "aws_s3_bucket_versioning" "trail" {
  bucket = aws_s3_bucket.trail.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  bucket                  = aws_s3_bucket.trail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "trail" {
  bucket        = aws_s3_bucket.trail.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "trail/"
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  rule {
    id     = "archive"
    status = "Enabled"
    filter {}
    transition {
      days          = 90
      storage_class = "GLACIER"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailAclCheck"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.trail.arn
        Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
      },
      {
        Sid       = "CloudTrailWrite"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.trail.arn}/AWSLogs/${local.account_id}/*"
        Condition = {
          StringEquals = {
            "aws:SourceArn" = local.trail_arn
            "s3:x-amz-acl"  = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.trail.arn, "${aws_s3_bucket.trail.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV2_AWS_62:Holds S3 server access logs only; a notification per delivered log object is noise, and the alerting runs on CloudTrail events (audit.tf)
  #checkov:skip=CKV_AWS_144:Holds the S3 server access logs of a trail bucket only; the audit trail itself is replicated to dr_region (dr.tf)
  #checkov:skip=CKV_AWS_145:S3 server access log delivery supports only SSE-S3 (AES256) default encryption on the target bucket, not SSE-KMS
  bucket = "${local.names.trail}-access-logs-${local.account_id}-${var.region}"
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

# S3 server access logging delivers only to buckets with SSE-S3 default encryption.
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "S3ServerAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs.arn}/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = aws_s3_bucket.trail.arn }
        }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# The trail, streamed to CloudWatch Logs.

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/rust-pki/cloudtrail/${local.names.trail}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.audit.arn
}

resource "aws_iam_role" "trail_to_logs" {
  name = "rust-pki-cloudtrail-to-logs"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    }]
  })
}

resource "aws_iam_role_policy" "trail_to_logs" {
  name = "write-trail-logs"
  role = aws_iam_role.trail_to_logs.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.trail.arn}:*"
    }]
  })
}

resource "aws_cloudtrail" "audit" {
  #checkov:skip=CKV_AWS_252:A CloudTrail SNS topic announces every delivered log file, which would bury the alarms members act on; the events that matter reach local.names.alarm_topic through metric filters, and log file validation covers integrity
  name                          = local.names.trail
  s3_bucket_name                = aws_s3_bucket.trail.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.audit.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail_to_logs.arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  depends_on = [aws_s3_bucket_policy.trail]
}

# ---------------------------------------------------------------------------------------------
# Alarms -> SNS -> every member.

resource "aws_cloudwatch_log_metric_filter" "alarm" {
  for_each = local.alarms

  name           = "rust-pki-${each.key}"
  log_group_name = aws_cloudwatch_log_group.trail.name
  pattern        = each.value.pattern

  metric_transformation {
    name          = each.key
    namespace     = "rust-pki"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "alarm" {
  for_each = local.alarms

  alarm_name          = "rust-pki-${each.key}"
  alarm_description   = each.value.description
  namespace           = "rust-pki"
  metric_name         = aws_cloudwatch_log_metric_filter.alarm[each.key].metric_transformation[0].name
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_sns_topic" "alarms" {
  name              = local.names.alarm_topic
  kms_master_key_id = aws_kms_key.audit.arn
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = {
        ArnLike = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:*" }
      }
    }]
  })
}

# Each subscription must be confirmed from the mailbox before it delivers.
resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = local.alarm_emails

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}
