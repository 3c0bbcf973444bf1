"""Cancellation that a dependency swallowed still stops long work at the next checkpoint.

On Python 3.11, `asyncio.wait_for` returns the inner result and drops a `Task.cancel()`
that arrives in the loop iteration where the inner call finishes (fixed in 3.12 by
rewriting it on `asyncio.timeout`). redis-py wraps every socket write in `wait_for`, so
a SIGTERM past the worker's grace period was seen to be lost about once in eight runs
and the worker went on ingesting the whole document instead of releasing it. The task
still records the request (`Task.cancelling()`), so long loops check it between steps.
"""

from __future__ import annotations

import asyncio


def checkpoint() -> None:
    """Raise `CancelledError` if this task was asked to stop, even if an await lost it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
