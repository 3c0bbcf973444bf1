"""The RAGDeployment API (`ragops.dev`) and the CRD generated from it."""
