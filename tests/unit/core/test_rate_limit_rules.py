"""The pure parts of the rate limit: which paths count against which limit, the settings'
notation, and the CLI waiting out a 429 as the server asks."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from ragops_api.rate_limiting import limit_kind
from ragops_cli.remote import RATE_LIMIT_MAX_WAIT_SECONDS, WaitOnRateLimit
from ragops_core.rate_limits import parse_rates
from ragops_core.settings import Settings


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/ask", "questions"),
        ("/api/ask/stream", "questions"),
        ("/v1/chat/completions", "questions"),
        ("/api/upload", "other"),
        ("/api/jobs/4f0c", "other"),
        ("/api/documents", "other"),
        ("/api/documents/9b1e", "other"),
        ("/api/feedback", "other"),
        ("/api/ui-config", None),
        ("/healthz", None),
        ("/readyz", None),
        ("/metrics", None),
        ("/", None),
        ("/assets/index.js", None),
        ("/docs", None),
        ("/openapi.json", None),
    ],
)
def test_which_limit_a_path_counts_against(path: str, kind: str | None) -> None:
    assert limit_kind(path) == kind


def test_rates_are_written_in_the_limits_notation() -> None:
    assert [str(item) for item in parse_rates("60/minute")] == ["60 per 1 minute"]
    assert [str(item) for item in parse_rates("10/second;60/minute")] == [
        "10 per 1 second",
        "60 per 1 minute",
    ]
    assert [str(item) for item in parse_rates("5 per 10 seconds")] == ["5 per 10 second"]
    assert parse_rates("0") == [] and parse_rates("") == []


def test_a_rate_that_does_not_parse_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="is not a rate limit: write it like '60/minute'"):
        Settings(rate_limit_questions="sixty a minute")
    assert Settings(rate_limit_other="0").rate_limit_other == "0"


def test_the_cli_waits_as_long_as_retry_after_says_then_asks_again() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"retry-after": "7"}),
            httpx.Response(429),
            httpx.Response(429, headers={"retry-after": "3600"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    waited: list[float] = []
    transport = WaitOnRateLimit(
        httpx.MockTransport(lambda request: next(answers)), sleep=waited.append
    )
    with httpx.Client(transport=transport, base_url="http://ragops") as client:
        assert client.get("/api/jobs/1").json() == {"ok": True}
    assert waited == [7.0, 1.0, RATE_LIMIT_MAX_WAIT_SECONDS]
