"""`ragops api` and `ragops worker`: the two production processes, configured by RAGOPS_* variables
only.

Each runs one side of what `ragops serve` runs together. Several of them share state
only through production stores (RAGOPS_CATALOG_URL, RAGOPS_SQS_QUEUE_URL,
RAGOPS_S3_BUCKET, RAGOPS_QDRANT_URL): the embedded vector store belongs to one process.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from ragops_core.settings import Settings

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
LogLevel = Annotated[str, typer.Option(help="debug, info, warning or error.")]

_BUSY_HINT = (
    "The embedded vector store belongs to one process: give `ragops api` and `ragops worker` "
    "a Qdrant server (RAGOPS_QDRANT_URL), or run both sides in one process with `ragops serve`."
)


def api(
    host: Host = "0.0.0.0",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    log_level: LogLevel = "info",
) -> None:
    """Run the API only (uploads are queued for `ragops worker`); configured by RAGOPS_* variables."""  # noqa: E501
    from ragops_api.app import create_app
    from ragops_cli import http_server
    from ragops_core.errors import StoreBusyError
    from ragops_core.logs import configure_logging
    from ragops_core.metrics import Metrics
    from ragops_wiring.adapters import build_adapters

    configure_logging(log_level)
    settings = load_settings()
    metrics = Metrics()
    try:
        adapters = build_adapters(settings, metrics=metrics, service_name="ragops-api")
    except StoreBusyError as exc:
        _fail(f"{exc}. {_BUSY_HINT}")
    http_server.run(
        create_app(settings, adapters, metrics=metrics),
        host=host,
        port=port,
        log_level=log_level,
        settings=settings,
    )


def worker(
    host: Host = "0.0.0.0",
    port: Annotated[int, typer.Option(help="TCP port of /healthz, /readyz and /metrics.")] = 8081,
    log_level: LogLevel = "info",
) -> None:
    """Run the ingestion worker only; SIGTERM finishes or releases the current document, then exits 0."""  # noqa: E501
    from ragops_core.errors import StoreBusyError
    from ragops_core.logs import configure_logging
    from ragops_core.settings import Settings
    from ragops_worker.process import run_worker

    configure_logging(log_level)
    try:
        code = asyncio.run(run_worker(Settings(), host=host, port=port, log_level=log_level))
    except StoreBusyError as exc:
        _fail(f"{exc}. {_BUSY_HINT}")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(api)
    app.command()(worker)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; an invalid value (or combination) exits 2 with pydantic's
    reasons, one a line, instead of a traceback that buries them."""
    from pydantic import ValidationError

    from ragops_core.settings import Settings

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        reasons = "\n".join(
            f"  {'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        _fail(f"invalid configuration:\n{reasons}")
        raise  # unreachable: _fail exits


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)
