"""Entry point of the `ragops` command: one image, one CLI, many entrypoints."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

import ragops_operator.cli as operator_cli
from ragops_cli import backup, plugins, processes, reindex

if TYPE_CHECKING:
    from ragops_core.settings import Settings

app = typer.Typer(
    help="RAGOps: a production RAG stack from one resource, or all in one process.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
plugins.add_optional_commands(app)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="State directory [default: RAGOPS_DATA_DIR or ./.ragops]."),
]
Url = Annotated[
    str | None, typer.Option("--url", help="Talk to a running server instead of the data dir.")
]


def _settings(data_dir: Path | None) -> Settings:

    # An explicit --data-dir wins over RAGOPS_DATA_DIR; everything else comes from the environment.
    return processes.load_settings(**({"data_dir": data_dir} if data_dir is not None else {}))


def _fail(console: Console, message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: DataDir = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the whole stack in one process: API, ingestion worker and embedded stores."""
    from ragops_api.app import create_app
    from ragops_cli import http_server
    from ragops_cli.banner import serve_banner
    from ragops_core.errors import StoreBusyError
    from ragops_core.logs import configure_logging
    from ragops_core.metrics import Metrics
    from ragops_wiring.adapters import build_adapters
    from ragops_worker.service import build_worker

    console = Console(stderr=True)
    configure_logging(log_level)
    settings = _settings(data_dir)
    metrics = Metrics()
    try:
        adapters = build_adapters(settings, metrics=metrics)
    except StoreBusyError as exc:
        _fail(console, f"{exc}. Is `ragops serve` already running on {settings.data_dir}?")
    application = create_app(
        settings, adapters, metrics=metrics, worker=build_worker(settings, adapters, metrics)
    )
    console.print(serve_banner(host, port, settings), highlight=False, soft_wrap=True)
    http_server.run(application, host=host, port=port, log_level=log_level, settings=settings)


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="PDF, text or Markdown files.", exists=True, dir_okay=False)
    ],
    data_dir: DataDir = None,
    url: Url = None,
) -> None:
    """Ingest files with a progress bar; prints each document's id, or why it failed."""
    console = Console()
    if url:
        from ragops_cli import remote

        try:
            failed = remote.ingest(url, files, console)
        except remote.ServerError as exc:
            _fail(console, str(exc))
    else:
        from ragops_cli import local
        from ragops_core.errors import StoreBusyError
        from ragops_core.logs import configure_logging

        configure_logging("warning")
        try:
            failed = asyncio.run(local.ingest(_settings(data_dir), files, console))
        except StoreBusyError as exc:
            _fail(
                console,
                f"{exc}. A server is using this data dir: pass --url http://HOST:PORT instead.",
            )
    raise typer.Exit(1 if failed else 0)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[int | None, typer.Option(help="Chunks to retrieve.")] = None,
    data_dir: DataDir = None,
    url: Url = None,
) -> None:
    """Ask a question; prints the answer and its sources."""
    console = Console()
    if not question.strip():
        _fail(console, "the question is empty")
    if url:
        from ragops_cli import remote

        try:
            remote.ask(url, question, top_k, console)
        except remote.ServerError as exc:
            _fail(console, str(exc))
        return
    from ragops_cli import local
    from ragops_core.errors import StoreBusyError
    from ragops_core.logs import configure_logging

    configure_logging("warning")
    try:
        asyncio.run(local.ask(_settings(data_dir), question, top_k, console))
    except StoreBusyError as exc:
        _fail(
            console, f"{exc}. A server is using this data dir: pass --url http://HOST:PORT instead."
        )


