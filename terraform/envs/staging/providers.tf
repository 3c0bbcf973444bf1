provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

# CloudFront-scope WAF web ACLs live in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = var.tags
  }
}

# Destination of the optional cross-region replication of documents and backups.
provider "aws" {
  alias  = "replica"
  region = var.replica_region

  default_tags {
    tags = var.tags
  }
}

provider "kubernetes" {
  host                   = module.platform.cluster_endpoint
  cluster_ca_certificate = base64decode(module.platform.cluster_certificate_authority_data)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.platform.cluster_name, "--region", var.region]
  }
}
