"""The embedded ingestion worker (`ragops serve`) dying is loud: logged at once, and liveness fails.

The worker's loop retries each document itself, so an exception that ends the task is one it
cannot get past (a broken store, a queue that keeps failing): restarting the process is the
remedy. Rather than restart the task in-process over the same broken handles, `/healthz`
fails with the reason, so that a supervisor (Kubernetes' liveness probe, systemd) restarts the
process, as `ragops worker` does by exiting 1.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def worker_failure(task: asyncio.Task[None] | None) -> str | None:
    """Why the worker task died, or None while it runs (or ended because it was told to stop)."""
    if task is None or not task.done() or task.cancelled():
        return None
    error = task.exception()
    if error is None:
        return None
    return f"the ingestion worker died: {type(error).__name__}: {error}"


def report_death(task: asyncio.Task[None]) -> None:
    """A done callback: logs the exception that ended the worker, with its traceback."""
    if task.cancelled() or (error := task.exception()) is None:
        return
    log.error(
        "The ingestion worker died; uploads will stay queued until the process restarts "
        "(/healthz now fails)",
        exc_info=error,
    )
