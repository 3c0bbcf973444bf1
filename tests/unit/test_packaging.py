"""What the production distribution (and so the image, which installs it) contains: the
services and the operator, never the dev cluster's Go-build tooling (its own distribution,
devcluster/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_production_wheel_has_no_dev_cluster(tmp_path: Path) -> None:
    # Built from a copy of what the Dockerfile copies, so a stale build/ of the checkout is not
    # read.
    source = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "node_modules", "*.egg-info", "dist")
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    for folder in ("services", "operator"):
        shutil.copytree(REPO / folder, source / folder, ignore=skip)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("ragops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {
        name.split("/")[0]
        for name in names
        if "/" in name and not name.split("/")[0].endswith(".dist-info")
    }
    assert "ragops_devcluster" not in packages
    assert {
        "ragops_core",
        "ragops_api",
        "ragops_worker",
        "ragops_cli",
        "ragops_operator",
    } <= packages
    assert not [name for name in names if name.endswith(".tmpl")], (
        "Go build templates belong to ragops-devcluster"
    )


def test_the_image_copies_only_the_production_sources() -> None:
    copied = [
        line.split()[1]
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    assert not [source for source in copied if "devcluster" in source]
