"""What `ragops ingest` prints for a finished document."""

from __future__ import annotations

from rich.console import Console

from ragops_cli.render import print_job


def _printed(progress: dict[str, int]) -> str:
    console = Console(record=True, width=200)
    job = {"state": "ready", "document_id": "d1", "progress": progress}
    print_job(console, "504076.pdf", job)
    return console.export_text()


def test_a_ready_document_names_its_unreadable_pages() -> None:
    printed = _printed({"pages_total": 33, "pages_unreadable": 3, "chunks_total": 20})
    assert "(33 pages, 3 unreadable, 20 chunks)" in printed
    assert "(33 pages, 20 chunks)" in _printed({"pages_total": 33, "chunks_total": 20})
