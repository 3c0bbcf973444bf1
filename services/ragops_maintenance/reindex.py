"""Re-embedding one index version into another, for a change of embedding model (docs/reindex.md).

`reindex` copies every chunk of the source version `{name}-{from}` into the target version
`{name}-{to}`, re-embedded with the target's model exactly as ingestion embeds chunks
(`Embedder.embed_documents`, then the store's upsert, which adds the BM25 vector). Chunk text,
pages and point ids come from the source's payloads, so the target holds the same points.

It only ever adds what is missing: a point already in the target (by id) is skipped, and the
write itself is insert-only, so a worker on the new model that wrote a point meanwhile keeps its
version. The first run (the build), a crashed run's retry and the catch-up after the pods moved
to the new model are therefore the same operation.

Deletes race with the copy: `QdrantServerStore.delete_document` deletes from every version, and
the target exists before the first read of the source, so a delete either reaches the target or
happens before the copy read the point. The remaining window (read, then deleted, then written)
is closed by re-reading each copied point in the source after the write: a point gone or changed
there is withdrawn from the target (only if it still holds the copied text), and a later run
copies its new text.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.domain import point_id_for
from ragops_core.ports import Embedder

log = logging.getLogger(__name__)


class ReindexError(Exception):
    """A re-index that cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class ReindexProgress:
    done: int  # source points looked at
    total: int  # source points when the run started
    copied: int
    skipped: int
    removed: int
    seconds: float

    @property
    def rate(self) -> float:
        """Source points handled per second."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ReindexResult:
    source: str  # index versions
    target: str
    copied: int  # points embedded and written into the target by this run
    skipped: int  # points the target already held
    removed: int  # copies withdrawn: their source point was deleted or changed during the copy
    points: int  # points in the target at the end
    seconds: float
    alias_switched: bool

    def to_json(self) -> str:
        return json.dumps(
            {
                "from": self.source,
                "to": self.target,
                "copied": self.copied,
                "skipped": self.skipped,
                "removed": self.removed,
                "points": self.points,
                "seconds": self.seconds,
                "aliasSwitched": self.alias_switched,
            }
        )


async def reindex(
    source: QdrantServerStore,
    target: QdrantServerStore,
    embedder: Embedder,
    *,
    switch_alias: bool = False,
    batch: int = 128,
    on_progress: Callable[[ReindexProgress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ReindexResult:
    """Copy what the target lacks from the source, re-embedded with `embedder` (the target's model);
    with `switch_alias`, then point the deployment's alias at the target."""
    if batch < 1:
        raise ReindexError("the batch size must be at least 1")
    if source.alias != target.alias:
        raise ReindexError(
            f"source {source.collection!r} and target {target.collection!r} belong to different "
            "deployments"
        )
    if source.collection == target.collection:
        raise ReindexError(
            f"source and target are the same version ({source.version!r}): "
            "set RAGOPS_INDEX_VERSION to the new model's version"
        )
    started = clock()
    if not await source.exists():
        raise ReindexError(
            f"no collection {source.collection!r} to re-index from: check --from "
            f"(the alias {source.alias!r} points at {await source.alias_target()!r})"
        )
    size = await target.dense_size()
    if size is not None and size != embedder.dimensions:
        raise ReindexError(
            f"{target.collection!r} already exists with {size}-dimensional vectors, but the "
            "configured model "
            f"({embedder.model_id}) makes {embedder.dimensions}: another model's version has this "
            "name; "
            "choose another RAGOPS_INDEX_VERSION or drop it (`ragops reindex --drop VERSION`)"
        )
    # A missing alias names the version being served, the source; the target's `ensure()` must not
    # point it at a half-built index. Then the target exists before the first read of the source.
    await source.ensure()
    await target.ensure()
    total = await source.count()
    log.info(
        "Re-index started",
        extra={
            "from": source.collection,
            "to": target.collection,
            "points": total,
            "model": embedder.model_id,
            "dimensions": embedder.dimensions,
        },
    )
    done = copied = skipped = removed = 0
    async for records in source.chunks(batch=batch):
        present = await target.present([point for point, _ in records])
        missing = [(point, item) for point, item in records if point not in present]
        skipped += len(records) - len(missing)
        if missing:
            for point, item in missing:
                if point_id_for(item.document_id, item.index) != point:
                    raise ReindexError(
                        f"point {point} of {source.collection!r} does not have the id of its "
                        f"document and chunk ({item.document_id}, {item.index}): not a RAGOps index"
                    )
            chunks = [item for _, item in missing]
            # What ingestion does with a batch of chunks (ragops_worker.pipeline): the embedder's
            # windows, then the store's upsert (payload, BM25), insert-only here.
            vectors = await embedder.embed_documents([item.text for item in chunks])
            await target.upsert(chunks, vectors, insert_only=True)
            copied += len(missing)
            now = await source.texts([point for point, _ in missing])
            stale = {point: item.text for point, item in missing if now.get(point) != item.text}
            if stale:
                await target.delete_copies(stale)
                removed += len(stale)
                log.info(
                    "Withdrew copies of points deleted or changed in the source during the copy",
                    extra={"points": len(stale), "to": target.collection},
                )
        done += len(records)
        progress = ReindexProgress(
            done=done,
            total=total,
            copied=copied,
            skipped=skipped,
            removed=removed,
            seconds=clock() - started,
        )
        log.info(
            f"Re-indexed {done}/{total} points ({progress.rate:.1f} points/s)",
            extra={
                "done": done,
                "total": total,
                "copied": copied,
                "skipped": skipped,
                "removed": removed,
                "rate": round(progress.rate, 1),
            },
        )
        if on_progress is not None:
            on_progress(progress)
    if switch_alias:
        await target.switch_version(target.version)
        log.info("Moved the alias", extra={"alias": target.alias, "to": target.collection})
    result = ReindexResult(
        source=source.version,
        target=target.version,
        copied=copied,
        skipped=skipped,
        removed=removed,
        points=await target.count(),
        seconds=round(clock() - started, 3),
        alias_switched=switch_alias,
    )
    log.info(
        "Re-index finished",
        extra={
            "from": source.collection,
            "to": target.collection,
            "copied": copied,
            "skipped": skipped,
            "removed": removed,
            "points": result.points,
        },
    )
    return result


async def drop(store: QdrantServerStore, *, configured: str) -> None:
    """Delete an index version nobody serves any more.

    Refused for the version the alias points at and for the configured one (`configured`, the
    version pods with this configuration read and write)."""
    if store.version == configured:
        raise ReindexError(
            f"{store.collection!r} is the configured version (RAGOPS_INDEX_VERSION): not dropped"
        )
    if not await store.exists():
        raise ReindexError(f"no collection {store.collection!r} to drop")
    if await store.alias_target() == store.collection:
        raise ReindexError(f"the alias {store.alias!r} points at {store.collection!r}: not dropped")
    await store.drop()
    log.info("Dropped an index version", extra={"collection": store.collection})
