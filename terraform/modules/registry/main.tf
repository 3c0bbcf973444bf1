# ECR: scan on push, immutable tags (a tag names one image forever, which blue/green relies
# on), KMS encryption and a lifecycle policy.

module "ecr" {
  source   = "terraform-aws-modules/ecr/aws"
  version  = "2.4.0"
  for_each = toset(var.repositories)

  repository_name                 = each.value
  repository_type                 = "private"
  repository_image_tag_mutability = "IMMUTABLE"
  repository_image_scan_on_push   = true
  repository_encryption_type      = "KMS"
  repository_kms_key              = var.kms_key_arn
  repository_force_delete         = false

  repository_read_write_access_arns = var.push_role_arns

  create_lifecycle_policy = true
  repository_lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_expire_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest tagged images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_tagged_images
        }
        action = { type = "expire" }
      },
    ]
  })

  tags = var.tags
}
