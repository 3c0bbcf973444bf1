output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = module.vpc.vpc_cidr_block
}

output "azs" {
  description = "The availability zones, in subnet order."
  value       = var.azs
}

output "public_subnet_ids" {
  description = "Public subnets, one per AZ."
  value       = module.vpc.public_subnets
}

output "private_app_subnet_ids" {
  description = "Private-app subnets (EKS nodes and pods), one per AZ."
  value       = module.vpc.private_subnets
}

output "private_data_subnet_ids" {
  description = "Private-data subnets (ElastiCache), one per AZ."
  value       = module.vpc.intra_subnets
}

output "nat_public_ips" {
  description = "Elastic IPs of the NAT gateways (what third parties such as OpenAI see as the source)."
  value       = module.vpc.nat_public_ips
}

output "vpc_endpoint_ids" {
  description = "IDs of the VPC endpoints, by name."
  value       = { for key, endpoint in module.endpoints.endpoints : key => endpoint.id }
}
