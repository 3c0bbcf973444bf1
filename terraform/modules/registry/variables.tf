variable "repositories" {
  description = "ECR repositories to create (RAGOps ships one image for every entrypoint)."
  type        = list(string)
  default     = ["ragops"]
}

variable "kms_key_arn" {
  description = "KMS key the images are encrypted with."
  type        = string
}

variable "keep_tagged_images" {
  description = "Most tagged images kept per repository (oldest expire first)."
  type        = number
  default     = 50
}

variable "untagged_expire_days" {
  description = "Days after which untagged images (failed or superseded pushes) expire."
  type        = number
  default     = 7
}

variable "push_role_arns" {
  description = "IAM roles allowed to push (the CI release role); nodes pull through their instance role."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
