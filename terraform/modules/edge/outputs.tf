output "site_bucket" {
  description = "Bucket of the chat page's files (upload services/ragops_api/static/chat here, built by `npm run build`)."
  value       = module.site.s3_bucket_id
}

output "site_url" {
  description = "URL of the chat page."
  value       = "https://${module.cdn.cloudfront_distribution_domain_name}/"
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution of the chat page (for cache invalidations after an upload)."
  value       = module.cdn.cloudfront_distribution_id
}

output "cognito_user_pool_id" {
  description = "Cognito user pool ID."
  value       = aws_cognito_user_pool.users.id
}

output "cognito_issuer" {
  description = "Token issuer (spec.auth.issuer)."
  value       = "https://${aws_cognito_user_pool.users.endpoint}"
}

output "cognito_jwks_url" {
  description = "JWKS of the issuer (spec.auth.jwksUrl)."
  value       = "https://${aws_cognito_user_pool.users.endpoint}/.well-known/jwks.json"
}

output "cognito_client_id" {
  description = "App client ID of the chat page (spec.auth.audience, RAGOPS_UI_OIDC_CLIENT_ID)."
  value       = aws_cognito_user_pool_client.chat.id
}

output "cognito_hosted_ui_domain" {
  description = "Hosted UI domain the chat page signs in through (RAGOPS_UI_OIDC_DOMAIN)."
  value       = "https://${aws_cognito_user_pool_domain.hosted_ui.domain}.auth.${data.aws_region.current.name}.amazoncognito.com"
}

output "alb_web_acl_arn" {
  description = "Regional WAF web ACL for the API's ALB (Ingress annotation alb.ingress.kubernetes.io/wafv2-acl-arn)."
  value       = aws_wafv2_web_acl.regional.arn
}

output "cloudfront_web_acl_arn" {
  description = "CloudFront-scope WAF web ACL of the chat page."
  value       = aws_wafv2_web_acl.cloudfront.arn
}
