# Replica of the audit-trail bucket in var.dr_region, so the AWS-side record of every bastion
# login, power event and HSM change survives the loss of the primary region's bucket. The
# replica is encrypted with its own key in the DR region.

resource "aws_kms_key" "audit_dr" {
  provider = aws.dr

  description             = "rust-pki audit-trail replica (DR region)"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersThroughIam"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_s3_bucket" "trail_replica" {
  #checkov:skip=CKV2_AWS_62:Object notifications would fire on every delivered log file; alerting runs on the trail's contents through the CloudWatch metric filters in audit.tf
  provider = aws.dr

  bucket = "${local.names.trail}-${local.account_id}-${var.dr_region}"
}

resource "aws_s3_bucket_versioning" "trail_replica" {
  provider = aws.dr

  bucket = aws_s3_bucket.trail_replica.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail_replica" {
  provider = aws.dr

  bucket = aws_s3_bucket.trail_replica.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit_dr.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "trail_replica" {
  provider = aws.dr

  bucket                  = aws_s3_bucket.trail_replica.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "trail_replica" {
  provider = aws.dr

  bucket        = aws_s3_bucket.trail_replica.id
  target_bucket = aws_s3_bucket.access_logs_dr.id
  target_prefix = "trail-replica/"
}

resource "aws_s3_bucket_lifecycle_configuration" "trail_replica" {
  provider = aws.dr

  bucket = aws_s3_bucket.trail_replica.id
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

resource "aws_s3_bucket_policy" "trail_replica" {
  provider = aws.dr

  bucket = aws_s3_bucket.trail_replica.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TlsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.trail_replica.arn, "${aws_s3_bucket.trail_replica.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

resource "aws_s3_bucket" "access_logs_dr" {
  #checkov:skip=CKV2_AWS_62:Holds S3 server access logs only; a notification per delivered log object is noise, and the alerting runs on CloudTrail events (audit.tf)
  #checkov:skip=CKV_AWS_144:Holds the S3 server access logs of a trail bucket only; the audit trail itself is replicated to dr_region (dr.tf)
  #checkov:skip=CKV_AWS_145:S3 server access log delivery supports only SSE-S3 (AES256) default encryption on the target bucket, not SSE-KMS
  provider = aws.dr

  bucket = "${local.names.trail}-access-logs-${local.account_id}-${var.dr_region}"
}

resource "aws_s3_bucket_versioning" "access_logs_dr" {
  provider = aws.dr

  bucket = aws_s3_bucket.access_logs_dr.id
  versioning_configuration {
    status = "Enabled"
  }
}

# S3 server access logging delivers only to buckets with SSE-S3 default encryption.
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs_dr" {
  provider = aws.dr

  bucket = aws_s3_bucket.access_logs_dr.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs_dr" {
  provider = aws.dr

  bucket                  = aws_s3_bucket.access_logs_dr.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs_dr" {
  provider = aws.dr

  bucket = aws_s3_bucket.access_logs_dr.id
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

resource "aws_s3_bucket_policy" "access_logs_dr" {
  provider = aws.dr

  bucket = aws_s3_bucket.access_logs_dr.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "S3ServerAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs_dr.arn}/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = aws_s3_bucket.trail_replica.arn }
        }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.access_logs_dr.arn, "${aws_s3_bucket.access_logs_dr.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Replication trail -> trail_replica.

resource "aws_iam_role" "trail_replication" {
  name = "rust-pki-trail-replication"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "trail_replication" {
  name = "replicate-trail"
  role = aws_iam_role.trail_replication.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = aws_s3_bucket.trail.arn
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
        Resource = "${aws_s3_bucket.trail.arn}/*"
      },
      {
        Effect   = "Allow"
        Action   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
        Resource = "${aws_s3_bucket.trail_replica.arn}/*"
      },
      {
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.audit.arn
      },
      {
        Effect   = "Allow"
        Action   = "kms:Encrypt"
        Resource = aws_kms_key.audit_dr.arn
      },
    ]
  })
}

resource "aws_s3_bucket_replication_configuration" "trail" {
  bucket = aws_s3_bucket.trail.id
  role   = aws_iam_role.trail_replication.arn

  rule {
    id     = "to-dr-region"
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.trail_replica.arn
      storage_class = "STANDARD"
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.audit_dr.arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.trail, aws_s3_bucket_versioning.trail_replica]
}
