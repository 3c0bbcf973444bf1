"""The same CLI commands against a running RAGOps server (`--url`)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragops_cli.progress import PagesBar
from ragops_cli.render import print_answer, print_job

POLL_SECONDS = 0.5
RATE_LIMIT_RETRIES = 10
RATE_LIMIT_MAX_WAIT_SECONDS = 60.0


class ServerError(Exception):
    """The server refused a request, or could not be reached; the message is its own
    explanation."""


@contextlib.contextmanager
def reaching(url: str) -> Iterator[None]:
    """A server that is down, or a wrong URL, is one line for the user, not httpx's traceback."""
    try:
        yield
    except httpx.TransportError as exc:
        why = str(exc) or type(exc).__name__
        raise ServerError(f"cannot reach {url} ({why})") from None


def _check(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json() if response.content else None
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text
    raise ServerError(f"{response.status_code}: {detail}")


class WaitOnRateLimit(httpx.BaseTransport):
    """Waits out the server's per-user rate limit (429, as long as Retry-After says) and asks again,
    so a long `ingest` of many files slows down instead of failing. Uploads are sent again whole
    (httpx rewinds the file)."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(RATE_LIMIT_RETRIES):
            response = self._inner.handle_request(request)
            if response.status_code != 429:
                return response
            response.close()
            self._sleep(_retry_after(response))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), RATE_LIMIT_MAX_WAIT_SECONDS)


def ingest(
    url: str, files: Sequence[Path], console: Console, *, timeout_seconds: float = 3600
) -> int:
    failed = 0
    with (
        reaching(url),
        httpx.Client(base_url=url, timeout=60, transport=WaitOnRateLimit()) as client,
    ):
        jobs: dict[str, str] = {}
        for path in files:
            try:
                with path.open("rb") as handle:
                    body = _check(client.post("/api/upload", files={"file": (path.name, handle)}))
                jobs[body["job_id"]] = path.name
            except (ServerError, OSError) as exc:
                console.print(f"[red]failed[/red] {path}: {exc}", highlight=False)
                failed += 1
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        deadline = time.monotonic() + timeout_seconds
        with Progress(*columns, console=console, transient=True) as bars:
            tasks = {
                job_id: bars.add_task(f"{name}: queued", total=None)
                for job_id, name in jobs.items()
            }
            positions = {job_id: PagesBar() for job_id in jobs}
            while tasks and time.monotonic() < deadline:
                for job_id in list(tasks):
                    job = _check(client.get(f"/api/jobs/{job_id}"))
                    done, total = positions[job_id].update(job["progress"])
                    bars.update(
                        tasks[job_id],
                        description=f"{jobs[job_id]}: {job['state']}",
                        total=total,
                        completed=done,
                    )
                    if job["state"] in ("ready", "failed"):
                        bars.remove_task(tasks.pop(job_id))
                        print_job(console, jobs[job_id], job)
                        failed += job["state"] == "failed"
                time.sleep(POLL_SECONDS)
        for job_id in tasks:
            console.print(
                f"[yellow]still running[/yellow] {jobs[job_id]} (job {job_id})", highlight=False
            )
            failed += 1
    return failed


def ask(url: str, question: str, top_k: int | None, console: Console) -> None:
    payload: dict[str, Any] = {"query": question}
    if top_k:
        payload["top_k"] = top_k
    with (
        reaching(url),
        httpx.Client(base_url=url, timeout=120, transport=WaitOnRateLimit()) as client,
    ):
        print_answer(console, _check(client.post("/api/ask", json=payload)))
