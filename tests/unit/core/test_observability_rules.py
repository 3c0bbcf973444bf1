"""Pure rules of observability: when tracing is on, which request ids are taken, how active users
count."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ragops_core.active_users import ActiveUsers
from ragops_core.request_context import request_id_from
from ragops_core.settings import Settings
from ragops_core.tracing import tracing_wanted

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


@pytest.mark.parametrize(
    ("setting", "environ", "wanted"),
    [
        ("auto", {}, False),
        ("auto", ENDPOINT, True),
        ("auto", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ("auto", {"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
        ("on", {}, True),
        ("off", ENDPOINT, False),
        ("auto", {**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
        ("on", {"OTEL_SDK_DISABLED": "TRUE"}, False),
        ("auto", {**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, False),
        ("auto", {**ENDPOINT, "OTEL_TRACES_EXPORTER": "otlp"}, True),
    ],
)
def test_tracing_is_off_by_default_and_follows_the_sdk_switches(
    setting: str, environ: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(Settings(tracing=setting), environ) is wanted  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "header",
    ["abc", "4bf92f3577b34da6a3ce929d0e0e4736", "req-42:upload", "a.b_c/d+e=f@g", "x" * 128],
)
def test_plain_request_ids_are_kept(header: str) -> None:
    assert request_id_from(header) == header


@pytest.mark.parametrize(
    "header",
    [None, "", "two words", "x" * 129, "-leading-dash", "tab\there", 'quote"d', "new\nline", "ünï"],
)
def test_other_request_ids_are_replaced(header: str | None) -> None:
    generated = request_id_from(header)
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert generated != request_id_from(header)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_active_users_are_distinct_users_per_window() -> None:
    clock = Clock()
    registry = CollectorRegistry()
    users = ActiveUsers(registry, clock=clock)
    users.seen("alice")
    clock.now += 600  # 10 minutes later
    users.seen("bob")
    users.seen("bob")
    assert users.counts() == {"5m": 1, "1h": 2, "24h": 2}
    clock.now += 3601
    users.seen("alice")  # seen again: counted once, as recent
    assert users.counts() == {"5m": 1, "1h": 1, "24h": 2}
    clock.now += 86401
    assert users.counts() == {"5m": 0, "1h": 0, "24h": 0}
    text = generate_latest(registry).decode()
    assert 'ragops_active_users{window="24h"} 0.0' in text


def test_active_users_memory_is_bounded() -> None:
    clock = Clock()
    users = ActiveUsers(clock=clock, max_users=3)
    for name in ("a", "b", "c", "d"):
        users.seen(name)
        clock.now += 1
    assert users.counts()["5m"] == 3
    users.seen("a")  # forgotten as the least recently seen, now back
    assert users.counts()["5m"] == 3
