"""The CRD in crds/ is generated from the pydantic models; these tests keep the two equal and
check the schema is one the API server accepts (structural: no refs, no unions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ragops_operator.api import v1alpha1 as api
from ragops_operator.api.crd import custom_resource_definition, render_yaml

CRD_FILE = Path(__file__).resolve().parents[4] / "crds" / "ragops.dev_ragdeployments.yaml"


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_walk(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_walk(value, f"{path}[{index}]"))
    return found


def test_crds_folder_matches_the_models() -> None:
    assert CRD_FILE.read_text() == render_yaml(), (
        "crds/ drifted from operator/ragops_operator/api/v1alpha1.py: regenerate with "
        "`ragops crd -o crds/ragops.dev_ragdeployments.yaml`"
    )


def test_schema_is_structural() -> None:
    schema = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert not {"$ref", "anyOf", "oneOf", "allOf", "const", "title"} & set(node), path
        if "properties" in node:
            assert node.get("type") == "object", path


def test_every_spec_field_is_described() -> None:
    spec = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "properties"
    ]["spec"]
    undocumented = [
        f"{path}.{name}"
        for path, node in _walk(spec)
        for name, child in (node.get("properties") or {}).items()
        if not child.get("description")
    ]
    assert undocumented == []


def test_defaults_come_from_the_models() -> None:
    spec = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "properties"
    ]["spec"]
    api_defaults = spec["properties"]["api"]["default"]
    assert api_defaults["replicas"] == {"min": 2, "max": 10}
    assert spec["properties"]["vectorStore"]["default"]["qdrant"]["storage"] == {
        "size": "10Gi",
        "storageClassName": "gp3",
    }
    assert spec["properties"]["retrieval"]["properties"]["chunkWords"]["default"] == 500


def test_names_and_printer_columns() -> None:
    crd = yaml.safe_load(CRD_FILE.read_text())
    assert crd["metadata"]["name"] == "ragdeployments.ragops.dev"
    assert crd["spec"]["names"]["shortNames"] == ["ragd"]
    version = crd["spec"]["versions"][0]
    assert version["name"] == api.VERSION and version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert {"Ready", "Active", "API", "Age"} <= set(columns)
