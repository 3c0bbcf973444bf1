"""Which Secrets the stack references, read from the rendered pods, and what is missing."""

from __future__ import annotations

from pathlib import Path

import yaml

from ragops_operator.api import v1alpha1 as api
from ragops_operator.planning import secrets
from tests.support.builder_specs import OWNER

PRODUCTION = Path(__file__).resolve().parents[4] / "examples" / "production.yaml"


def _production() -> api.RAGDeploymentSpec:
    docs = [d for d in yaml.safe_load_all(PRODUCTION.read_text()) if d]
    body = next(d for d in docs if d["kind"] == api.KIND)
    return api.RAGDeploymentSpec.model_validate(body["spec"])


def test_every_secret_of_the_production_example_is_referenced_with_its_key() -> None:
    assert secrets.wanted(_production(), OWNER) == {
        "ragops-openai": frozenset({"OPENAI_API_KEY"}),
        "ragops-qdrant": frozenset({"api-key"}),
        "ragops-redis": frozenset({"url"}),
    }


def test_missing_names_each_absent_secret_and_key_and_skips_unreadable_ones() -> None:
    wanted = {"a": frozenset({"k"}), "b": frozenset({"k", "j"}), "c": frozenset({"k"})}
    found = {"a": None, "b": frozenset({"k"})}  # c: not readable
    assert secrets.missing(wanted, found) == [
        "Secret a (key k) not found",
        "Secret b has no key j",
    ]
    assert secrets.unreadable(wanted, found) == ["c"]
