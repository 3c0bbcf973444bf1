"""The answerer used when no LLM is configured: the question's best sentences, cited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from ragops_core.answering import EXTRACTIVE_MODEL, extractive_answer, select_sentences
from ragops_core.domain import SearchHit

MODEL_NAME = EXTRACTIVE_MODEL


class ExtractiveChatModel:
    @property
    def name(self) -> str:
        return MODEL_NAME

    async def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        pieces = extractive_answer(select_sentences(query, hits))
        for i, piece in enumerate(pieces):
            yield piece if i == len(pieces) - 1 else piece + " "
