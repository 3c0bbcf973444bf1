"""Which files RAGOps can ingest (pure): checked at upload, before anything is stored."""

from __future__ import annotations

from pathlib import PurePath

from ragops_core.errors import UnsupportedDocumentError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
SUPPORTED_SUFFIXES = frozenset({".pdf"}) | TEXT_SUFFIXES


def is_text(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in TEXT_SUFFIXES


def check_supported(filename: str, head: bytes) -> None:
    """Raise `UnsupportedDocumentError` naming the problem, or return if the file looks ingestible."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnsupportedDocumentError(f"{filename!r}: unsupported file type {suffix or '(none)'}; RAGOps reads {allowed}")
    if suffix in TEXT_SUFFIXES and b"\x00" in head[:4096]:
        raise UnsupportedDocumentError(f"{filename!r} looks binary, not like text")
    if suffix == ".pdf" and not head.lstrip()[:5].startswith(b"%PDF"):
        raise UnsupportedDocumentError(f"{filename!r} is not a PDF file (it does not start with %PDF)")
