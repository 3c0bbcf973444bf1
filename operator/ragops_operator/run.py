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
    peering_lifetime_seconds: int = 60,
) -> None:
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Every child event runs a tiny handler; one "succeeded" line per pod status change is noise.
    logging.getLogger("kopf.objects").addFilter(_not_child_event_success)
    options = handlers.Options(
        namespaces=list(namespaces), resync_seconds=resync_seconds, peering_lifetime_seconds=peering_lifetime_seconds
    )
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


def _not_child_event_success(record: logging.LogRecord) -> bool:
    return not (record.levelno <= logging.INFO and "'child_changed' succeeded" in record.getMessage())
