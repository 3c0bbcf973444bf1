"""`ragops worker` as a process: the ingestion loop, plus an HTTP server for probes and metrics.

Stopping (SIGTERM from Kubernetes, or Ctrl-C): the worker takes no new message and gets
`worker_grace_seconds` to finish the current document. Past that it is cancelled, which
releases the message to the queue (another worker takes it at once, not after the
visibility timeout) and puts its job back to queued. Either way the process exits 0.
If the ingestion loop itself dies (its queue or catalog keeps failing), the process
exits 1 so that its supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_adapters
from ragops_wiring.services import build_readiness
from ragops_worker.health import create_health_app
from ragops_worker.service import build_worker

log = logging.getLogger(__name__)


class _ProbeServer(uvicorn.Server):
    """uvicorn without its signal handlers: the worker decides when the probes stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own handlers would stop serving probes at once and re-raise the
        # signal after shutdown (a non-zero exit); ours drain the worker first.
        yield


async def run_worker(settings: Settings, *, host: str, port: int, log_level: str) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    metrics = Metrics()
    adapters = build_adapters(settings, metrics=metrics, service_name="ragops-worker")
    worker = build_worker(settings, adapters, metrics)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    working = asyncio.create_task(worker.run(stop), name="ingestion-worker")
    app = create_health_app(
        build_readiness(settings, adapters, metrics), worker_running=lambda: not working.done()
    )
    server = _ProbeServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level=log_level,
            access_log=False,
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve(), name="probe-server")
    stopping = asyncio.create_task(stop.wait())
    code = 0
    try:
        await asyncio.wait({working, serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            log.error("The worker stopped on its own; exiting so that it is restarted")
            code = 1
        stop.set()
        log.info(
            "Stopping: finishing the current document",
            extra={"grace_seconds": settings.worker_grace_seconds},
        )
        if not await _drain(working, settings.worker_grace_seconds):
            code = 1
    finally:
        stopping.cancel()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        await adapters.close()
    log.info("Worker stopped", extra={"exit_code": code})
    return code


async def _drain(working: asyncio.Task[None], grace_seconds: float) -> bool:
    """Let the loop finish within the grace period, else cancel it (which releases its message)."""
    try:
        await asyncio.wait_for(asyncio.shield(working), timeout=grace_seconds)
    except TimeoutError:
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await working
    except Exception:
        log.exception("The ingestion loop failed")
        return False
    return True
