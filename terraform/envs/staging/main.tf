# Staging: the same stack, smaller and cheaper. One node per AZ in each group, one Redis
# replica, no replication, buckets that `destroy` may empty.

module "platform" {
  source = "../../modules/platform"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
    aws.replica   = aws.replica
  }

  name                         = "ragops-staging"
  bucket_prefix                = var.bucket_prefix
  azs                          = ["${var.region}a", "${var.region}b", "${var.region}c"]
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_role_arns              = var.admin_role_arns
  cognito_domain_prefix        = "${var.bucket_prefix}-login"
  force_destroy                = true
  replication_enabled          = false
  redis_node_type              = "cache.t4g.medium"
  redis_replicas               = 1
  cloudtrail_enabled           = false
  log_retention_days           = 30

  node_groups = {
    api = {
      instance_types = ["m5.large"]
      capacity_type  = "ON_DEMAND"
      min_size       = 1
      max_size       = 3
      desired_size   = 1
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "api" }
      taints         = {}
    }
    workers = {
      instance_types = ["c5.xlarge"]
      capacity_type  = "SPOT"
      min_size       = 1
      max_size       = 3
      desired_size   = 1
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "workers" }
      taints         = {}
    }
    qdrant = {
      instance_types = ["r5.large"]
      capacity_type  = "ON_DEMAND"
      min_size       = 3
      max_size       = 3
      desired_size   = 3
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "qdrant" }
      taints = {
        qdrant = { key = "ragops.dev/qdrant", value = "true", effect = "NO_SCHEDULE" }
      }
    }
  }

  ragdeployment = {
    name             = "rag"
    namespace        = "staging"
    documents_prefix = "staging"
    backups_prefix   = "backups"
    image_tag        = "0.1.0"
    bedrock_model_id = "anthropic.claude-3-haiku-20240307-v1:0"
  }
}
