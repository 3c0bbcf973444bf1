"""Split page texts into overlapping word windows (pure).

Words, not characters or tokens, are the unit: it is what the seed system and the
CRD speak (`chunkWords`, `overlapWords`) and it does not depend on any model's
tokenizer. Page numbers survive chunking so every chunk can be cited by page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ragops_core.domain import Chunk, Page


def chunk_pages(pages: Sequence[Page], *, chunk_words: int = 500, overlap_words: int = 50) -> list[Chunk]:
    """Chunks of `chunk_words` words, each sharing `overlap_words` with the previous one.

    The last chunk may be shorter. Pages without words contribute nothing; a
    document without words gives no chunks.
    """
    if chunk_words < 1:
        raise ValueError("chunk_words must be at least 1")
    if not 0 <= overlap_words < chunk_words:
        raise ValueError("overlap_words must be at least 0 and smaller than chunk_words")
    words: list[str] = []
    word_pages: list[int] = []
    for page in pages:
        page_words = page.text.split()
        words.extend(page_words)
        word_pages.extend([page.number] * len(page_words))
    return [
        Chunk(index=index, text=" ".join(words[start:end]), page_breaks=_page_breaks(word_pages, start, end))
        for index, (start, end) in enumerate(_windows(len(words), chunk_words, overlap_words))
    ]


def _windows(total: int, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    step = size - overlap
    start = 0
    while start < total:
        end = min(start + size, total)
        yield start, end
        if end == total:
            return
        start += step


def _page_breaks(word_pages: Sequence[int], start: int, end: int) -> tuple[tuple[int, int], ...]:
    breaks: list[tuple[int, int]] = []
    for offset, number in enumerate(word_pages[start:end]):
        if not breaks or breaks[-1][1] != number:
            breaks.append((offset, number))
    return tuple(breaks)
