"""Which Secrets (and keys) the stack's pods reference, and which of them are missing (pure).

On a real cluster a pod whose `secretKeyRef` names a missing Secret or key never starts
(CreateContainerConfigError), while the Deployment only says "0 ready". The operator therefore
checks each referenced Secret by name (control/secrets.py) and names what is missing in the
`SecretsResolved` condition and a Warning Event. The references are read from the rendered
manifests, not from the spec, so a Secret a builder adds later is checked without a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import stack
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj

# Secret name -> its keys; None when the Secret does not exist. A name absent from the mapping
# could not be read (e.g. an older ClusterRole without `get` on Secrets): it is not reported.
SecretKeys = Mapping[str, frozenset[str] | None]


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("secretKeyRef")
        if isinstance(ref, dict) and not ref.get("optional"):
            yield str(ref["name"]), str(ref["key"])
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def referenced(manifests: Iterable[Obj]) -> dict[str, frozenset[str]]:
    """{Secret name: keys} of every non-optional `secretKeyRef` in `manifests`."""
    found: dict[str, set[str]] = {}
    for manifest in manifests:
        for name, key in _refs(manifest):
            found.setdefault(name, set()).add(key)
    return {name: frozenset(keys) for name, keys in sorted(found.items())}


def missing(wanted: Mapping[str, frozenset[str]], found: SecretKeys) -> list[str]:
    """One line per missing Secret or key, e.g. `Secret ragops-openai (key OPENAI_API_KEY)
    not found`; empty when everything that could be read is there."""
    problems = []
    for name, keys in sorted(wanted.items()):
        if name not in found:
            continue
        present = found[name]
        if present is None:
            problems.append(f"Secret {name} (key {', '.join(sorted(keys))}) not found")
        elif keys - present:
            problems.append(f"Secret {name} has no key {', '.join(sorted(keys - present))}")
    return problems


def wanted(spec: api.RAGDeploymentSpec, owner: Owner) -> dict[str, frozenset[str]]:
    """The Secrets the stack `spec` renders references (every optional child included)."""
    return referenced(stack.desired(spec, owner, restoring=spec.restore is not None))


def unreadable(wanted: Mapping[str, frozenset[str]], found: SecretKeys) -> list[str]:
    return [name for name in sorted(wanted) if name not in found]
