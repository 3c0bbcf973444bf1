variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "replica_region" {
  description = "Region of the replica buckets (replication is off in staging)."
  type        = string
  default     = "us-west-2"
}

variable "bucket_prefix" {
  description = "Globally unique prefix of the bucket names."
  type        = string
  default     = "acme-ragops-staging"
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the Kubernetes API (e.g. the office or VPN egress)."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags on every resource of the environment."
  type        = map(string)
  default     = { environment = "staging", owner = "platform" }
}
