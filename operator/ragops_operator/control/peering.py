"""Which replica works: kopf's peering rule (planning/peering.py), applied to the operator's own
background work.

The operator also reconciles outside kopf's handlers: the periodic resync and the requeues that
time rollout steps. Without kopf's rule those kept a paused standby reconciling next to the
leader. The gate reads the peering object kopf maintains and answers whether this replica is the
one that should work.
"""

from __future__ import annotations

import datetime
import getpass
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from ragops_operator.control.kube import ClusterApi, Kind
from ragops_operator.planning.peering import leads

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


@dataclass
class PeeringGate:
    """Answers "should this replica reconcile now?"; always yes when running standalone."""

    cluster: ClusterApi | None
    name: str | None = None
    identity: str = ""
    priority: int = 0
    namespaced: bool = False
    _verdicts: dict[str, tuple[float, bool]] = field(
        default_factory=dict
    )  # scope -> (read at, verdict)

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
            peering.get("status") or {},
            identity=self.identity,
            priority=self.priority,
            now=datetime.datetime.now(datetime.UTC),
        )
        self._verdicts[scope] = (time.monotonic(), verdict)
        return verdict
