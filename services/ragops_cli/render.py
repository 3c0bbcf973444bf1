"""How the CLI shows answers and ingestion results."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def print_answer(console: Console, body: dict[str, Any]) -> None:
    console.print(body["answer"], highlight=False)
    sources = body.get("sources") or []
    if sources:
        console.print()
        console.print("[bold]Sources[/bold]")
        for i, source in enumerate(sources, start=1):
            console.print(
                f"  [{i}] {source['filename']}, page {source['page']} (score "
                f"{source['score']:.3f})",
                highlight=False,
            )
            console.print(f"      [dim]{source['excerpt']}[/dim]", highlight=False)
    console.print(
        f"[dim]answer {body['answer_id']} by {body.get('model', '?')}"
        f"{' (cached)' if body.get('cached') else ''}[/dim]"
    )


def _unreadable(progress: dict[str, Any]) -> str:
    count = progress.get("pages_unreadable", 0)
    return f"{count} unreadable, " if count else ""


def print_job(console: Console, filename: str, job: dict[str, Any]) -> None:
    progress = job.get("progress") or {}
    if job["state"] == "ready":
        console.print(
            f"[green]ready[/green]  {job['document_id']}  {filename} "
            f"({progress.get('pages_total', 0)} pages, {_unreadable(progress)}"
            f"{progress.get('chunks_total', 0)} chunks)",
            highlight=False,
        )
    else:
        console.print(f"[red]failed[/red] {filename}: {job.get('error')}", highlight=False)
