"""`ragops backup verify`: restore a backup into scratch and compare it with its manifest.

A backup never restored is not known to be a backup. This one is downloaded and its file
checksums checked (as a restore does), its collections restored into scratch collections
(the server) or a scratch store (embedded) and read back point by point against the
per-point checksums and counts the backup recorded, its catalog loaded into a scratch SQLite
catalog and counted. The scratch is removed whatever happens, and the result is written next
to the backup as `verification.json`, so anyone looking at the bucket sees which backups were
proven restorable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ragops_core.adapters.catalog.sqlite import SqliteCatalog
from ragops_core.errors import RestoreError
from ragops_maintenance.backup import layout
from ragops_maintenance.backup.bucket import S3BackupBucket
from ragops_maintenance.backup.catalog import read_catalog
from ragops_maintenance.backup.checksums import differences, read_checksums
from ragops_maintenance.backup.manifest import BackupManifest, safe_relative
from ragops_maintenance.backup.restore import download_verified, read_manifest
from ragops_maintenance.backup.stores import BackupTarget

log = logging.getLogger(__name__)

REPORT_NAME = "verification.json"


@dataclass(frozen=True)
class Verification:
    backup_id: str
    url: str
    checked_at: datetime
    problems: list[str] = field(default_factory=list)
    points: int | None = None  # read back from the scratch restore
    documents: int | None = None
    jobs: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return "; ".join(self.problems) if self.problems else "matches its manifest"

    def to_json_bytes(self) -> bytes:
        body = asdict(self) | {"ok": self.ok, "checkedAt": self.checked_at.isoformat()}
        del body["checked_at"]
        body["backupId"] = body.pop("backup_id")
        return json.dumps(body, indent=2).encode() + b"\n"


async def verify_backup(
    target: BackupTarget,
    bucket: S3BackupBucket,
    location: layout.Location,
    *,
    scratch: Path,
    clock: Callable[[], datetime],
) -> Verification:
    """Never raises for a bad backup: every finding goes into the report, which is uploaded."""
    base = Verification(backup_id=location.backup_id, url=location.url, checked_at=clock())
    try:
        manifest = await read_manifest(bucket, location)
        await download_verified(bucket, location, manifest, scratch)
        result = await _compare(target, manifest, scratch, base)
    # OSError and EOFError are gzip's: a file rewritten together with its checksum in the
    # manifest passes the file checksums and breaks only when read.
    except (RestoreError, OSError, EOFError) as exc:
        result = Verification(
            backup_id=base.backup_id, url=base.url, checked_at=base.checked_at, problems=[str(exc)]
        )
    await bucket.put(location.key(REPORT_NAME), result.to_json_bytes())
    log.info("Verified %s: %s", location.url, result.reason)
    return result


async def _compare(
    target: BackupTarget, manifest: BackupManifest, scratch: Path, base: Verification
) -> Verification:
    problems: list[str] = []
    documents = jobs = None
    if manifest.catalog is None:
        problems.append("the backup holds no catalog (format 1): a restore lists no documents")
    else:
        rows = read_catalog(scratch / safe_relative(manifest.catalog.file))
        restored = SqliteCatalog(scratch / "verify-catalog.sqlite3")
        try:
            await restored.import_rows(rows.jobs, rows.documents, replace=True)
            loaded_jobs, loaded_documents = await restored.export_rows()
        finally:
            await restored.close()
        documents, jobs = len(loaded_documents), len(loaded_jobs)
        if (documents, jobs) != (manifest.catalog.documents, manifest.catalog.jobs):
            problems.append(
                f"catalog: {documents} documents and {jobs} jobs restored, the manifest says "
                f"{manifest.catalog.documents} and {manifest.catalog.jobs}"
            )
    restored_points = await target.scratch_checksums(manifest, scratch)
    points = 0
    for entry in manifest.collections:
        actual = restored_points.get(entry.name, {})
        points += len(actual)
        if len(actual) != entry.points:
            problems.append(
                f"{entry.name}: {len(actual)} points restored, the manifest says {entry.points}"
            )
        if entry.checksums is None:
            problems.append(f"{entry.name}: the backup records no per-point checksums")
            continue
        expected = read_checksums(scratch / safe_relative(entry.checksums))
        problems.extend(f"{entry.name}: {p}" for p in differences(expected, actual))
    return Verification(
        backup_id=base.backup_id,
        url=base.url,
        checked_at=base.checked_at,
        problems=problems,
        points=points,
        documents=documents,
        jobs=jobs,
    )
