variable "name" {
  description = "Name prefix (e.g. ragops-prod)."
  type        = string
}

variable "log_groups" {
  description = "Application log groups to create (e.g. where Fluent Bit sends container logs), by short name."
  type        = list(string)
  default     = ["application", "operator"]
}

variable "log_retention_days" {
  description = "Days the application log groups and the CloudTrail log group keep events."
  type        = number
  default     = 90
}

variable "kms_key_arn" {
  description = "KMS key of the log groups."
  type        = string
}

variable "cloudtrail_enabled" {
  description = "Create a multi-region CloudTrail trail (off when the organisation already has one)."
  type        = bool
  default     = true
}

variable "cloudtrail_bucket" {
  description = "Globally unique name of the CloudTrail bucket."
  type        = string
}

variable "cloudtrail_retention_days" {
  description = "Days CloudTrail files are kept in S3."
  type        = number
  default     = 365
}

variable "guardduty_enabled" {
  description = "Enable GuardDuty in this region, with EKS audit log and S3 data event monitoring (off when the organisation manages it)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let `destroy` delete a non-empty CloudTrail bucket (staging only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