eval_app = typer.Typer(
    help=(
        "Score answer quality: retrieval on a BEIR-style dataset (--dataset), or a running API "
        "against a golden question set (--url --questions); `export-feedback` writes thumbs-up "
        "answers as golden questions."
    ),
    invoke_without_command=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def evaluate(
    ctx: typer.Context,
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset",
            help="BEIR-style dir: corpus.jsonl, queries.jsonl, qrels.tsv.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    mode: Annotated[str, typer.Option(help="--dataset: dense, bm25 or hybrid.")] = "hybrid",
    url: Annotated[str | None, typer.Option("--url", help="A running RAGOps API.")] = None,
    questions: Annotated[
        str | None, typer.Option(help="--url: golden questions, JSON Lines (a path or s3://).")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="RAGOPS_EVAL_TOKEN", help="Bearer token, when auth is on.")
    ] = None,
    baseline_url: Annotated[
        str | None, typer.Option(help="Ask this API the same questions, as the baseline.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="An earlier run's summary, as the baseline.")
    ] = None,
    sample: Annotated[int | None, typer.Option(help="Ask only N questions (by --seed).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample's choice.")] = 0,
    minimum: Annotated[
        list[str] | None, typer.Option("--min", help="METRIC=VALUE a rate must reach.")
    ] = None,
    max_regression: Annotated[
        list[str] | None,
        typer.Option(help="METRIC=DELTA the worsening allowed against the baseline."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Questions asked at once.")] = 4,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 60.0,
    summary_file: Annotated[
        Path | None, typer.Option(help="Also write the summary line here.")
    ] = None,
    use_cache: Annotated[
        bool,
        typer.Option(
            "--use-cache",
            help="--url: let cached answers count, as users see them. By default each question "
            "is answered afresh (Cache-Control: no-cache): the colors of a rollout share the "
            "answer cache, so a hit may be the other color's answer.",
        ),
    ] = False,
) -> None:
    """The last stdout line is one JSON object: the metrics (and with --url, the checks).
    --url exits 0 when every check passes, 1 when one fails, 2 when it cannot evaluate."""
    if ctx.invoked_subcommand is not None:
        return
    console = Console(stderr=True)
    if (dataset is None) == (url is None):
        _fail(console, "pass --dataset DIR (retrieval) or --url URL --questions FILE (live API)")
    if url is not None:
        from ragops_cli import live_eval

        if questions is None:
            _fail(console, "--url needs --questions FILE (JSON Lines, a path or s3://)")
        options = live_eval.Options(
            url=url.rstrip("/"),
            questions=str(questions),
            token=token or None,
            baseline_url=baseline_url.rstrip("/") if baseline_url else None,
            baseline_file=baseline,
            sample=sample,
            seed=seed,
            minimums=tuple(minimum or ()),
            regressions=tuple(max_regression or ()),
            concurrency=concurrency,
            timeout=timeout,
            summary_file=summary_file,
            use_cache=use_cache,
        )
        try:
            code = live_eval.run(options, typer.echo)
        except live_eval.UsageError as exc:
            _fail(console, str(exc))
        raise typer.Exit(code)
    assert dataset is not None
    from ragops_cli.evaluate import evaluate as run
    from ragops_core.logs import configure_logging
    from ragops_wiring.adapters import build_embedder

    if mode not in ("dense", "bm25", "hybrid"):
        _fail(console, f"unknown mode {mode!r}; use dense, bm25 or hybrid")
    configure_logging("warning")
    try:
        result = asyncio.run(run(dataset, mode, build_embedder(_settings(None)), console))
    except (FileNotFoundError, ValueError, KeyError) as exc:
        _fail(console, f"cannot read dataset {dataset}: {exc}")
    typer.echo(json.dumps(result))


@eval_app.command("export-feedback")
def export_feedback(
    data_dir: DataDir = None,
    tenant: Annotated[
        str | None, typer.Option(help="Whose answers [default: RAGOPS_TENANT].")
    ] = None,
    rating: Annotated[str, typer.Option(help="up or down.")] = "up",
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 1000,
) -> None:
    """Answers rated up on the chat page as golden questions (JSON Lines on stdout), from the
    catalog: the data dir's, or RAGOPS_CATALOG_URL's Redis."""
    from ragops_cli import golden
    from ragops_core.domain import RatedAnswer
    from ragops_wiring.adapters import build_catalog

    console = Console(stderr=True)
    if rating not in ("up", "down"):
        _fail(console, "--rating is up or down")
    if not 1 <= limit <= 100_000:
        _fail(console, "--limit must be between 1 and 100000")
    settings = _settings(data_dir)
    if not settings.catalog_url and not settings.catalog_path.is_file():
        _fail(console, f"no catalog at {settings.catalog_path} (pass --data-dir)")

    async def read() -> list[RatedAnswer]:
        catalog = build_catalog(settings)
        try:
            return await catalog.answers.rated(tenant or settings.tenant, rating, limit)
        finally:
            await catalog.close()

    rated = asyncio.run(read())
    seen: set[str] = set()
    for answer in rated:
        row = golden.from_feedback(answer)
        if row is not None and golden.normalise(row["question"]) not in seen:
            seen.add(golden.normalise(row["question"]))  # the newest rating of a question wins
            typer.echo(json.dumps(row))


processes.register(app)  # `ragops api` and `ragops worker`
app.command("operator")(operator_cli.operator)
app.command("crd")(operator_cli.crd)
app.command("rbac")(operator_cli.rbac)
backup.register(app)  # `ragops backup` and `ragops restore`
reindex.register(app)  # `ragops reindex`
