"""The container image, built once per session by scripts/build-image.sh and cached by podman
under a tag that is the hash of everything the build reads: a second run with the same inputs
re-uses it (seconds), a change to any of them builds a new one.

Needs root's podman with runc (scripts/install-system-deps.sh); without it the tests fail.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.container import Image, podman_command

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_SECONDS = 3600
# What the build reads besides the sources under services/ and operator/.
_BUILD_FILES = (
    "Dockerfile",
    ".dockerignore",
    "scripts/build-image.sh",
    "pyproject.toml",
    "setup.py",
    "README.md",
)


def _input_files() -> list[str]:
    """The build's inputs as a fresh clone holds them: tracked or untracked, never ignored
    (the .dockerignore keeps the ignored ones out of the build context too)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
        + ["services", "operator"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    sources = [name for name in listed.split("\0") if name and (REPO / name).is_file()]
    return sorted({*_BUILD_FILES, *sources})


def inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in _input_files():
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256((REPO / name).read_bytes()).digest())
    return digest.hexdigest()[:16]


def _exists(reference: str) -> bool:
    return subprocess.run([*podman_command(), "image", "exists", reference]).returncode == 0


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    if shutil.which("podman") is None:
        pytest.fail(
            "podman not found: the image tests build and run the image with it "
            "(bash scripts/install-system-deps.sh installs podman, runc and mmdebstrap)",
            pytrace=False,
        )
    reference = f"localhost/ragops-test:{inputs_hash()}"
    if _exists(reference):
        print(f"image tests: re-using {reference}", file=sys.stderr)
    else:
        started = time.monotonic()
        log_path = tmp_path_factory.mktemp("image") / "build.log"
        with log_path.open("w") as log:
            built = subprocess.run(
                ["bash", "scripts/build-image.sh", reference],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
            )
        if built.returncode != 0:
            pytest.fail(
                f"scripts/build-image.sh failed ({built.returncode}), {log_path}:\n"
                f"{log_path.read_text(errors='replace')[-6000:]}",
                pytrace=False,
            )
        last_line = built.stdout.strip().splitlines()[-1]
        assert last_line == reference, built.stdout
        print(
            f"image tests: built {reference} in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
    inspected: list[dict[str, Any]] = json.loads(
        subprocess.run(
            [*podman_command(), "image", "inspect", reference],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    yield Image(reference=reference, inspected=inspected[0])
