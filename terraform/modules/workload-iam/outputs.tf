output "role_arns" {
  description = "IRSA role ARNs by role: {stack} by default, {api, worker, backup} with per_component_roles."
  value       = { for key, role in module.role : key => role.iam_role_arn }
}

output "ragdeployment_role_arn" {
  description = "The role for spec.serviceAccount.iamRoleArn (today's operator puts one role on the api and worker ServiceAccounts)."
  value       = var.per_component_roles ? module.role["api"].iam_role_arn : module.role["stack"].iam_role_arn
}

output "policy_arns" {
  description = "The api, worker and backup policies, by component."
  value       = { for key, policy in aws_iam_policy.component : key => policy.arn }
}
