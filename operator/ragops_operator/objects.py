"""The one shape of a Kubernetes object in the operator: a plain JSON mapping.

The builders produce them, the API server returns them and the planners read them. A dict, not a
typed model: the operator carries fields it does not model (children's status, managedFields)
and compares manifests byte for byte (planning/applied.py), which a model's defaults would blur.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str]  # (kind, name): a child's identity in its RAGDeployment's namespace


def key_of(obj: Obj) -> Key:
    return obj["kind"], obj["metadata"]["name"]
