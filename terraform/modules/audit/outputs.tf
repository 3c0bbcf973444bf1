output "log_group_names" {
  description = "Application log group names, by short name."
  value       = { for key, group in aws_cloudwatch_log_group.app : key => group.name }
}

output "cloudtrail_arn" {
  description = "ARN of the trail (null when cloudtrail_enabled is false)."
  value       = var.cloudtrail_enabled ? aws_cloudtrail.trail[0].arn : null
}

output "guardduty_detector_id" {
  description = "GuardDuty detector ID (null when guardduty_enabled is false)."
  value       = var.guardduty_enabled ? aws_guardduty_detector.main[0].id : null
}
