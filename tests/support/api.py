"""Helpers for the API tests: sample document, job polling, uploads, streamed answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

JOB_DEADLINE_SECONDS = 180.0

POLICY = """# Travel policy of the Zephyrine Institute

Employees of the Zephyrine Institute must book flights through the Orbis travel desk.
Economy class is mandatory for flights shorter than six hours.
Hotel costs are reimbursed up to 180 euros per night in Lisbon.

## Expenses

Receipts must be uploaded to the Quillfeather portal within 30 days of returning.
Meals are covered by a daily allowance of 45 euros.
"""


AppFactory = Callable[..., TestClient]


def wait_for_job(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("ready", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished after {JOB_DEADLINE_SECONDS}s: {job}")


def upload(client: TestClient, name: str, data: bytes) -> dict[str, Any]:
    response = client.post("/api/upload", files={"file": (name, data)})
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def stream_events(
    client: TestClient, query: str, headers: dict[str, str] | None = None
) -> list[tuple[str | None, Any]]:
    """The (event, data) pairs of `POST /api/ask/stream`, in order."""
    events = []
    name = None
    with client.stream(
        "POST", "/api/ask/stream", json={"query": query}, headers=headers or {}
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.split(":", 1)[1])))
    return events
