# Optional cross-region replication of documents and backups to the aws.replica region.

module "kms_replica" {
  source  = "terraform-aws-modules/kms/aws"
  version = "3.1.1"
  count   = var.replication_enabled ? 1 : 0

  providers = {
    aws = aws.replica
  }

  description             = "${var.name}: replicas of documents and backups at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  aliases                 = ["${var.name}/replica"]

  tags = var.tags
}

module "documents_replica" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"
  count   = var.replication_enabled ? 1 : 0

  providers = {
    aws = aws.replica
  }

  bucket        = "${local.documents_bucket}-replica"
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership              = true
  object_ownership                      = "BucketOwnerEnforced"
  attach_deny_insecure_transport_policy = true

  versioning = { enabled = true }
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = module.kms_replica[0].key_arn
      }
      bucket_key_enabled = true
    }
  }

  tags = var.tags
}

module "backups_replica" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"
  count   = var.replication_enabled ? 1 : 0

  providers = {
    aws = aws.replica
  }

  bucket        = "${local.backups_bucket}-replica"
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership              = true
  object_ownership                      = "BucketOwnerEnforced"
  attach_deny_insecure_transport_policy = true

  versioning = { enabled = true }
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = module.kms_replica[0].key_arn
      }
      bucket_key_enabled = true
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "replication_trust" {
  statement {
    sid     = "S3Replication"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  count              = var.replication_enabled ? 1 : 0
  name               = "${var.name}-s3-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "replication" {
  count = var.replication_enabled ? 1 : 0

  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [module.documents.s3_bucket_arn, module.backups.s3_bucket_arn]
  }

  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${module.documents.s3_bucket_arn}/*", "${module.backups.s3_bucket_arn}/*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = ["${module.documents_replica[0].s3_bucket_arn}/*", "${module.backups_replica[0].s3_bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.key_arn]
  }

  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [module.kms_replica[0].key_arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  count  = var.replication_enabled ? 1 : 0
  name   = "replicate"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}
