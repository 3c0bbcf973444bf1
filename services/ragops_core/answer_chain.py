"""A chain of chat models: the first that starts answering wins (the `AnswerChain` port).

Pure composition over `ChatModel`s, so it lives in the core; `ChatModelError` and its
`REASONS` are the vocabulary the model adapters raise in.

Design choices, and why:

* Fall back only BEFORE the first delta. Once text reached the user, switching to
  another model would splice two different answers (with possibly different
  citations) into one. A model failing mid-stream therefore ends the answer with
  `INTERRUPTED_MARKER`, and the result says `interrupted=True`.
* Which model answered is part of each call's own output, never state on the shared
  instance: one `FallbackChatModel` serves concurrent requests, so a `last_model`
  attribute would report another request's model. `stream_events` yields `Delta`s
  and then exactly one `Done(model=..., fallbacks=..., interrupted=...)`;
  `stream_answer` (the `ChatModel` port) yields only the texts, for callers that do
  not care.
* Reasons are a small closed set (see `REASONS`) so that they can be a Prometheus
  label without unbounded cardinality.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Protocol

from ragops_core.domain import AnswerEvent, Delta, Done, Fallback, SearchHit
from ragops_core.ports import ChatModel

log = logging.getLogger(__name__)

INTERRUPTED_MARKER = (
    "\n\n[Answer interrupted: the language model stopped responding. The text "
    "above may be incomplete.]"
)
REASONS = ("timeout", "rate_limited", "server_error", "client_error", "connection", "auth", "error")


class ChatModelError(Exception):
    """A chat model could not answer; `reason` is one of `REASONS`."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason if reason in REASONS else "error"


def reason_of(exc: BaseException) -> str:
    """A bounded label for `exc`: adapters raise `ChatModelError` with their own
    classification; anything else (a bug, an unexpected SDK error) is classified
    generically here."""
    if isinstance(exc, ChatModelError):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError):
        return "connection"
    return "error"


class FallbackRecorder(Protocol):
    def fallback(self, from_model: str, to_model: str, reason: str) -> None:
        """`from_model` failed before its first delta; `to_model` is tried next."""
        ...

    def interrupted(self, model: str, reason: str) -> None:
        """`model` failed after it had yielded text; the answer ends with the marker."""
        ...


class AllModelsFailedError(ChatModelError):
    pass


class FallbackChatModel:
    def __init__(
        self,
        primary: ChatModel,
        *fallbacks: ChatModel,
        recorder: FallbackRecorder | None = None,
        first_delta_timeout: float | None = None,
    ) -> None:
        """`first_delta_timeout` bounds the wait for each model's first delta,
        retries included (the SDK timeouts bound single requests only); None: rely
        on the adapters' own timeouts."""
        self._models: tuple[ChatModel, ...] = (primary, *fallbacks)
        self._recorder = recorder
        self._first_delta_timeout = first_delta_timeout

    @property
    def name(self) -> str:
        """The configured chain, e.g. for cache keys; NOT the model that answered
        a given call (see `Done.model`)."""
        return self._models[0].name

    @property
    def models(self) -> tuple[ChatModel, ...]:
        return self._models

    async def stream_answer(self, query: str, hits: Sequence[SearchHit]) -> AsyncIterator[str]:
        # aclosing: a caller that stops early closes the chain (and the model's connection) now,
        # not whenever the garbage collector finalizes the generator.
        async with aclosing(self.stream_events(query, hits)) as events:
            async for event in events:
                if isinstance(event, Delta):
                    yield event.text

    async def stream_events(
        self, query: str, hits: Sequence[SearchHit]
    ) -> AsyncGenerator[AnswerEvent, None]:
        fallbacks: list[Fallback] = []
        last_error: BaseException | None = None
        for position, model in enumerate(self._models):
            stream = model.stream_answer(query, hits).__aiter__()
            try:
                first = await self._first(stream)
            except StopAsyncIteration:
                # An empty answer is a valid (if odd) answer: do not try another model.
                await _close(stream)
                yield Done(model=model.name, fallbacks=tuple(fallbacks))
                return
            except Exception as exc:  # any failure before text is a reason to fall back
                await _close(stream)
                last_error = exc
                reason = reason_of(exc)
                following = (
                    self._models[position + 1].name if position + 1 < len(self._models) else None
                )
                log.warning(
                    "chat model %s failed before answering (%s: %s)%s",
                    model.name,
                    reason,
                    exc,
                    f"; falling back to {following}" if following else "",
                )
                if following is not None:
                    fallbacks.append(Fallback(model.name, following, reason))
                    if self._recorder is not None:
                        self._recorder.fallback(model.name, following, reason)
                continue
            yield Delta(first)
            interrupted = False
            try:
                async for piece in stream:
                    yield Delta(piece)
            except Exception as exc:  # mid-stream: finish this answer, do not splice another
                reason = reason_of(exc)
                log.warning("chat model %s failed mid-answer (%s: %s)", model.name, reason, exc)
                if self._recorder is not None:
                    self._recorder.interrupted(model.name, reason)
                interrupted = True
                yield Delta(INTERRUPTED_MARKER)
            finally:
                await _close(stream)
            yield Done(model=model.name, fallbacks=tuple(fallbacks), interrupted=interrupted)
            return
        raise AllModelsFailedError(
            f"every chat model failed; last error: {last_error}",
            reason=reason_of(last_error or Exception()),
        )

    async def _first(self, stream: AsyncIterator[str]) -> str:
        if self._first_delta_timeout is None:
            return await anext(stream)
        try:
            return await asyncio.wait_for(anext(stream), self._first_delta_timeout)
        except TimeoutError as exc:
            raise ChatModelError(
                f"no answer within {self._first_delta_timeout:g}s", reason="timeout"
            ) from exc


async def _close(stream: AsyncIterator[str]) -> None:
    """Release the model's connection or thread even when the stream is abandoned."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception as exc:  # closing a failed stream may fail again; the first error matters
            log.debug("closing a chat stream failed: %s", exc)
