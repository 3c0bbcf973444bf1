"""OpenAI embeddings as an `Embedder`.

Texts go in batches of `batch_size` (the API takes up to 2048 inputs per request;
smaller batches keep one retry cheap). Retries with backoff and timeouts are the
SDK's (`max_retries`, `timeout`). Batches run one after another: ingestion already
runs documents in parallel, and sequential batches keep a document's requests
within the account's rate limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai
from openai import AsyncOpenAI

from ragops_core.adapters.chat_model.openai import make_client, openai_error
from ragops_core.ports import UsageRecorder

# Native sizes; text-embedding-3-* can return fewer dimensions on request.
NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_TOKENS = 8191
# The API rejects (rather than cuts) inputs over MAX_TOKENS. Without a tokenizer we cut
# by words: 4000 words stays under 8191 tokens for prose and most technical text.
MAX_WORDS = 4000


class OpenAIEmbedder:
    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dimensions: int | None = None,
        client: AsyncOpenAI | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        batch_size: int = 128,
        timeout: float = 30.0,
        max_retries: int = 3,
        usage: UsageRecorder | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        native = NATIVE_DIMENSIONS.get(model)
        if dimensions is None and native is None:
            raise ValueError(f"unknown embedding model {model!r}: pass its dimensions")
        if dimensions is not None and not model.startswith("text-embedding-3"):
            raise ValueError(f"{model!r} does not accept a dimensions parameter")
        self._model = model
        self._requested_dimensions = dimensions
        self._dimensions = dimensions or native or 0
        self._batch_size = batch_size
        self._usage = usage
        self._client = client or make_client(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    @property
    def model_id(self) -> str:
        # The dimensions are part of the vectors' identity (cache keys, index).
        return f"openai:{self._model}:{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed([text]))[0]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[list[float]]]:
        """One window per text: the model reads up to 8191 tokens at once."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed(texts[start : start + self._batch_size]))
        return [[v] for v in vectors]

    async def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        # The API rejects empty strings; a blank input still needs a vector in its slot.
        inputs = [" ".join(t.split()[:MAX_WORDS]) or " " for t in texts]
        try:
            if self._requested_dimensions is not None:
                response = await self._client.embeddings.create(
                    model=self._model, input=inputs, dimensions=self._requested_dimensions
                )
            else:
                response = await self._client.embeddings.create(model=self._model, input=inputs)
        except openai.OpenAIError as exc:
            raise openai_error(exc, self._model) from exc
        if self._usage is not None:
            self._usage.record(self._model, response.usage.prompt_tokens, 0)
        data = sorted(response.data, key=lambda d: d.index)  # the API does not promise order
        if len(data) != len(inputs):
            raise ValueError(f"OpenAI returned {len(data)} embeddings for {len(inputs)} inputs")
        vectors = [list(d.embedding) for d in data]
        if any(len(v) != self._dimensions for v in vectors):
            raise ValueError(f"OpenAI returned vectors of another size than {self._dimensions}")
        return vectors
