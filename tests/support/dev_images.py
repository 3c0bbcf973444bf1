"""The container images the tests run, built once and cached by podman.

- `ensure_project_image()`: the RAGOps image (scripts/build-image.sh), tagged
  `localhost/ragops-test:HASH` where HASH covers everything the build reads, so a second run with
  the same inputs re-uses it (seconds) and a change to any of them builds a new one.
- `ensure_dev_images()`: Qdrant, Redis and moto for the dev cluster's real node
  (scripts/build-dev-images.sh, cached by a key of their inputs inside the script).

Both need root's podman with runc (scripts/install-system-deps.sh); without it the calling test
fails with that advice, never skips.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.container import podman_command

REPO = Path(__file__).resolve().parents[2]
PROJECT_BUILD_TIMEOUT_SECONDS = 3600
# A cold Qdrant compile alone may take most of two hours on a busy 2-core machine.
DEV_BUILD_TIMEOUT_SECONDS = 3 * 3600
# What the project image's build reads besides the sources under services/ and operator/.
_BUILD_FILES = (
    "Dockerfile",
    ".dockerignore",
    "scripts/build-image.sh",
    "pyproject.toml",
    "setup.py",
    "README.md",
)


@dataclass(frozen=True)
class DevImages:
    """References podman holds (`localhost/...`), ready for `podman run` or `load-image`."""

    qdrant: str
    redis: str
    moto: str


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


def _require_podman(purpose: str) -> None:
    if shutil.which("podman") is None:
        pytest.fail(
            f"podman not found: {purpose} "
            "(bash scripts/install-system-deps.sh installs podman, runc and mmdebstrap)",
            pytrace=False,
        )


def image_exists(reference: str) -> bool:
    return subprocess.run([*podman_command(), "image", "exists", reference]).returncode == 0


def _build_log(prefix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.close(handle)
    return Path(name)


def _run_build(command: list[str], *, log_path: Path, timeout: float, what: str) -> str:
    """`command` (a build script) with its progress in `log_path`; its stdout, or a test
    failure quoting the end of the log."""
    started = time.monotonic()
    with log_path.open("w") as log:
        built = subprocess.run(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            timeout=timeout,
            env={**os.environ, "RAGOPS_PYTHON": sys.executable},
        )
    if built.returncode != 0:
        pytest.fail(
            f"{what} failed ({built.returncode}), {log_path}:\n"
            f"{log_path.read_text(errors='replace')[-6000:]}",
            pytrace=False,
        )
    log_path.unlink()
    print(f"{what}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return built.stdout


def ensure_project_image() -> str:
    """The RAGOps image for the current sources: `localhost/ragops-test:HASH`."""
    _require_podman("the image tests build and run the image with it")
    reference = f"localhost/ragops-test:{inputs_hash()}"
    if image_exists(reference):
        print(f"image tests: re-using {reference}", file=sys.stderr)
        return reference
    stdout = _run_build(
        ["bash", "scripts/build-image.sh", reference],
        log_path=_build_log("ragops-image-build-"),
        timeout=PROJECT_BUILD_TIMEOUT_SECONDS,
        what=f"scripts/build-image.sh {reference}",
    )
    last_line = stdout.strip().splitlines()[-1]
    assert last_line == reference, stdout
    return reference


def ensure_dev_images() -> DevImages:
    """Qdrant, Redis and moto images, built by scripts/build-dev-images.sh where podman lacks
    them (seconds when cached; cold, the Qdrant binary may need compiling first)."""
    _require_podman("the dev images (Qdrant, Redis, moto) are built and run with it")
    stdout = _run_build(
        ["bash", "scripts/build-dev-images.sh"],
        log_path=_build_log("ragops-dev-images-"),
        timeout=DEV_BUILD_TIMEOUT_SECONDS,
        what="scripts/build-dev-images.sh",
    )
    references = dict(line.split("\t", 1) for line in stdout.splitlines() if "\t" in line)
    missing = {"qdrant", "redis", "moto"} - references.keys()
    assert not missing, f"scripts/build-dev-images.sh printed no {sorted(missing)}:\n{stdout}"
    return DevImages(
        qdrant=references["qdrant"], redis=references["redis"], moto=references["moto"]
    )
