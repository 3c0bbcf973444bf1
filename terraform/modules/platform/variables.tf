variable "name" {
  description = "Name of the environment's stack (e.g. ragops-prod): the VPC, cluster, queue and role names start with it."
  type        = string
}

variable "bucket_prefix" {
  description = "Globally unique prefix of every bucket name (e.g. acme-ragops-prod)."
  type        = string
}

variable "azs" {
  description = "Three availability zones of the region."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the Kubernetes API from the internet; empty: private only."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin."
  type        = list(string)
  default     = []
}

variable "node_groups" {
  description = "Override of the cluster module's node groups (null: the seed's api, workers and qdrant groups)."
  type = map(object({
    instance_types = list(string)
    capacity_type  = string
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gib  = number
    labels         = map(string)
    taints = map(object({
      key    = string
      value  = string
      effect = string
    }))
  }))
  default = null
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.r6g.large"
}

variable "redis_replicas" {
  description = "Redis read replicas besides the primary."
  type        = number
  default     = 2
}

variable "replication_enabled" {
  description = "Replicate documents and backups to the aws.replica region."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let `destroy` empty the buckets (staging only)."
  type        = bool
  default     = false
}

variable "ragdeployment" {
  description = "The first RAGDeployment this account serves: its name and namespace (IRSA trusts {namespace}:{name}-api and -worker), key prefixes, image tag and fallback model."
  type = object({
    name             = string
    namespace        = string
    documents_prefix = string
    backups_prefix   = string
    image_tag        = string
    bedrock_model_id = string
  })
  default = {
    name             = "rag"
    namespace        = "prod"
    documents_prefix = "prod"
    backups_prefix   = "backups"
    image_tag        = "0.1.0"
    bedrock_model_id = "anthropic.claude-3-haiku-20240307-v1:0"
  }
}

variable "per_component_roles" {
  description = "One IRSA role per component (api, worker, backup) instead of one for the stack; needs an operator that annotates each ServiceAccount with its own role."
  type        = bool
  default     = false
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted UI domain."
  type        = string
}

variable "site_aliases" {
  description = "Custom host names of the chat page."
  type        = list(string)
  default     = []
}

variable "acm_certificate_arn" {
  description = "ACM certificate (us-east-1) for site_aliases."
  type        = string
  default     = null
}

variable "blocked_countries" {
  description = "Country codes WAF blocks; empty: none."
  type        = list(string)
  default     = []
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests per client IP in 5 minutes before WAF blocks it."
  type        = number
  default     = 2000
}

variable "ecr_push_role_arns" {
  description = "IAM roles allowed to push images."
  type        = list(string)
  default     = []
}

variable "cloudtrail_enabled" {
  description = "Create a CloudTrail trail."
  type        = bool
  default     = true
}

variable "guardduty_enabled" {
  description = "Enable GuardDuty."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days every CloudWatch log group keeps events."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
