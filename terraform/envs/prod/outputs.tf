output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.platform.cluster_name
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller."
  value       = module.platform.load_balancer_controller_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler."
  value       = module.platform.cluster_autoscaler_role_arn
}

output "ragops_role_arns" {
  description = "IRSA roles of the RAGOps pods."
  value       = module.platform.ragops_role_arns
}

output "documents_bucket" {
  description = "Documents bucket (spec.documents.bucket)."
  value       = module.platform.documents_bucket
}

output "backups_bucket" {
  description = "Backups bucket (spec.backup.bucket)."
  value       = module.platform.backups_bucket
}

output "queue_url" {
  description = "Document queue (spec.documents.queueUrl)."
  value       = module.platform.queue_url
}

output "dead_letter_queue_url" {
  description = "Dead-letter queue of the document queue."
  value       = module.platform.dead_letter_queue_url
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint (TLS, AUTH)."
  value       = module.platform.redis_primary_endpoint
}

output "redis_secret_arn" {
  description = "Secret with the Redis AUTH token and rediss:// URL."
  value       = module.platform.redis_secret_arn
}

output "openai_secret_arn" {
  description = "Secret meant to hold OPENAI_API_KEY."
  value       = module.platform.openai_secret_arn
}

output "cognito_issuer" {
  description = "Token issuer (spec.auth.issuer)."
  value       = module.platform.cognito_issuer
}

output "cognito_client_id" {
  description = "App client ID of the chat page (spec.auth.audience)."
  value       = module.platform.cognito_client_id
}

output "cognito_hosted_ui_domain" {
  description = "Hosted UI domain (RAGOPS_UI_OIDC_DOMAIN)."
  value       = module.platform.cognito_hosted_ui_domain
}

output "site_bucket" {
  description = "Bucket of the chat page's files."
  value       = module.platform.site_bucket
}

output "site_url" {
  description = "URL of the chat page."
  value       = module.platform.site_url
}

output "alb_web_acl_arn" {
  description = "WAF web ACL for the API's ALB."
  value       = module.platform.alb_web_acl_arn
}

output "ecr_repository_urls" {
  description = "ECR repositories by name."
  value       = module.platform.ecr_repository_urls
}

output "ragdeployment_yaml" {
  description = "The first RAGDeployment, rendered from these outputs."
  value       = module.platform.ragdeployment_yaml
}
