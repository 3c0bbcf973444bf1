"""Prompt assembly for the LLM answerers (pure: no I/O, no SDK types).

Sources are numbered in the order of the hits, `[1]` being the first hit, because
`answering.build_sources` returns the citations in that same order: an `[n]` the
model writes must point at the n-th source the API returns. Trimming therefore
shortens or drops sources but never renumbers them.

Token counts are approximated by words (no tokenizer dependency): English prose
averages about 0.75 words per token, so `words / 0.75` slightly overestimates,
which errs on the safe side of the context window.

When the sources do not answer, the model is told to reply with `answering.NOT_FOUND`
verbatim: the API's `answered` flag is false for an answer that starts with it
(`answering.is_abstention`), and such an answer is returned without sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragops_core.answering import NOT_FOUND
from ragops_core.domain import SearchHit

SYSTEM_PROMPT = (
    "You answer questions about the user's documents.\n"
    "Rules:\n"
    "1. Answer only from the numbered sources in the user's message; do not use outside "
    "knowledge.\n"
    "2. Cite every statement with the number of its source in square brackets, like [1] or "
    "[2][3].\n"
    "3. If the sources do not contain the answer, reply with exactly this sentence and "
    f"nothing else: {NOT_FOUND} Do not guess.\n"
    "4. Be concise and answer in the language of the question."
)

WORDS_PER_TOKEN = 0.75
DEFAULT_MAX_SOURCE_TOKENS = 3000
TRIM_MARK = " …"


@dataclass(frozen=True)
class PromptSource:
    number: int  # 1-based, the [n] the model cites
    filename: str
    pages: str  # "4" or "4-5": a chunk may span pages
    text: str
    trimmed: bool


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    sources: tuple[PromptSource, ...]


def estimate_tokens(text: str) -> int:
    return int(len(text.split()) / WORDS_PER_TOKEN + 0.999)


def trim_sources(
    hits: Sequence[SearchHit], max_tokens: int = DEFAULT_MAX_SOURCE_TOKENS
) -> list[PromptSource]:
    """The hits as numbered sources whose texts fit `max_tokens` together.

    Hits are ranked best first, so earlier ones keep their full text and the budget
    runs out on the later ones: the one that crosses it is cut at a word boundary,
    the rest are dropped (their numbers are then simply absent from the prompt).
    """
    budget_words = int(max_tokens * WORDS_PER_TOKEN)
    out: list[PromptSource] = []
    for i, hit in enumerate(hits):
        if budget_words <= 0:
            break
        words = hit.chunk.text.split()
        kept = words[:budget_words]
        budget_words -= len(kept)
        trimmed = len(kept) < len(words)
        out.append(
            PromptSource(
                number=i + 1,
                filename=hit.chunk.filename,
                pages=_pages(hit),
                text=" ".join(kept) + (TRIM_MARK if trimmed else ""),
                trimmed=trimmed,
            )
        )
    return out


def build_prompt(
    query: str, hits: Sequence[SearchHit], *, max_source_tokens: int = DEFAULT_MAX_SOURCE_TOKENS
) -> Prompt:
    sources = trim_sources(hits, max_source_tokens)
    blocks = [f"[{s.number}] {s.filename}, page {s.pages}:\n{s.text}" for s in sources]
    body = "\n\n".join(blocks) if blocks else "(no sources)"
    user = f"Sources:\n\n{body}\n\nQuestion: {query.strip()}"
    return Prompt(system=SYSTEM_PROMPT, user=user, sources=tuple(sources))


def _pages(hit: SearchHit) -> str:
    first, last = hit.chunk.page_breaks[0][1], hit.chunk.page_breaks[-1][1]
    return str(first) if first == last else f"{first}-{last}"
