"""Operations on a deployment's data, run as their own commands (and Kubernetes Jobs), not by the
API or the worker: backups and restores (`backup/`) and re-indexing into a new embedding
model's index version (`reindex.py`). They use store-specific abilities beyond the ports
(Qdrant snapshots, aliases, point export), so they sit above the adapters, outside the core.
"""
