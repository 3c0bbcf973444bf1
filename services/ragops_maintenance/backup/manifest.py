"""`manifest.json`: what a backup holds and how to check it, written last so that a backup
folder without one is known to be incomplete.

Checksums are SHA-256 of every other file of the backup; a restore verifies all of them
before it touches the store, so a corrupted or truncated object is refused, never half-loaded.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from ragops_core.errors import RestoreError

# 2: the catalog (jobs and documents) and per-point checksums. A RAGOps that reads only 1
# refuses these backups rather than restore vectors without their documents.
FORMAT_VERSION = 2
# Two kinds of content: Qdrant's own collection snapshots (server only, fastest to recover)
# and the portable point export (any store to any store; see portable.py).
Kind = Literal["qdrant-snapshot", "points-jsonl"]
Source = Literal["embedded", "server"]
_CHUNK = 1024 * 1024


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


class FileEntry(_Model):
    path: str = Field(description="Relative to the backup folder.")
    sha256: str
    bytes: int = Field(ge=0)


class CollectionEntry(_Model):
    name: str
    points: int = Field(ge=0)
    file: str = Field(
        description="The snapshot or export of this collection, relative to the folder."
    )
    aliases: tuple[str, ...] = ()
    checksums: str | None = Field(
        None, description="One checksum per point (checksums.py), relative to the folder."
    )


class CatalogEntry(_Model):
    file: str = Field(description="The jobs and documents (catalog.py), relative to the folder.")
    documents: int = Field(ge=0)
    jobs: int = Field(ge=0)


class EmbeddingEntry(_Model):
    provider: str
    model: str
    dimensions: int | None = Field(None, description="Unknown only for an empty store.")


class BackupManifest(_Model):
    format_version: int
    backup_id: str
    kind: Kind
    source: Source
    namespace: str
    name: str
    collections: tuple[CollectionEntry, ...]
    embedding: EmbeddingEntry
    catalog: CatalogEntry | None = Field(None, description="None in format 1 backups.")
    files: tuple[FileEntry, ...]
    started_at: datetime
    finished_at: datetime
    ragops_version: str

    @property
    def points(self) -> int:
        return sum(c.points for c in self.collections)

    @property
    def content_files(self) -> list[str]:
        """Every file the manifest points at: each must have a checksum in `files`."""
        named = [c.file for c in self.collections]
        named += [c.checksums for c in self.collections if c.checksums]
        return named + ([self.catalog.file] if self.catalog else [])

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True, indent=2).encode() + b"\n"

    @classmethod
    def from_json_bytes(cls, data: bytes) -> BackupManifest:
        try:
            manifest = cls.model_validate_json(data)
        except ValidationError as exc:
            raise RestoreError(f"manifest.json is not a RAGOps backup manifest: {exc}") from exc
        if manifest.format_version > FORMAT_VERSION:
            raise RestoreError(
                f"backup format {manifest.format_version} is newer than this RAGOps understands "
                f"({FORMAT_VERSION}); restore with RAGOps {manifest.ragops_version} or later"
            )
        return manifest


def file_entry(directory: Path, relative: str) -> FileEntry:
    digest, size = sha256_of(directory / relative)
    return FileEntry(path=relative, sha256=digest, bytes=size)


def sha256_of(path: Path) -> tuple[str, int]:
    """Hex digest and size, read in 1 MiB pieces (snapshots can be many GiB)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def checksum_problems(entries: tuple[FileEntry, ...], directory: Path) -> list[str]:
    """One message per file that is missing or differs from the manifest; empty: all good."""
    problems = []
    for entry in entries:
        path = directory / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        digest, size = sha256_of(path)
        if size != entry.bytes:
            problems.append(f"{entry.path}: {size} bytes, the manifest says {entry.bytes}")
        elif digest != entry.sha256:
            problems.append(f"{entry.path}: sha256 {digest}, the manifest says {entry.sha256}")
    return problems


def safe_relative(path: str) -> str:
    """A manifest path may only name a file inside the backup folder."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise RestoreError(f"manifest names an unsafe path {path!r}")
    return path
