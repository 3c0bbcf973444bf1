"""A data dir in use by `ragops serve`: every other process that would open it is refused before
it touches a byte, and the server goes on ingesting."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest

from tests.support.api import POLICY
from tests.support.aws import MotoServer
from tests.support.net import free_port
from tests.support.processes import Server, ragops

PDF = "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf"
SETTLE_SECONDS = 60.0

Snapshot = dict[str, tuple[int, str]]


def snapshot(root: Path) -> Snapshot:
    """Every file under `root`: its size and sha256 (mtimes are not content)."""
    return {
        str(path.relative_to(root)): (
            len(data := path.read_bytes()),
            hashlib.sha256(data).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def settled(root: Path) -> Snapshot:
    """A snapshot that no longer changes: the server's post-ingestion index build has finished."""
    deadline = time.monotonic() + SETTLE_SECONDS
    previous = snapshot(root)
    while time.monotonic() < deadline:
        time.sleep(1.5)
        current = snapshot(root)
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"the data dir kept changing for {SETTLE_SECONDS}s")


def upload(server: Server, name: str, content: bytes) -> dict[str, object]:
    response = httpx.post(f"{server.url}/api/upload", files={"file": (name, content)}, timeout=30)
    assert response.status_code == 202, response.text
    return server.wait_for_job(response.json()["job_id"])


def test_refused_processes_leave_every_byte_of_the_data_dir(
    tmp_path: Path, pdf_dir: Path, aws: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real bucket, so that a backup or restore that did not wait for the lock would get as
    # far as opening the embedded store.
    bucket = aws.create_bucket()
    monkeypatch.setenv("RAGOPS_BACKUP_BUCKET", bucket)
    monkeypatch.setenv("RAGOPS_BACKUP_TERMINATION_LOG", str(tmp_path / "termination-log"))
    data = tmp_path / "data"
    other = tmp_path / "policy.md"
    other.write_text(POLICY)
    server = Server(data, tmp_path / "serve.log")
    try:
        pdf = pdf_dir / PDF
        assert upload(server, pdf.name, pdf.read_bytes())["state"] == "ready", server.log()
        before = settled(data)
        assert any(name.startswith("qdrant/") for name in before), before

        refused = {
            "ask": ("ask", "--data-dir", str(data), "What is this about?"),
            "ingest": ("ingest", "--data-dir", str(data), str(other)),
            "serve": ("serve", "--data-dir", str(data), "--port", str(free_port())),
            "backup": ("backup", "--data-dir", str(data)),
            "restore": ("restore", "--from", "latest", "--force", "--data-dir", str(data)),
        }
        for command, args in refused.items():
            result = ragops(*args, timeout=120)
            output = result.stdout + result.stderr
            assert result.returncode != 0, f"{command}: {output}"
            assert "in use by another RAGOps process" in output, output
            assert "Traceback" not in output, output
            assert snapshot(data) == before, f"`ragops {command}` changed the data dir"

        assert server.process.poll() is None, server.log()
        assert upload(server, "policy.md", POLICY.encode())["state"] == "ready", server.log()
        asked = ragops("ask", "--url", server.url, "Which travel desk books flights?")
        assert asked.returncode == 0 and "Orbis" in asked.stdout, asked.stdout + asked.stderr
    finally:
        server.stop()
