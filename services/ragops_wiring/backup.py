"""Settings -> the backup target and bucket: which store a backup reads and a restore writes.

The backups' share of the composition root: ragops_maintenance.backup is written against
`BackupTarget` and the bucket; this module picks the stores behind them.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from contextlib import contextmanager

from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.errors import BackupError
from ragops_core.settings import Settings
from ragops_maintenance.backup import layout
from ragops_maintenance.backup.bucket import S3BackupBucket
from ragops_maintenance.backup.catalog import Catalog
from ragops_maintenance.backup.manifest import EmbeddingEntry
from ragops_maintenance.backup.retention import RetentionPolicy
from ragops_maintenance.backup.snapshots import QdrantSnapshots
from ragops_maintenance.backup.stores import BackupTarget, EmbeddedTarget, ServerTarget
from ragops_maintenance.backup.take import BackupPlan
from ragops_wiring.adapters import build_catalog, qdrant_client, qdrant_server_store
from ragops_wiring.data_dir import lock_data_dir


def configured_embedding(settings: Settings) -> EmbeddingEntry:
    if settings.embedding_provider == "openai":
        return EmbeddingEntry(
            provider="openai",
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
        )
    from ragops_core.adapters.embedder import onnx as onnx_embedder

    return EmbeddingEntry(
        provider="local", model=onnx_embedder.MODEL_ID, dimensions=onnx_embedder.DIMENSIONS
    )


def ragops_version() -> str:
    try:
        return importlib.metadata.version("ragops")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def plan(settings: Settings) -> BackupPlan:
    return BackupPlan(
        prefix=settings.backup_prefix,
        namespace=settings.backup_namespace,
        name=settings.backup_name,
        format=settings.backup_format,
        policy=RetentionPolicy(
            max_age_days=settings.backup_retention_days,
            keep_at_least=settings.backup_keep_at_least,
            keep_last=settings.backup_keep_last,
        ),
        embedding=configured_embedding(settings),
        ragops_version=ragops_version(),
    )


def root(settings: Settings) -> str:
    return layout.root_prefix(
        settings.backup_prefix, settings.backup_namespace, settings.backup_name
    )


def bucket(settings: Settings, name: str | None = None) -> S3BackupBucket:
    chosen = name or settings.backup_bucket
    if not chosen:
        raise BackupError("no backup bucket: set RAGOPS_BACKUP_BUCKET")
    return S3BackupBucket(chosen, kms_key_id=settings.backup_kms_key_id)


@contextmanager
def owning_data_dir(settings: Settings) -> Iterator[None]:
    """Own the embedded data dir for a backup or restore, as `serve` does: opening its Qdrant
    Edge shard while a server runs on it would damage the server's files. A server store
    (RAGOPS_QDRANT_URL) needs no lock: Qdrant serves snapshots to any number of clients."""
    if settings.qdrant_url:
        yield
        return
    lock = lock_data_dir(settings.data_dir)
    try:
        yield
    finally:
        lock.release()


def target(settings: Settings) -> BackupTarget:
    if settings.qdrant_url:

        def server_store(dimensions: int) -> QdrantServerStore:
            return qdrant_server_store(
                settings,
                qdrant_client(settings),
                version=settings.index_version,
                dimensions=dimensions,
            )

        snapshots = QdrantSnapshots(
            settings.qdrant_url, api_key=settings.qdrant_api_key, client=qdrant_client(settings)
        )
        return ServerTarget(snapshots, alias=settings.qdrant_collection, make_store=server_store)

    def edge_store(dimensions: int | None) -> EdgeVectorStore:
        return EdgeVectorStore(
            settings.vector_dir,
            dimensions=dimensions,
            bm25_avg_words=float(settings.chunk_words),
            fusion=settings.fusion,
        )

    return EmbeddedTarget(
        settings.vector_dir,
        collection=f"{settings.qdrant_collection}-{settings.index_version}",
        alias=settings.qdrant_collection,
        make_store=edge_store,
    )


def catalog(settings: Settings) -> Catalog:
    """The catalog the pods use: Redis (RAGOPS_CATALOG_URL) or the data dir's SQLite file."""
    return build_catalog(settings)
