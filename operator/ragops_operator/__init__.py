"""The RAGOps operator: one RAGDeployment in, a complete RAG stack out."""
