"""`ragops reindex`: re-embed one index version of the Qdrant server into another (docs/reindex.md).

A batch command, run by the operator's Jobs when spec.models.embedding changes (or by hand): the
target is `RAGOPS_INDEX_VERSION` with the embedding model the environment configures, the source
`--from VERSION`. The result JSON is printed on stdout and written where the backup writes its
own (`RAGOPS_BACKUP_TERMINATION_LOG`, the pod's termination message); the exit code is non-zero
on any failure: 2 for a command or configuration the re-index cannot start with, 1 for a run
that failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:  # qdrant-client, onnxruntime and openai load only to run the command
    from qdrant_client import AsyncQdrantClient

    from ragops_core.adapters.vector_store.qdrant_server import QdrantServerStore
    from ragops_core.ports import Embedder
    from ragops_core.settings import Settings

log = logging.getLogger(__name__)

USAGE = 2
FAILED = 1
MESSAGE_LIMIT = 3000  # the termination message holds 4096 bytes


class UsageError(Exception):
    """The command cannot start as given (exit code 2)."""


def reindex(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Index version to copy from: the collection {RAGOPS_QDRANT_COLLECTION}-{VERSION}.",
        ),
    ] = None,
    switch_alias: Annotated[
        bool,
        typer.Option(
            "--switch-alias",
            help=(
                "When complete, move the alias RAGOPS_QDRANT_COLLECTION to the target, atomically."
            ),
        ),
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Points read, embedded and written at a time.")
    ] = 128,
    drop: Annotated[
        str | None,
        typer.Option(
            "--drop",
            help=(
                "Instead: delete the collection of this version (never the configured one, nor "
                "the alias's)."
            ),
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Re-embed index version --from into RAGOPS_INDEX_VERSION with the configured embedding model (copies only what is missing)."""  # noqa: E501
    from pydantic import ValidationError

    from ragops_core.logs import configure_logging
    from ragops_core.settings import Settings

    configure_logging(log_level)
    try:
        settings = Settings()
    except ValidationError as exc:
        _fail(f"invalid configuration: {exc}", code=USAGE)
    if (source is None) == (drop is None):
        _fail(
            "give --from VERSION (re-index into RAGOPS_INDEX_VERSION) or --drop VERSION", code=USAGE
        )
    if drop is not None:
        raise typer.Exit(asyncio.run(run_drop(settings, drop)))
    assert source is not None
    raise typer.Exit(
        asyncio.run(run_reindex(settings, source, switch_alias=switch_alias, batch=batch))
    )


async def run_reindex(
    settings: Settings,
    source: str,
    *,
    switch_alias: bool = False,
    batch: int = 128,
    client: AsyncQdrantClient | None = None,
    embedder: Embedder | None = None,
) -> int:
    """The command: returns its exit code, after printing the result and writing the termination
    message. `client` and `embedder` replace those built from the settings (tests)."""
    from ragops_maintenance.reindex import ReindexError
    from ragops_maintenance.reindex import reindex as copy

    target = settings.index_version
    try:
        _check(settings, source)
        async with _connected(settings, client) as qdrant:
            if embedder is None:
                from ragops_wiring.adapters import build_embedder

                embedder = build_embedder(
                    settings
                )  # as the worker builds it: same model, same dense windows
            stores = (
                _store(settings, qdrant, source, embedder.dimensions),
                _store(settings, qdrant, target, embedder.dimensions),
            )
            result = await copy(*stores, embedder, switch_alias=switch_alias, batch=batch)
    except UsageError as exc:
        return _failure(settings, source, target, str(exc), code=USAGE)
    except ReindexError as exc:
        return _failure(settings, source, target, str(exc), code=FAILED)
    except Exception as exc:  # any failure must reach the termination message and the exit code
        log.debug("Re-index failed", exc_info=True)
        return _failure(settings, source, target, f"re-index failed: {exc}", code=FAILED)
    _report(settings, result.to_json())
    return 0


async def run_drop(
    settings: Settings, version: str, *, client: AsyncQdrantClient | None = None
) -> int:
    from ragops_maintenance.reindex import ReindexError
    from ragops_maintenance.reindex import drop as drop_version

    try:
        _check(settings, None)
        async with _connected(settings, client) as qdrant:
            store = _store(settings, qdrant, version, 1)  # never written: the size is not used
            await drop_version(store, configured=settings.index_version)
    except UsageError as exc:
        _fail(str(exc), code=USAGE)
    except ReindexError as exc:
        _fail(str(exc), code=FAILED)
    except Exception as exc:
        log.debug("Drop failed", exc_info=True)
        _fail(f"drop failed: {exc}", code=FAILED)
    typer.echo(json.dumps({"dropped": store.collection}))
    return 0


def _check(settings: Settings, source: str | None) -> None:
    if not settings.qdrant_url:
        raise UsageError(
            "ragops reindex needs a Qdrant server (RAGOPS_QDRANT_URL): the embedded store has one "
            "collection and no index versions; to change its model, ingest the documents again"
        )
    if source is not None and source == settings.index_version:
        raise UsageError(
            f"--from {source} is also the target (RAGOPS_INDEX_VERSION={settings.index_version}): "
            "set RAGOPS_INDEX_VERSION to the new model's version"
        )


@contextlib.asynccontextmanager
async def _connected(
    settings: Settings, client: AsyncQdrantClient | None
) -> AsyncIterator[AsyncQdrantClient]:
    """`client` (tests), else one built from the settings and closed afterwards; reachable either
    way."""
    from ragops_maintenance.reindex import ReindexError
    from ragops_wiring.adapters import qdrant_client

    owned = client is None
    connected = client or qdrant_client(settings)
    try:
        try:
            await connected.get_collections()
        except Exception as exc:
            where = settings.qdrant_url
            if settings.qdrant_prefer_grpc:  # the URL's port is not the one tried
                where = f"{where} (gRPC port {settings.qdrant_grpc_port})"
            raise ReindexError(f"cannot reach Qdrant at {where}: {exc}") from exc
        yield connected
    finally:
        if owned:
            await connected.close()


def _store(
    settings: Settings, client: AsyncQdrantClient, version: str, dimensions: int
) -> QdrantServerStore:
    from ragops_wiring.adapters import qdrant_server_store

    return qdrant_server_store(settings, client, version=version, dimensions=dimensions)


def _failure(settings: Settings, source: str, target: str, message: str, *, code: int) -> int:
    short = message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."
    _report(settings, json.dumps({"from": source, "to": target, "error": short}))
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return code


def _report(settings: Settings, text: str) -> None:
    """Stdout and the termination message (read by the operator), like `ragops backup`."""
    from ragops_maintenance.backup import report

    report.write_termination_message(settings.backup_termination_log, text)
    typer.echo(text)


def register(app: typer.Typer) -> None:
    app.command()(reindex)


def _fail(message: str, *, code: int) -> NoReturn:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)
