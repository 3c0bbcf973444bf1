"""Text extraction from uploaded files, page by page (pure apart from parsing bytes).

PDFs are read with pypdf, and a page pypdf fails on or finds no text in is read again
with PDFium (pdfium_fallback.py); plain text and Markdown count as a single page, handed over
in parts of about 64 KiB so progress can be shown and no step holds the GIL long. Every
failure becomes an `ExtractionError` whose message says what is wrong with the
file, because that message is what the user sees on the failed job.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError

from ragops_core.domain import Page
from ragops_core.errors import ExtractionError
from ragops_core.filetypes import DAMAGED_PDF_ERRORS, check_page_count, check_supported, is_text
from ragops_worker.pdfium_fallback import PdfiumPages

log = logging.getLogger(__name__)

PageProgress = Callable[[int, int], None]

# Characters of a text file per part. Normalising and splitting a part are single C calls that
# hold the GIL: 64 KiB is about 9 ms of that on a quiet core, where 1 MiB was 150 ms and, with
# the embedder busy on both cores, stalled the event loop of `ragops serve` for up to 1.8 s.
# A 50 MB file is some 800 parts (one progress update each).
TEXT_PART_CHARS = 1 << 16


@dataclass(frozen=True)
class Extracted:
    pages: list[Page]
    total_pages: int
    unreadable_pages: int


@dataclass(frozen=True)
class PageStream:
    """A readable document: its page count, and its pages read lazily in order.

    `pages` yields a `Page` per page, or None for a page that alone could not be read. A text
    file is one page yielded in parts that share its number; `total_chars` is its length
    (0 for a PDF).
    """

    total_pages: int
    pages: Iterator[Page | None]
    total_chars: int = 0


def open_pages(filename: str, data: bytes, *, max_pages: int | None = None) -> PageStream:
    """Open `data` for page-by-page extraction; raises `ExtractionError` if it cannot be opened.

    A PDF of more than `max_pages` pages raises `DocumentTooLargeError` before any page is
    read: the upload only checks the count a PDF declares, and files dropped into the
    bucket are not uploaded at all.
    """
    check_supported(filename, data[:4096])
    if is_text(filename):
        text = data.decode("utf-8", errors="replace")
        if not text or text.isspace():
            raise ExtractionError("the file contains no text")
        return PageStream(total_pages=1, pages=text_parts(text), total_chars=len(text))
    reader = _open_pdf(data)
    total = _page_count(reader)
    if max_pages is not None:
        check_page_count(filename, total, max_pages)
    return PageStream(total_pages=total, pages=_pdf_pages(reader, data, filename, total))


def text_parts(text: str, size: int = TEXT_PART_CHARS) -> Iterator[Page]:
    """`text` as parts of page 1 of about `size` characters, each cut after a line break (or
    white space) so that no word is split; the parts joined are `text`."""
    start = 0
    while start < len(text):
        end = start + size
        if end < len(text):
            cut = text.rfind("\n", start, end)
            if cut < 0:
                cut = max(text.rfind(" ", start, end), text.rfind("\t", start, end))
            end = cut + 1 if cut >= 0 else end
        yield Page(number=1, text=text[start:end])
        start = end


def no_text_error(total: int, unreadable: int) -> ExtractionError:
    detail = (
        f"{unreadable} of {total} pages could not be read"
        if unreadable
        else "its pages hold no text layer"
    )
    return ExtractionError(
        f"no text could be extracted ({detail}); scanned PDFs need OCR, which RAGOps does not do "
        "yet"
    )


def extract(filename: str, data: bytes, *, on_page: PageProgress | None = None) -> Extracted:
    """Every page at once (for callers that do not stream)."""
    stream = open_pages(filename, data)
    pages: list[Page] = []
    unreadable = 0
    for number, page in enumerate(stream.pages, start=1):
        if page is None:
            unreadable += 1
        elif page.text.strip():
            pages.append(page)
        if on_page is not None:
            on_page(number, stream.total_pages)
    if not pages:
        raise no_text_error(stream.total_pages, unreadable)
    return Extracted(pages=pages, total_pages=stream.total_pages, unreadable_pages=unreadable)


def _open_pdf(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
    except DAMAGED_PDF_ERRORS as exc:
        raise ExtractionError(
            f"the PDF is damaged and cannot be opened: {type(exc).__name__}: {exc}"
        ) from exc
    if reader.is_encrypted:
        try:
            # Many "encrypted" PDFs only restrict copying and open with an empty password.
            if not reader.decrypt(""):
                raise ExtractionError(
                    "the PDF is encrypted with a password; upload a copy without a password"
                )
        except (FileNotDecryptedError, NotImplementedError) as exc:
            raise ExtractionError(f"the PDF is encrypted and cannot be decrypted: {exc}") from exc
    return reader


def _page_count(reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except FileNotDecryptedError as exc:
        raise ExtractionError(
            "the PDF is encrypted with a password; upload a copy without a password"
        ) from exc
    except DAMAGED_PDF_ERRORS as exc:
        raise ExtractionError(
            f"the PDF's page tree is damaged: {type(exc).__name__}: {exc}"
        ) from exc


def _pdf_pages(reader: PdfReader, data: bytes, filename: str, total: int) -> Iterator[Page | None]:
    """Pages in order; PDFium gets the ones pypdf fails on or finds empty."""
    fallback = PdfiumPages(data, filename=filename)
    try:
        for number in range(1, total + 1):
            page = _pdf_page(reader, number, filename)
            if page is not None and page.text.strip():
                yield page
                continue
            text = fallback.text(number)
            if text is not None and text.strip():
                yield Page(number=number, text=text)
            else:
                yield page  # None (unreadable) or an empty page: a scan, or a blank one
    finally:
        fallback.close()


def _pdf_page(reader: PdfReader, number: int, filename: str) -> Page | None:
    """One page, or None when pypdf cannot read it (the rest still counts)."""
    try:
        return Page(number=number, text=reader.pages[number - 1].extract_text() or "")
    except Exception as exc:  # noqa: BLE001 - one broken page must not lose the other pages
        log.warning(
            "pypdf could not read the page",
            extra={"file": filename, "page": number, "error": repr(exc)},
        )
        return None
