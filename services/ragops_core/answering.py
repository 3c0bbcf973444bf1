"""Answer assembly from retrieved chunks (pure).

`select_sentences` ranks the sentences of the retrieved chunks against the
question; the extractive answerer stitches the best ones into the answer, and
every answerer (extractive or LLM) uses the best sentence of each chunk as that
source's excerpt and page, so citations point at the exact page.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ragops_core.domain import SearchHit, Source
from ragops_core.text import Sentence, sentences, terms

NO_DOCUMENTS = (
    "There are no documents to answer from yet. Upload a PDF, text or Markdown file first."
)
NOT_FOUND = "I could not find an answer to that in your documents."
EXCERPT_CHARS = 300
MIN_ANSWER_WORDS = 5


@dataclass(frozen=True)
class ScoredSentence:
    source: int  # index into the hits
    sentence: Sentence
    score: float


def select_sentences(query: str, hits: Sequence[SearchHit]) -> list[ScoredSentence]:
    """Every sentence of every hit, best first. Score: IDF-weighted overlap with the
    question's terms (IDF over these sentences), damped for long sentences, plus a
    small bonus for sentences from higher-ranked chunks."""
    wanted = set(terms(query))
    candidates = [
        (i, s, set(terms(s.text))) for i, hit in enumerate(hits) for s in sentences(hit.chunk.text)
    ]
    if not candidates or not wanted:
        return [ScoredSentence(i, s, 0.0) for i, s, _ in candidates]
    frequency = Counter(t for _, _, ts in candidates for t in ts & wanted)
    n = len(candidates)
    idf = {t: math.log(1 + n / (1 + frequency[t])) for t in wanted}
    scored = []
    for i, sentence, sentence_terms in candidates:
        overlap = sentence_terms & wanted
        score = (
            sum(idf[t] for t in overlap) / math.sqrt(max(len(sentence_terms), 4) / 4)
            if overlap
            else 0.0
        )
        score *= 1.0 + 0.1 / (1 + i)
        scored.append(ScoredSentence(i, sentence, score))
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


def build_sources(hits: Sequence[SearchHit], ranked: Sequence[ScoredSentence]) -> list[Source]:
    """One source per hit, cited at the page of its best sentence.

    Consecutive chunks overlap, so two hits may share their best sentence; a later
    hit then shows its best sentence not already shown.
    """
    best: dict[int, ScoredSentence] = {}
    shown: set[str] = set()
    for item in sorted(ranked, key=lambda r: r.source):  # stable: keeps score order within a hit
        key = _key(item.sentence.text)
        if item.source not in best and key not in shown:
            best[item.source] = item
            shown.add(key)
    sources = []
    for i, hit in enumerate(hits):
        pick = best.get(i)
        offset = pick.sentence.word_offset if pick and pick.score > 0 else 0
        excerpt = pick.sentence.text if pick and pick.score > 0 else hit.chunk.text
        sources.append(
            Source(
                document_id=hit.chunk.document_id,
                filename=hit.chunk.filename,
                page=hit.chunk.page_at(offset),
                excerpt=_clip(excerpt, EXCERPT_CHARS),
                score=round(hit.score, 4),
                chunk_index=hit.chunk.index,
            )
        )
    return sources


def extractive_answer(
    ranked: Sequence[ScoredSentence], *, max_sentences: int = 3, max_words: int = 120
) -> list[str]:
    """The answer as pieces (one per sentence, each ending with its [n] citation)."""
    chosen: list[ScoredSentence] = []
    seen: set[str] = set()
    words = 0
    top = ranked[0].score if ranked else 0.0
    for item in ranked:
        if item.score <= 0 or item.score < 0.35 * top or len(chosen) == max_sentences:
            break
        length = len(item.sentence.text.split())
        key = _key(item.sentence.text)
        # Headings and fragments say little on their own; overlapping chunks repeat sentences.
        if length < MIN_ANSWER_WORDS or key in seen or (chosen and words + length > max_words):
            continue
        chosen.append(item)
        seen.add(key)
        words += length
    if not chosen:
        return [NOT_FOUND]
    # Read in document order within each source, sources in rank order: stitched
    # sentences then follow the text they came from.
    chosen.sort(key=lambda s: (s.source, s.sentence.word_offset))
    return [f"{item.sentence.text} [{item.source + 1}]" for item in chosen]


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
