"""scripts/smoke-test.sh, the pipeline's staging check, against a real `ragops serve`: it passes
on a serving API and fails, saying what, on one that does not answer."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port
from tests.support.processes import Server

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "smoke-test.sh"


def smoke(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "READY_SECONDS": "5"},
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(tmp_path / "data", tmp_path / "serve.log")
    yield started
    started.stop()


def test_a_serving_api_passes(server: Server) -> None:
    done = smoke(server.url + "/")
    assert done.returncode == 0, done.stdout + done.stderr + server.log()
    assert done.stdout.splitlines()[-1] == f"smoke test of {server.url} passed"


def test_an_api_that_does_not_answer_fails_with_what_failed() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = smoke(url)
    assert done.returncode == 1
    assert f"smoke test of {url} FAILED: /healthz answered 000" in done.stderr
