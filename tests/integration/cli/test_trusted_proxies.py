"""The per-address rate limit under `ragops serve` and `ragops api`: X-Forwarded-For counts only
from the proxies RAGOPS_TRUSTED_PROXIES names. uvicorn believed it from 127.0.0.1 by default, so
a local client rotating the header was a new user each time and never limited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Service, clean_env

LIMIT = 3


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def run(command: str, **variables: str) -> Service:
        env = clean_env(
            RAGOPS_DATA_DIR=str(tmp_path / f"data-{len(started)}"),
            RAGOPS_RATE_LIMIT_OTHER=f"{LIMIT}/hour",
            **variables,
        )
        service = Service(command, env, tmp_path / f"{command}-{len(started)}.log", cwd=tmp_path)
        started.append(service)
        return service

    yield run
    for service in started:
        service.stop()


def statuses(url: str, *, rotate: bool) -> list[int]:
    """Requests from 127.0.0.1, each claiming another client address (or none)."""
    with httpx.Client(base_url=url, timeout=10) as client:
        return [
            client.get(
                "/api/documents",
                headers={"x-forwarded-for": f"203.0.113.{i}"} if rotate else {},
            ).status_code
            for i in range(1, LIMIT + 3)
        ]


@pytest.mark.parametrize("command", ["serve", "api"])
def test_a_rotating_forwarded_for_from_an_untrusted_peer_is_ignored(
    start: Callable[..., Service], command: str
) -> None:
    service = start(command)
    assert statuses(service.url, rotate=True) == [200] * LIMIT + [429, 429]


def test_a_trusted_proxy_forwards_its_clients_addresses(start: Callable[..., Service]) -> None:
    service = start("serve", RAGOPS_TRUSTED_PROXIES="127.0.0.1,::1")
    assert statuses(service.url, rotate=True) == [200] * (LIMIT + 2), "one client each"
    # Without the header, the proxy's own requests are one user, limited as such.
    assert statuses(service.url, rotate=False)[LIMIT:] == [429, 429]
