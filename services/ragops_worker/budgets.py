"""Per-document budgets: a document that expands to too many words, or takes too long, fails.

A 186 KB PDF can draw one 20 MB compressed text stream on each of its 200 pages: every
page is millions of words, and indexing it would take days. The budgets fail its job with a
reason the user can act on; they raise `DocumentTooLargeError`, which the worker treats as
permanent (a retry would expand the same way), and failed documents leave no chunks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ragops_core.errors import DocumentTooLargeError


@dataclass
class DocumentBudget:
    filename: str
    max_words: int
    max_seconds: float
    started: float = field(default_factory=time.monotonic)

    def check_words(self, words: int) -> None:
        if words > self.max_words:
            raise DocumentTooLargeError(
                f"{self.filename!r} expands to more than {self.max_words:,} words of text "
                "(limit RAGOPS_MAX_DOCUMENT_WORDS)"
            )

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.max_seconds:
            raise DocumentTooLargeError(
                f"{self.filename!r} took longer than {self.max_seconds:,g} s to index "
                "(limit RAGOPS_MAX_DOCUMENT_SECONDS)"
            )
