"""One restore: read the manifest, download and verify every file, then load the store.

Nothing touches the store before every checksum matched, and a store that already holds
points is refused unless the caller forces it: a restore into the wrong stack would
otherwise mix two indexes silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ragops_core.errors import NotFoundError, RestoreError
from ragops_maintenance.backup import layout
from ragops_maintenance.backup.bucket import S3BackupBucket
from ragops_maintenance.backup.catalog import Catalog, read_catalog
from ragops_maintenance.backup.manifest import (
    BackupManifest,
    EmbeddingEntry,
    checksum_problems,
    safe_relative,
)
from ragops_maintenance.backup.stores import BackupTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoreOutcome:
    manifest: BackupManifest
    points: int  # in the store afterwards
    documents: int = 0  # catalog rows restored
    skipped: bool = False  # --if-empty on a store that already had points


async def read_manifest(bucket: S3BackupBucket, location: layout.Location) -> BackupManifest:
    try:
        data = await bucket.get(location.key(layout.MANIFEST_NAME))
    except NotFoundError as exc:
        raise RestoreError(
            f"{location.url} has no {layout.MANIFEST_NAME}: not a backup, or one that never "
            "finished uploading"
        ) from exc
    return BackupManifest.from_json_bytes(data)


def embedding_mismatch(manifest: BackupManifest, configured: EmbeddingEntry) -> str | None:
    """Vectors of another model answer nonsense: say so rather than restore them quietly."""
    theirs = manifest.embedding
    if (theirs.provider, theirs.model) != (configured.provider, configured.model):
        return (
            f"the backup was embedded with {theirs.provider}/{theirs.model}, this stack uses "
            f"{configured.provider}/{configured.model}"
        )
    return None


async def download_verified(
    bucket: S3BackupBucket, location: layout.Location, manifest: BackupManifest, scratch: Path
) -> None:
    for entry in manifest.files:
        path = scratch / safe_relative(entry.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            await bucket.download(location.key(entry.path), path)
        except NotFoundError as exc:
            raise RestoreError(f"{location.url} is incomplete: {exc}") from exc
    problems = checksum_problems(manifest.files, scratch)
    if problems:
        raise RestoreError(
            f"{location.url} failed its checksums, refusing to restore: " + "; ".join(problems)
        )
    listed = {entry.path for entry in manifest.files}
    unlisted = [path for path in manifest.content_files if path not in listed]
    if unlisted:
        raise RestoreError(
            f"{location.url}: the manifest has no checksum for {', '.join(unlisted)}"
        )


async def restore_backup(
    target: BackupTarget,
    bucket: S3BackupBucket,
    location: layout.Location,
    *,
    scratch: Path,
    configured: EmbeddingEntry,
    force: bool = False,
    if_empty: bool = False,
    catalog: Catalog | None = None,
) -> RestoreOutcome:
    manifest = await read_manifest(bucket, location)
    mismatch = embedding_mismatch(manifest, configured)
    if mismatch and not force:
        raise RestoreError(f"{mismatch}; pass --force to restore anyway (then re-embed)")
    await download_verified(bucket, location, manifest, scratch)
    rows = read_catalog(scratch / manifest.catalog.file) if manifest.catalog else None
    existing = await target.points()
    documents = len((await catalog.export_rows())[1]) if catalog is not None else 0
    if (existing or documents) and not force:
        if if_empty:
            log.info(
                "Skipped restore of %s: the store already holds %d points", location.url, existing
            )
            return RestoreOutcome(manifest=manifest, points=existing, skipped=True)
        raise RestoreError(
            f"the {target.source} vector store already holds {existing} points and the catalog "
            f"{documents} documents; pass --force to replace them with the backup"
        )
    points = await target.restore(manifest, scratch, replace=bool(existing))
    if points < manifest.points:  # a server may hold collections beyond the backup
        raise RestoreError(f"restored {points} points but the backup lists {manifest.points}")
    restored_documents = 0
    if rows is None:
        log.warning("%s has no catalog (format 1): no documents are listed", location.url)
    elif catalog is not None:
        # After the vectors: a restore that fails half-way leaves points nobody lists (found
        # again by the next restore with --force), never listed documents without points.
        await catalog.import_rows(rows.jobs, rows.documents, replace=True)
        restored_documents = len(rows.documents)
    log.info(
        "Restored %d points and %d documents from %s", points, restored_documents, location.url
    )
    return RestoreOutcome(manifest=manifest, points=points, documents=restored_documents)
