"""kopf wiring only: every trigger ends in Runtime.converge or Runtime.poke.

No timers or daemons: kopf gives those a finalizer on every RAGDeployment, and nothing here
needs one (the PVC policy is the StatefulSet's own retention policy, and ownerReferences delete
the rest). The periodic resync is the Runtime's own task instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import kopf

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders.labels import MANAGED_BY
from ragops_operator.control.kube import MANAGED_KINDS
from ragops_operator.control.runtime import RETRYABLE, Runtime

INSTANCE_LABEL = "app.kubernetes.io/instance"


@dataclass
class Options:
    """What `ragops operator` passes to the handlers through kopf's memo."""

    namespaces: list[str] = field(default_factory=list)
    resync_seconds: float = 300.0
    worker_limit: int = 32
    peering_lifetime_seconds: int = 60
    identity: str = ""  # this replica's name in the peering object (also given to kopf)
    runtime: Runtime | None = None


def _options(memo: Any) -> Options:
    options = memo.get("options") if hasattr(memo, "get") else None
    if not isinstance(options, Options):
        raise kopf.PermanentError(
            "the operator was started without its options; use `ragops operator`"
        )
    return options


def _runtime(memo: Any) -> Runtime:
    runtime = _options(memo).runtime
    if runtime is None:
        raise kopf.TemporaryError("the operator is still starting", delay=1)
    return runtime


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    options = _options(memo)
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=api.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=api.GROUP, key="last-handled-configuration"
    )
    settings.batching.worker_limit = options.worker_limit
    # Stale watch streams are a known kopf failure mode: make the server end them regularly.
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.watching.connect_timeout = 30
    settings.posting.level = logging.WARNING
    # A replica that dies stops renewing its lease; the standby takes over after this long.
    settings.peering.lifetime = options.peering_lifetime_seconds
    options.runtime = Runtime.start(
        settings, identity=options.identity, resync_seconds=options.resync_seconds
    )
    options.runtime.start_resync(options.namespaces)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    runtime = _options(memo).runtime
    if runtime is not None:
        await runtime.close()


@kopf.on.resume(api.GROUP, api.VERSION, api.PLURAL)
@kopf.on.create(api.GROUP, api.VERSION, api.PLURAL)
@kopf.on.update(api.GROUP, api.VERSION, api.PLURAL)
async def reconcile(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    try:
        await _runtime(memo).converge(dict(body))
    except RETRYABLE as error:
        raise kopf.TemporaryError(f"will retry: {error!r}", delay=2) from error


async def child_changed(
    body: kopf.Body, meta: kopf.Meta, type: str | None, memo: kopf.Memo, **_: Any
) -> None:
    """A child was changed or deleted by someone (or a controller updated its status): compare
    again soon. The echo of the operator's own apply needs no second look."""
    owner = meta.get("labels", {}).get(INSTANCE_LABEL)
    namespace = meta.get("namespace")
    if not owner or not namespace:
        return
    runtime = _runtime(memo)
    if type != "DELETED" and runtime.reconciler.memory.is_echo(dict(body)):
        return
    runtime.poke(namespace, owner)


for _kind in MANAGED_KINDS:
    if _kind.watched:
        kopf.on.event(
            _kind.group,
            _kind.version,
            _kind.plural,
            labels={"app.kubernetes.io/managed-by": MANAGED_BY},
        )(child_changed)


# The Prometheus Operator installed (or removed) after the stacks: its CRDs by name.
MONITORING_CRDS = {
    "servicemonitors.monitoring.coreos.com": "ServiceMonitor",
    "prometheusrules.monitoring.coreos.com": "PrometheusRule",
}


def _established(body: kopf.Body) -> bool:
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (body.get("status") or {}).get("conditions") or []
    )


@kopf.on.event(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    when=lambda name, **_: name in MONITORING_CRDS,
)
async def monitoring_crd_changed(
    body: kopf.Body, name: str, type: str | None, memo: kopf.Memo, **_: Any
) -> None:
    """Stacks created before the Prometheus Operator get their monitoring within seconds."""
    if type is None:  # the listing at start: every stack is reconciled at start anyway
        return
    served = type != "DELETED" and _established(body)
    if type != "DELETED" and not served:
        return  # created, not yet Established: its next event says when it is
    options = _options(memo)
    await _runtime(memo).monitoring_kind_changed(
        options.namespaces, MONITORING_CRDS[name], served=served
    )
