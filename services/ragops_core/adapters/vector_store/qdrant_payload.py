"""How a chunk is stored in Qdrant, shared by the embedded (Edge) and server adapters,
so an index can move between them (backups, migrations) without conversion."""

from __future__ import annotations

from typing import Any

from ragops_core.domain import StoredChunk

DENSE = "dense"
SPARSE = "bm25"
MODES = ("dense", "bm25", "hybrid")
PAYLOAD_INDEXES = ("tenant", "document_id")


def payload(chunk: StoredChunk) -> dict[str, Any]:
    return {
        "tenant": chunk.tenant,
        "document_id": chunk.document_id,
        "filename": chunk.filename,
        "chunk_index": chunk.index,
        "text": chunk.text,
        "page_breaks": [list(pair) for pair in chunk.page_breaks],
    }


def chunk(data: dict[str, Any]) -> StoredChunk:
    return StoredChunk(
        tenant=str(data["tenant"]),
        document_id=str(data["document_id"]),
        filename=str(data["filename"]),
        index=int(data["chunk_index"]),
        text=str(data["text"]),
        page_breaks=tuple((int(a), int(b)) for a, b in data["page_breaks"]),
    )


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
