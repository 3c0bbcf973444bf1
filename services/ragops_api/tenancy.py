"""Who is asking: the tenant every read and write of a request is scoped to.

Without authentication (the embedded default) every request belongs to the
configured tenant. With a JWKS URL configured (a Cognito user pool in
production), every request must carry `Authorization: Bearer <JWT>` signed by one
of the published keys, issued by the configured issuer for the configured
audience, and the tenant is read from a claim of the token. Routes and the
cached-answer fast path both ask this one resolver, so they cannot disagree.

The caller is also a user, for the per-user rate limit: the token's `sub` (a
Cognito user's stable id) with authentication; without it, the client address
(as the ASGI server reports it: behind a proxy, uvicorn's FORWARDED_ALLOW_IPS
decides whether that is the proxy's or the caller's). A request's caller is
resolved once and remembered in its ASGI scope, so the rate limit, the fast path
and the route do not verify the same token three times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import jwt
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ragops_core import request_context
from ragops_core.errors import AuthenticationError

# A tenant names a path segment of S3 keys (`{prefix}/{tenant}/{document_id}`), a directory of the
# embedded object store and a part of Redis keys: no separators, no `.`/`..` segments, no control
# characters, bounded (the RAGDeployment's own `tenant` is at most 128 characters).
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

# Where a request's resolved caller (or its authentication error) is kept in the ASGI scope.
_CALLER_KEY = "ragops.caller"


@dataclass(frozen=True)
class Caller:
    tenant: str
    user: str


@dataclass(frozen=True)
class JwtSettings:
    jwks_url: str
    issuer: str | None
    audience: str | None
    tenant_claim: str


class TenantResolver:
    def __init__(self, *, default_tenant: str, jwt_settings: JwtSettings | None = None) -> None:
        self._default = default_tenant
        self._jwt = jwt_settings
        # PyJWKClient caches the key set and refetches on an unknown key id (key rotation).
        self._keys = (
            jwt.PyJWKClient(jwt_settings.jwks_url, cache_keys=True, lifespan=300)
            if jwt_settings
            else None
        )

    @property
    def requires_token(self) -> bool:
        return self._jwt is not None

    async def caller_of(self, scope: Scope) -> Caller:
        """`caller` of an ASGI request, resolved once per request (its error too)."""
        found: Caller | AuthenticationError | None = scope.get(_CALLER_KEY)
        if found is None:
            client = scope.get("client")
            try:
                found = await self.caller(Headers(scope=scope), client=client[0] if client else "")
            except AuthenticationError as exc:
                found = exc
            scope[_CALLER_KEY] = found
            if isinstance(found, Caller):
                request_context.identify(
                    found.tenant, found.user
                )  # on log lines, spans, active users
        if isinstance(found, AuthenticationError):
            raise found
        return found

    async def caller(self, headers: Mapping[str, str], *, client: str) -> Caller:
        """Tenant and user; raises `AuthenticationError` when a valid token is required and
        missing."""
        if self._jwt is None or self._keys is None:
            return Caller(self._default, client)
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("a bearer token is required (Authorization: Bearer <JWT>)")
        claims = await anyio.to_thread.run_sync(self._verify, token.strip())
        tenant = claims.get(self._jwt.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise AuthenticationError(
                f"the token has no {self._jwt.tenant_claim!r} claim naming the tenant"
            )
        if not is_valid_tenant(tenant):
            # The claim is shown bounded and escaped: it may be 5,000 characters or hold a NUL.
            raise AuthenticationError(
                f"the token's {self._jwt.tenant_claim!r} claim is not a usable tenant name "
                f"({tenant[:40]!r}): letters, digits, '.', '_' and '-', starting with a letter "
                "or digit, at most 128 characters"
            )
        user = claims.get("sub")
        return Caller(tenant, user if isinstance(user, str) and user else client)

    def _verify(self, token: str) -> dict[str, Any]:
        assert self._jwt is not None and self._keys is not None
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            # Only the algorithm of the key the `kid` names (its JWK `alg`, else its key type):
            # a token whose header claims another (ES256 over an RSA key) is refused, never
            # handed to a verifier that cannot read the key.
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=self._jwt.issuer,
                options={"require": ["exp"], "verify_aud": False},
            )
        except jwt.PyJWKClientError as exc:
            raise AuthenticationError(f"the token's signing key is unknown: {exc}") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        if self._jwt.audience is not None:
            # Cognito ID tokens carry `aud`; its access tokens carry `client_id` instead.
            audience = claims.get("aud", claims.get("client_id"))
            audiences = audience if isinstance(audience, list) else [audience]
            if self._jwt.audience not in audiences:
                raise AuthenticationError("invalid token: it was issued for another audience")
        return claims


def is_valid_tenant(name: str) -> bool:
    """Whether a tenant claim may name a tenant (see TENANT_PATTERN); pure."""
    return TENANT_PATTERN.fullmatch(name) is not None


# The interactive API docs and the schema they read (fastapi-offline serves their assets under
# /docs/). Public by default: they describe the API, not any tenant's data.
DOCS_PATHS = frozenset({"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
DOCS_PREFIX = "/docs/"


class DocsAuthMiddleware:
    """With RAGOPS_PUBLIC_DOCS=false, /docs, /redoc and /openapi.json need a valid token too."""

    def __init__(self, app: ASGIApp, *, tenants: TenantResolver) -> None:
        self._app = app
        self._tenants = tenants

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path in DOCS_PATHS or path.startswith(DOCS_PREFIX)):
            try:
                await self._tenants.caller_of(scope)
            except AuthenticationError as exc:
                body = json.dumps({"detail": str(exc)}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b'Bearer realm="ragops"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)
