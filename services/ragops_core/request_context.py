"""What the code running now works for: one request of the API, or one document of the worker.

The API's middleware (or the worker, per document) binds a fresh `RequestContext`;
everything below reads it without being handed it: the JSON log formatter adds its
fields to every line, the tracing helpers add the tenant and document to every span,
and the language model recorder adds the tokens and dollars the request spent.

The object is mutable on purpose. The tenant and user are known only after the
middleware bound the context (the tenant resolver reads the token later), and tasks a
request starts (streaming, timeouts) copy the context variable, not the object: what
one of them learns, the others and the middleware see.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# Incoming X-Request-ID values are echoed in a response header and written to logs:
# only short, printable, unambiguous ids are taken, anything else gets a fresh one.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")


@dataclass
class RequestContext:
    request_id: str = ""
    tenant: str = ""
    user: str = ""
    job_id: str = ""
    document_id: str = ""
    # Language model use while serving this context (for the cache-savings metrics).
    llm_tokens: int = 0
    llm_cost_usd: float = 0.0
    # The recording server span of the request, when tracing is on (None: nothing to annotate).
    span: Any = field(default=None, repr=False)

    def log_fields(self) -> dict[str, str]:
        fields = {
            "request_id": self.request_id,
            "tenant": self.tenant,
            "user": self.user,
            "job_id": self.job_id,
            "document_id": self.document_id,
        }
        return {key: value for key, value in fields.items() if value}


_current: ContextVar[RequestContext | None] = ContextVar("ragops_request_context", default=None)


def current() -> RequestContext | None:
    return _current.get()


@contextlib.contextmanager
def bound(context: RequestContext) -> Iterator[RequestContext]:
    """`context` is the current one inside the block (and in tasks started there)."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is acceptable, else a new random one (32 hex digits)."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return secrets.token_hex(16)


def identify(tenant: str, user: str = "") -> None:
    """Record who the current request is for (called where the tenant is resolved)."""
    context = _current.get()
    if context is None:
        return
    context.tenant = tenant
    if user:
        context.user = user
    if context.span is not None:
        context.span.set_attribute("ragops.tenant", tenant)


def add_llm_usage(tokens: int, cost_usd: float | None) -> None:
    context = _current.get()
    if context is not None:
        context.llm_tokens += tokens
        context.llm_cost_usd += cost_usd or 0.0
