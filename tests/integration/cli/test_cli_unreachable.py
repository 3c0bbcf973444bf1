"""`--url` pointing at no server: one line that says so, not a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.support.api import POLICY
from tests.support.net import free_port
from tests.support.processes import ragops


def test_ask_and_ingest_say_when_the_server_cannot_be_reached(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    doc = tmp_path / "policy.md"
    doc.write_text(POLICY)
    for args in (("ask", "--url", url, "Who books flights?"), ("ingest", "--url", url, str(doc))):
        result = ragops(*args, timeout=60)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode == 2, output
        assert "Traceback" not in output, output
        assert output.startswith(f"error: cannot reach {url}"), output
        assert len(output.splitlines()) <= 2, output
