"""The rule that keeps a standby replica's background work (resync, rollout requeues) idle:
kopf's own peering rule, over the status kopf writes into the peering object."""

from __future__ import annotations

import datetime

import pytest

from ragops_operator.planning.peering import leads

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)


def seen(seconds_ago: float, priority: int, lifetime: int = 60) -> dict[str, object]:
    lastseen = (NOW - datetime.timedelta(seconds=seconds_ago)).isoformat()
    return {"priority": priority, "lifetime": lifetime, "lastseen": lastseen}


@pytest.mark.parametrize(
    ("peers", "expected"),
    [
        ({"me": seen(1, 100)}, True),
        ({"me": seen(1, 100), "other": seen(1, 50)}, True),
        ({"me": seen(1, 100), "other": seen(1, 200)}, False),
        # Equal priorities: kopf pauses every replica, so none may work in the background either.
        ({"me": seen(1, 100), "other": seen(1, 100)}, False),
        # A higher peer that stopped renewing its lease is dead: the standby takes over.
        ({"me": seen(1, 100), "other": seen(61, 200)}, True),
        ({"me": seen(1, 100), "other": seen(59, 200)}, False),
        # A leader that exited cleanly wrote lifetime 0.
        ({"me": seen(1, 100), "other": seen(0.5, 200, lifetime=0)}, True),
        # Not yet announced: kopf keeps this replica paused until its first keep-alive.
        ({"other": seen(1, 50)}, False),
        ({}, False),
    ],
    ids=[
        "alone",
        "higher-than-peer",
        "lower-than-peer",
        "same-priority",
        "leader-lease-expired",
        "leader-lease-valid",
        "leader-left",
        "not-announced",
        "empty",
    ],
)
def test_a_replica_works_only_when_kopf_would_let_it(
    peers: dict[str, object], expected: bool
) -> None:
    assert leads(peers, identity="me", priority=100, now=NOW) is expected


def test_a_peer_without_a_keepalive_time_counts_as_alive() -> None:
    assert not leads(
        {"me": seen(1, 1), "other": {"priority": 5}}, identity="me", priority=1, now=NOW
    )
