"""A second reader for the PDF pages pypdf cannot read: PDFium (Chrome's PDF engine).

pypdf is strict about content streams: on govdocs1's 504076.pdf it raises on 3 of 33 pages
whose streams PDFium reads (as poppler does). Only such pages come here: a page pypdf
read with text never does, so the common case costs nothing and the text of readable
pages does not change.

Bounded like the pypdf pass: the bytes are the stored upload (size-limited), the
document opens only when a first page needs it, and a per-document time budget stops
the fallback once spent. A page already inside PDFium cannot be interrupted, but the
pages after it are then left unreadable instead of each taking as long.
"""

from __future__ import annotations

import logging
import threading
import time

import pypdfium2 as pdfium

log = logging.getLogger(__name__)

# PDFium is not thread-safe, not even across documents: one call at a time per process.
_PDFIUM = threading.Lock()

# Seconds of PDFium work per document. On the shared PDFs a page takes ~2 ms: the budget
# only bites on a pathological file.
BUDGET_SECONDS = 20.0


class PdfiumPages:
    """Page texts from PDFium for one document; `close` when done (idempotent)."""

    def __init__(self, data: bytes, *, filename: str, budget_seconds: float | None = None):
        self._data = data
        self._filename = filename
        self._budget = BUDGET_SECONDS if budget_seconds is None else budget_seconds
        self._spent = 0.0
        self._document: pdfium.PdfDocument | None = None
        self._unusable = False  # PDFium could not open the file, or the budget is spent

    def text(self, number: int) -> str | None:
        """The text of 1-based page `number`, or None when PDFium cannot read it either."""
        if self._unusable or self._spent >= self._budget:
            return None
        started = time.monotonic()
        try:
            with _PDFIUM:
                if self._document is None:
                    self._document = pdfium.PdfDocument(self._data)
                page = self._document[number - 1]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = str(textpage.get_text_bounded())
                    finally:
                        textpage.close()
                finally:
                    page.close()
        except (pdfium.PdfiumError, IndexError, ValueError) as exc:
            log.warning(
                "PDFium could not read the page either",
                extra={"file": self._filename, "page": number, "error": repr(exc)},
            )
            self._unusable = self._document is None
            return None
        finally:
            self._spent += time.monotonic() - started
            if self._spent >= self._budget and not self._unusable:
                log.warning(
                    "PDFium fallback time budget spent; later unreadable pages stay unread",
                    extra={"file": self._filename, "budget_seconds": self._budget},
                )
                self._unusable = True
        # PDFium ends lines with CRLF; pypdf (and the chunker's expectations) use LF.
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def close(self) -> None:
        with _PDFIUM:
            if self._document is not None:
                self._document.close()
                self._document = None
