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
from ragops_core.text import Sentence, sentences, strip_noise, terms

NO_DOCUMENTS = (
    "There are no documents to answer from yet. Upload a PDF, text or Markdown file first."
)
EXTRACTIVE_MODEL = "extractive"  # the name of the answerer that quotes sentences
NOT_FOUND = "The documents do not contain an answer to that question."
EXCERPT_CHARS = 300
MIN_ANSWER_WORDS = 5
# Sentence scoring (tuned on SQuAD DEV, tests/bench/bench_answers.py).
BM25_K1 = 1.2
BM25_B = 0.5
NEIGHBOUR_SHARE = 0.3
RANK_PRIOR = 1.0  # the top chunk's sentences count up to twice, the second's 1.5 times, ...
# Abstention: similarity + COVERAGE_WEIGHT * coverage below SUPPORT_THRESHOLD abstains.
COVERAGE_WEIGHT = 0.2
SUPPORT_THRESHOLD = 0.5
LEXICAL_ONLY_THRESHOLD = 0.4
FULL_COVERAGE = 0.9
MOST_COVERAGE = 0.65


@dataclass(frozen=True)
class ScoredSentence:
    source: int  # index into the hits
    sentence: Sentence
    score: float


def select_sentences(query: str, hits: Sequence[SearchHit]) -> list[ScoredSentence]:
    """Every sentence of every hit, best first, noise stripped (`text.strip_noise`).

    Score: BM25 of the sentence against the question's terms (IDF over these
    sentences; term frequency saturated, length normalised), plus a share of its
    neighbours' scores in the same chunk (the fact often sits next to the sentence
    that repeats the question's words), times a prior for higher-ranked chunks. On
    SQuAD DEV this lifted the gold-answer hit rate of the extractive answer from 0.847
    to 0.890 (docs/benchmarks.md, answers): the retrieval rank carries information
    the few words of one sentence do not.
    """
    wanted = set(terms(query))
    candidates = [
        (i, Sentence(strip_noise(s.text), s.word_offset), terms(s.text))
        for i, hit in enumerate(hits)
        for s in sentences(hit.chunk.text)
    ]
    if not candidates or not wanted:
        return [ScoredSentence(i, s, 0.0) for i, s, _ in candidates]
    frequency = Counter(t for _, _, ts in candidates for t in set(ts) & wanted)
    n = len(candidates)
    idf = {t: math.log(1 + n / (1 + frequency[t])) for t in wanted}
    average = sum(len(ts) for _, _, ts in candidates) / n or 1.0
    own = [_bm25(ts, wanted, idf, average) for _, _, ts in candidates]
    scored = []
    for k, (i, sentence, _) in enumerate(candidates):
        context = sum(own[j] for j in (k - 1, k + 1) if 0 <= j < n and candidates[j][0] == i)
        score = (own[k] + NEIGHBOUR_SHARE * context) * (1.0 + RANK_PRIOR / (1 + i))
        scored.append(ScoredSentence(i, sentence, score))
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


def _bm25(
    sentence_terms: list[str], wanted: set[str], idf: dict[str, float], average: float
) -> float:
    counts = Counter(t for t in sentence_terms if t in wanted)
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(sentence_terms) / average)
    return sum(idf[t] * c * (BM25_K1 + 1) / (c + norm) for t, c in counts.items())


@dataclass(frozen=True)
class TermSupport:
    coverage: float  # IDF-weighted share of the question's terms in its best sentence, 0..1
    terms: int  # distinct terms of the question
    missing: int  # of those, how many no retrieved sentence has


def term_support(query: str, ranked: Sequence[ScoredSentence]) -> TermSupport:
    """How much of the question the retrieved sentences say. IDF over the ranked
    sentences: a term no sentence has weighs most, it is what is missing."""
    wanted = set(terms(query))
    sets = [set(terms(r.sentence.text)) for r in ranked]
    if not wanted or not sets:
        return TermSupport(0.0, len(wanted), len(wanted))
    frequency = Counter(t for ts in sets for t in ts & wanted)
    idf = {t: math.log(1 + len(sets) / (1 + frequency[t])) for t in wanted}
    best = max(sum(idf[t] for t in ts & wanted) for ts in sets)
    missing = sum(1 for t in wanted if frequency[t] == 0)
    return TermSupport(best / sum(idf.values()), len(wanted), missing)


def supported(query: str, ranked: Sequence[ScoredSentence], similarity: float | None) -> bool:
    """Whether the retrieved text can answer `query`, for the extractive answerer.

    `similarity` is the best dense (cosine) similarity of the question to any chunk
    (None when the search was lexical only). Calibrated on SQuAD DEV (300 answerable
    questions) and tests/bench/unanswerable_dev.jsonl (65 that its documents cannot
    answer), see docs/benchmarks.md: the embedding says whether the topic is there,
    the lexical coverage whether the question's own words are.

    A sentence saying (nearly) all of the question supports it whatever the
    similarity: a chunk about many things embeds far from a question about one of
    them. "Nearly": one term of three or more may be absent from every retrieved
    sentence (questions bring their own verbs: "Which portal *takes* receipts?").
    """
    words = term_support(query, ranked)
    if words.coverage >= FULL_COVERAGE and words.terms >= 2:
        return True
    if words.coverage >= MOST_COVERAGE and words.terms >= 3 and words.missing <= 1:
        return True
    if similarity is None:
        return words.coverage >= LEXICAL_ONLY_THRESHOLD
    return similarity + COVERAGE_WEIGHT * words.coverage >= SUPPORT_THRESHOLD


def is_abstention(answer_text: str) -> bool:
    """True when an answer says the documents do not answer (`NOT_FOUND`, which the LLM
    prompt asks models to use verbatim, or `NO_DOCUMENTS`): the `answered` flag."""
    text = answer_text.strip()
    return not text or text.startswith((NOT_FOUND, NO_DOCUMENTS))


def build_sources(hits: Sequence[SearchHit], ranked: Sequence[ScoredSentence]) -> list[Source]:
    """One source per hit, cited at the page of its best sentence.

    Consecutive chunks overlap, so two hits may share their best sentence; a later
    hit then shows its best sentence not already shown. Headings and fragments (under
    MIN_ANSWER_WORDS) come last, as in `extractive_answer`: the page cited is then the
    page of the sentence the answer quotes, not of a heading on the page before.
    """
    best: dict[int, ScoredSentence] = {}
    shown: set[str] = set()
    # Stable sort: score order is kept within a hit.
    for item in sorted(ranked, key=lambda r: (r.source, _is_fragment(r.sentence.text))):
        key = _key(item.sentence.text)
        if item.source not in best and key not in shown:
            best[item.source] = item
            shown.add(key)
    sources = []
    for i, hit in enumerate(hits):
        pick = best.get(i)
        offset = pick.sentence.word_offset if pick and pick.score > 0 else 0
        excerpt = pick.sentence.text if pick and pick.score > 0 else strip_noise(hit.chunk.text)
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
        if (
            _is_fragment(item.sentence.text)
            or key in seen
            or (chosen and words + length > max_words)
        ):
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


def _is_fragment(sentence: str) -> bool:
    return len(sentence.split()) < MIN_ANSWER_WORDS


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
