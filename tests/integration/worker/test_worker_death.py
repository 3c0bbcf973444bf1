"""`ragops serve` whose ingestion worker dies says so at once: an error log with the traceback,
and a failing /healthz so that a supervisor restarts it, not a queue that silently stops moving."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.api import POLICY
from tests.support.processes import Server

DEADLINE_SECONDS = 120.0


def test_a_worker_that_dies_fails_liveness_and_logs_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, tmp_path / "serve.log")
    try:
        first = httpx.post(
            f"{server.url}/api/upload", files={"file": ("policy.md", POLICY.encode())}
        ).json()
        assert server.wait_for_job(first["job_id"])["state"] == "ready"
        assert httpx.get(f"{server.url}/healthz").status_code == 200

        # The damage a second process opening the shard used to do (issue 13): its journals cut.
        journals = list((data / "qdrant").rglob("tracker_journal.dat"))
        assert journals
        for journal in journals:
            journal.write_bytes(b"")
        httpx.post(
            f"{server.url}/api/upload", files={"file": ("again.md", (POLICY * 2).encode())}
        ).raise_for_status()

        deadline = time.monotonic() + DEADLINE_SECONDS
        health = httpx.get(f"{server.url}/healthz")
        while health.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.5)
            health = httpx.get(f"{server.url}/healthz")
        assert health.status_code == 503, server.log()
        assert health.json()["detail"].startswith("the ingestion worker died: "), health.json()
        log = server.log()
        assert "The ingestion worker died" in log and "Traceback" in log, log
        assert httpx.get(f"{server.url}/readyz").json()["checks"]["worker"] == "stopped"
    finally:
        server.stop()
