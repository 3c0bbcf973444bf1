"""`POST /v1/chat/completions`: RAGOps behind the OpenAI chat API, so the official
`openai` clients and existing chat front ends can use it unchanged.

The last user message is the question (earlier turns are not used for retrieval
yet). The answer's sources travel twice: as a "Sources" list appended to the
message text, which every front end shows, and as an extra `sources` field that
RAGOps-aware clients can read. Streaming follows OpenAI's SSE format, ending in
`data: [DONE]`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ragops_api.dependencies import QueryDep, TenantDep
from ragops_core.query import QueryService

MODEL_NAME = "ragops"


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


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow"
    )  # temperature, max_tokens, ... are accepted and ignored

    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False


def sources_text(sources: list[dict[str, Any]]) -> str:
    """The citation list appended to the answer (pure)."""
    if not sources:
        return ""
    lines = [f"[{i}] {s['filename']}, page {s['page']}" for i, s in enumerate(sources, start=1)]
    return "\n\nSources:\n" + "\n".join(lines)


router = APIRouter(tags=["openai-compatible"])


@router.post("/v1/chat/completions")
async def chat_completions(body: ChatCompletionRequest, tenant: TenantDep, query: QueryDep) -> Any:
    """OpenAI-compatible chat completion answered from the tenant's documents."""
    question = next((m.text() for m in reversed(body.messages) if m.role == "user"), "").strip()
    if not question:
        return JSONResponse(
            {
                "error": {
                    "message": "the conversation has no user message with text",
                    "type": "invalid_request_error",
                }
            },
            status_code=400,
        )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        return StreamingResponse(
            _stream(query, tenant, question, completion_id, created), media_type="text/event-stream"
        )
    answer = await query.answer(tenant, question, query.options.top_k)
    data = answer.to_json()
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_NAME,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": data["answer"] + sources_text(data["sources"]),
                },
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": data["sources"],
        "answer_id": data["answer_id"],
        "answered_by": data["model"],
    }


async def _stream(
    query: QueryService, tenant: str, question: str, completion_id: str, created: int
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_NAME,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    sources: list[dict[str, Any]] = []
    async for event, data in query.stream(tenant, question, query.options.top_k):
        if event == "sources":
            sources = data["sources"]
        elif event == "delta":
            yield chunk({"content": data["text"]})
        elif event == "done":
            yield chunk({"content": sources_text(sources)})
            yield chunk(
                {}, "stop", sources=sources, answer_id=data["answer_id"], answered_by=data["model"]
            )
    yield "data: [DONE]\n\n"
