"""The core needs the OpenTelemetry API only, never its SDK or exporters.

import-linter (pyproject.toml, `lint-imports`) keeps every other vendor library out of the
core, but it sees external packages by their top-level name only, and the API and the SDK
share one (`opentelemetry`): this test tells them apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[3] / "services" / "ragops_core"
SDK_PREFIXES = ("opentelemetry.sdk", "opentelemetry.exporter")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_outside_its_adapters_imports_no_opentelemetry_sdk() -> None:
    modules = [p for p in CORE.rglob("*.py") if "adapters" not in p.relative_to(CORE).parts]
    assert len(modules) > 20
    found = {
        str(p.relative_to(CORE)): sorted(n for n in _imported(p) if n.startswith(SDK_PREFIXES))
        for p in modules
    }
    assert {path: names for path, names in found.items() if names} == {}
