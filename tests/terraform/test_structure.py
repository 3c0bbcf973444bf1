"""The style of terraform/: module files, typed and described variables, described outputs,
pinned providers and module versions, READMEs in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform import hcl, readme

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
ROOTS = hcl.module_dirs() + hcl.env_dirs()
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def test_the_modules_and_example_roots_exist() -> None:
    assert [p.name for p in hcl.module_dirs()] == [
        "audit",
        "cluster",
        "data",
        "edge",
        "network",
        "platform",
        "registry",
        "workload-iam",
    ]
    assert [p.name for p in hcl.env_dirs()] == ["prod", "staging"]


@pytest.mark.parametrize("path", hcl.module_dirs(), ids=lambda p: p.name)
def test_every_module_has_the_standard_files(path: Path) -> None:
    assert [name for name in MODULE_FILES if not (path / name).is_file()] == []


@pytest.mark.parametrize("path", ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_variable_is_typed_and_described(path: Path) -> None:
    variables = hcl.load(path).variables()
    assert variables, f"{path} declares no variables"
    untyped = [name for name, body in variables.items() if "type" not in body]
    undescribed = [
        name for name, body in variables.items() if not str(body.get("description", "")).strip()
    ]
    assert (untyped, undescribed) == ([], [])


@pytest.mark.parametrize("path", ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_output_is_described(path: Path) -> None:
    outputs = hcl.load(path).outputs()
    assert outputs, f"{path} declares no outputs"
    assert [
        name for name, body in outputs.items() if not str(body.get("description", "")).strip()
    ] == []


@pytest.mark.parametrize("path", ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_providers_are_pinned(path: Path) -> None:
    required = hcl.load(path).terraform()["required_providers"][0]
    assert required, f"{path} pins no provider"
    for name, spec in required.items():
        assert spec["source"].startswith("hashicorp/"), name
        version = spec["version"]
        if path.parent == hcl.ENVS:
            assert EXACT_VERSION.match(version), (
                f"{path.name}: {name} must be pinned exactly, not {version!r}"
            )
        else:
            assert ">=" in version and "<" in version, (
                f"{path.name}: {name} needs a bounded range, not {version!r}"
            )


def test_example_roots_pin_every_provider_the_modules_use() -> None:
    used = {
        name
        for path in hcl.module_dirs()
        for name in hcl.load(path).terraform()["required_providers"][0]
    }
    for path in hcl.env_dirs():
        assert set(hcl.load(path).terraform()["required_providers"][0]) == used


@pytest.mark.parametrize("path", ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_registry_modules_are_terraform_aws_modules_at_exact_versions(path: Path) -> None:
    for name, body in hcl.load(path).modules().items():
        source = body["source"]
        if source.startswith("../"):
            assert (path / source).resolve().is_dir(), f"{name}: {source}"
            continue
        assert source.startswith("terraform-aws-modules/"), f"{name}: {source}"
        assert EXACT_VERSION.match(str(body.get("version", ""))), (
            f"{name}: version {body.get('version')!r}"
        )


@pytest.mark.parametrize("path", hcl.module_dirs(), ids=lambda p: p.name)
def test_readme_is_in_step_with_the_code(path: Path) -> None:
    expected = readme.render(path)
    actual = (path / "README.md").read_text(encoding="utf-8")
    start = actual.find(readme.BEGIN)
    assert start >= 0, f"{path}/README.md lacks {readme.BEGIN}"
    assert actual[start:] == expected, (
        f"{path}/README.md is stale: run .venv/bin/python -m tests.terraform.readme"
    )
