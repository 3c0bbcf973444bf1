"""One backup: dump the store to scratch, upload every file, then the manifest, then retention.

The manifest goes up last, so a folder that has one is complete; retention runs only after
that upload succeeded and never touches the backup just made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from ragops_maintenance.backup import layout
from ragops_maintenance.backup.bucket import S3BackupBucket
from ragops_maintenance.backup.catalog import CATALOG_FILE, Catalog, CatalogRows, write_catalog
from ragops_maintenance.backup.manifest import (
    FORMAT_VERSION,
    BackupManifest,
    CatalogEntry,
    EmbeddingEntry,
    Kind,
    file_entry,
)
from ragops_maintenance.backup.retention import RetentionPolicy, StoredBackup, to_delete
from ragops_maintenance.backup.stores import BackupTarget

log = logging.getLogger(__name__)

FormatChoice = Literal["auto", "snapshot", "jsonl"]
_KINDS: dict[str, Kind] = {"snapshot": "qdrant-snapshot", "jsonl": "points-jsonl"}


@dataclass(frozen=True)
class BackupPlan:
    """Where and how to back up; from settings (`RAGOPS_BACKUP_*`)."""

    prefix: str
    namespace: str
    name: str
    format: FormatChoice
    policy: RetentionPolicy
    embedding: EmbeddingEntry  # the configured model; dimensions filled from the data when known
    ragops_version: str


@dataclass(frozen=True)
class BackupOutcome:
    manifest: BackupManifest
    url: str
    deleted: list[str]
    retention_error: str | None = None


async def take_backup(
    target: BackupTarget,
    bucket: S3BackupBucket,
    plan: BackupPlan,
    *,
    scratch: Path,
    clock: Callable[[], datetime],
    catalog: Catalog | None = None,
) -> BackupOutcome:
    started = clock()
    root = layout.root_prefix(plan.prefix, plan.namespace, plan.name)
    location = layout.Location(bucket.bucket, root + layout.backup_id(started) + "/")
    kind = _KINDS[plan.format] if plan.format != "auto" else await target.default_kind()
    catalog_entry = await dump_catalog(catalog, scratch) if catalog is not None else None
    collections, dimensions = await target.dump(scratch, kind)
    # The catalog is read before the vectors: a document ingested in between has points but no
    # row (a restore then shows it after its next ingestion), never a row without points.
    named = [c.file for c in collections] + [c.checksums for c in collections if c.checksums]
    if catalog_entry is not None:
        named.append(catalog_entry.file)
    files = tuple(file_entry(scratch, relative) for relative in named)
    for entry in files:
        await bucket.upload(location.key(entry.path), scratch / entry.path)
    manifest = BackupManifest(
        format_version=FORMAT_VERSION,
        backup_id=location.backup_id,
        kind=kind,
        source=target.source,
        namespace=plan.namespace,
        name=plan.name,
        collections=tuple(collections),
        embedding=plan.embedding.model_copy(
            update={"dimensions": dimensions or plan.embedding.dimensions}
        ),
        catalog=catalog_entry,
        files=files,
        started_at=started,
        finished_at=clock(),
        ragops_version=plan.ragops_version,
    )
    await bucket.put(location.key(layout.MANIFEST_NAME), manifest.to_json_bytes())
    log.info("Backed up %d points to %s", manifest.points, location.url)
    try:
        deleted = await apply_retention(
            bucket, root, plan.policy, now=clock(), current=location.backup_id
        )
    except Exception as exc:  # the backup itself is safe in S3; report, do not undo it
        log.warning("Retention of %s failed: %s", root, exc)
        return BackupOutcome(
            manifest=manifest, url=location.url, deleted=[], retention_error=str(exc)
        )
    return BackupOutcome(manifest=manifest, url=location.url, deleted=deleted)


async def dump_catalog(catalog: Catalog, scratch: Path) -> CatalogEntry:
    jobs, documents = await catalog.export_rows()
    write_catalog(scratch / CATALOG_FILE, CatalogRows(jobs=jobs, documents=documents))
    return CatalogEntry(file=CATALOG_FILE, documents=len(documents), jobs=len(jobs))


async def list_backups(
    bucket: S3BackupBucket, root: str
) -> dict[str, tuple[StoredBackup, list[str]]]:
    """Backup id -> (what retention needs to know, its keys); folders that are not ours are
    skipped."""
    found: dict[str, tuple[StoredBackup, list[str]]] = {}
    grouped: dict[str, list[str]] = {}
    for key in await bucket.keys(root):
        folder, _, _rest = key[len(root) :].partition("/")
        grouped.setdefault(folder, []).append(key)
    for folder, keys in grouped.items():
        created = layout.parse_backup_id(folder)
        if created is None:
            continue
        complete = f"{root}{folder}/{layout.MANIFEST_NAME}" in keys
        found[folder] = (StoredBackup(backup_id=folder, created=created, complete=complete), keys)
    return found


async def apply_retention(
    bucket: S3BackupBucket, root: str, policy: RetentionPolicy, *, now: datetime, current: str
) -> list[str]:
    backups = await list_backups(bucket, root)
    doomed = to_delete(
        [stored for stored, _ in backups.values()], policy=policy, now=now, current=current
    )
    for backup_id in doomed:
        # The manifest first: a half-deleted folder then reads as incomplete, never as a good
        # backup.
        keys = backups[backup_id][1]
        manifests = [k for k in keys if k.endswith("/" + layout.MANIFEST_NAME)]
        await bucket.delete_keys(manifests)
        await bucket.delete_keys([k for k in keys if k not in manifests])
        log.info("Deleted backup %s%s (retention)", root, backup_id)
    return doomed


async def latest_backup(bucket: S3BackupBucket, root: str) -> str | None:
    complete = [
        stored for stored, _ in (await list_backups(bucket, root)).values() if stored.complete
    ]
    return max(complete, key=lambda b: b.created).backup_id if complete else None
