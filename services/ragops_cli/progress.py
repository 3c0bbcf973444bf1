"""Progress the CLI shows: an ingestion's bar and the steps of a long count.

An ingestion's bar counts pages: a total known once the document is opened.

The pipeline embeds chunks while later pages are still being read, so the number of chunks is
only known at the end; a bar counting pages plus chunks grew as it ran. Pages are counted up
front, and a page is done once read and its chunks embedded.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping

from rich.console import Console
from rich.progress import Progress

# Lines a long count prints without a terminal.
LINES = 10


def pages_position(progress: Mapping[str, int]) -> tuple[float, int | None]:
    """(pages done, pages in the document), or (0, None) before the document is opened.

    Reading a page is half of its work, embedding its chunks the other half. Chunks of pages
    not read yet are unknown, so the share embedded of the chunks known so far stands in for
    the read pages' share; at the end both are whole and the bar is full."""
    total = progress.get("pages_total", 0)
    if total <= 0:
        return 0.0, None
    read = min(progress.get("pages_done", 0), total)
    chunks = progress.get("chunks_total", 0)
    embedded = min(progress.get("chunks_done", 0), chunks)
    share = embedded / chunks if chunks else 0.0
    return read * (1 + share) / 2, total


class PagesBar:
    """One document's position that never moves back (a newly read page adds chunks still
    to embed, which would lower the share for a moment)."""

    def __init__(self) -> None:
        self.completed = 0.0
        self.total: int | None = None

    def update(self, progress: Mapping[str, int]) -> tuple[float, int | None]:
        completed, total = pages_position(progress)
        self.total = total or self.total
        self.completed = max(self.completed, completed)
        return self.completed, self.total


@contextlib.contextmanager
def counted(console: Console, description: str, total: int) -> Iterator[Callable[[int], None]]:
    """`advance(n)` for a long loop: a bar on a terminal; otherwise (rich draws nothing there,
    and a CI log or a pipe would show no sign of life until the end) a line such as
    `asking queries: 120/1200` about every tenth of the way, and at the end."""
    if console.is_terminal:
        with Progress(console=console, transient=True) as bars:
            task = bars.add_task(description, total=total)
            yield lambda n: bars.advance(task, n)
        return
    step = max(1, math.ceil(total / LINES))
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if done // step > before // step or (done >= total > before):
            console.print(f"{description}: {done}/{total}", highlight=False)

    yield advance
