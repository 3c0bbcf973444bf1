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

from ragops_operator.control.kube import ApiError, ClusterApi, Kind
from ragops_operator.planning.peering import leads

CLUSTER_PEERING = Kind("kopf.dev/v1", "ClusterKopfPeering", "clusterkopfpeerings", watched=False)
NAMESPACED_PEERING = Kind("kopf.dev/v1", "KopfPeering", "kopfpeerings", watched=False)
PEERING_GROUP = "kopf.dev/v1"
_PATTERN_CHARACTERS = set("*?[]!,")
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


class PeeringUnavailable(Exception):
    """`--peering NAME` cannot work on this cluster; the message says what to do."""


async def ensure_peering(cluster: ClusterApi, name: str, namespaces: list[str]) -> list[str]:
    """Make sure the peering object kopf will wait on exists; create it when missing.

    kopf with a missing peering object logs one retry, then pauses every replica for good
    without a word; replicas started together cannot rely on an administrator's earlier step.
    Creating it is harmless (kopf only writes its replicas' leases into it) and a 409 means a
    peer was first. Without kopf's peering CRD nothing can work: that is an error at start.
    Returns what was created, as "Kind namespace/name" lines. Namespace patterns (`!kube-*`)
    name no namespace to create in: they are left to the administrator."""
    kind = NAMESPACED_PEERING if namespaces else CLUSTER_PEERING
    if kind.kind not in await cluster.served(PEERING_GROUP):
        raise PeeringUnavailable(
            f"--peering {name}: the API server does not serve {kind.kind} ({PEERING_GROUP}); "
            "apply crds/kopf-peering.yaml, or run without --peering (standalone, one replica)"
        )
    created: list[str] = []
    for scope in namespaces or [""]:
        if _PATTERN_CHARACTERS & set(scope):
            continue
        if await cluster.get(kind, scope, name) is not None:
            continue
        metadata = {"name": name, **({"namespace": scope} if scope else {})}
        try:
            await cluster.create(
                kind, {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata}
            )
        except ApiError as error:
            if error.status != 409:  # 409: another replica created it first
                raise
            continue
        created.append(f"{kind.kind} {scope + '/' if scope else ''}{name}")
    return created


def unverifiable(namespaces: list[str]) -> list[str]:
    """The namespace patterns whose peering objects `ensure_peering` could not check."""
    return [scope for scope in namespaces if _PATTERN_CHARACTERS & set(scope)]
