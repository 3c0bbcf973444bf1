"""Who is asking: the tenant every read and write of a request is scoped to.

Without authentication (the embedded default) every request belongs to the
configured tenant. With a JWKS URL configured (a Cognito user pool in
production), every request must carry `Authorization: Bearer <JWT>` signed by one
of the published keys, issued by the configured issuer for the configured
audience, and the tenant is read from a claim of the token. Routes and the
cached-answer fast path both ask this one resolver, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import jwt

from ragops_core import request_context
from ragops_core.errors import AuthenticationError


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
        self._keys = jwt.PyJWKClient(jwt_settings.jwks_url, cache_keys=True, lifespan=300) if jwt_settings else None

    @property
    def requires_token(self) -> bool:
        return self._jwt is not None

    async def resolve(self, headers: Mapping[str, str]) -> str:
        """The caller's tenant; raises `AuthenticationError` when a valid token is required and missing."""
        if self._jwt is None or self._keys is None:
            request_context.identify(self._default)  # on log lines and spans
            return self._default
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("a bearer token is required (Authorization: Bearer <JWT>)")
        claims = await anyio.to_thread.run_sync(self._verify, token.strip())
        tenant = claims.get(self._jwt.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise AuthenticationError(f"the token has no {self._jwt.tenant_claim!r} claim naming the tenant")
        user = claims.get("sub")
        request_context.identify(tenant, user if isinstance(user, str) else "")  # logs, spans, active users
        return tenant

    def _verify(self, token: str) -> dict[str, Any]:
        assert self._jwt is not None and self._keys is not None
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256", "ES256"], issuer=self._jwt.issuer,
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
