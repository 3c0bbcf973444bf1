# Log groups with retention, and the account-level switches: CloudTrail (multi-region, log file
# validation, SSE-KMS) and GuardDuty (EKS audit logs, S3 data events).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  trail_name = "${var.name}-trail"
  trail_arn  = "arn:${data.aws_partition.current.partition}:cloudtrail:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:trail/${local.trail_name}"
}

resource "aws_cloudwatch_log_group" "app" {
  for_each = toset(var.log_groups)

  name              = "/ragops/${var.name}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

module "trail_kms" {
  source  = "terraform-aws-modules/kms/aws"
  version = "3.1.1"
  count   = var.cloudtrail_enabled ? 1 : 0

  description             = "${local.trail_name}: CloudTrail files at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  aliases                 = ["${var.name}/cloudtrail"]

  key_statements = [
    {
      sid       = "CloudTrailEncrypt"
      actions   = ["kms:GenerateDataKey*", "kms:DescribeKey"]
      resources = ["*"]
      principals = [{
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }]
      conditions = [{
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }]
    },
  ]

  tags = var.tags
}

module "trail_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"
  count   = var.cloudtrail_enabled ? 1 : 0

  bucket        = var.cloudtrail_bucket
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  versioning = { enabled = true }
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = module.trail_kms[0].key_arn
      }
      bucket_key_enabled = true
    }
  }

  attach_deny_insecure_transport_policy = true
  attach_cloudtrail_log_delivery_policy = true

  lifecycle_rule = [{
    id      = "expire-trail-files"
    enabled = true
    filter  = {}
    expiration = {
      days = var.cloudtrail_retention_days
    }
    noncurrent_version_expiration = { noncurrent_days = 30 }
  }]

  tags = var.tags
}

resource "aws_cloudtrail" "trail" {
  count = var.cloudtrail_enabled ? 1 : 0

  name                          = local.trail_name
  s3_bucket_name                = module.trail_bucket[0].s3_bucket_id
  kms_key_id                    = module.trail_kms[0].key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true

  tags = var.tags
}

resource "aws_guardduty_detector" "main" {
  count = var.guardduty_enabled ? 1 : 0

  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
  tags                         = var.tags
}

resource "aws_guardduty_detector_feature" "features" {
  for_each = var.guardduty_enabled ? toset(["EKS_AUDIT_LOGS", "S3_DATA_EVENTS"]) : toset([])

  detector_id = aws_guardduty_detector.main[0].id
  name        = each.value
  status      = "ENABLED"
}
