"""`ragops operator`: kopf.run with RAGOps' handlers and settings."""

from __future__ import annotations

import logging
import secrets

import kopf

from ragops_operator import handlers


def run_operator(
    *,
    namespaces: list[str],
    peering: str | None,
    priority: int | None,
    liveness: str | None,
    resync_seconds: float,
    verbose: bool,
) -> None:
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    options = handlers.Options(namespaces=list(namespaces), resync_seconds=resync_seconds)
    kopf.run(
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=peering is None,
        peering_name=peering,
        # Peers with equal priority would both pause; a random default keeps replicas distinct.
        priority=priority if priority is not None else secrets.randbelow(10_000) + 1,
        liveness_endpoint=liveness,
        memo=kopf.Memo(options=options),
    )
