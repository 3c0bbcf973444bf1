"""RAGDeployment specs for builder unit tests: the minimal stack, with overrides."""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj

OWNER = Owner(name="demo", namespace="tenant-a", uid="00000000-0000-0000-0000-000000000001")
MINIMAL: dict[str, Any] = {
    "image": "ragops/ragops:0.1.0",
    "cache": {"redis": {"urlSecretRef": {"name": "redis", "key": "url"}}},
    "documents": {
        "bucket": "docs-bucket",
        "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/ingest",
    },
}


def make_spec(**overrides: Any) -> api.RAGDeploymentSpec:
    """The minimal spec with top-level camelCase fields replaced, e.g. `vectorStore={...}`."""
    return api.RAGDeploymentSpec.model_validate({**MINIMAL, **overrides})


def qdrant_spec(**qdrant: Any) -> api.RAGDeploymentSpec:
    return make_spec(vectorStore={"qdrant": qdrant})


def by_kind(manifests: list[Obj], kind: str) -> list[Obj]:
    return [m for m in manifests if m["kind"] == kind]


def one(manifests: list[Obj], kind: str, name: str | None = None) -> Obj:
    found = [m for m in by_kind(manifests, kind) if name is None or m["metadata"]["name"] == name]
    assert len(found) == 1, (
        f"expected one {kind} {name or ''}, found {[m['metadata']['name'] for m in found]}"
    )
    return found[0]
