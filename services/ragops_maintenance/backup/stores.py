"""What a backup reads from and a restore writes to: the embedded store or a Qdrant server.

Both speak the portable point format; only the server also has Qdrant snapshots. Files are
written under `collections/` of a scratch directory, named after the collection.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio

from ragops_core.adapters.vector_store.edge import EdgeVectorStore
from ragops_core.adapters.vector_store.qdrant_payload import DENSE
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.errors import BackupError, RestoreError
from ragops_core.portable import PointWriter, PortablePoint, read_points
from ragops_maintenance.backup.checksums import (
    CHECKSUMS_DIR,
    checksums_of,
    point_checksum,
    write_checksums,
)
from ragops_maintenance.backup.manifest import BackupManifest, CollectionEntry, Kind, Source
from ragops_maintenance.backup.snapshots import QdrantSnapshots

COLLECTIONS_DIR = "collections"


class BackupTarget(Protocol):
    @property
    def source(self) -> Source: ...

    async def default_kind(self) -> Kind: ...

    async def dump(self, directory: Path, kind: Kind) -> tuple[list[CollectionEntry], int | None]:
        """Write every collection under `directory`; returns them and the dense vector size."""
        ...

    async def points(self) -> int:
        """Points already in the store: a restore refuses a non-empty store unless forced."""
        ...

    async def restore(self, manifest: BackupManifest, directory: Path, *, replace: bool) -> int:
        """Load the backup; returns the points the store holds afterwards."""
        ...

    async def scratch_checksums(
        self, manifest: BackupManifest, directory: Path
    ) -> dict[str, dict[str, str]]:
        """Restore every collection of a downloaded backup into a scratch collection (never the
        live one), read each point back, delete the scratch; collection -> point id ->
        checksum."""
        ...

    async def close(self) -> None: ...


def checksums_path(collection: str) -> str:
    return f"{CHECKSUMS_DIR}/{collection}.tsv.gz"


def pick_collection(manifest: BackupManifest, alias: str) -> CollectionEntry:
    """The collection a point export restores into this store: the one `alias` pointed at."""
    if len(manifest.collections) == 1:
        return manifest.collections[0]
    aliased = [c for c in manifest.collections if alias in c.aliases]
    if len(aliased) == 1:
        return aliased[0]
    names = ", ".join(c.name for c in manifest.collections)
    raise RestoreError(
        f"the backup holds several collections ({names}) and none is aliased {alias!r}; "
        "set RAGOPS_QDRANT_COLLECTION to the alias to restore"
    )


def _dense_size(point: PortablePoint) -> int | None:
    dense = point.vector.get(DENSE)
    if isinstance(dense, list) and dense:
        first = dense[0]
        return len(first) if isinstance(first, list) else len(dense)
    return None


def _checksums_of_store(store: EdgeVectorStore) -> dict[str, str]:
    return checksums_of(store.export_points())


class EmbeddedTarget:
    """The Qdrant Edge store under the data dir (one process owns it at a time)."""

    source: Source = "embedded"

    def __init__(
        self,
        path: Path,
        *,
        collection: str,
        alias: str,
        make_store: Callable[[int | None], EdgeVectorStore],
    ) -> None:
        self._path = path
        self._collection = collection
        self._alias = alias
        self._make_store = make_store
        self._store: EdgeVectorStore | None = None

    async def default_kind(self) -> Kind:
        return "points-jsonl"

    def _open(self, dimensions: int | None) -> EdgeVectorStore:
        if self._store is None:
            self._store = self._make_store(dimensions)
        return self._store

    async def dump(self, directory: Path, kind: Kind) -> tuple[list[CollectionEntry], int | None]:
        if kind != "points-jsonl":
            raise BackupError("the embedded store has no snapshot API: use the points-jsonl format")
        try:
            store = self._open(None)
        except FileNotFoundError as exc:
            raise BackupError(f"{exc}: nothing to back up") from exc
        relative = f"{COLLECTIONS_DIR}/{self._collection}.jsonl.gz"
        (directory / COLLECTIONS_DIR).mkdir(parents=True, exist_ok=True)

        sums = checksums_path(self._collection)

        def write() -> tuple[int, int | None]:
            size: int | None = None
            checksums: dict[str, str] = {}
            with PointWriter(directory / relative, self._collection) as writer:
                for point in store.export_points():
                    size = size or _dense_size(point)
                    writer.write(point)
                    checksums[str(point.id)] = point_checksum(point)
            write_checksums(directory / sums, checksums)
            return writer.count, size

        count, size = await anyio.to_thread.run_sync(write)
        return [
            CollectionEntry(
                name=self._collection,
                points=count,
                file=relative,
                aliases=(self._alias,),
                checksums=sums,
            )
        ], size

    async def points(self) -> int:
        if not self._path.exists() or not any(self._path.iterdir()):
            return 0
        return await self._open(None).count()

    async def restore(self, manifest: BackupManifest, directory: Path, *, replace: bool) -> int:
        if manifest.kind != "points-jsonl":
            raise RestoreError(
                "a Qdrant snapshot restores only into a Qdrant server (set RAGOPS_QDRANT_URL); "
                "for the embedded store take a points-jsonl backup (`ragops backup --format jsonl`)"
            )
        if replace:
            await self._set_aside()
        store = self._open(manifest.embedding.dimensions or 1)
        entry = pick_collection(manifest, self._alias)
        for batch in read_points(directory / entry.file):
            await store.import_points(batch)
        await store.optimize()
        return await store.count()

    async def scratch_checksums(
        self, manifest: BackupManifest, directory: Path
    ) -> dict[str, dict[str, str]]:
        if manifest.kind != "points-jsonl":
            raise RestoreError("a Qdrant snapshot can only be verified against a Qdrant server")
        found: dict[str, dict[str, str]] = {}
        for entry in manifest.collections:
            # The scratch store lives in the download folder, never under the data dir.
            path = directory / "verify-store" / entry.name
            store = EdgeVectorStore(path, dimensions=manifest.embedding.dimensions or 1)
            try:
                for batch in read_points(directory / entry.file):
                    await store.import_points(batch)
                await store.optimize()
                found[entry.name] = await anyio.to_thread.run_sync(
                    partial(_checksums_of_store, store)
                )
            finally:
                await store.close()
                shutil.rmtree(path, ignore_errors=True)
        return found

    async def _set_aside(self) -> None:
        """--force keeps the replaced store beside the new one rather than deleting it."""
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self._path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            shutil.move(
                str(self._path), str(self._path.with_name(f"{self._path.name}.replaced-{stamp}"))
            )

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()


class ServerTarget:
    """A Qdrant server: snapshots of every collection, or the configured index version as points."""

    source: Source = "server"

    def __init__(
        self,
        snapshots: QdrantSnapshots,
        *,
        alias: str,
        make_store: Callable[[int], QdrantServerStore],
    ) -> None:
        self._snapshots = snapshots
        self._alias = alias
        self._make_store = make_store

    async def default_kind(self) -> Kind:
        # Through one peer, a snapshot holds only that peer's shards: export points instead.
        return "points-jsonl" if await self._snapshots.is_distributed() else "qdrant-snapshot"

    async def dump(self, directory: Path, kind: Kind) -> tuple[list[CollectionEntry], int | None]:
        (directory / COLLECTIONS_DIR).mkdir(parents=True, exist_ok=True)
        aliases = await self._snapshots.aliases()
        names = await self._snapshots.collections()
        if kind == "points-jsonl":
            return await self._export(directory, names, aliases)
        entries: list[CollectionEntry] = []
        size: int | None = None
        for name in names:
            size = size or await self._snapshots.dimensions(name)
            relative = f"{COLLECTIONS_DIR}/{name}.snapshot"
            # Read just before the snapshot: writes in between (ingestion during the backup)
            # make `ragops backup verify` report a difference; see docs/backup.md.
            checksums = await self._checksums(name)
            await self._snapshots.snapshot_to(name, directory / relative)
            sums = checksums_path(name)
            write_checksums(directory / sums, checksums)
            entries.append(
                CollectionEntry(
                    name=name,
                    points=len(checksums),
                    file=relative,
                    aliases=aliases.get(name, ()),
                    checksums=sums,
                )
            )
        return entries, size

    async def _checksums(self, collection: str) -> dict[str, str]:
        found: dict[str, str] = {}
        async for batch in self._snapshots.points(collection):
            found.update(checksums_of(batch))
        return found

    async def _export(
        self, directory: Path, names: list[str], aliases: dict[str, tuple[str, ...]]
    ) -> tuple[list[CollectionEntry], int | None]:
        """The configured index version (`{alias}-{RAGOPS_INDEX_VERSION}`) as points: the one whose
        embedding model the manifest records (both come from the same settings). The alias can
        lag behind it while the pods move to a new model (it moves when the re-index is
        complete)."""
        store = self._make_store(1)  # reading only: the size is not used
        try:
            name = store.collection
            if name not in names:
                live = [n for n, found in aliases.items() if self._alias in found]
                hint = (
                    f" (the alias {self._alias!r} points at {live[0]!r}; set RAGOPS_INDEX_VERSION)"
                    if live
                    else ""
                )
                raise BackupError(f"no collection {name!r} on the server: nothing to back up{hint}")
            size = await self._snapshots.dimensions(name)
            relative = f"{COLLECTIONS_DIR}/{name}.jsonl.gz"
            checksums: dict[str, str] = {}
            with PointWriter(directory / relative, name) as writer:
                async for batch in store.export_points():
                    for point in batch:
                        writer.write(point)
                    checksums.update(checksums_of(batch))
            sums = checksums_path(name)
            write_checksums(directory / sums, checksums)
        finally:
            await store.close()
        return [
            CollectionEntry(
                name=name,
                points=writer.count,
                file=relative,
                aliases=aliases.get(name, ()),
                checksums=sums,
            )
        ], size

    async def points(self) -> int:
        return sum(
            [await self._snapshots.count(name) for name in await self._snapshots.collections()]
        )

    async def restore(self, manifest: BackupManifest, directory: Path, *, replace: bool) -> int:
        if manifest.kind == "qdrant-snapshot":
            for entry in manifest.collections:
                await self._snapshots.recover(entry.name, directory / entry.file)
                for alias in entry.aliases:
                    await self._snapshots.point_alias(alias, entry.name)
            return await self.points()
        entry = pick_collection(manifest, self._alias)
        store = self._make_store(manifest.embedding.dimensions or 1)
        try:
            if replace:
                await self._snapshots.drop(store.collection)
            for batch in read_points(directory / entry.file):
                await store.import_points(batch)
            return await store.count()
        finally:
            await store.close()

    async def scratch_checksums(
        self, manifest: BackupManifest, directory: Path
    ) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for entry in manifest.collections:
            # `{name}-verify-{id}`: beside the live collections, under no alias they use.
            alias = f"{entry.name}-verify"
            scratch = f"{alias}-{manifest.backup_id.lower()}"
            await self._snapshots.drop(scratch)  # left by a verification that was killed
            try:
                if manifest.kind == "qdrant-snapshot":
                    await self._snapshots.recover(scratch, directory / entry.file)
                else:
                    store = QdrantServerStore(
                        self._snapshots.client,
                        name=alias,
                        version=manifest.backup_id.lower(),
                        dimensions=manifest.embedding.dimensions or 1,
                    )
                    for batch in read_points(directory / entry.file):
                        await store.import_points(batch)
                found[entry.name] = await self._checksums(scratch)
            finally:
                await self._snapshots.delete_alias(alias)
                await self._snapshots.drop(scratch)
        return found

    async def close(self) -> None:
        await self._snapshots.close()
