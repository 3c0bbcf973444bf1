"""OpenAI chat completions (streamed) as a `ChatModel`.

The SDK does the transport work: retries with backoff on 408/409/429/5xx and
connection errors (`max_retries`), the `Retry-After` header, and per-request
timeouts (`timeout`; while streaming it bounds the wait for each next chunk).
`api_key` / `base_url` default to OPENAI_API_KEY / OPENAI_BASE_URL, as the SDK reads them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionSystemMessageParam, ChatCompletionUserMessageParam

from ragops_core.answer_chain import ChatModelError
from ragops_core.domain import SearchHit
from ragops_core.ports import UsageRecorder
from ragops_core.prompting import DEFAULT_MAX_SOURCE_TOKENS, build_prompt

log = logging.getLogger(__name__)


def openai_error(exc: openai.OpenAIError, model: str) -> ChatModelError:
    """The SDK's error as a `ChatModelError` with a bounded reason."""
    if isinstance(exc, openai.APITimeoutError):  # subclass of APIConnectionError: check first
        reason = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        reason = "connection"
    elif isinstance(exc, openai.RateLimitError):
        reason = "rate_limited"
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        reason = "auth"
    elif isinstance(exc, openai.APIStatusError):
        reason = "server_error" if exc.status_code >= 500 else "client_error"
    elif isinstance(exc, openai.APIError):  # reported by the API inside a started stream
        reason = "server_error"
    else:
        reason = "error"
    return ChatModelError(f"OpenAI {model}: {type(exc).__name__}: {exc}", reason=reason)


def make_client(
    *, api_key: str | None, base_url: str | None, timeout: float, max_retries: int
) -> AsyncOpenAI:
    try:
        return AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
    except openai.OpenAIError as exc:  # e.g. no OPENAI_API_KEY: say so at start-up, not per request
        raise ChatModelError(f"cannot configure the OpenAI client: {exc}", reason="auth") from exc


class OpenAIChatModel:
    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        client: AsyncOpenAI | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        temperature: float = 0.0,
        max_output_tokens: int = 800,
        max_source_tokens: int = DEFAULT_MAX_SOURCE_TOKENS,
        usage: UsageRecorder | None = None,
    ) -> None:
        self._model = model
        self._client = client or make_client(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._temperature = temperature
        self._max_output_tokens = max_output_tokens
        self._max_source_tokens = max_source_tokens
        self._usage = usage

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    async def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        prompt = build_prompt(query, hits, max_source_tokens=self._max_source_tokens)
        try:
            stream = await self._client.chat.completions.create(
                model=self._model,
                messages=[
                    ChatCompletionSystemMessageParam(role="system", content=prompt.system),
                    ChatCompletionUserMessageParam(role="user", content=prompt.user),
                ],
                stream=True,
                stream_options={"include_usage": True},
                temperature=self._temperature,
                max_completion_tokens=self._max_output_tokens,
            )
            async with stream:
                async for chunk in stream:
                    # The last chunk (include_usage) has no choices, only the usage.
                    if chunk.usage is not None and self._usage is not None:
                        self._usage.record(
                            self._model, chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                        )
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield choice.delta.content
        except openai.OpenAIError as exc:
            raise openai_error(exc, self._model) from exc
