output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the Kubernetes API (for kubeconfig and the kubernetes/helm providers)."
  value       = module.eks.cluster_certificate_authority_data
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (the federated principal of every IRSA role)."
  value       = module.eks.oidc_provider_arn
}

output "node_security_group_id" {
  description = "Security group of the nodes (Redis admits it)."
  value       = module.eks.node_security_group_id
}

output "node_groups" {
  description = "The managed node groups, by name: sizes and instance types as applied."
  value = {
    for group, spec in var.node_groups : group => {
      instance_types = spec.instance_types
      capacity_type  = spec.capacity_type
      min_size       = spec.min_size
      max_size       = spec.max_size
    }
  }
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller (kube-system/aws-load-balancer-controller)."
  value       = module.load_balancer_controller_irsa.iam_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler (kube-system/cluster-autoscaler)."
  value       = module.cluster_autoscaler_irsa.iam_role_arn
}

output "ebs_csi_role_arn" {
  description = "IRSA role of the EBS CSI driver's controller."
  value       = module.ebs_csi_irsa.iam_role_arn
}

output "storage_class" {
  description = "Default StorageClass for Qdrant volumes (spec.vectorStore.qdrant.storage.storageClassName)."
  value       = kubernetes_storage_class_v1.gp3.metadata[0].name
}
