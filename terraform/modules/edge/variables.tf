variable "name" {
  description = "Name prefix (e.g. ragops-prod)."
  type        = string
}

variable "site_bucket" {
  description = "Globally unique name of the chat page's bucket."
  type        = string
}

variable "force_destroy" {
  description = "Let `destroy` delete a non-empty site bucket (staging only)."
  type        = bool
  default     = false
}

variable "site_aliases" {
  description = "Custom host names of the chat page (need acm_certificate_arn); empty: the *.cloudfront.net name."
  type        = list(string)
  default     = []
}

variable "acm_certificate_arn" {
  description = "ACM certificate in us-east-1 for site_aliases; null: CloudFront's default certificate."
  type        = string
  default     = null
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted UI domain (https://PREFIX.auth.REGION.amazoncognito.com), globally unique per region."
  type        = string
}

variable "callback_urls" {
  description = "Extra OAuth callback URLs of the chat page (the CloudFront URL is always allowed)."
  type        = list(string)
  default     = []
}

variable "rate_limit_per_5_minutes" {
  description = "Requests one client IP may send in 5 minutes before WAF blocks it (the API's own per-user limits apply below that)."
  type        = number
  default     = 2000
}

variable "blocked_countries" {
  description = "ISO 3166 country codes WAF blocks; empty: no geo blocking."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days WAF logs are kept in CloudWatch Logs."
  type        = number
  default     = 90
}

variable "kms_key_arn" {
  description = "KMS key of the regional WAF log group."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
