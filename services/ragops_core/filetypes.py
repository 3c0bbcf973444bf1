"""Which files RAGOps can ingest (pure): checked at upload, before anything is stored."""

from __future__ import annotations

import io
from pathlib import PurePath

from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PdfReadError, PdfStreamError
from pypdf.generic import DictionaryObject

from ragops_core.errors import DocumentTooLargeError, UnsupportedDocumentError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
SUPPORTED_SUFFIXES = frozenset({".pdf"}) | TEXT_SUFFIXES

# What pypdf raises on a damaged or hostile PDF: its own errors, its bounds on hostile structure
# (LimitReachedError: a page tree thousands of levels deep) and plain Python errors it lets
# malformations surface as. Reading the same bytes again raises them again: never worth a retry.
DAMAGED_PDF_ERRORS: tuple[type[Exception], ...] = (
    PdfReadError,
    PdfStreamError,
    LimitReachedError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    RecursionError,
)


def is_text(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in TEXT_SUFFIXES


def check_supported(filename: str, head: bytes) -> None:
    """Raise `UnsupportedDocumentError` naming the problem, or return if the file looks
    ingestible."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedDocumentError(
            f"{filename!r}: unsupported file type {suffix or '(none)'}; RAGOps reads {allowed}"
        )
    if suffix in TEXT_SUFFIXES and b"\x00" in head[:4096]:
        raise UnsupportedDocumentError(f"{filename!r} looks binary, not like text")
    if suffix == ".pdf" and not head.lstrip()[:5].startswith(b"%PDF"):
        raise UnsupportedDocumentError(
            f"{filename!r} is not a PDF file (it does not start with %PDF)"
        )


def check_page_count(filename: str, pages: int, max_pages: int) -> None:
    """Raise `DocumentTooLargeError` for a document of more than `max_pages` pages."""
    if pages > max_pages:
        raise DocumentTooLargeError(
            f"{filename!r} has {pages:,} pages; the limit is {max_pages:,} pages "
            "(RAGOPS_MAX_UPLOAD_PAGES)"
        )


def declared_page_count(data: bytes) -> int | None:
    """The page count a PDF declares (its page tree's /Count), read without touching any page.

    Opening the file costs a parse of its cross-reference table; the count itself is
    one lookup. None when the file does not say so plainly (damaged, or encrypted with
    a password): the worker counts the pages it really reads, and fails the job with
    the reason, whatever the upload let through.
    """
    try:
        tree = PdfReader(io.BytesIO(data)).root_object["/Pages"]
        count = tree["/Count"] if isinstance(tree, DictionaryObject) else None
    except DAMAGED_PDF_ERRORS:
        return None
    return count if isinstance(count, int) and count >= 0 else None
