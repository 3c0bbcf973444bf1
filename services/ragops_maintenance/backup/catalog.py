"""The catalog in a backup: every job and document, one gzip-compressed JSON Lines file.

Line 1 is a header, `{"format": "ragops-catalog", "version": 1}`; then one line per row,
`{"job": {...}}` or `{"document": {...}}`, with the fields the catalogs store (times
included, so a restored document list is the one backed up, in the same order). Rows are
sorted, so the same catalog gives the same bytes and the same checksum.

Vectors without their catalog are documents nobody can see in `/api/documents` (and can
delete only by id), so a backup holds both, and a restore loads both.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ragops_core.domain import DocumentRecord, Job
from ragops_core.errors import RestoreError

FORMAT = "ragops-catalog"
VERSION = 1
CATALOG_FILE = "catalog/catalog.jsonl.gz"
# A hostile or broken file must not grow memory without bound: no real row comes near this.
_MAX_LINE = 1024 * 1024


class Catalog(Protocol):
    """What both catalogs (SQLite embedded, Redis shared) offer backups."""

    async def export_rows(self) -> tuple[list[Job], list[DocumentRecord]]: ...

    async def import_rows(
        self, jobs: list[Job], documents: list[DocumentRecord], *, replace: bool
    ) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class CatalogRows:
    jobs: list[Job]
    documents: list[DocumentRecord]


def write_catalog(path: Path, rows: CatalogRows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as out:
        out.write(_line({"format": FORMAT, "version": VERSION}))
        for job in sorted(rows.jobs, key=lambda j: j.job_id):
            out.write(_line({"job": {"tenant": job.tenant, **job.to_json()}}))
        for doc in sorted(rows.documents, key=lambda d: (d.tenant, d.document_id)):
            out.write(_line({"document": {"tenant": doc.tenant, **doc.to_json()}}))


def read_catalog(path: Path) -> CatalogRows:
    """The rows of a catalog file; a wrong header or a broken line is a RestoreError."""
    jobs: list[Job] = []
    documents: list[DocumentRecord] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        header = _parse(path, 1, lines.readline(_MAX_LINE))
        if header.get("format") != FORMAT:
            raise RestoreError(f"{path.name} does not start with a {FORMAT} header")
        if int(header.get("version", 0)) > VERSION:
            raise RestoreError(f"{path.name} is {FORMAT} version {header['version']}")
        number = 1
        while line := lines.readline(_MAX_LINE):
            number += 1
            if not line.strip():
                continue
            row = _parse(path, number, line)
            try:
                if "job" in row:
                    jobs.append(Job.from_json(row["job"]))
                elif "document" in row:
                    documents.append(DocumentRecord.from_json(row["document"]))
                else:
                    raise ValueError("neither a job nor a document")
            except (ValueError, KeyError, TypeError) as exc:
                raise RestoreError(f"{path.name} line {number} is not a row: {exc}") from exc
    return CatalogRows(jobs=jobs, documents=documents)


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    if not line.endswith("\n") and len(line) >= _MAX_LINE:
        raise RestoreError(f"{path.name} line {number} is longer than {_MAX_LINE} characters")
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise RestoreError(f"{path.name} line {number} is not JSON") from exc
    if not isinstance(value, dict):
        raise RestoreError(f"{path.name} line {number} is not a JSON object")
    return value


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
