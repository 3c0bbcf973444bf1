"""One level-based reconcile: gather -> decide -> write -> status.

Every trigger (create, update, resume, a changed or deleted child, the periodic resync) runs
this same function, so what the cluster converges to depends only on the spec, never on which
event arrived or in which order. All reads happen in gather (control/gather.py), all choices in
decide (planning/decide.py, pure), all writes in write (control/write.py); status is computed
last, from the children as the write left them, and patched only when it changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.control import metrics, quality_metrics
from ragops_operator.control.foreign_fields import CONDITION, drift_condition
from ragops_operator.control.gather import Gatherer
from ragops_operator.control.kube import ClusterApi
from ragops_operator.control.prometheus import PrometheusSignals, SignalSource
from ragops_operator.control.write import Writer, Written
from ragops_operator.objects import Obj
from ragops_operator.planning import conditions, decide
from ragops_operator.planning.applied import AppliedMemory


@dataclass(frozen=True)
class Outcome:
    ready: bool
    requeue_after: float | None = None  # a rollout deadline: look again then, even without events


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Reconciler:
    def __init__(
        self,
        cluster: ClusterApi,
        *,
        now: Callable[[], str] = utc_now,
        clock: Callable[[], float] = time.time,
        apply_concurrency: int = 32,
        discovery_ttl_seconds: float = 10.0,
        signals: SignalSource | None = None,
    ) -> None:
        self._now = now
        self._clock = clock
        self.memory = AppliedMemory()  # shared with the handlers, which drop our own apply's echo
        source = signals if signals is not None else PrometheusSignals()
        self._gatherer = Gatherer(cluster, source, discovery_ttl_seconds=discovery_ttl_seconds)
        self._writer = Writer(
            cluster, memory=self.memory, now=now, apply_concurrency=apply_concurrency
        )

    @metrics.timed_reconcile
    async def reconcile(self, body: Obj) -> Outcome:
        """Converge one RAGDeployment. Raises RetryLater on transient errors."""
        previous: Obj = dict(body.get("status") or {})
        try:
            resource = api.RAGDeployment.model_validate(body)
        except ValidationError as error:  # nothing to gather: the stack is left as it is
            decision = decide.invalid(body, error, now=self._now())
            written = await self._writer.write(body, decision, {})
        else:
            observed = await self._gatherer.gather(resource, body)
            decision = decide.decide(resource, previous, observed, now=self._clock())
            written = await self._writer.write(body, decision, observed.children)
        current = self._status(decision, previous, written)
        meta = body["metadata"]
        quality_metrics.observe(meta["namespace"], meta["name"], current, decision.events)
        await self._writer.patch_status(body, previous, current)
        metrics.status_written(body, current)
        return Outcome(ready=decide.ready(current), requeue_after=decision.requeue_after)

    def _status(self, decision: decide.Decision, previous: Obj, written: Written) -> Obj:
        now = self._now()
        current = decide.final_status(
            decision, previous, children=written.children, errors=written.errors, now=now
        )
        return with_drift_condition(current, previous, written.reverted, now=now)

    def forget_discovery(self) -> None:
        self._gatherer.forget_discovery()

    async def close(self) -> None:
        await self._gatherer.close()


def with_drift_condition(
    current: Obj, previous: Obj, reverted: tuple[str, ...], *, now: str
) -> Obj:
    """`current` with the DriftReverted condition (control/foreign_fields.py) after the others."""
    before = list(previous.get("conditions") or [])
    wanted = drift_condition(before, reverted, now=now)
    if wanted is None:
        return current
    generation = int(current.get("observedGeneration") or 0)
    merged = conditions.merge(
        before,
        [replace(wanted, message=wanted.message[:1000])],
        generation=generation,
        now=now,
    )
    others = [c for c in current.get("conditions") or [] if c.get("type") != CONDITION]
    return {**current, "conditions": [*others, *merged]}
