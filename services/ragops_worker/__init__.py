"""Ingestion worker: extraction, chunking, embedding and indexing of documents."""
