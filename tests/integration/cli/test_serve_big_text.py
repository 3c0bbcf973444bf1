"""A 24 MB plain-text upload to `ragops serve` (issue #14 item 1): the server, whose API and
worker share one process and event loop, answers `/healthz` promptly throughout, and the
job's progress moves while the text is read (it stayed at `pages_done 0` for minutes).

Chunking was quadratic and ran on the event loop: 3.4 M words froze `/healthz` for 8-19 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.processes import Server

PROMPT_SECONDS = 1.0
WATCH_SECONDS = 60.0


def big_text(target_bytes: int = 24 * 1024 * 1024) -> bytes:
    """Lines of varied words (numbers make them unique), about `target_bytes` long."""
    line = "the policy {n} covers travel expenses and meals within limits set by {m}\n"
    lines, size, n = [], 0, 0
    while size < target_bytes:
        text = line.format(n=n, m=n * 7 % 1000)
        lines.append(text)
        size += len(text)
        n += 1
    return "".join(lines).encode()


def test_healthz_answers_promptly_while_a_24_mb_text_file_is_chunked(tmp_path: Path) -> None:
    data = big_text()
    words = len(data.split())
    assert words > 3_400_000
    server = Server(tmp_path / "data", tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = client.post("/api/upload", files={"file": ("big.txt", data)})
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
            latencies: list[float] = []
            progress: list[dict[str, int]] = []
            deadline = time.monotonic() + WATCH_SECONDS
            # Until every chunk is made (chunks_total then stays) and some are indexed, or the
            # watch ends: the parsing is what used to hold the event loop.
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert client.get("/healthz", timeout=30).status_code == 200
                latencies.append(time.monotonic() - started)
                job = client.get(f"/api/jobs/{job_id}").json()
                assert job["state"] in ("queued", "processing"), job
                progress.append(job["progress"])
                done = job["progress"]
                if done.get("chars_done") == len(data.decode()) and done.get("chunks_done"):
                    break
                time.sleep(0.2)
    finally:
        server.stop()
    slowest = max(latencies)
    assert slowest < PROMPT_SECONDS, f"/healthz took {slowest:.1f} s\n{server.log()}"
    read = sorted({p.get("chars_done", 0) for p in progress})
    assert any(0 < r < len(data) for r in read), f"no progress seen while reading: {read}"
    assert progress[-1].get("chars_total") == len(data.decode())
