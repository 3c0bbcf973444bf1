"""The CLI's progress arithmetic: the pages bar and the plain lines of a long count."""

from __future__ import annotations

import io

from rich.console import Console

from ragops_cli.progress import PagesBar, counted, pages_position


def reports(pages: int, chunks_per_page: int, batch: int) -> list[dict[str, int]]:
    """What the pipeline reports while it reads pages and embeds chunks in batches."""
    out, done, total = [], 0, 0
    for page in range(1, pages + 1):
        total += chunks_per_page
        while total - done >= batch:
            done += batch
        out.append(
            {"pages_total": pages, "pages_done": page, "chunks_total": total, "chunks_done": done}
        )
    out.append(
        {"pages_total": pages, "pages_done": pages, "chunks_total": total, "chunks_done": total}
    )
    return out


def test_the_pages_bar_has_one_total_and_never_moves_back() -> None:
    bar = PagesBar()
    positions = [bar.update(progress) for progress in reports(20, 3, 8)]
    assert {total for _, total in positions} == {20}
    completed = [done for done, _ in positions]
    assert completed == sorted(completed)
    assert completed[0] > 0, "reading the first page already moves the bar"
    assert completed[-1] == 20


def test_before_the_document_is_opened_the_total_is_unknown() -> None:
    assert pages_position({}) == (0.0, None)
    assert pages_position({"pages_total": 0, "pages_done": 0}) == (0.0, None)


def test_without_a_terminal_a_count_prints_about_ten_lines() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=120)
    with counted(console, "asking queries", 57) as advance:
        for _ in range(57):
            advance(1)
    lines = buffer.getvalue().splitlines()
    assert lines[-1] == "asking queries: 57/57"
    assert 9 <= len(lines) <= 11, lines
    assert all(line.startswith("asking queries: ") for line in lines)
