"""Qdrant's collection snapshot API on a server: create, download, upload-and-recover.

Snapshots are Qdrant's own format (segments, payload indexes, config), so a recovered
collection is exactly the one backed up, with no re-indexing. qdrant-client has no streaming
download or multipart upload, so those two go over REST with httpx, streamed to and from disk:
a snapshot can be larger than the pod's memory.

In distributed mode a collection snapshot taken through one peer holds only that peer's
shards; `is_distributed` lets the caller choose the portable export there instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
from qdrant_client import AsyncQdrantClient, models

from ragops_core.adapters.vector_store.qdrant_payload import DENSE
from ragops_core.errors import BackupError, RestoreError
from ragops_core.portable import PortablePoint, vectors_from_store
from ragops_maintenance.backup.manifest import sha256_of

_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=600.0, pool=10.0)


class QdrantSnapshots:
    def __init__(self, url: str, *, api_key: str | None, client: AsyncQdrantClient) -> None:
        self._client = client
        headers = {"api-key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=_TIMEOUT)

    async def collections(self) -> list[str]:
        return sorted(c.name for c in (await self._client.get_collections()).collections)

    async def aliases(self) -> dict[str, tuple[str, ...]]:
        """Collection -> its aliases (the alias is how the API finds the live index)."""
        found: dict[str, list[str]] = {}
        for alias in (await self._client.get_aliases()).aliases:
            found.setdefault(alias.collection_name, []).append(alias.alias_name)
        return {name: tuple(sorted(names)) for name, names in found.items()}

    @property
    def client(self) -> AsyncQdrantClient:
        return self._client

    async def points(
        self, collection: str, *, batch: int = 256
    ) -> AsyncIterator[list[PortablePoint]]:
        """Every point of any collection, with payloads and vectors (for per-point checksums)."""
        offset: models.ExtendedPointId | None = None
        while True:
            records, offset = await self._client.scroll(
                collection, limit=batch, offset=offset, with_payload=True, with_vectors=True
            )
            yield [
                PortablePoint(
                    id=str(r.id), payload=dict(r.payload or {}), vector=vectors_from_store(r.vector)
                )
                for r in records
            ]
            if offset is None:
                return

    async def delete_alias(self, alias: str) -> None:
        if any(a.alias_name == alias for a in (await self._client.get_aliases()).aliases):
            await self._client.update_collection_aliases(
                change_aliases_operations=[
                    models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
                ]
            )

    async def count(self, collection: str) -> int:
        return (await self._client.count(collection, exact=True)).count

    async def dimensions(self, collection: str) -> int | None:
        """Size of the dense vectors (the embedding model's), for the manifest."""
        vectors = (await self._client.get_collection(collection)).config.params.vectors
        if isinstance(vectors, dict):
            params = vectors.get(DENSE)
            return params.size if params is not None else None
        return vectors.size if vectors is not None else None

    async def drop(self, collection: str) -> None:
        if await self._client.collection_exists(collection):
            await self._client.delete_collection(collection)

    async def is_distributed(self) -> bool:
        response = await self._http.get("/cluster")
        response.raise_for_status()
        result = response.json().get("result", {})
        return result.get("status") == "enabled" and len(result.get("peers", {})) > 1

    async def snapshot_to(self, collection: str, path: Path) -> None:
        """Create a snapshot, stream it to `path`, check Qdrant's checksum, delete it on the
        server."""
        snapshot = await self._client.create_snapshot(collection, wait=True)
        if snapshot is None:
            raise BackupError(f"Qdrant did not create a snapshot of collection {collection!r}")
        try:
            url = f"/collections/{quote(collection)}/snapshots/{quote(snapshot.name)}"
            async with self._http.stream("GET", url) as response:
                response.raise_for_status()
                with path.open("wb") as out:
                    async for piece in response.aiter_bytes(1024 * 1024):
                        out.write(piece)
            if snapshot.checksum and sha256_of(path)[0] != snapshot.checksum:
                raise BackupError(
                    f"snapshot {snapshot.name} of {collection!r} was corrupted in transfer"
                )
        finally:
            # The snapshot also sits on the Qdrant volume; leaving it would fill the disk over time.
            await self._client.delete_snapshot(collection, snapshot.name, wait=True)

    async def recover(self, collection: str, path: Path) -> None:
        """Upload a snapshot and make it the collection (replacing one of that name)."""
        url = f"/collections/{quote(collection)}/snapshots/upload"
        with path.open("rb") as stream:
            response = await self._http.post(
                url,
                params={"priority": "snapshot", "wait": "true"},
                files={"snapshot": (path.name, stream, "application/octet-stream")},
            )
        if response.status_code >= 400:
            raise RestoreError(
                f"Qdrant refused snapshot {path.name} for {collection!r}: "
                f"{response.status_code} {response.text[:300]}"
            )

    async def point_alias(self, alias: str, collection: str) -> None:
        """Create or move `alias` to `collection`, in one atomic request."""
        operations: list[models.AliasOperations] = []
        if any(a.alias_name == alias for a in (await self._client.get_aliases()).aliases):
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
            )
        )
        await self._client.update_collection_aliases(change_aliases_operations=operations)

    async def close(self) -> None:
        await self._http.aclose()
        await self._client.close()
