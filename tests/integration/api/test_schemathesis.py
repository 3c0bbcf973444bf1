"""Every operation of the API's OpenAPI schema, fuzzed by schemathesis with authentication on and
a valid token: no server error, and every response as the schema declares it (status code,
content type, body). A fixed seed and a bounded number of examples per operation keep the run
repeatable and within a few minutes."""

from __future__ import annotations

import itertools
import json
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import POLICY, AppFactory, wait_for_job
from tests.support.jwks import CLIENT_ID, ISSUER, JwksServer

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
EXAMPLES_PER_OPERATION = 25
SEED = 14


@pytest.fixture
def api(make_client: AppFactory, jwks: JwksServer) -> TestClient:
    client = make_client(
        auth_jwks_url=jwks.url,
        auth_issuer=ISSUER,
        auth_audience=CLIENT_ID,
        # Unlimited, so the fuzzer reaches the routes (the limits' 429 are declared all the same).
        rate_limit_questions="0",
        rate_limit_other="0",
    )
    client.headers["authorization"] = f"Bearer {jwks.token('fuzz')}"
    # A document to find, so questions go the whole way (search, answer, sources).
    upload = client.post("/api/upload", files={"file": ("policy.md", POLICY.encode())})
    assert upload.status_code == 202, upload.text
    assert wait_for_job(client, upload.json()["job_id"])["state"] == "ready"
    return client


def as_httpx_part(part: tuple[str, Any]) -> tuple[str, Any]:
    """A multipart part as httpx takes it: schemathesis writes `requests`' form, where a
    non-file field's value may be any JSON value (requests sends its str())."""
    name, value = part
    if isinstance(value, tuple) and not isinstance(value[1], bytes | str):
        value = (value[0], json.dumps(value[1]), *value[2:])
    return name, value


def test_every_operation_answers_as_its_schema_says(api: TestClient) -> None:
    schema = schemathesis.openapi.from_dict(api.app.openapi())  # type: ignore[attr-defined]
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    declared = {
        f"{method.upper()} {path}"
        for path, item in api.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in item
    }
    assert {operation.label for operation in operations} == declared, "every operation is fuzzed"
    # Valid input and invalid input (wrong types, missing fields, out-of-range values) alike.
    for operation, mode in itertools.product(operations, list(GenerationMode)):

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.seed(SEED)
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        def fuzz(case: Any) -> None:
            request = case.as_transport_kwargs(base_url=str(api.base_url))
            if not request.get("cookies"):
                request.pop("cookies", None)
            if isinstance(request.get("data"), bytes | str):  # httpx's name for a raw body
                request["content"] = request.pop("data")
            if request.get("files"):
                request["files"] = [as_httpx_part(part) for part in request["files"]]
            # Sent read: schemathesis reads the request back (a multipart body is a stream).
            try:
                sent = api.build_request(**request)
                sent.read()
            except UnicodeEncodeError:  # a lone surrogate in a part's name: no HTTP client sends it
                hypothesis.reject()
            response = api.send(sent)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except hypothesis.errors.Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # no input that can be wrong
        # Every operation is tried, then all failures are reported (schemathesis raises groups).
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
            failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


@pytest.mark.parametrize("top_k", [True, 3.0, "3", None])
def test_top_k_is_a_whole_number(client: TestClient, top_k: object) -> None:
    """`top_k: true` was taken as 1 (lax validation); only JSON integers (or null) are numbers
    of chunks."""
    response = client.post("/api/ask", json={"query": "Who books flights?", "top_k": top_k})
    assert response.status_code == (200 if top_k is None else 422), response.text


def test_the_schema_declares_what_middleware_and_streams_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"400", "401", "413", "422", "429", "503"} <= set(paths["/api/ask"]["post"]["responses"])
    assert "Retry-After" in paths["/api/ask"]["post"]["responses"]["429"]["headers"]
    assert {"401", "411", "413", "415", "422", "429", "503"} <= set(
        paths["/api/upload"]["post"]["responses"]
    )
    assert set(paths["/api/upload"]["post"]["requestBody"]["content"]) == {"multipart/form-data"}
    assert set(paths["/api/ask/stream"]["post"]["responses"]["200"]["content"]) == {
        "text/event-stream"
    }
    assert set(paths["/v1/chat/completions"]["post"]["responses"]["200"]["content"]) == {
        "application/json",
        "text/event-stream",
    }
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert "401" not in paths["/api/ui-config"]["get"]["responses"], "needs no token"
