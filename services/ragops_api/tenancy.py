"""Who is asking: the tenant every read and write of a request is scoped to."""

from __future__ import annotations

from collections.abc import Mapping


class TenantResolver:
    """Without authentication (the embedded default) every request belongs to the
    configured tenant. JWT verification plugs in here, so that the routes and the
    cached-answer fast path can never disagree about the tenant."""

    def __init__(self, *, default_tenant: str) -> None:
        self._default = default_tenant

    async def resolve(self, headers: Mapping[str, str]) -> str:
        return self._default
