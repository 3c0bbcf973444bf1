"""With a JWKS configured, every request needs a valid token, and tenants never see each other."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ragops_api.routers.ui import ui_auth
from ragops_core.settings import Settings
from tests.support.api import POLICY, AppFactory, wait_for_job
from tests.support.jwks import CLIENT_ID, ISSUER, JwksServer


@pytest.fixture
def secured(make_client: AppFactory, jwks: JwksServer) -> TestClient:
    return make_client(auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=CLIENT_ID)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_requests_without_a_valid_token_are_401(secured: TestClient, jwks: JwksServer) -> None:
    cases = {
        "missing": {},
        "not bearer": {"authorization": "Basic abc"},
        "garbage": bearer("not-a-jwt"),
        "foreign signature": bearer(jwks.token("a", signer=jwks.stranger_key)),
        "wrong issuer": bearer(jwks.token("a", issuer="https://evil.example")),
        "wrong audience": bearer(jwks.token("a", client_id="other-app")),
        "expired": bearer(jwks.token("a", expires_in=-60)),
        "no tenant claim": bearer(jwks.token(None)),
    }
    for name, headers in cases.items():
        response = secured.post("/api/ask", json={"query": "anything"}, headers=headers)
        assert response.status_code == 401, (name, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        assert response.json()["detail"], name
    assert secured.get("/healthz").status_code == 200, "probes need no token"
    assert secured.get("/metrics").status_code == 200


def test_tenant_b_never_sees_tenant_a(secured: TestClient, jwks: JwksServer) -> None:
    a, b = bearer(jwks.token("acme")), bearer(jwks.token("globex"))
    upload = secured.post("/api/upload", files={"file": ("policy.md", POLICY.encode())}, headers=a)
    assert upload.status_code == 202
    job_id, document_id = upload.json()["job_id"], upload.json()["document_id"]
    secured.headers.update(a)
    assert wait_for_job(secured, job_id)["state"] == "ready"
    secured.headers.clear()
    question = {"query": "Which travel desk books flights?"}
    answer_a = secured.post("/api/ask", json=question, headers=a).json()
    assert "Orbis" in answer_a["answer"]
    assert secured.post("/api/ask", json=question, headers=a).json()["cached"] is True

    # Every endpoint, as tenant B:
    assert secured.get(f"/api/jobs/{job_id}", headers=b).status_code == 404
    assert secured.get("/api/documents", headers=b).json() == []
    assert secured.delete(f"/api/documents/{document_id}", headers=b).status_code == 404
    answer_b = secured.post("/api/ask", json=question, headers=b).json()
    assert (
        answer_b["cached"] is False
        and answer_b["sources"] == []
        and "Orbis" not in answer_b["answer"]
    )
    with secured.stream("POST", "/api/ask/stream", json=question, headers=b) as stream:
        assert "Orbis" not in "".join(stream.iter_text())
    feedback = secured.post(
        "/api/feedback", json={"answer_id": answer_a["answer_id"], "rating": "down"}, headers=b
    )
    assert feedback.status_code == 404
    # ...and A still has everything.
    assert [d["document_id"] for d in secured.get("/api/documents", headers=a).json()] == [
        document_id
    ]


COGNITO = "https://ragops-test.auth.eu-west-1.amazoncognito.com"


def test_the_chat_page_learns_where_to_sign_in_without_a_token(
    make_client: AppFactory, jwks: JwksServer
) -> None:
    secured = make_client(
        auth_jwks_url=jwks.url,
        auth_issuer=ISSUER,
        auth_audience=CLIENT_ID,
        ui_oidc_domain=COGNITO + "/",
        ui_oidc_client_id=CLIENT_ID,
    )
    response = secured.get("/api/ui-config")  # no Authorization header
    assert response.status_code == 200
    assert response.json() == {
        "auth": {
            "domain": COGNITO,
            "client_id": CLIENT_ID,
            "scopes": "openid email profile",
            "redirect_path": "/",
            "token": "access",
        }
    }
    assert secured.get("/api/documents").status_code == 401, "everything else still needs a token"


def test_no_sign_in_without_token_checks(make_client: AppFactory, jwks: JwksServer) -> None:
    assert make_client().get("/api/ui-config").json() == {"auth": None}, "the embedded default"
    # A hosted UI configured on an API that checks no tokens: nothing to sign in for.
    assert ui_auth(Settings(ui_oidc_domain=COGNITO, ui_oidc_client_id=CLIENT_ID)) is None
    # Token checks without a hosted UI: the page cannot sign in, and shows the 401s' detail.
    assert (
        ui_auth(Settings(auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=CLIENT_ID))
        is None
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"ui_oidc_domain": COGNITO},
        {"ui_oidc_client_id": CLIENT_ID},
        {
            "ui_oidc_domain": "ragops-test.auth.eu-west-1.amazoncognito.com",
            "ui_oidc_client_id": CLIENT_ID,
        },
        {
            "ui_oidc_domain": COGNITO,
            "ui_oidc_client_id": CLIENT_ID,
            "ui_oidc_redirect_path": "callback",
        },
        {"ui_oidc_domain": COGNITO, "ui_oidc_client_id": CLIENT_ID, "ui_oidc_token": "refresh"},
    ],
)
def test_incomplete_or_malformed_sign_in_settings_are_refused(overrides: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**overrides)  # type: ignore[arg-type]


def test_a_token_claiming_another_algorithm_than_its_key_is_401(
    secured: TestClient, jwks: JwksServer
) -> None:
    """The `kid` of the published RSA key with `alg: ES256` (signed by any EC key) was a 500:
    the ES256 verifier was handed the RSA key. Only the key's own algorithm is accepted."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwks.token("acme", signer=ec_key, algorithm="ES256")
    for method, path, body in [
        ("POST", "/api/ask", {"query": "anything"}),
        ("GET", "/api/documents", None),
    ]:
        response = secured.request(method, path, json=body, headers=bearer(forged))
        assert response.status_code == 401, (path, response.text)
        assert "alg" in response.json()["detail"]
    # The key's own algorithm still works, on the same client (its connection was not reset).
    assert secured.get("/api/documents", headers=bearer(jwks.token("acme"))).status_code == 200


