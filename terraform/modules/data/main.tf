# The stores the RAGOps pods use: one KMS key for data at rest, the documents and backups
# buckets, the document queue with its dead-letter queue (fed by S3 events too), Redis with
# TLS and AUTH, and the secrets the platform copies into Kubernetes Secrets.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  documents_bucket = "${var.bucket_prefix}-documents"
  backups_bucket   = "${var.bucket_prefix}-backups"
}

module "kms" {
  source  = "terraform-aws-modules/kms/aws"
  version = "3.1.1"

  description             = "${var.name}: documents, backups, queue, Redis, secrets and logs at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  aliases                 = ["${var.name}/data"]

  key_statements = [
    {
      sid       = "S3EventsToTheEncryptedQueue"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]
      principals = [{
        type        = "Service"
        identifiers = ["s3.amazonaws.com"]
      }]
      conditions = [{
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }]
    },
    {
      sid       = "CloudWatchLogGroups"
      actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      resources = ["*"]
      principals = [{
        type        = "Service"
        identifiers = ["logs.${local.region}.amazonaws.com"]
      }]
      conditions = [{
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
      }]
    },
  ]

  tags = var.tags
}

module "documents" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket        = local.documents_bucket
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  versioning = { enabled = true }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = module.kms.key_arn
      }
      bucket_key_enabled = true
    }
  }

  lifecycle_rule = [
    {
      id      = "glacier-instant-retrieval"
      enabled = true
      filter  = {}
      # Instant Retrieval, not Flexible: a worker or re-upload may still read an old document.
      transition = [{
        days          = var.documents_glacier_after_days
        storage_class = "GLACIER_IR"
      }]
      noncurrent_version_expiration          = { noncurrent_days = var.noncurrent_version_days }
      abort_incomplete_multipart_upload_days = 7
    },
  ]

  replication_configuration = var.replication_enabled ? {
    role = aws_iam_role.replication[0].arn
    rules = [{
      id                        = "documents-to-replica"
      status                    = "Enabled"
      delete_marker_replication = true
      source_selection_criteria = { sse_kms_encrypted_objects = { enabled = true } }
      destination = {
        bucket             = module.documents_replica[0].s3_bucket_arn
        storage_class      = "STANDARD_IA"
        replica_kms_key_id = module.kms_replica[0].key_arn
      }
    }]
  } : {}

  tags = var.tags
}

module "backups" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket        = local.backups_bucket
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  versioning = { enabled = true }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = module.kms.key_arn
      }
      bucket_key_enabled = true
    }
  }

  # `ragops backup` applies the retention of spec.backup (retentionDays, keepAtLeast); the bucket
  # adds a lock on fresh backups and lets the versions it deleted expire.
  object_lock_enabled = true
  object_lock_configuration = {
    rule = {
      default_retention = {
        mode = "GOVERNANCE"
        days = var.backup_lock_days
      }
    }
  }

  lifecycle_rule = [
    {
      id                                     = "expire-deleted-backups"
      enabled                                = true
      filter                                 = {}
      noncurrent_version_expiration          = { noncurrent_days = var.noncurrent_version_days }
      abort_incomplete_multipart_upload_days = 7
    },
  ]

  replication_configuration = var.replication_enabled ? {
    role = aws_iam_role.replication[0].arn
    rules = [{
      id                        = "backups-to-replica"
      status                    = "Enabled"
      delete_marker_replication = false
      source_selection_criteria = { sse_kms_encrypted_objects = { enabled = true } }
      destination = {
        bucket             = module.backups_replica[0].s3_bucket_arn
        storage_class      = "STANDARD_IA"
        replica_kms_key_id = module.kms_replica[0].key_arn
      }
    }]
  } : {}

  tags = var.tags
}

module "queue" {
  source  = "terraform-aws-modules/sqs/aws"
  version = "4.3.1"

  name = "${var.name}-ingest"

  visibility_timeout_seconds = var.queue_visibility_timeout_seconds
  message_retention_seconds  = 345600 # 4 days
  receive_wait_time_seconds  = 20

  sqs_managed_sse_enabled           = false
  kms_master_key_id                 = module.kms.key_arn
  kms_data_key_reuse_period_seconds = 3600

  create_dlq                            = true
  dlq_name                              = "${var.name}-ingest-dlq"
  dlq_message_retention_seconds         = 1209600 # 14 days, the most SQS keeps
  dlq_sqs_managed_sse_enabled           = false
  dlq_kms_master_key_id                 = module.kms.key_arn
  dlq_kms_data_key_reuse_period_seconds = 3600
  redrive_policy = {
    maxReceiveCount = var.queue_max_receive_count
  }

  create_queue_policy = true
  queue_policy_statements = {
    s3_events = {
      sid     = "DocumentsBucketEvents"
      actions = ["sqs:SendMessage"]
      principals = [{
        type        = "Service"
        identifiers = ["s3.amazonaws.com"]
      }]
      conditions = [
        {
          test     = "ArnEquals"
          variable = "aws:SourceArn"
          values   = [module.documents.s3_bucket_arn]
        },
        {
          test     = "StringEquals"
          variable = "aws:SourceAccount"
          values   = [local.account_id]
        },
      ]
    }
  }

  tags = var.tags
}

# Files dropped at {prefix}/{tenant}/{filename} are ingested too (docs/aws-adapters.md, S3 events).
resource "aws_s3_bucket_notification" "documents" {
  bucket = module.documents.s3_bucket_id

  queue {
    id            = "ingest"
    queue_arn     = module.queue.queue_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "${var.documents_prefix}/"
  }

  depends_on = [module.queue]
}
