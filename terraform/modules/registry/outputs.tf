output "repository_urls" {
  description = "Repository URLs by name (spec.image is {url}:{tag})."
  value       = { for name, repository in module.ecr : name => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by name."
  value       = { for name, repository in module.ecr : name => repository.repository_arn }
}