@pytest.mark.parametrize(
    "tenant", ["..", "tenant-a/..", "/abs", "a\x00b", "t" * 5000, ".", "tenant-a/.", "-x", ""]
)
def test_a_tenant_claim_that_is_no_tenant_name_is_refused(
    secured: TestClient, jwks: JwksServer, tenant: str
) -> None:
    """Tenants name S3 key segments and directories: `..`, slashes, NUL or 5,000 characters made
    uploads 500 (or land in odd places); such a claim is refused before anything is written."""
    response = secured.post(
        "/api/upload",
        files={"file": ("policy.md", POLICY.encode())},
        headers=bearer(jwks.token(tenant)),
    )
    assert response.status_code == 401, response.text
    assert len(response.text) < 1000, "the claim is not echoed whole"
    documents = secured.get("/api/documents", headers=bearer(jwks.token("tenant-a")))
    assert documents.json() == []


def test_tenant_names_that_are_accepted(secured: TestClient, jwks: JwksServer) -> None:
    for tenant in ["acme", "Tenant_B", "eu-west-1.acme", "x" * 128]:
        listing = secured.get("/api/documents", headers=bearer(jwks.token(tenant)))
        assert listing.status_code == 200, (tenant, listing.text)


def test_the_api_docs_are_public_by_default(secured: TestClient) -> None:
    for path in ["/docs", "/redoc", "/openapi.json"]:
        assert secured.get(path).status_code == 200, path


def test_the_api_docs_can_require_a_token(make_client: AppFactory, jwks: JwksServer) -> None:
    closed = make_client(
        auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=CLIENT_ID, public_docs=False
    )
    for path in ["/docs", "/redoc", "/openapi.json"]:
        refused = closed.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert closed.get(path, headers=bearer(jwks.token("acme"))).status_code == 200, path
    assert closed.get("/metrics").status_code == 200, "scraped in the cluster, without a token"


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [({}, "RAGOPS_AUTH_ISSUER"), ({"auth_issuer": ISSUER}, "RAGOPS_AUTH_AUDIENCE")],
)
def test_token_checks_without_issuer_or_audience_refuse_to_start(
    overrides: dict[str, str], missing: str
) -> None:
    """A JWKS alone accepted tokens of any issuer and audience its keys signed."""
    with pytest.raises(ValidationError, match=missing):
        Settings(auth_jwks_url="https://idp.example/jwks.json", **overrides)  # type: ignore[arg-type]
    accepted = Settings(
        auth_jwks_url="https://idp.example/jwks.json", auth_issuer=ISSUER, auth_any_audience=True
    )
    assert accepted.auth_audience is None, "an explicit opt-out"
