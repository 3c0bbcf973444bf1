"""Word-level text helpers shared by answer assembly (pure)."""

from __future__ import annotations

import re
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
    """Lower-cased, stemmed content words: what two texts must share to be about the same thing."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
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
