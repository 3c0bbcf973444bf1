"""Chunking time against document size: linear, so seconds per million words stay flat.

Chunking deleted words from the front of Python lists once per chunk, so time grew with
the square of the words (1 M words 0.5 s, 2 M 2.8 s; a 24 MB text file froze `ragops serve`).
Here texts of 1, 2 and 4 M words go through the `Chunker` (500 words, 50 overlapping) the
way the worker feeds them: as one page, and as a text file's 64 KiB parts (1 MiB before: the
longest part's time, most of it one normalising call that holds the GIL, is what the event loop
of `ragops serve` waits at worst).

Run: python tests/bench/bench_chunking.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import record  # noqa: E402

from ragops_core.chunking import Chunker  # noqa: E402
from ragops_core.domain import Page  # noqa: E402
from ragops_worker.extraction import TEXT_PART_CHARS, text_parts  # noqa: E402


def text_of(words: int) -> str:
    line = "the policy {n} covers travel expenses and meals within limits\n"  # 10 words
    return "".join(line.format(n=n) for n in range(words // 10))


def seconds(pages: list[Page]) -> tuple[float, int, float]:
    """Total seconds, chunks, and the longest single page (part) in seconds."""
    started = time.perf_counter()
    chunker = Chunker(chunk_words=500, overlap_words=50)
    chunks, longest = 0, 0.0
    for page in pages:
        page_started = time.perf_counter()
        chunks += len(chunker.add(page))
        longest = max(longest, time.perf_counter() - page_started)
    chunks += len(chunker.finish())
    return time.perf_counter() - started, chunks, longest


def front_deletes(words: list[str], size: int = 500, step: int = 450) -> float:
    """The windows cut as before the fix (a front delete per chunk), for comparison: only the
    list operations, without the text normalisation both share."""
    words = list(words)
    started = time.perf_counter()
    while len(words) >= size:
        " ".join(words[:size])
        del words[:step]
    return time.perf_counter() - started


def main() -> None:
    rows = []
    for millions in (1, 2, 4):
        text = text_of(millions * 1_000_000)
        whole, chunks, _ = seconds([Page(1, text)])
        parts, _, longest = seconds(list(text_parts(text)))
        mib_parts, _, mib_longest = seconds(list(text_parts(text, 1 << 20)))
        before = front_deletes(text.split())
        rows.append(
            {
                "words": f"{millions} M",
                "MB": f"{len(text) / 2**20:.1f}",
                "chunks": chunks,
                "one page s": round(whole, 2),
                f"in {TEXT_PART_CHARS >> 10} KiB parts s": round(parts, 2),
                "s per M words (parts)": round(parts / millions, 2),
                "longest part ms": round(longest * 1000, 1),
                "in 1 MiB parts (before) s": round(mib_parts, 2),
                "longest 1 MiB part ms": round(mib_longest * 1000, 1),
                "front deletes (before) s": round(before, 2),
            }
        )
    record(
        "chunking",
        rows,
        "Text normalised (NFKC, dot leaders, form blanks, headings set off), split into words "
        "and cut into chunks, single-threaded; in `ragops serve` this runs in the reading "
        "thread, off the event loop, but a part's normalising is one call that holds the GIL, "
        "so the longest part is what the event loop can wait at worst (with the embedder busy "
        "on both cores, several times longer: 1 MiB parts stalled `/healthz` for 1.8 s in CI). "
        "The last column is the windowing alone as it was done before (a delete "
        "from the front of the word list per chunk), which grows with the square of the words. "
        f"Load average during the run: {os.getloadavg()[0]:.1f} on 2 cores shared with other "
        "work, so absolute seconds are high and noisy.",
    )


if __name__ == "__main__":
    main()
