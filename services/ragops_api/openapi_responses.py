"""The error responses and content types of the OpenAPI schema that route signatures cannot say.

Several answers come from outside the routes: the token check (401), the per-user rate limit
(429) and the body limit (413) are middleware, and the streams' 200 are server-sent events, not
JSON. They are declared here, in one table over the generated schema, so that each operation
lists every status it can answer with, each with its content type and body (clients generated
from the schema, and the schemathesis run in the tests, hold the API to it).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from ragops_api.rate_limiting import limit_kind

Responses = dict[str, dict[str, Any]]

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_OPENAI_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
# Each server-sent event (schemathesis checks them one by one): its `data` is a JSON document.
_EVENT_STREAM = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
        }
    }
}

DESCRIPTIONS = {
    400: "The request cannot be served as asked",
    401: "A valid bearer token is required (when authentication is configured)",
    404: "Not found (in the caller's tenant)",
    411: "The upload's length is not given",
    413: "The body is larger than the limit",
    415: "The file type is not supported",
    422: "Invalid input",
    429: "Over the caller's rate limit: retry after Retry-After seconds",
    503: "A store or the queue is unavailable; retry later",
}

# Statuses beyond the ones every limited operation has (401, 429), by operation.
_EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/api/ask"): (400, 413, 422, 503),
    ("post", "/api/ask/stream"): (400, 413, 422, 503),
    ("post", "/api/upload"): (400, 411, 413, 415, 422, 503),
    ("get", "/api/documents"): (503,),
    ("delete", "/api/documents/{document_id}"): (404, 503),
    ("get", "/api/jobs/{job_id}"): (404, 503),
    ("post", "/api/feedback"): (400, 404, 413, 422, 503),
    ("post", "/v1/chat/completions"): (400, 413, 422, 503),
    ("get", "/v1/models"): (),
    ("get", "/v1/models/{model_id}"): (404,),
}
# Errors the OpenAI-compatible routes answer in OpenAI's shape (the rest in the API's).
_OPENAI_SHAPED = {
    ("post", "/v1/chat/completions"): (400, 422),
    ("get", "/v1/models/{model_id}"): (404,),
}
# Request examples (shown by /docs, and the first cases the schemathesis run sends).
_QUESTION = "Which travel desk books flights?"
_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/chat/completions"): {
        "answer": {"value": {"messages": [{"role": "user", "content": _QUESTION}]}},
        "stream": {
            "value": {
                "messages": [{"role": "user", "content": _QUESTION}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        },
    },
    ("post", "/api/ask"): {"question": {"value": {"query": _QUESTION, "top_k": 3}}},
    ("post", "/api/ask/stream"): {"question": {"value": {"query": _QUESTION}}},
}
_STREAMS = {("post", "/api/ask/stream"): False, ("post", "/v1/chat/completions"): True}


def _error(status: int, *, openai: bool) -> dict[str, Any]:
    # An OpenAI-compatible route answers its own errors in OpenAI's shape; the ones raised before
    # it runs (an unreadable body, a refused token) come in the API's.
    schema = {"anyOf": [_PROBLEM, _OPENAI_ERROR]} if openai else _PROBLEM
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": schema}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _merge(method: str, path: str, responses: Responses) -> None:
    key = (method, path)
    statuses = list(_EXTRA.get(key, ()))
    if limit_kind(path) is not None or path.startswith("/v1/"):
        statuses += [401, 429]
    openai = _OPENAI_SHAPED.get(key, ())
    for status in sorted(set(statuses)):
        existing = responses.get(str(status))
        if status == 422 and existing is not None:
            # FastAPI's own validation errors; an OpenAI route may also answer OpenAI's shape.
            if status in openai:
                own = existing["content"]["application/json"]["schema"]
                existing["content"]["application/json"]["schema"] = {"anyOf": [own, _OPENAI_ERROR]}
            continue
        responses[str(status)] = _error(status, openai=status in openai)
    if key in _STREAMS:
        ok = responses.setdefault("200", {"description": "Successful Response"})
        json_too = _STREAMS[key]
        content = ok.get("content", {}) if json_too else {}
        ok["content"] = {**content, **_EVENT_STREAM}


def complete(generated: dict[str, Any]) -> dict[str, Any]:
    """`generated` (FastAPI's schema) with the responses of the table above; pure."""
    schema = copy.deepcopy(generated)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            _merge(method, path, operation.setdefault("responses", {}))
            if (method, path) in _EXAMPLES:
                body = operation["requestBody"]["content"]["application/json"]
                body["examples"] = _EXAMPLES[(method, path)]
    if path_item := schema.get("paths", {}).get("/metrics", {}).get("get"):
        path_item["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "Problem",
        {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
            "title": "Problem",
        },
    )
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed schema at /openapi.json (built once, as FastAPI does)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
