variable "name" {
  description = "Name prefix of the VPC and everything in it (e.g. ragops-prod)."
  type        = string
}

variable "cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "The three availability zones the subnets, NAT gateways and node groups spread over."
  type        = list(string)

  validation {
    condition     = length(var.azs) == 3
    error_message = "Exactly three availability zones: every tier keeps serving when one zone is lost."
  }
}

variable "public_subnets" {
  description = "One per AZ, in the order of azs: internet-facing load balancers and the NAT gateways."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
}

variable "private_app_subnets" {
  description = "One per AZ: EKS nodes and pods (the VPC CNI gives every pod a VPC address, hence /19)."
  type        = list(string)
  default     = ["10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"]
}

variable "private_data_subnets" {
  description = "One per AZ: ElastiCache; no route to the internet."
  type        = list(string)
  default     = ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"]
}

variable "cluster_name" {
  description = "EKS cluster name, for the subnet tags the AWS Load Balancer Controller reads."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
