"""Cache keys and tags (pure).

Answer keys name everything an answer depends on: tenant, the answering build (a scope the
operator sets per API color), embedding model, answer model, retrieval mode, top-k and the
normalised question. Tags make invalidation exact: an answer is tagged with its tenant and
with every document it cites. Ingesting a document may change any answer of that tenant (the new
document could rank first), so ingestion drops the tenant tag; deleting a
document only changes answers that cited it, so deletion drops that document's tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# v2: cached answers end with a cost trailer (query.py); v1 readers would send it to clients.
VERSION = "v2"


def normalise_query(query: str) -> str:
    return " ".join(query.lower().split())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def answer_key(
    *, tenant: str, query: str, embedder: str, model: str, mode: str, top_k: int, scope: str = ""
) -> str:
    """`scope` names the answering build and configuration (the operator's template hash of
    an API color): what the other parts do not say, such as the image and its prompt."""
    digest = _digest(normalise_query(query))
    return f"ragops:{VERSION}:answer:{tenant}:{scope}:{embedder}:{model}:{mode}:{top_k}:{digest}"


def embedding_key(*, embedder: str, query: str) -> str:
    # The embedder is uncased, so case and spacing do not change the vector.
    return f"ragops:{VERSION}:embedding:{embedder}:{_digest(normalise_query(query))}"


def tenant_tag(tenant: str) -> str:
    return f"tenant:{tenant}"


def document_tag(tenant: str, document_id: str) -> str:
    return f"document:{tenant}:{document_id}"


def answer_tags(tenant: str, document_ids: Iterable[str]) -> list[str]:
    return [tenant_tag(tenant), *sorted({document_tag(tenant, d) for d in document_ids})]
