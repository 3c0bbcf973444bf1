variable "name" {
  description = "Name prefix of the roles and policies (e.g. ragops-prod)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string
}

variable "namespace" {
  description = "Namespace of the RAGDeployment."
  type        = string
}

variable "ragdeployment_name" {
  description = "metadata.name of the RAGDeployment: the operator names its ServiceAccounts {name}-api and {name}-worker."
  type        = string
}

variable "per_component_roles" {
  description = "false (today's operator): one role with the api, worker and backup policies, trusted by {name}-api and {name}-worker, since spec.serviceAccount.iamRoleArn annotates both and the backup Jobs run as {name}-worker. true: one role per component, for an operator that annotates each ServiceAccount with its own role."
  type        = bool
  default     = false
}

variable "documents_bucket_arn" {
  description = "ARN of the documents bucket."
  type        = string
}

variable "documents_prefix" {
  description = "Key prefix of the RAGDeployment's documents (spec.documents.prefix)."
  type        = string
}

variable "backups_bucket_arn" {
  description = "ARN of the backups bucket."
  type        = string
}

variable "backups_prefix" {
  description = "Key prefix of the backups (spec.backup.prefix); objects are {prefix}/{namespace}/{name}/..."
  type        = string
  default     = "backups"
}

variable "queue_arn" {
  description = "ARN of the document queue."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the key the buckets and the queue are encrypted with."
  type        = string
}

variable "bedrock_model_arns" {
  description = "Bedrock foundation models (or inference profiles) the API may invoke as its fallback; empty: no Bedrock."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
