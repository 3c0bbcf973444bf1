"""In-process ingestion and questions against a data directory (no server needed)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ragops_cli.progress import PagesBar
from ragops_cli.render import print_answer, print_job
from ragops_core.domain import IngestMessage
from ragops_core.errors import RagOpsError
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import Adapters, build_adapters
from ragops_wiring.services import build_document_service, build_query_service
from ragops_worker.service import build_worker


@contextlib.asynccontextmanager
async def open_adapters(settings: Settings, metrics: Metrics) -> AsyncIterator[Adapters]:
    adapters = build_adapters(settings, metrics=metrics)
    try:
        yield adapters
    finally:
        await adapters.close()


async def ingest(settings: Settings, files: Sequence[Path], console: Console) -> int:
    """Ingest `files` with a progress bar each; returns the number that failed."""
    metrics = Metrics()
    async with open_adapters(settings, metrics) as adapters:
        documents = build_document_service(settings, adapters)
        worker = build_worker(settings, adapters, metrics)
        names: dict[str, str] = {}
        failed = 0
        for path in files:
            try:
                submitted = await documents.submit(settings.tenant, path.name, path.read_bytes())
                names[submitted.job_id] = path.name
            except (RagOpsError, OSError) as exc:
                console.print(f"[red]failed[/red] {path}: {exc}", highlight=False)
                failed += 1
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bars:
            while (
                message := await adapters.queue.receive(wait_seconds=0, visibility_seconds=300)
            ) is not None:
                job_id = str(message.body.get("job_id", ""))
                filename = names.get(job_id) or IngestMessage.from_json(message.body).filename
                task = bars.add_task(f"{filename}: pages", total=None)
                document_bar = PagesBar()

                def show(
                    progress: dict[str, int], task: TaskID = task, position: PagesBar = document_bar
                ) -> None:
                    completed, total = position.update(progress)
                    bars.update(task, completed=completed, total=total)

                await worker.handle(message, on_progress=show)
                bars.remove_task(task)
                job = await adapters.jobs.get(settings.tenant, job_id)
                if job is not None:
                    print_job(console, filename, job.to_json())
                    failed += job.state.value != "ready"
        await adapters.store.optimize()
        return failed


async def ask(settings: Settings, question: str, top_k: int | None, console: Console) -> None:
    metrics = Metrics()
    async with open_adapters(settings, metrics) as adapters:
        query = build_query_service(settings, adapters, metrics)
        answer = await query.answer(settings.tenant, question, top_k or settings.top_k)
        print_answer(console, answer.to_json())
