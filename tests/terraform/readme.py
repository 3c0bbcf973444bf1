"""README.md per module, in terraform-docs' layout (Requirements, Modules, Resources, Inputs,
Outputs), generated from the parsed HCL below a marker; the prose above it is written by hand.

    .venv/bin/python -m tests.terraform.readme     # rewrite the generated part of every README
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.terraform import hcl

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _type(value: Any) -> str:
    return hcl.expr(value)


def _default(body: dict[str, Any]) -> str:
    if "default" not in body:
        return "n/a"
    value = body["default"]
    rendered = (
        json.dumps(value)
        if not isinstance(value, str) or not value.startswith("${")
        else hcl.expr(value)
    )
    return f"`{_cell(rendered)}`"


def render(path: Path) -> str:
    root = hcl.load(path)
    lines = [BEGIN, "## Requirements", "", "| Name | Version |", "|------|---------|"]
    terraform = root.terraform()
    lines.append(f"| terraform | {_cell(terraform.get('required_version', 'n/a'))} |")
    for name, spec in sorted(terraform["required_providers"][0].items()):
        lines.append(f"| {name} | {_cell(spec['version'])} |")
    lines += ["", "## Modules", ""]
    modules = root.modules()
    if modules:
        lines += ["| Name | Source | Version |", "|------|--------|---------|"]
        lines += [
            f"| {name} | {body['source']} | {body.get('version', 'n/a')} |"
            for name, body in sorted(modules.items())
        ]
    else:
        lines.append("No modules.")
    lines += ["", "## Resources", ""]
    resources = sorted(f"{rtype}.{name}" for rtype, name in root.resources())
    data = sorted(
        f"data.{dtype}.{name}"
        for item in root.blocks.get("data", [])
        for dtype, named in item.items()
        for name in named
    )
    if resources or data:
        lines += ["| Name | Type |", "|------|------|"]
        lines += [f"| {name} | resource |" for name in resources] + [
            f"| {name} | data source |" for name in data
        ]
    else:
        lines.append("No resources.")
    lines += [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, body in sorted(root.variables().items()):
        required = "yes" if "default" not in body else "no"
        lines.append(
            f"| {name} | {_cell(body['description'])} | `{_cell(_type(body['type']))}` "
            f"| {_default(body)} | {required} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [
        f"| {name} | {_cell(body['description'])} |"
        for name, body in sorted(root.outputs().items())
    ]
    lines += [END, ""]
    return "\n".join(lines)


def write(path: Path) -> None:
    target = path / "README.md"
    existing = target.read_text(encoding="utf-8") if target.is_file() else f"# {path.name}\n\n"
    head = existing.split(BEGIN)[0]
    target.write_text(head.rstrip("\n") + "\n\n" + render(path), encoding="utf-8")


def main() -> int:
    for path in hcl.module_dirs():
        write(path)
        print(f"wrote {path / 'README.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
