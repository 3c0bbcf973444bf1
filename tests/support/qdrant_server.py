"""A real Qdrant server (built from source by `ragops dev-cluster build`) started by the tests.

One process on free REST and gRPC ports of 127.0.0.1, its storage and snapshots in a temporary
folder. A missing build fails the test with the command that makes it; nothing is skipped.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ragops_devcluster import qdrant
from tests.support.net import free_port

START_DEADLINE_SECONDS = 60.0


class QdrantServer:
    def __init__(self, directory: Path, profile: qdrant.BuildProfile = qdrant.CI) -> None:
        # The tests run the `ci` build; the benchmark asks for the optimised `bench` one.
        binary = qdrant.find_qdrant(profile)
        if binary is None:
            pytest.fail(qdrant.not_built(profile), pytrace=False)
        self.http_port, self.grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        directory.mkdir(parents=True, exist_ok=True)
        self._log = directory / "qdrant.log"
        env = {
            **os.environ,
            "QDRANT__SERVICE__HOST": "127.0.0.1",
            "QDRANT__SERVICE__HTTP_PORT": str(self.http_port),
            "QDRANT__SERVICE__GRPC_PORT": str(self.grpc_port),
            "QDRANT__STORAGE__STORAGE_PATH": str(directory / "storage"),
            "QDRANT__STORAGE__SNAPSHOTS_PATH": str(directory / "snapshots"),
            "QDRANT__TELEMETRY_DISABLED": "true",
        }
        with open(self._log, "wb") as log:
            self.process = subprocess.Popen(
                [str(binary)], cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(
            f"qdrant did not become ready on {self.url}: {self._log.read_text()[-2000:]}",
            pytrace=False,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
