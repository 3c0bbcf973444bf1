output "kms_key_arn" {
  description = "ARN of the data key (spec.documents.kmsKeyId, spec.backup.kmsKeyId)."
  value       = module.kms.key_arn
}

output "documents_bucket" {
  description = "Name of the documents bucket (spec.documents.bucket)."
  value       = module.documents.s3_bucket_id
}

output "documents_bucket_arn" {
  description = "ARN of the documents bucket."
  value       = module.documents.s3_bucket_arn
}

output "documents_prefix" {
  description = "Key prefix of the documents (spec.documents.prefix)."
  value       = var.documents_prefix
}

output "backups_bucket" {
  description = "Name of the backups bucket (spec.backup.bucket)."
  value       = module.backups.s3_bucket_id
}

output "backups_bucket_arn" {
  description = "ARN of the backups bucket."
  value       = module.backups.s3_bucket_arn
}

output "queue_url" {
  description = "URL of the document queue (spec.documents.queueUrl)."
  value       = module.queue.queue_url
}

output "queue_arn" {
  description = "ARN of the document queue."
  value       = module.queue.queue_arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue (redrive it after fixing the cause)."
  value       = module.queue.dead_letter_queue_url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.queue.dead_letter_queue_arn
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of Redis (TLS on 6379)."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "redis_reader_endpoint" {
  description = "Reader endpoint of Redis (the replicas)."
  value       = aws_elasticache_replication_group.redis.reader_endpoint_address
}

output "redis_secret_arn" {
  description = "Secrets Manager secret with the Redis AUTH token and rediss:// URL (copied into the Secret of spec.cache.redis.urlSecretRef)."
  value       = aws_secretsmanager_secret.redis.arn
}

output "openai_secret_arn" {
  description = "Secrets Manager secret meant to hold OPENAI_API_KEY (copied into the Secret of spec.models.credentialsSecretRef)."
  value       = aws_secretsmanager_secret.openai.arn
}

output "replica_buckets" {
  description = "Replica bucket names in the replica region (empty without replication)."
  value       = var.replication_enabled ? [module.documents_replica[0].s3_bucket_id, module.backups_replica[0].s3_bucket_id] : []
}
