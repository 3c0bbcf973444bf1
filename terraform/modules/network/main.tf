# The VPC of the seed: three AZs, each with a public, a private-app and a private-data subnet,
# a NAT gateway per AZ (losing a zone never cuts the others off), and VPC endpoints so image
# pulls, logs, queue and STS traffic stay off the NAT gateways.

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = var.name
  cidr = var.cidr
  azs  = var.azs

  public_subnets       = var.public_subnets
  public_subnet_suffix = "public"
  public_subnet_tags = {
    "kubernetes.io/role/elb"                    = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  }

  private_subnets       = var.private_app_subnets
  private_subnet_suffix = "private-app"
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb"           = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  }

  # "intra" subnets have no route to the internet: the data tier only talks to the app tier.
  intra_subnets       = var.private_data_subnets
  intra_subnet_suffix = "private-data"

  enable_nat_gateway     = true
  single_nat_gateway     = false
  one_nat_gateway_per_az = true

  enable_dns_hostnames = true
  enable_dns_support   = true

  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []

  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = var.flow_log_retention_days

  tags = var.tags
}

module "endpoints" {
  source  = "terraform-aws-modules/vpc/aws//modules/vpc-endpoints"
  version = "5.21.0"

  vpc_id = module.vpc.vpc_id

  create_security_group      = true
  security_group_name_prefix = "${var.name}-endpoints-"
  security_group_description = "HTTPS from the VPC to the interface endpoints"
  security_group_rules = {
    ingress_https = {
      description = "HTTPS from the VPC"
      cidr_blocks = [module.vpc.vpc_cidr_block]
    }
  }

  endpoints = merge(
    {
      s3 = {
        service         = "s3"
        service_type    = "Gateway"
        route_table_ids = concat(module.vpc.private_route_table_ids, module.vpc.intra_route_table_ids)
        tags            = { Name = "${var.name}-s3" }
      }
    },
    {
      for key, service in local.interface_endpoints : key => {
        service             = service
        private_dns_enabled = true
        subnet_ids          = module.vpc.private_subnets
        tags                = { Name = "${var.name}-${key}" }
      }
    },
  )

  tags = var.tags
}

locals {
  interface_endpoints = {
    ecr_api        = "ecr.api"
    ecr_dkr        = "ecr.dkr"
    logs           = "logs"
    sqs            = "sqs"
    sts            = "sts"
    secretsmanager = "secretsmanager"
  }
}
