# Production: the seed's sizes (the platform module's defaults), Redis primary + 2 replicas,
# cross-region replication of documents and backups, CloudTrail and GuardDuty on.

module "platform" {
  source = "../../modules/platform"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
    aws.replica   = aws.replica
  }

  name                         = "ragops-prod"
  bucket_prefix                = var.bucket_prefix
  azs                          = ["${var.region}a", "${var.region}b", "${var.region}c"]
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_role_arns              = var.admin_role_arns
  cognito_domain_prefix        = "${var.bucket_prefix}-login"
  replication_enabled          = true
  cloudtrail_enabled           = true
  guardduty_enabled            = true

  ragdeployment = {
    name             = "rag"
    namespace        = "prod"
    documents_prefix = "prod"
    backups_prefix   = "backups"
    image_tag        = "0.1.0"
    bedrock_model_id = "anthropic.claude-3-haiku-20240307-v1:0"
  }
}
