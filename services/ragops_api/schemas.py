"""Request and response bodies of the HTTP API (the OpenAPI schema comes from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

# The longest question, on /api/ask and /v1/chat/completions alike: longer text is a document,
# not a question, and it would be embedded and scored against every chunk.
MAX_QUESTION_CHARS = 4000


class AskRequest(BaseModel):
    query: str = Field(
        ..., max_length=MAX_QUESTION_CHARS, description="The question, in natural language."
    )
    # Strict: `true` and `3.0` are not numbers of chunks (lax validation took `true` as 1).
    top_k: int | None = Field(
        None, ge=1, le=50, strict=True, description="Chunks to retrieve; default from RAGOPS_TOP_K."
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must not be empty")
        return value.strip()


class SourceOut(BaseModel):
    document_id: str
    filename: str
    page: int = Field(..., description="1-based page of the cited passage.")
    excerpt: str
    score: float
    chunk_index: int


class AskResponse(BaseModel):
    answer_id: str
    answer: str
    answered: bool = Field(
        ...,
        description=(
            "False when the documents do not support an answer: `answer` then says so "
            "plainly and `sources` is empty (nothing is presented as support). The "
            "extractive answerer abstains unless one retrieved sentence holds (nearly) all "
            "of the question's words, or the question's best dense similarity to a chunk "
            "plus the share of its words in one sentence reaches a threshold calibrated on "
            "DEV data; an LLM is told to reply with that same sentence, and its answer is "
            "marked unanswered when it does."
        ),
    )
    sources: list[SourceOut] = Field(
        ..., description="What supports the answer, [1] first; empty when `answered` is false."
    )
    model: str = Field(..., description="What produced the answer: an LLM's name, or 'extractive'.")
    cached: bool


class UploadResponse(BaseModel):
    job_id: str
    document_id: str


class JobOut(BaseModel):
    job_id: str
    document_id: str
    filename: str
    state: Literal["queued", "processing", "ready", "failed"]
    progress: dict[str, int] = Field(
        ...,
        description=(
            "pages_done, pages_total, chunks_done, chunks_total (and pages_unreadable if any; "
            "a text file, one page, also chars_done and chars_total: its characters read)."
        ),
    )
    error: str | None
    created_at: float
    updated_at: float


class DocumentOut(BaseModel):
    document_id: str
    filename: str
    pages: int
    pages_unreadable: int = Field(
        0, description="Pages no extractor could read (of `pages`): their text is not searchable."
    )
    chunks: int
    bytes: int
    updated_at: float
    job_id: str


class FeedbackRequest(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class Problem(BaseModel):
    detail: str


# The errors a route may answer with, in its OpenAPI entry: `{"detail": "..."}` with a
# message the caller can act on (app.py maps each RagOpsError to its status).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    413: {"model": Problem},
    415: {"model": Problem},
    422: {"description": "Invalid input"},
}


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(..., description="Each store's state: `ok`, or what failed.")


class UiAuth(BaseModel):
    """Where the chat page signs in: a Cognito hosted UI (OAuth 2.0 authorization code + PKCE)."""

    domain: str = Field(
        ...,
        description=(
            "Hosted UI base URL: /oauth2/authorize, /oauth2/token and /logout live under it."
        ),
    )
    client_id: str = Field(..., description="The page's app client (public: no secret).")
    scopes: str = Field(..., description="Space-separated OAuth scopes to ask for.")
    redirect_path: str = Field(
        ..., description="Path the hosted UI returns to; the callback URL is origin + path."
    )
    token: Literal["access", "id"] = Field(
        ..., description="Which token the page sends as `Authorization: Bearer`."
    )


class UiConfig(BaseModel):
    auth: UiAuth | None = Field(
        ..., description="null: the API needs no token, the page shows no sign-in."
    )
