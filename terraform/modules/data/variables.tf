variable "name" {
  description = "Name prefix of every store (e.g. ragops-prod)."
  type        = string
}

variable "bucket_prefix" {
  description = "Globally unique prefix of the bucket names (e.g. acme-ragops-prod): buckets are {bucket_prefix}-documents and {bucket_prefix}-backups."
  type        = string
}

variable "documents_prefix" {
  description = "Key prefix of the RAGDeployment's documents (spec.documents.prefix); S3 events under it feed the queue."
  type        = string
  default     = "documents"
}

variable "documents_glacier_after_days" {
  description = "Days after which documents move to Glacier Instant Retrieval (still readable at once, cheaper to keep)."
  type        = number
  default     = 90
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept before it expires."
  type        = number
  default     = 30
}

variable "backup_lock_days" {
  description = "Object Lock (governance mode) days on every backup object: nobody without the bypass permission deletes a fresh backup."
  type        = number
  default     = 7
}

variable "replication_enabled" {
  description = "Replicate the documents and backups buckets to the replica region (the aws.replica provider, us-west-2 in the example roots)."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let `destroy` delete non-empty buckets (staging only; never in production)."
  type        = bool
  default     = false
}

variable "queue_visibility_timeout_seconds" {
  description = "SQS visibility timeout of the document queue (RAGOPS_JOB_VISIBILITY_SECONDS: the worker extends it while it works)."
  type        = number
  default     = 300
}

variable "queue_max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue (at least RAGOPS_JOB_MAX_ATTEMPTS)."
  type        = number
  default     = 3
}

variable "vpc_id" {
  description = "VPC of the Redis replication group."
  type        = string
}

variable "data_subnet_ids" {
  description = "Private-data subnets, one per AZ, for Redis."
  type        = list(string)
}

variable "redis_client_security_group_ids" {
  description = "Security groups allowed to connect to Redis on 6379 (the EKS nodes)."
  type        = list(string)
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.r6g.large"
}

variable "redis_replicas" {
  description = "Read replicas besides the primary (each in another AZ)."
  type        = number
  default     = 2
}

variable "redis_engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "log_retention_days" {
  description = "Days Redis slow logs are kept in CloudWatch Logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
