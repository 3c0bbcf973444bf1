variable "name" {
  description = "Cluster name (also the prefix of its IAM roles)."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (minor, e.g. 1.33)."
  type        = string
  default     = "1.33"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "node_subnet_ids" {
  description = "Private-app subnets, one per AZ: nodes, pods and the control plane's network interfaces."
  type        = list(string)

  validation {
    condition     = length(var.node_subnet_ids) == 3
    error_message = "One private-app subnet per AZ, three AZs."
  }
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the Kubernetes API from the internet; empty: private endpoint only (reach it through a VPN or bastion)."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles (e.g. an SSO admin role, the CI deploy role) given cluster-admin through EKS access entries."
  type        = list(string)
  default     = []
}

variable "node_groups" {
  description = "The three managed node groups: api, workers (spot) and qdrant (tainted). Sizes and instance types per group; null: these defaults."
  nullable    = false
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
  default = {
    api = {
      instance_types = ["m5.xlarge"]
      capacity_type  = "ON_DEMAND"
      min_size       = 3
      max_size       = 10
      desired_size   = 3
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "api" }
      taints         = {}
    }
    workers = {
      instance_types = ["c5.2xlarge"]
      capacity_type  = "SPOT"
      min_size       = 2
      max_size       = 8
      desired_size   = 2
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "workers" }
      taints         = {}
    }
    qdrant = {
      instance_types = ["r5.xlarge"]
      capacity_type  = "ON_DEMAND"
      min_size       = 3
      max_size       = 6
      desired_size   = 3
      disk_size_gib  = 50
      labels         = { "ragops.dev/pool" = "qdrant" }
      taints = {
        qdrant = { key = "ragops.dev/qdrant", value = "true", effect = "NO_SCHEDULE" }
      }
    }
  }

  validation {
    condition     = alltrue([for group in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], group.capacity_type)])
    error_message = "capacity_type is ON_DEMAND or SPOT."
  }
}

variable "log_retention_days" {
  description = "Days the control plane's logs are kept in CloudWatch Logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
