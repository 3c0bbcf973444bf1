"""Word-level text helpers shared by answer assembly (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Sentence ends: terminal punctuation followed by space and an upper-case letter,
# digit or quote/bracket. PDF text often lacks punctuation, so long runs are also cut.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[A-Z0-9])")
MAX_SENTENCE_WORDS = 60

# English stop words (NLTK's list), one string split on white space: a list literal of 126
# words is 130 lines once formatted.
_STOPWORD_TEXT = """
a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in
into is it its itself just me more most my myself no nor not now of off on once only
or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words: what two texts must share to be about the same thing.
    NFKC first: PDF text spells "differently" with an "ﬀ" ligature."""
    words = [
        w for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower()) if w not in STOPWORDS
    ]
    return list(_stemmer().stemWords(words)) if words else []


@dataclass(frozen=True)
class Sentence:
    text: str
    word_offset: int  # offset of its first word within the source text


def sentences(text: str) -> list[Sentence]:
    """Split into sentences, cutting runs longer than MAX_SENTENCE_WORDS words."""
    result: list[Sentence] = []
    offset = 0
    for piece in _SENTENCE_END.split(text):
        words = piece.split()
        for start in range(0, len(words), MAX_SENTENCE_WORDS):
            part = words[start : start + MAX_SENTENCE_WORDS]
            result.append(Sentence(text=" ".join(part), word_offset=offset + start))
        offset += len(words)
    return result


# Noise that PDF text carries into sentences. Dot leaders of a table of contents
# ("Scope ........ 4", also spaced ". . . ." and ellipsis characters) and form blanks
# ("____ Date____") say nothing and would be quoted verbatim by the extractive answerer.
_DOT_LEADER = re.compile(r"(?:\s?[.·]){4,}|(?:\s?…){2,}")
_FORM_BLANK = re.compile(r"_{2,}")


def strip_noise(text: str) -> str:
    """`text` without dot leaders and form blanks, ligatures ("ﬁ") spelled out (NFKC),
    white space collapsed."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_FORM_BLANK.sub(" ", _DOT_LEADER.sub(" ", text)).split())


# Headings. PDF text has no markup, and once a page's lines are joined a heading runs into the
# sentence after it ("Retention Applied only after a successful backup"), which the extractive
# answer then quotes. A line that stands alone between a finished sentence and a capitalised
# line, short and without punctuation of its own, is a heading: it gets a colon, which keeps it
# with its sentence as context ("Retention: Applied only after ...") and changes no word count.
HEADING_MAX_WORDS = 8
_HEADING_START = re.compile(r"[A-Z0-9#]")
_OPEN_ENDING = tuple(".,;:!?-\u2013\u2014(/&")
_SENTENCE_CLOSED = tuple(".!?")
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a word, not a page number or a date range
_FORMULA = re.compile(r"[=<>]")  # table cells and formulas ("Y = Yes", "Numeric > = 0")


def _reads_as_heading(line: str, before: str, after: str) -> bool:
    words = line.split()
    return bool(
        after
        and len(words) <= HEADING_MAX_WORDS
        and _HEADING_START.match(line)
        and _HEADING_START.match(after)
        and _LETTERS.search(line)
        and not _FORMULA.search(line)
        and not line.endswith(_OPEN_ENDING)
        # "Introduction to the" continues on the next line.
        and words[-1].lower() not in STOPWORDS
        and (not before or before.endswith(_SENTENCE_CLOSED))
    )


def punctuate_headings(text: str) -> str:
    """`text` with a colon after each line that reads as a heading (see above); lines kept."""
    lines = text.split("\n")
    # Judged on the lines as they were: a marked line does not make the next one a heading.
    content = [(n, line.strip()) for n, line in enumerate(lines) if line.strip()]
    for position, (n, line) in enumerate(content):
        before = content[position - 1][1] if position else ""
        after = content[position + 1][1] if position + 1 < len(content) else ""
        if _reads_as_heading(line, before, after):
            lines[n] = lines[n].rstrip() + ":"
    return "\n".join(lines)


# Running headers and footers: short lines at the top or bottom of a page that repeat on
# other pages ("ACME Handbook 2024", "Page 3 of 40"). Numbers standing alone are masked so
# page numbers do not make each repeat unique.
RUNNING_LINE_MAX_WORDS = 12
RUNNING_EDGE_LINES = 2
_DIGITS = re.compile(r"\b\d+\b")


def _running_key(line: str) -> str:
    return " ".join(_DIGITS.sub("#", line.lower()).split())


class RunningLines:
    """Removes running headers and footers from pages fed in reading order.

    A short line among the first or last `RUNNING_EDGE_LINES` lines of a page is a
    running line once the same line (digits masked) has been at the edge of an earlier
    page: its first occurrence is kept (it may be the document's title), later ones go.
    Stateful because pages arrive one at a time during ingestion.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def strip(self, page_text: str) -> str:
        lines = page_text.splitlines()
        edge = set(range(min(RUNNING_EDGE_LINES, len(lines))))
        edge |= set(range(max(0, len(lines) - RUNNING_EDGE_LINES), len(lines)))
        kept: list[str] = []
        for number, line in enumerate(lines):
            key = _running_key(line)
            if number in edge and key and len(key.split()) <= RUNNING_LINE_MAX_WORDS:
                if key in self._seen:
                    continue
                self._seen.add(key)
            kept.append(line)
        return "\n".join(kept)
