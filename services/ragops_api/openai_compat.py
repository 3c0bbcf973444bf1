"""`POST /v1/chat/completions`: RAGOps behind the OpenAI chat API, so the official
`openai` clients and existing chat front ends can use it unchanged.

The last user message is the question (earlier turns are not used for retrieval
yet). The answer's sources travel twice: as a "Sources" list appended to the
message text, which every front end shows, and as an extra `sources` field that
RAGOps-aware clients can read. Streaming follows OpenAI's SSE format, ending in
`data: [DONE]`; with `stream_options.include_usage` a last chunk carries the usage.

`GET /v1/models` lists the one model id, which front ends such as Open WebUI call
before anything else. `usage` counts tokens with the embedder's tokenizer
(token_counts.py): `prompt_tokens` are the question's (the only part of the
conversation RAGOps reads), `completion_tokens` the returned message's.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ragops_api.dependencies import QueryDep, TenantDep
from ragops_api.disconnects import closed_request, unless_disconnected
from ragops_api.schemas import MAX_QUESTION_CHARS
from ragops_api.token_counts import count_tokens
from ragops_core.query import QueryService

MODEL_NAME = "ragops"
# When the API started: the `created` of the model entry, stable for the process's life.
_STARTED = int(time.time())


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return " ".join(
                str(part.get("text", "")) for part in self.content if part.get("type") == "text"
            )
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow"
    )  # temperature, max_tokens, ... are accepted and ignored

    model: str = MODEL_NAME
    # Bounded: a chat front end resends the whole conversation, but not a thousand turns.
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None


def usage(question: str, completion: str) -> dict[str, int]:
    """OpenAI's `usage` object for one question and the message returned for it."""
    prompt, completed = count_tokens(question), count_tokens(completion)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completed,
        "total_tokens": prompt + completed,
    }


def _invalid_request(message: str, status_code: int, code: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "code": code}},
        status_code=status_code,
    )


def sources_text(sources: list[dict[str, Any]]) -> str:
    """The citation list appended to the answer (pure)."""
    if not sources:
        return ""
    lines = [f"[{i}] {s['filename']}, page {s['page']}" for i, s in enumerate(sources, start=1)]
    return "\n\nSources:\n" + "\n".join(lines)


router = APIRouter(tags=["openai-compatible"])


def _model_entry() -> dict[str, Any]:
    return {"id": MODEL_NAME, "object": "model", "created": _STARTED, "owned_by": "ragops"}


@router.get("/v1/models")
async def list_models() -> dict[str, Any]:
    """The model ids /v1/chat/completions answers as (one: every question goes to RAGOps)."""
    return {"object": "list", "data": [_model_entry()]}


@router.get("/v1/models/{model_id}")
async def retrieve_model(model_id: str) -> Any:
    if model_id != MODEL_NAME:
        return _invalid_request(
            f"no model {model_id[:100]!r}; try {MODEL_NAME!r}", 404, "model_not_found"
        )
    return _model_entry()


@router.post("/v1/chat/completions")
async def chat_completions(
    request: Request, body: ChatCompletionRequest, tenant: TenantDep, query: QueryDep
) -> Any:
    """OpenAI-compatible chat completion answered from the tenant's documents."""
    question = next((m.text() for m in reversed(body.messages) if m.role == "user"), "").strip()
    if not question:
        return _invalid_request(
            "the conversation has no user message with text", 400, "no_question"
        )
    if len(question) > MAX_QUESTION_CHARS:
        # The same limit as /api/ask, and like there the question is not echoed back.
        return _invalid_request(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}",
            422,
            "question_too_long",
        )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        return StreamingResponse(
            _stream(query, tenant, question, completion_id, created, include_usage=include_usage),
            media_type="text/event-stream",
        )
    # A client that hangs up stops the model call, as a dropped stream does.
    answer = await unless_disconnected(
        request, lambda: query.answer(tenant, question, query.options.top_k)
    )
    if answer is None:
        return closed_request()
    data = answer.to_json()
    content = data["answer"] + sources_text(data["sources"])
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_NAME,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": usage(question, content),
        "sources": data["sources"],
        "answer_id": data["answer_id"],
        "answered_by": data["model"],
    }


async def _stream(
    query: QueryService,
    tenant: str,
    question: str,
    completion_id: str,
    created: int,
    *,
    include_usage: bool,
) -> AsyncIterator[str]:
    def event(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_NAME,
            "choices": choices,
            # As OpenAI does: with include_usage every chunk has the field, null until the last.
            **({"usage": None} if include_usage else {}),
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return event([{"index": 0, "delta": delta, "finish_reason": finish}], **extra)

    yield chunk({"role": "assistant", "content": ""})
    sources: list[dict[str, Any]] = []
    streamed: list[str] = []
    async for kind, data in query.stream(tenant, question, query.options.top_k):
        if kind == "sources":
            sources = data["sources"]
        elif kind == "delta":
            streamed.append(data["text"])
            yield chunk({"content": data["text"]})
        elif kind == "done":
            streamed.append(sources_text(sources))
            yield chunk({"content": streamed[-1]})
            yield chunk(
                {}, "stop", sources=sources, answer_id=data["answer_id"], answered_by=data["model"]
            )
    if include_usage:
        yield event([], usage=usage(question, "".join(streamed)))
    yield "data: [DONE]\n\n"
