"""Split page texts into overlapping word windows (pure).

Words, not characters or tokens, are the unit: it is what the seed system and the
CRD speak (`chunkWords`, `overlapWords`) and it does not depend on any model's
tokenizer. Page numbers survive chunking so every chunk can be cited by page.
`Chunker` works incrementally, so embedding can start while later pages are
still being extracted. It runs in linear time: words already chunked are dropped once per
page, never one window at a time from the front of a list (3.4 M words took minutes that
way). Noise is stripped here, before words are counted, so page
offsets stay true: running headers and footers, dot leaders, form blanks
(`ragops_core.text`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ragops_core.domain import Chunk, Page
from ragops_core.text import RunningLines, punctuate_headings, strip_noise


class Chunker:
    """Feed pages in order with `add`; each call returns the chunks completed so far."""

    def __init__(self, *, chunk_words: int = 500, overlap_words: int = 50) -> None:
        if chunk_words < 1:
            raise ValueError("chunk_words must be at least 1")
        if not 0 <= overlap_words < chunk_words:
            raise ValueError("overlap_words must be at least 0 and smaller than chunk_words")
        self._size = chunk_words
        self._step = chunk_words - overlap_words
        self._words: list[str] = []
        self._pages: list[int] = []
        self._emitted_to = 0  # words[: emitted_to] are already in some chunk
        self._index = 0
        self._running = RunningLines()
        self._last_page: int | None = None
        self.words_added = 0  # every word fed so far, for per-document budgets

    def add(self, page: Page) -> list[Chunk]:
        """The chunks `page` completes.

        A page may come in parts (a large text file is read 64 KiB at a time): a part with
        the number of the part before continues that page, so only a new page's first and last
        lines are looked at as running headers and footers.
        """
        text = page.text if page.number == self._last_page else self._running.strip(page.text)
        self._last_page = page.number
        page_words = strip_noise(punctuate_headings(text)).split()
        self.words_added += len(page_words)
        self._words.extend(page_words)
        self._pages.extend([page.number] * len(page_words))
        chunks = []
        start = 0
        while len(self._words) - start >= self._size:
            chunks.append(self._emit(start, self._size))
            start += self._step
            self._emitted_to = self._size - self._step
        # One cut per page, of what every later window has moved past: linear in the words.
        del self._words[:start]
        del self._pages[:start]
        return chunks

    def finish(self) -> list[Chunk]:
        """The last, shorter chunk, if some words are not in any chunk yet."""
        if len(self._words) > self._emitted_to:
            return [self._emit(0, len(self._words))]
        return []

    def _emit(self, start: int, length: int) -> Chunk:
        end = start + length
        breaks: list[tuple[int, int]] = []
        for offset, number in enumerate(self._pages[start:end]):
            if not breaks or breaks[-1][1] != number:
                breaks.append((offset, number))
        chunk = Chunk(
            index=self._index, text=" ".join(self._words[start:end]), page_breaks=tuple(breaks)
        )
        self._index += 1
        return chunk


def chunk_pages(
    pages: Iterable[Page], *, chunk_words: int = 500, overlap_words: int = 50
) -> list[Chunk]:
    """Chunks of `chunk_words` words, each sharing `overlap_words` with the previous one.

    The last chunk may be shorter. Pages without words contribute nothing; a
    document without words gives no chunks.
    """
    chunker = Chunker(chunk_words=chunk_words, overlap_words=overlap_words)
    chunks = [chunk for page in pages for chunk in chunker.add(page)]
    return chunks + chunker.finish()
