terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.95.0, < 6.0.0"
      configuration_aliases = [aws.us_east_1]
    }
  }
}
