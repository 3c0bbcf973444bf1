# One AWS environment for RAGOps: network, cluster, stores, edge, registry, audit, and the
# IRSA roles of the first RAGDeployment, whose manifest is rendered from the outputs.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.name
  tags   = merge({ "app.kubernetes.io/part-of" = "ragops", "ragops.dev/environment" = var.name }, var.tags)
}

module "network" {
  source = "../network"

  name                    = var.name
  cidr                    = var.vpc_cidr
  azs                     = var.azs
  cluster_name            = var.name
  flow_log_retention_days = var.log_retention_days
  tags                    = local.tags
}

module "cluster" {
  source = "../cluster"

  name                         = var.name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.network.vpc_id
  node_subnet_ids              = module.network.private_app_subnet_ids
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_role_arns              = var.admin_role_arns
  node_groups                  = var.node_groups
  log_retention_days           = var.log_retention_days
  tags                         = local.tags
}

module "data" {
  source = "../data"

  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  name                            = var.name
  bucket_prefix                   = var.bucket_prefix
  documents_prefix                = var.ragdeployment.documents_prefix
  replication_enabled             = var.replication_enabled
  force_destroy                   = var.force_destroy
  vpc_id                          = module.network.vpc_id
  data_subnet_ids                 = module.network.private_data_subnet_ids
  redis_client_security_group_ids = [module.cluster.node_security_group_id]
  redis_node_type                 = var.redis_node_type
  redis_replicas                  = var.redis_replicas
  log_retention_days              = var.log_retention_days
  tags                            = local.tags
}

module "edge" {
  source = "../edge"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                     = var.name
  site_bucket              = "${var.bucket_prefix}-site"
  force_destroy            = var.force_destroy
  site_aliases             = var.site_aliases
  acm_certificate_arn      = var.acm_certificate_arn
  cognito_domain_prefix    = var.cognito_domain_prefix
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  blocked_countries        = var.blocked_countries
  log_retention_days       = var.log_retention_days
  kms_key_arn              = module.data.kms_key_arn
  tags                     = local.tags
}

module "registry" {
  source = "../registry"

  kms_key_arn    = module.data.kms_key_arn
  push_role_arns = var.ecr_push_role_arns
  tags           = local.tags
}

module "audit" {
  source = "../audit"

  name               = var.name
  kms_key_arn        = module.data.kms_key_arn
  log_retention_days = var.log_retention_days
  cloudtrail_enabled = var.cloudtrail_enabled
  cloudtrail_bucket  = "${var.bucket_prefix}-cloudtrail"
  guardduty_enabled  = var.guardduty_enabled
  force_destroy      = var.force_destroy
  tags               = local.tags
}

module "workload_iam" {
  source = "../workload-iam"

  name                 = var.name
  oidc_provider_arn    = module.cluster.oidc_provider_arn
  namespace            = var.ragdeployment.namespace
  ragdeployment_name   = var.ragdeployment.name
  per_component_roles  = var.per_component_roles
  documents_bucket_arn = module.data.documents_bucket_arn
  documents_prefix     = var.ragdeployment.documents_prefix
  backups_bucket_arn   = module.data.backups_bucket_arn
  backups_prefix       = var.ragdeployment.backups_prefix
  queue_arn            = module.data.queue_arn
  kms_key_arn          = module.data.kms_key_arn
  bedrock_model_arns   = ["arn:${data.aws_partition.current.partition}:bedrock:${local.region}::foundation-model/${var.ragdeployment.bedrock_model_id}"]
  tags                 = local.tags
}

locals {
  # Every value the example RAGDeployment takes from this account (tests/terraform renders the
  # template with the same names and validates the result against the CRD).
  ragdeployment_values = {
    name             = var.ragdeployment.name
    namespace        = var.ragdeployment.namespace
    image            = "${module.registry.repository_urls["ragops"]}:${var.ragdeployment.image_tag}"
    storage_class    = module.cluster.storage_class
    documents_bucket = module.data.documents_bucket
    documents_prefix = module.data.documents_prefix
    kms_key_arn      = module.data.kms_key_arn
    queue_url        = module.data.queue_url
    backups_bucket   = module.data.backups_bucket
    backups_prefix   = var.ragdeployment.backups_prefix
    bedrock_model_id = var.ragdeployment.bedrock_model_id
    region           = local.region
    jwks_url         = module.edge.cognito_jwks_url
    issuer           = module.edge.cognito_issuer
    audience         = module.edge.cognito_client_id
    role_arn         = module.workload_iam.ragdeployment_role_arn
  }
}
