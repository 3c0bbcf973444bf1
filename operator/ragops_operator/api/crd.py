"""Generate the RAGDeployment CustomResourceDefinition from the pydantic models.

pydantic's JSON Schema is close to, but not, a Kubernetes structural schema: it uses `$ref`,
`anyOf: [T, null]` for optional fields, titles, and leaves `default_factory` values out. This
module inlines, simplifies and fills those in, so `kubectl explain` shows every description and
the API server applies every default the Python model has.
"""

from __future__ import annotations

import typing
from typing import Any

import yaml
from pydantic import BaseModel

from ragops_operator.api import v1alpha1 as api

_DROPPED_KEYS = {"title", "examples"}


def _models_below(
    model: type[BaseModel], seen: dict[str, type[BaseModel]]
) -> dict[str, type[BaseModel]]:
    """Every model class reachable from `model`'s fields, by class name (pydantic's $defs key)."""
    seen[model.__name__] = model
    for field in model.model_fields.values():
        for candidate in _flatten(field.annotation):
            if (
                isinstance(candidate, type)
                and issubclass(candidate, BaseModel)
                and candidate.__name__ not in seen
            ):
                _models_below(candidate, seen)
    return seen


def _flatten(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    flat: list[Any] = []
    for arg in args:
        flat.extend(_flatten(arg))
    return flat


def _factory_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """{alias: default} for fields whose default comes from a factory (absent from JSON Schema)."""
    defaults: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.default_factory is None:
            continue
        value = field.default_factory()  # type: ignore[call-arg]
        alias = field.alias or name
        defaults[alias] = (
            value.model_dump(by_alias=True, exclude_none=True)
            if isinstance(value, BaseModel)
            else value
        )
    return defaults


def _structural(node: Any, defs: dict[str, Any], models: dict[str, type[BaseModel]]) -> Any:
    if isinstance(node, list):
        return [_structural(item, defs, models) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "$ref" in node:
        name = node.pop("$ref").rsplit("/", 1)[-1]
        merged = {
            **_expand_def(name, defs, models),
            **{k: v for k, v in node.items() if k not in _DROPPED_KEYS},
        }
        return _structural(merged, defs, models)
    if "anyOf" in node:
        choices = [c for c in node.pop("anyOf") if c.get("type") != "null"]
        if len(choices) != 1:
            raise ValueError(
                f"cannot express a union of {len(choices)} types in a structural schema"
            )
        node = {**choices[0], **node}
        if node.get("default", "") is None:
            del node["default"]
        return _structural(node, defs, models)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        # JSON Schema 2020 puts the number in exclusiveMinimum; OpenAPI v3.0 wants a flag.
        if isinstance(node.get(exclusive), int | float) and not isinstance(node[exclusive], bool):
            node[bound] = node.pop(exclusive)
            node[exclusive] = True
    if "enum" in node and "type" not in node:
        node["type"] = "string"
    if node.get("type") == "object" and node.get("additionalProperties") is False:
        del node["additionalProperties"]  # structural schemas prune unknown fields already
    return {k: _structural(v, defs, models) for k, v in node.items() if k not in _DROPPED_KEYS}


def _expand_def(
    name: str, defs: dict[str, Any], models: dict[str, type[BaseModel]]
) -> dict[str, Any]:
    schema = dict(defs[name])
    model = models.get(name)
    if model is not None:
        properties = {key: dict(value) for key, value in schema.get("properties", {}).items()}
        for alias, default in _factory_defaults(model).items():
            properties[alias]["default"] = default
        schema["properties"] = properties
    return schema


def openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A structural OpenAPI v3 schema for `model`, with every default and CEL rule."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    models = _models_below(model, {})
    defs[model.__name__] = raw
    expanded: dict[str, Any] = _structural({"$ref": f"#/$defs/{model.__name__}"}, defs, models)
    return expanded


def _status_schema() -> dict[str, Any]:
    schema = openapi_schema(api.RAGDeploymentStatus)
    schema.pop("required", None)
    return schema


def custom_resource_definition() -> dict[str, Any]:
    """The CRD manifest, deterministic so that `crds/` can be compared byte for byte."""
    spec_schema = openapi_schema(api.RAGDeploymentSpec)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{api.PLURAL}.{api.GROUP}",
            "labels": {"app.kubernetes.io/part-of": "ragops"},
        },
        "spec": {
            "group": api.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": api.KIND,
                "listKind": f"{api.KIND}List",
                "plural": api.PLURAL,
                "singular": api.SINGULAR,
                "shortNames": list(api.SHORT_NAMES),
                "categories": ["ragops"],
            },
            "versions": [
                {
                    "name": api.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": _printer_columns(),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": (api.RAGDeploymentSpec.__doc__ or "").strip(),
                            "required": ["spec"],
                            # CEL sees metadata.name at the root only.
                            "x-kubernetes-validations": list(api.NAME_RULES),
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": _status_schema(),
                            },
                        }
                    },
                }
            ],
        },
    }


def _printer_columns() -> list[dict[str, Any]]:
    return [
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {
            "name": "Reason",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
            "priority": 1,
        },
        {
            "name": "Active",
            "type": "string",
            "jsonPath": ".status.api.activeColor",
            "description": "API color serving traffic.",
        },
        {
            "name": "API",
            "type": "integer",
            "jsonPath": ".status.api.readyReplicas",
            "description": "Ready API pods.",
        },
        {
            "name": "Rollout",
            "type": "string",
            "jsonPath": ".status.api.rollout.phase",
            "priority": 1,
        },
        {
            "name": "Workers",
            "type": "integer",
            "jsonPath": ".status.worker.readyReplicas",
            "priority": 1,
        },
        {
            "name": "Qdrant",
            "type": "integer",
            "jsonPath": ".status.vectorStore.readyReplicas",
            "priority": 1,
        },
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


HEADER = "# Generated from operator/ragops_operator/api/v1alpha1.py by `ragops crd`; do not edit.\n"


def render_yaml() -> str:
    body: str = yaml.safe_dump(custom_resource_definition(), sort_keys=False, width=120)
    return HEADER + body
