"""The container image, built once per session and cached by podman under a tag that is the hash
of everything the build reads (tests.support.dev_images.ensure_project_image).

Needs root's podman with runc (scripts/install-system-deps.sh); without it the tests fail.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.container import Image, podman_command
from tests.support.dev_images import ensure_project_image


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    reference = ensure_project_image()
    inspected: list[dict[str, Any]] = json.loads(
        subprocess.run(
            [*podman_command(), "image", "inspect", reference],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    yield Image(reference=reference, inspected=inspected[0])
