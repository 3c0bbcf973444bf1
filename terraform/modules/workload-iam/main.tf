# IRSA roles of the RAGOps pods, least privilege, from what the code calls
# (docs/aws-adapters.md, docs/backup.md, and the adapters themselves):
#   api:    S3 put/get/delete of {prefix}/*, list of that prefix; SQS send + attributes (the
#           readiness check reads the queue depth); KMS data keys; Bedrock Converse(Stream).
#   worker: S3 get of {prefix}/*, list of that prefix; SQS receive/visibility/delete/attributes
#           and send (a release re-sends the message; split S3 events re-send records); KMS.
#   backup: S3 put/get/list/delete (and multipart abort) of {backups_prefix}/{namespace}/{name}/*; KMS.
# No pod reads Secrets Manager: the platform copies those secrets into Kubernetes Secrets.

locals {
  documents_objects = "${var.documents_bucket_arn}/${var.documents_prefix}/*"
  backups_path      = "${var.backups_prefix}/${var.namespace}/${var.ragdeployment_name}"
  service_accounts = {
    api    = "${var.namespace}:${var.ragdeployment_name}-api"
    worker = "${var.namespace}:${var.ragdeployment_name}-worker"
    # The operator runs backup, restore and reindex Jobs as the worker's ServiceAccount today.
    backup = "${var.namespace}:${var.ragdeployment_name}-worker"
  }
  policies = {
    api    = data.aws_iam_policy_document.api.json
    worker = data.aws_iam_policy_document.worker.json
    backup = data.aws_iam_policy_document.backup.json
  }
  roles = var.per_component_roles ? {
    for component in keys(local.policies) : component => {
      service_accounts = [local.service_accounts[component]]
      policies         = [component]
    }
    } : {
    stack = {
      service_accounts = distinct(values(local.service_accounts))
      policies         = keys(local.policies)
    }
  }
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "Documents"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [local.documents_objects]
  }

  # Without ListBucket a missing object answers 403 instead of 404.
  statement {
    sid       = "ListDocuments"
    actions   = ["s3:ListBucket"]
    resources = [var.documents_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.documents_prefix}/*"]
    }
  }

  statement {
    sid       = "EnqueueDocuments"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "DataKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = length(var.bedrock_model_arns) > 0 ? [1] : []
    content {
      sid       = "BedrockFallback"
      actions   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
      resources = var.bedrock_model_arns
    }
  }
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "ReadDocuments"
    actions   = ["s3:GetObject"]
    resources = [local.documents_objects]
  }

  statement {
    sid       = "ListDocuments"
    actions   = ["s3:ListBucket"]
    resources = [var.documents_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.documents_prefix}/*"]
    }
  }

  statement {
    sid = "ConsumeQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:SendMessage",
    ]
    resources = [var.queue_arn]
  }

  statement {
    sid       = "DataKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

data "aws_iam_policy_document" "backup" {
  statement {
    sid       = "Backups"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.backups_bucket_arn}/${local.backups_path}/*"]
  }

  statement {
    sid       = "ListBackups"
    actions   = ["s3:ListBucket"]
    resources = [var.backups_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.backups_path, "${local.backups_path}/*"]
    }
  }

  statement {
    sid       = "DataKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "component" {
  for_each = local.policies

  name        = "${var.name}-${var.ragdeployment_name}-${each.key}"
  description = "RAGOps ${each.key} pods of ${var.namespace}/${var.ragdeployment_name}"
  policy      = each.value
  tags        = var.tags
}

module "role" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version  = "5.60.0"
  for_each = local.roles

  role_name = "${var.name}-${var.ragdeployment_name}-${each.key}"
  oidc_providers = {
    main = {
      provider_arn               = var.oidc_provider_arn
      namespace_service_accounts = each.value.service_accounts
    }
  }
  role_policy_arns = { for component in each.value.policies : component => aws_iam_policy.component[component].arn }

  tags = var.tags
}
