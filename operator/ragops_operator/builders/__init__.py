"""Pure builders: a parsed RAGDeployment in, Kubernetes manifests (plain dicts) out."""
