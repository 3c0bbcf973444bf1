"""`ragops operator`: kopf.run with RAGOps' handlers and settings.

At the package root beside cli.py: it is the process's entry (logging, identity, kopf's run
options), not part of a reconcile; what it starts lives in control/.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, cast

import aiohttp
import kopf

from ragops_operator.control import handlers, metrics
from ragops_operator.control.kube import ApiError, Cluster
from ragops_operator.control.peering import (
    PeeringUnavailable,
    ensure_peering,
    own_identity,
    unverifiable,
)
from ragops_operator.control.runtime import login

_log = logging.getLogger("ragops.operator")


def run_operator(
    *,
    namespaces: list[str],
    peering: str | None,
    priority: int | None,
    liveness: str | None,
    resync_seconds: float,
    verbose: bool,
    peering_lifetime_seconds: int = 60,
    metrics_port: int = 0,
) -> None:
    try:
        metrics.serve(metrics_port)
    except OSError as error:  # a port in use (e.g. the liveness endpoint's): say so, not a trace
        raise SystemExit(f"error: cannot serve /metrics on port {metrics_port}: {error}") from None
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Every child event runs a tiny handler; one "succeeded" line per pod status change is noise.
    logging.getLogger("kopf.objects").addFilter(_not_child_event_success)
    if peering is not None:
        _check_peering(peering, namespaces)
    options = handlers.Options(
        namespaces=list(namespaces),
        resync_seconds=resync_seconds,
        peering_lifetime_seconds=peering_lifetime_seconds,
        identity=own_identity(),
    )
    kopf.run(
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=peering is None,
        peering_name=peering,
        # Peers with equal priority would all pause for good: a random default from a wide range
        # keeps replicas distinct (a clash is a one-in-a-billion event; a restart resolves it).
        priority=priority if priority is not None else secrets.randbelow(2**31 - 1) + 1,
        liveness_endpoint=liveness,
        # kopf publishes this identity in the peering object; the runtime's gate looks for it there.
        identity=cast(
            Any, options.identity
        ),  # kopf's Identity is a NewType of str it does not export
        memo=kopf.Memo(options=options),
    )


def _not_child_event_success(record: logging.LogRecord) -> bool:
    return not (
        record.levelno <= logging.INFO and "'child_changed' succeeded" in record.getMessage()
    )


def _check_peering(name: str, namespaces: list[str]) -> None:
    """Before kopf starts: the peering object exists (created if missing), or the process exits
    saying why; kopf itself would wait for it forever without a word."""

    async def check() -> list[str]:
        cluster = Cluster(login(kopf.OperatorSettings()))
        try:
            return await ensure_peering(cluster, name, namespaces)
        finally:
            await cluster.close()

    try:
        created = asyncio.run(check())
    except PeeringUnavailable as error:
        raise SystemExit(f"ragops operator: {error}") from None
    except (ApiError, aiohttp.ClientError, TimeoutError, kopf.LoginError) as error:
        raise SystemExit(
            f"ragops operator: cannot check the peering object {name!r}: {error}"
        ) from None
    for what in created:
        _log.warning("Created %s: it was missing, and kopf would have waited for it", what)
    for pattern in unverifiable(namespaces):
        _log.warning(
            "Namespace pattern %r: the KopfPeering %r in its namespaces is not checked; "
            "kopf pauses in any namespace without one",
            pattern,
            name,
        )
