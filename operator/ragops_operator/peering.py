"""Which replica works: kopf's peering rule, applied to the operator's own background work.

kopf pauses a replica's watch handlers while a live peer has a higher priority (equal
priorities pause everyone). The operator also reconciles outside kopf's handlers: the
periodic resync and the requeues that time rollout steps. Without the same rule those
kept a paused standby reconciling next to the leader. The gate reads the peering object
kopf maintains (`status` maps each replica's identity to priority, lifetime and last
keep-alive) and answers whether this replica is the one that should work.
"""

from __future__ import annotations

import datetime
import getpass
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ragops_operator.kube import Cluster, Kind

CLUSTER_PEERING = Kind("kopf.dev/v1", "ClusterKopfPeering", "clusterkopfpeerings", watched=False)
NAMESPACED_PEERING = Kind("kopf.dev/v1", "KopfPeering", "kopfpeerings", watched=False)
# The peering object changes only on keep-alives (every lifetime minus a few seconds);
# one read serves the bursts of pokes a resync produces.
_CACHE_SECONDS = 2.0


def own_identity() -> str:
    """The identity kopf publishes for this replica: the pod name in a cluster (`POD_ID`)."""
    pod = os.environ.get("POD_ID")
    if pod:
        return pod
    started = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
    return f"{getpass.getuser()}@{socket.gethostname()}/{started}/{secrets.token_hex(2)}"


def leads(peers: Mapping[str, Any], *, identity: str, priority: int, now: datetime.datetime) -> bool:
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


@dataclass
class PeeringGate:
    """Answers "should this replica reconcile now?"; always yes when running standalone."""

    cluster: Cluster | None
    name: str | None = None
    identity: str = ""
    priority: int = 0
    namespaced: bool = False
    _verdicts: dict[str, tuple[float, bool]] = field(default_factory=dict)  # scope -> (read at, verdict)

    @classmethod
    def standalone(cls) -> PeeringGate:
        return cls(cluster=None)

    async def active(self, namespace: str) -> bool:
        if self.cluster is None or self.name is None:
            return True
        scope = namespace if self.namespaced else ""
        cached = self._verdicts.get(scope)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        kind = NAMESPACED_PEERING if self.namespaced else CLUSTER_PEERING
        peering = await self.cluster.get(kind, scope, self.name)
        # No peering object: kopf itself keeps every replica paused until it exists.
        verdict = peering is not None and leads(
            peering.get("status") or {}, identity=self.identity, priority=self.priority,
            now=datetime.datetime.now(datetime.UTC),
        )
        self._verdicts[scope] = (time.monotonic(), verdict)
        return verdict
