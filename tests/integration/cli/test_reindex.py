"""`ragops reindex`: a change of embedding model, on the real Qdrant server (fixture
`qdrant_server`): the insert-only write is the server's conditional update, and the alias moves
there.

Version v1 is built by the real ingestion pipeline from the DEV PDFs with the offline MiniLM model;
the re-index into v2 runs in-process with another model: OpenAI embeddings of another size (the
local OpenAI wire fake) or MiniLM with other dense windows. Concurrent deletes, re-ingestions and
new-model writes are played from inside the embedding step, i.e. between the copy's read of the
source and its write into the target: the window the re-check and the insert-only write close.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from qdrant_client import AsyncQdrantClient, models

from ragops_cli.reindex import run_drop, run_reindex
from ragops_core.adapters.cache.memory import MemoryCache
from ragops_core.adapters.catalog.sqlite import SqliteCatalog
from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.adapters.embedder.openai import OpenAIEmbedder
from ragops_core.adapters.object_store.local import LocalObjectStore
from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
from ragops_core.documents import object_key
from ragops_core.domain import IngestMessage, Job, JobState, StoredChunk, document_id_for
from ragops_core.metrics import Metrics
from ragops_core.ports import Embedder, SearchRequest
from ragops_core.settings import Settings
from ragops_maintenance.reindex import ReindexError, reindex
from ragops_worker.pipeline import IngestionPipeline, PipelineOptions
from tests.support.llm_fakes import FakeLLMServer, fake_vector
from tests.support.processes import ragops
from tests.support.qdrant_server import QdrantServer

NAME = "docs"
TENANT = "acme"
PDFS = {
    "crazy": "sample-files/021-pdfa/crazyones-pdfa.pdf",
    "zen": "sample-files/011-google-doc-document/google-doc-document.pdf",
    "latex": "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf",
    "columns": "sample-files/026-latex-multicolumn/multicolumn.pdf",
    "lorem": "sample-files/001-trivial/minimal-document.pdf",
}
NEW_DIMENSIONS = 256
BATCH = 4


@dataclass
class Index:
    client: AsyncQdrantClient
    v1: QdrantServerStore
    documents: dict[str, str]  # key of PDFS -> document id

    def store(self, version: str, dimensions: int) -> QdrantServerStore:
        return QdrantServerStore(self.client, name=NAME, version=version, dimensions=dimensions)


@pytest.fixture
async def index(
    pdf_dir: Path, tmp_path: Path, embedder: OnnxMiniLMEmbedder, qdrant_server: QdrantServer
) -> AsyncIterator[Index]:
    """v1 as the worker builds it: the real pipeline, MiniLM (every window), the DEV PDFs."""
    client = AsyncQdrantClient(url=qdrant_server.url)
    await forget_deployment(client)  # the server lives for the session: start from no version
    v1 = QdrantServerStore(client, name=NAME, version="v1", dimensions=embedder.dimensions)
    catalog = SqliteCatalog(tmp_path / "catalog.db")
    objects = LocalObjectStore(tmp_path / "objects")
    pipeline = IngestionPipeline(
        objects=objects,
        embedder=embedder,
        store=v1,
        jobs=catalog.jobs,
        documents=catalog.documents,
        cache=MemoryCache(),
        metrics=Metrics(),
        options=PipelineOptions(batch_size=BATCH),
    )
    documents = {}
    for key, relative in PDFS.items():
        path = pdf_dir / relative
        document = document_id_for(TENANT, path.name)
        job = str(uuid.uuid4())
        await objects.put(object_key(TENANT, document), path.read_bytes())
        await catalog.jobs.create(
            Job(
                job_id=job,
                document_id=document,
                tenant=TENANT,
                filename=path.name,
                state=JobState.QUEUED,
                created_at=time.time(),
                updated_at=time.time(),
            )
        )
        await pipeline.process(
            IngestMessage(
                job_id=job,
                document_id=document,
                object_key=object_key(TENANT, document),
                tenant=TENANT,
                filename=path.name,
            )
        )
        documents[key] = document
    await catalog.close()
    yield Index(client, v1, documents)
    await forget_deployment(client)
    await client.close()


async def forget_deployment(client: AsyncQdrantClient) -> None:
    """Every version of the deployment NAME and its alias, as if it never existed."""
    for collection in (await client.get_collections()).collections:
        if collection.name.startswith(f"{NAME}-"):
            await client.delete_collection(collection.name)
    if any(a.alias_name == NAME for a in (await client.get_aliases()).aliases):
        await client.update_collection_aliases(
            change_aliases_operations=[
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=NAME))
            ]
        )


@pytest.fixture
def openai_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        yield fake


def openai_embedder(fake: FakeLLMServer) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        "text-embedding-3-small",
        dimensions=NEW_DIMENSIONS,
        api_key="sk-test",
        base_url=fake.url + "/v1",
        max_retries=0,
    )


def new_vector(text: str) -> list[float]:
    """The fake OpenAI model's vector of `text`, as Qdrant keeps it for cosine distance: unit
    length."""
    vector = fake_vector(text, NEW_DIMENSIONS)
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector]


async def points(client: AsyncQdrantClient, collection: str) -> dict[str, Any]:
    records, _ = await client.scroll(collection, limit=10_000, with_payload=True, with_vectors=True)
    return {str(r.id): r for r in records}


async def document_points(client: AsyncQdrantClient, collection: str, document: str) -> int:
    selector = models.Filter(
        must=[models.FieldCondition(key="document_id", match=models.MatchValue(value=document))]
    )
    return (await client.count(collection, count_filter=selector, exact=True)).count


async def top_file(
    store: QdrantServerStore, vector: list[float], text: str, mode: str = "dense"
) -> str:
    hits = await store.search(
        SearchRequest(tenant=TENANT, text=text, vector=vector, limit=3, mode=mode)
    )
    assert hits, "the search must find something"
    return hits[0].chunk.filename


class Meddling:
    """An embedder that, on its first call, does something to the stores before embedding: what
    another pod does while the copy has read a batch from the source and not yet written it."""

    def __init__(self, inner: Embedder, action: Callable[[Sequence[str]], Any]) -> None:
        self._inner = inner
        self._action = action
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    async def embed_query(self, text: str) -> list[float]:
        return await self._inner.embed_query(text)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[list[float]]]:
        self.calls += 1
        if self.calls == 1:
            await self._action(texts)
        return await self._inner.embed_documents(texts)


async def owner_of(index: Index, text: str) -> tuple[str, int]:
    """(document id, chunk index) of a v1 chunk, by its text."""
    for record in (await points(index.client, index.v1.collection)).values():
        if record.payload["text"] == text:
            return str(record.payload["document_id"]), int(record.payload["chunk_index"])
    raise AssertionError("no such chunk in v1")


# --- the copy ---


async def test_reindex_re_embeds_every_point_with_the_new_model_and_moves_the_alias_when_asked(
    index: Index, openai_fake: FakeLLMServer, embedder: OnnxMiniLMEmbedder
) -> None:
    source = await points(index.client, "docs-v1")
    assert len(source) > 8 and {len(next(iter(r.vector["dense"]))) for r in source.values()} == {
        384
    }
    new_model = openai_embedder(openai_fake)
    v2 = index.store("v2", NEW_DIMENSIONS)

    first = await reindex(index.v1, v2, new_model, batch=BATCH)
    assert (first.copied, first.skipped, first.removed, first.points) == (
        len(source),
        0,
        0,
        len(source),
    )
    assert (first.source, first.target, first.alias_switched) == ("v1", "v2", False)
    assert await v2.alias_target() == "docs-v1", (
        "without --switch-alias the alias stays on the served version"
    )

    copied = await points(index.client, "docs-v2")
    assert copied.keys() == source.keys()
    for point, record in copied.items():
        assert record.payload == source[point].payload
        # The new model's vector of the chunk's own text (the fake's is a function of the text), one
        # window.
        assert record.vector["dense"] == [
            pytest.approx(new_vector(record.payload["text"]), abs=1e-6)
        ]
        assert record.vector["bm25"] == source[point].vector["bm25"], (
            "the same words, the same BM25 vector"
        )

    # A pod on v2 with the new model finds a document by its new vectors; a pod on v1 by its own.
    crazy = next(
        r.payload["text"]
        for r in copied.values()
        if r.payload["document_id"] == index.documents["crazy"]
    )
    assert await top_file(v2, await new_model.embed_query(crazy), crazy) == "crazyones-pdfa.pdf"
    question = "Who are the misfits and rebels that see things differently?"
    assert (
        await top_file(index.v1, await embedder.embed_query(question), question)
        == "crazyones-pdfa.pdf"
    )

    requests = len(openai_fake.requests_to("/embeddings"))
    second = await reindex(index.v1, v2, new_model, switch_alias=True, batch=BATCH)
    assert (second.copied, second.skipped, second.removed, second.points) == (
        0,
        len(source),
        0,
        len(source),
    )
    assert second.alias_switched and await v2.alias_target() == "docs-v2"
    assert len(openai_fake.requests_to("/embeddings")) == requests, "nothing was embedded again"

    # After the switch, a pod still on v1 reads v1 (its model's vectors), not the alias.
    assert await index.v1.count() == len(source)
    assert (
        await top_file(index.v1, await embedder.embed_query(question), question)
        == "crazyones-pdfa.pdf"
    )

    # A delete from either side (here an old pod's v1 store) reaches both versions.
    await index.v1.delete_document(TENANT, index.documents["zen"])
    for collection in ("docs-v1", "docs-v2"):
        assert await document_points(index.client, collection, index.documents["zen"]) == 0


async def test_reindex_with_other_dense_windows_embeds_as_the_worker_would(
    index: Index, embedder: OnnxMiniLMEmbedder
) -> None:
    """v1 has every 256-piece window of each chunk; a model with RAGOPS_DENSE_MAX_WINDOWS=1 gets
    one."""
    one_window = OnnxMiniLMEmbedder(max_windows=1)
    v2 = index.store("v2", one_window.dimensions)
    result = await reindex(index.v1, v2, one_window, batch=BATCH)
    source, copied = await points(index.client, "docs-v1"), await points(index.client, "docs-v2")
    assert result.copied == len(source) == len(copied)
    assert max(len(r.vector["dense"]) for r in source.values()) > 1, (
        "long chunks have several windows in v1"
    )
    for point, record in copied.items():
        expected = one_window.embed_windows_sync([record.payload["text"]], 1)[0]
        assert record.vector["dense"] == [pytest.approx(expected[0], abs=1e-5)]
        assert record.payload == source[point].payload
    question = "Is explicit better than implicit, and simple better than complex?"
    assert (
        await top_file(v2, await one_window.embed_query(question), question)
        == "google-doc-document.pdf"
    )


# --- races with the pods ---


async def test_a_document_deleted_during_or_after_the_copy_does_not_come_back(
    index: Index, openai_fake: FakeLLMServer
) -> None:
    deleted: list[str] = []

    async def delete_while_embedding(texts: Sequence[str]) -> None:
        # An API pod on the old model deletes a document the copy has just read: its delete reaches
        # v1 and v2, but the copy writes the document into v2 afterwards.
        document, _ = await owner_of(index, texts[0])
        deleted.append(document)
        await index.v1.delete_document(TENANT, document)

    v2 = index.store("v2", NEW_DIMENSIONS)
    first = await reindex(
        index.v1, v2, Meddling(openai_embedder(openai_fake), delete_while_embedding), batch=BATCH
    )
    [document] = deleted
    assert first.removed >= 1, "the re-check withdrew the copy of the deleted document"
    for collection in ("docs-v1", "docs-v2"):
        assert await document_points(index.client, collection, document) == 0

    # Deleted after the first run (before the catch-up): gone from both at once, and not copied
    # back.
    later = (
        index.documents["columns"]
        if document != index.documents["columns"]
        else index.documents["latex"]
    )
    assert await document_points(index.client, "docs-v2", later) > 0
    await index.v1.delete_document(TENANT, later)
    assert await document_points(index.client, "docs-v2", later) == 0

    second = await reindex(
        index.v1, v2, openai_embedder(openai_fake), switch_alias=True, batch=BATCH
    )
    assert second.copied == 0 and second.removed == 0
    for gone in (document, later):
        assert await document_points(index.client, "docs-v2", gone) == 0
    assert second.points == await index.v1.count()


async def test_a_chunk_re_ingested_into_the_source_during_the_copy_is_copied_again_with_its_new_text(  # noqa: E501
    index: Index, openai_fake: FakeLLMServer, embedder: OnnxMiniLMEmbedder
) -> None:
    changed: dict[str, str] = {}

    async def reingest_while_embedding(texts: Sequence[str]) -> None:
        # A worker on the old model re-ingests a document (same file name, same point ids, new
        # text).
        document, chunk = await owner_of(index, texts[0])
        record = next(
            r
            for r in (await points(index.client, "docs-v1")).values()
            if r.payload["document_id"] == document and r.payload["chunk_index"] == chunk
        )
        item = StoredChunk(
            TENANT,
            document,
            record.payload["filename"],
            chunk,
            texts[0] + " Revised in March.",
            tuple(tuple(p) for p in record.payload["page_breaks"]),
        )  # type: ignore[misc]
        await index.v1.upsert([item], await embedder.embed_documents([item.text]))
        changed[str(record.id)] = item.text

    v2 = index.store("v2", NEW_DIMENSIONS)
    first = await reindex(
        index.v1, v2, Meddling(openai_embedder(openai_fake), reingest_while_embedding), batch=BATCH
    )
    [(point, text)] = changed.items()
    assert first.removed == 1 and point not in await points(index.client, "docs-v2"), (
        "the stale copy was withdrawn"
    )

    second = await reindex(index.v1, v2, openai_embedder(openai_fake), batch=BATCH)
    assert second.copied == 1
    record = (await points(index.client, "docs-v2"))[point]
    assert record.payload["text"] == text
    assert record.vector["dense"] == [pytest.approx(new_vector(text), abs=1e-6)]


async def test_the_copy_never_overwrites_what_a_worker_on_the_new_model_wrote(
    index: Index, openai_fake: FakeLLMServer
) -> None:
    new_model = openai_embedder(openai_fake)
    v2 = index.store("v2", NEW_DIMENSIONS)
    written: dict[str, str] = {}

    async def new_worker_writes(texts: Sequence[str]) -> None:
        # During the catch-up, a worker on the new model re-ingests a document into v2.
        document, chunk = await owner_of(index, texts[0])
        item = StoredChunk(
            TENANT, document, "renewed.pdf", chunk, "The renewed text of this chunk.", ((0, 1),)
        )
        await v2.upsert([item], await new_model.embed_documents([item.text]))
        written[document] = item.text

    result = await reindex(index.v1, v2, Meddling(new_model, new_worker_writes), batch=BATCH)
    [(document, text)] = written.items()
    kept = [
        r
        for r in (await points(index.client, "docs-v2")).values()
        if r.payload["document_id"] == document and r.payload["text"] == text
    ]
    assert len(kept) == 1 and kept[0].payload["filename"] == "renewed.pdf"
    assert result.removed == 0 and result.points == await index.v1.count()


# --- refusals ---


async def test_reindex_refuses_a_missing_source_the_same_version_and_a_target_of_another_size(
    index: Index, openai_fake: FakeLLMServer, embedder: OnnxMiniLMEmbedder
) -> None:
    with pytest.raises(
        ReindexError, match=r"no collection 'docs-v0' to re-index from.*points at 'docs-v1'"
    ):
        await reindex(index.store("v0", 384), index.store("v2", 384), embedder)
    with pytest.raises(ReindexError, match="same version"):
        await reindex(index.v1, index.store("v1", 384), embedder)
    await index.store("v2", 384).ensure()  # v2 exists, built for MiniLM
    with pytest.raises(
        ReindexError, match=r"'docs-v2' already exists with 384-dimensional vectors.*makes 256"
    ):
        await reindex(index.v1, index.store("v2", NEW_DIMENSIONS), openai_embedder(openai_fake))
    assert await index.store("v0", 384).exists() is False, "a refused run creates nothing"


# --- the command ---


async def test_the_command_prints_the_result_and_writes_it_as_the_termination_message(
    index: Index, openai_fake: FakeLLMServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "termination-log"
    log.touch()
    settings = Settings(
        data_dir=tmp_path / "data",
        qdrant_url="http://qdrant:6333",
        qdrant_collection=NAME,
        index_version="v2",
        backup_termination_log=log,
    )
    total = await index.v1.count()
    code = await run_reindex(
        settings,
        "v1",
        switch_alias=True,
        batch=BATCH,
        client=index.client,
        embedder=openai_embedder(openai_fake),
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(printed) == [
        "from",
        "to",
        "copied",
        "skipped",
        "removed",
        "points",
        "seconds",
        "aliasSwitched",
    ]
    assert printed | {"seconds": 0} == {
        "from": "v1",
        "to": "v2",
        "copied": total,
        "skipped": 0,
        "removed": 0,
        "points": total,
        "seconds": 0,
        "aliasSwitched": True,
    }
    assert json.loads(log.read_text()) == printed

    missing = await run_reindex(
        settings, "v9", batch=BATCH, client=index.client, embedder=openai_embedder(openai_fake)
    )
    assert missing == 1
    report = json.loads(log.read_text())
    assert report["from"] == "v9" and "no collection 'docs-v9'" in report["error"]
    assert "no collection 'docs-v9'" in capsys.readouterr().err

    # v1 is left in place; dropping it is a separate, guarded step.
    v1_settings = settings.model_copy(update={"index_version": "v1"})
    with pytest.raises(typer.Exit) as refused:
        await run_drop(v1_settings, "v1", client=index.client)
    assert refused.value.exit_code == 1 and "configured version" in capsys.readouterr().err
    assert await run_drop(settings, "v1", client=index.client) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"dropped": "docs-v1"}
    assert not await index.v1.exists() and await index.store("v2", NEW_DIMENSIONS).count() == total


def test_the_command_needs_a_qdrant_server_and_a_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAGOPS_QDRANT_URL", raising=False)
    monkeypatch.delenv("RAGOPS_INDEX_VERSION", raising=False)
    log = tmp_path / "termination-log"
    log.touch()
    monkeypatch.setenv("RAGOPS_BACKUP_TERMINATION_LOG", str(log))
    embedded = ragops("reindex", "--from", "v1", cwd=tmp_path)
    assert embedded.returncode == 2
    assert "needs a Qdrant server (RAGOPS_QDRANT_URL)" in embedded.stderr
    assert "RAGOPS_QDRANT_URL" in json.loads(log.read_text())["error"]

    monkeypatch.setenv("RAGOPS_QDRANT_URL", "http://127.0.0.1:9")
    same = ragops("reindex", "--from", "v1", cwd=tmp_path)
    assert same.returncode == 2
    assert "--from v1 is also the target (RAGOPS_INDEX_VERSION=v1)" in same.stderr

    monkeypatch.setenv("RAGOPS_INDEX_VERSION", "v2")
    unreachable = ragops("reindex", "--from", "v1", cwd=tmp_path)
    assert unreachable.returncode == 1
    assert "cannot reach Qdrant at http://127.0.0.1:9" in unreachable.stderr
    assert json.loads(unreachable.stdout.strip().splitlines()[-1])["to"] == "v2"

    monkeypatch.setenv("RAGOPS_QDRANT_PREFER_GRPC", "true")
    monkeypatch.setenv("RAGOPS_QDRANT_GRPC_PORT", "19")
    over_grpc = ragops("reindex", "--from", "v1", cwd=tmp_path)
    assert over_grpc.returncode == 1
    assert "cannot reach Qdrant at http://127.0.0.1:9 (gRPC port 19)" in over_grpc.stderr
