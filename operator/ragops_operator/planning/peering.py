"""kopf's peering rule as a pure function: which replica works, from the peering object's status.

kopf pauses a replica's watch handlers while a live peer has a higher priority (equal
priorities pause everyone). The operator applies the same rule to its own background work
(control/peering.py reads the object); `status` maps each replica's identity to priority,
lifetime and last keep-alive.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any


def leads(
    peers: Mapping[str, Any], *, identity: str, priority: int, now: datetime.datetime
) -> bool:
    """kopf's rule: work unless another live peer has a higher or the same priority.

    A replica not yet listed has not announced itself: kopf keeps it paused until it has.
    """
    if identity not in peers:
        return False
    for peer_id, info in peers.items():
        if peer_id == identity or not isinstance(info, Mapping):
            continue
        if _alive(info, now) and int(info.get("priority", 0)) >= priority:
            return False
    return True


def _alive(info: Mapping[str, Any], now: datetime.datetime) -> bool:
    lastseen = info.get("lastseen")
    if not isinstance(lastseen, str):
        return True  # kopf treats a peer without a keep-alive time as just seen
    seen = datetime.datetime.fromisoformat(lastseen)
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=datetime.UTC)
    return now < seen + datetime.timedelta(seconds=int(info.get("lifetime", 60)))
