output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "private_app_subnet_ids" {
  description = "Private-app subnets (nodes and pods), one per AZ."
  value       = module.network.private_app_subnet_ids
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API."
  value       = module.cluster.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the Kubernetes API."
  value       = module.cluster.cluster_certificate_authority_data
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller (its Helm value serviceAccount.annotations)."
  value       = module.cluster.load_balancer_controller_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler."
  value       = module.cluster.cluster_autoscaler_role_arn
}

output "ragops_role_arns" {
  description = "IRSA roles of the RAGOps pods, by role."
  value       = module.workload_iam.role_arns
}

output "documents_bucket" {
  description = "Documents bucket (spec.documents.bucket)."
  value       = module.data.documents_bucket
}

output "backups_bucket" {
  description = "Backups bucket (spec.backup.bucket)."
  value       = module.data.backups_bucket
}

output "kms_key_arn" {
  description = "Data key (spec.documents.kmsKeyId, spec.backup.kmsKeyId)."
  value       = module.data.kms_key_arn
}

output "queue_url" {
  description = "Document queue (spec.documents.queueUrl)."
  value       = module.data.queue_url
}

output "dead_letter_queue_url" {
  description = "Dead-letter queue of the document queue."
  value       = module.data.dead_letter_queue_url
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint (TLS, AUTH)."
  value       = module.data.redis_primary_endpoint
}

output "redis_secret_arn" {
  description = "Secret with the Redis AUTH token and URL (copy its url into the ragops-redis Secret)."
  value       = module.data.redis_secret_arn
}

output "openai_secret_arn" {
  description = "Secret meant to hold OPENAI_API_KEY (copy into the ragops-openai Secret)."
  value       = module.data.openai_secret_arn
}

output "cognito_issuer" {
  description = "Token issuer (spec.auth.issuer)."
  value       = module.edge.cognito_issuer
}

output "cognito_jwks_url" {
  description = "JWKS URL (spec.auth.jwksUrl)."
  value       = module.edge.cognito_jwks_url
}

output "cognito_client_id" {
  description = "App client ID of the chat page (spec.auth.audience)."
  value       = module.edge.cognito_client_id
}

output "cognito_hosted_ui_domain" {
  description = "Hosted UI domain (RAGOPS_UI_OIDC_DOMAIN)."
  value       = module.edge.cognito_hosted_ui_domain
}

output "site_bucket" {
  description = "Bucket of the chat page's files."
  value       = module.edge.site_bucket
}

output "site_url" {
  description = "URL of the chat page."
  value       = module.edge.site_url
}

output "alb_web_acl_arn" {
  description = "WAF web ACL for the API's ALB."
  value       = module.edge.alb_web_acl_arn
}

output "ecr_repository_urls" {
  description = "ECR repositories by name."
  value       = module.registry.repository_urls
}

output "ragdeployment_values" {
  description = "Every value of the example RAGDeployment, by template variable."
  value       = local.ragdeployment_values
}

output "ragdeployment_yaml" {
  description = "The example RAGDeployment rendered from this account's outputs (terraform output -raw ragdeployment_yaml | kubectl apply -f -)."
  value       = templatefile("${path.module}/templates/ragdeployment.yaml.tftpl", local.ragdeployment_values)
}
