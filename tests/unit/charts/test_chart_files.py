"""The Helm chart's files that must stay in step with the rest of the repository: the CRDs, the
operator's RBAC rules, the package version, and the values' comments and schema. (The rendered
chart is tested with the real helm in tests/cluster/test_helm_chart.py.)"""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from ragops_cli.main import app
from ragops_operator import rbac

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "ragops-operator"
# Kubernetes' own types, passed through: their fields are documented upstream, not here.
_PASS_THROUGH = ("resources.",)


def test_chart_crds_are_the_same_bytes_as_the_top_level_crds() -> None:
    top = {path.name: path.read_bytes() for path in (REPO / "crds").glob("*.yaml")}
    chart = {path.name: path.read_bytes() for path in (CHART / "crds").glob("*.yaml")}
    assert sorted(chart) == sorted(top)
    for name, content in top.items():
        assert chart[name] == content, (
            f"charts/ragops-operator/crds/{name} differs from crds/{name}: "
            "cp crds/*.yaml charts/ragops-operator/crds/"
        )


def test_chart_rbac_rules_are_the_operators_own() -> None:
    text = (CHART / "files" / "rbac-rules.yaml").read_text()
    assert text == rbac.render_chart_rules_yaml(), (
        "regenerate: ragops rbac --chart-rules > charts/ragops-operator/files/rbac-rules.yaml"
    )
    rules = yaml.safe_load(text)
    assert rules["clusterWide"] == rbac.cluster_role()["rules"]


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_namespaced_rules_split_the_cluster_role_without_cluster_scoped_kinds() -> None:
    rules = rbac.chart_rules()
    everything = _grants(rules["clusterWide"])
    namespaced = _grants(rules["namespaced"])
    reads = _grants(rules["clusterReads"])
    # A Role naming a cluster-scoped kind grants nothing: none may land there.
    cluster_scoped = {"customresourcedefinitions", "namespaces", "clusterkopfpeerings"}
    assert not {r for _, r, _ in namespaced} & cluster_scoped
    assert reads == {
        (group, resource, verb)
        for group, resource in (
            ("apiextensions.k8s.io", "customresourcedefinitions"),
            ("", "namespaces"),
        )
        for verb in ("get", "list", "watch")
    }
    assert namespaced | reads <= everything
    # Everything else the cluster-wide operator may do, the namespaced one may do in its Roles.
    cluster_only = {g for g in everything if g[1] == "clusterkopfpeerings"}
    assert everything - cluster_only == namespaced | reads


def test_chart_app_version_is_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["version"] == "0.1.0"
    assert chart["appVersion"] == version("ragops")


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return schema


def _object_schemas(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(_object_schemas(value, f"{path}.{key}"))
    return found


def test_every_schema_object_refuses_unknown_keys() -> None:
    objects = _object_schemas(_schema())
    assert len(objects) > 10
    open_ones = [path for path, node in objects if node.get("additionalProperties") is not False]
    assert open_ones == []


def test_default_values_match_the_schema() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(values, _schema())


@pytest.mark.parametrize(
    "change",
    [{"replica": 2}, {"metrics": {"port": 8080, "serviceMonitor": {"enabled": True}, "x": 1}}],
)
def test_schema_refuses_unknown_keys(change: dict[str, Any]) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values.update(change)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, _schema())


def _keys_without_comment(text: str) -> list[str]:
    """Dotted paths of values.yaml keys not directly below a comment line."""
    missing: list[str] = []
    stack: list[tuple[int, str]] = []
    previous = ""
    for line in text.splitlines():
        match = re.match(r"^( *)([A-Za-z][\w-]*):", line)
        if match:
            indent, key = len(match.group(1)), match.group(2)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            path = ".".join([*(k for _, k in stack), key])
            stack.append((indent, key))
            exempt = any(path.startswith(prefix) for prefix in _PASS_THROUGH)
            if not exempt and not previous.lstrip().startswith("#"):
                missing.append(path)
        if line.strip():
            previous = line
    return missing


def test_every_value_has_a_comment() -> None:
    assert _keys_without_comment((CHART / "values.yaml").read_text()) == []


def test_comment_check_notices_an_uncommented_value() -> None:
    assert _keys_without_comment("# a\nimage:\n  # b\n  tag: x\n  pullPolicy: y\n") == [
        "image.pullPolicy"
    ]


def test_ragops_rbac_chart_rules_prints_the_charts_file() -> None:
    result = CliRunner().invoke(app, ["rbac", "--chart-rules"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (CHART / "files" / "rbac-rules.yaml").read_text()
