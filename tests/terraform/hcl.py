"""The Terraform tree parsed with python-hcl2, normalised into plain Python values.

python-hcl2 keeps the quotes of string literals and block labels ('"name"') and wraps
expressions in '${...}'; `plain` strips the quotes of literals and the bookkeeping keys, so
tests compare `"s3:GetObject"` with 's3:GetObject' and expressions with '${var.x}'.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"
INSTALL_HINT = ".venv/bin/pip install -e '.[dev]' (python-hcl2)"


def _hcl2() -> Any:
    try:
        import hcl2
    except ImportError as exc:  # a missing tool fails, never skips
        raise AssertionError(f"python-hcl2 is not installed: run {INSTALL_HINT}") from exc
    return hcl2


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            plain(k): plain(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("__"))
        }
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


@dataclass(frozen=True)
class Root:
    """One directory of .tf files (a module or an example root), its blocks merged."""

    path: Path
    blocks: dict[str, list[Any]]

    @property
    def name(self) -> str:
        return self.path.name

    def variables(self) -> dict[str, dict[str, Any]]:
        return {
            name: body for item in self.blocks.get("variable", []) for name, body in item.items()
        }

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {name: body for item in self.blocks.get("output", []) for name, body in item.items()}

    def modules(self) -> dict[str, dict[str, Any]]:
        return {name: body for item in self.blocks.get("module", []) for name, body in item.items()}

    def resources(self, kind: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        found = {
            (rtype, name): body
            for item in self.blocks.get("resource", [])
            for rtype, named in item.items()
            for name, body in named.items()
        }
        return {key: body for key, body in found.items() if kind is None or key[0] == kind}

    def data(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            name: body
            for item in self.blocks.get("data", [])
            for dtype, named in item.items()
            if dtype == kind
            for name, body in named.items()
        }

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for item in self.blocks.get("locals", []):
            merged.update(item)
        return merged

    def terraform(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for item in self.blocks.get("terraform", []):
            merged.update(item)
        return merged


@functools.cache
def load(path: Path) -> Root:
    hcl2 = _hcl2()
    blocks: dict[str, list[Any]] = {}
    for file in sorted(path.glob("*.tf")):
        with file.open(encoding="utf-8") as handle:
            for kind, items in plain(hcl2.load(handle)).items():
                blocks.setdefault(kind, []).extend(items)
    return Root(path=path, blocks=blocks)


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES.iterdir() if p.is_dir())


def env_dirs() -> list[Path]:
    return sorted(p for p in ENVS.iterdir() if p.is_dir())


def all_roots() -> list[Root]:
    return [load(p) for p in module_dirs() + env_dirs()]


def expr(value: Any) -> str:
    """An expression without its '${' '}' wrapper ('${var.x}' -> 'var.x')."""
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text
