"""The same CLI commands against a running RAGOps server (`--url`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragops_cli.render import print_answer, print_job

POLL_SECONDS = 0.5


class ServerError(Exception):
    """The server refused a request; the message is its own explanation."""


def _check(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json() if response.content else None
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    raise ServerError(f"{response.status_code}: {detail}")


def ingest(url: str, files: Sequence[Path], console: Console, *, timeout_seconds: float = 3600) -> int:
    failed = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        jobs: dict[str, str] = {}
        for path in files:
            try:
                with path.open("rb") as handle:
                    body = _check(client.post("/api/upload", files={"file": (path.name, handle)}))
                jobs[body["job_id"]] = path.name
            except (ServerError, OSError) as exc:
                console.print(f"[red]failed[/red] {path}: {exc}", highlight=False)
                failed += 1
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        deadline = time.monotonic() + timeout_seconds
        with Progress(*columns, console=console, transient=True) as bars:
            tasks = {job_id: bars.add_task(f"{name}: queued", total=None) for job_id, name in jobs.items()}
            while tasks and time.monotonic() < deadline:
                for job_id in list(tasks):
                    job = _check(client.get(f"/api/jobs/{job_id}"))
                    progress = job["progress"]
                    total = progress.get("pages_total", 0) + progress.get("chunks_total", 0)
                    done = progress.get("pages_done", 0) + progress.get("chunks_done", 0)
                    bars.update(tasks[job_id], description=f"{jobs[job_id]}: {job['state']}",
                                total=total or None, completed=done)
                    if job["state"] in ("ready", "failed"):
                        bars.remove_task(tasks.pop(job_id))
                        print_job(console, jobs[job_id], job)
                        failed += job["state"] == "failed"
                time.sleep(POLL_SECONDS)
        for job_id in tasks:
            console.print(f"[yellow]still running[/yellow] {jobs[job_id]} (job {job_id})", highlight=False)
            failed += 1
    return failed


def ask(url: str, question: str, top_k: int | None, console: Console) -> None:
    payload: dict[str, Any] = {"query": question}
    if top_k:
        payload["top_k"] = top_k
    with httpx.Client(base_url=url, timeout=120) as client:
        print_answer(console, _check(client.post("/api/ask", json=payload)))
