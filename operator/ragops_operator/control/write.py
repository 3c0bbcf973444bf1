"""The write step of a reconcile: carry out a Decision against the cluster.

Apply the desired set (server-side apply, concurrently up to a limit), then prune, then record
the planners' Events, then consume a promote/abort annotation that was acted on. A transient
API error on any apply (409, 429, 5xx) aborts the pass with RetryLater before anything is
pruned, so a half-applied stack never loses children; any other error is about the manifest
and is reported in status (Degraded) rather than retried forever. The status itself is patched
by `patch_status`, after the Reconciler computed it from what this step returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ragops_operator.control import foreign_fields, metrics
from ragops_operator.control.kube import (
    CLAIMS,
    FIELD_MANAGER,
    RAGD,
    REVERT_MANAGER,
    ApiError,
    ClusterApi,
    RetryLater,
    is_retryable,
    kind_of,
)
from ragops_operator.objects import Key, Obj, key_of
from ragops_operator.planning import blue_green, status, transitions
from ragops_operator.planning.applied import AppliedMemory
from ragops_operator.planning.decide import Decision

_log = logging.getLogger("ragops.operator")
OUR_MANAGERS = frozenset({FIELD_MANAGER, REVERT_MANAGER, transitions.HANDOFF_MANAGER})


@dataclass(frozen=True)
class Written:
    children: dict[
        Key, Obj
    ]  # owned children after the write: applied ones as returned, pruned gone
    errors: tuple[str, ...] = ()  # applies the API server rejected for good ("Kind name: 422 why")
    reverted: tuple[str, ...] = ()  # foreign fields removed this pass, one line per object+manager


class Writer:
    def __init__(
        self,
        cluster: ClusterApi,
        *,
        memory: AppliedMemory,
        now: Callable[[], str],
        apply_concurrency: int = 32,
    ) -> None:
        self._cluster = cluster
        self._memory = memory
        self._now = now
        self._apply_slots = asyncio.Semaphore(apply_concurrency)

    async def write(self, body: Obj, decision: Decision, existing: Mapping[Key, Obj]) -> Written:
        """`existing`: the owned children as gathered. Raises RetryLater on transient errors."""
        reverted: list[str] = []  # per pass: one Writer serves every stack concurrently
        applied, errors = await self._apply_all(body, decision.desired, existing, reverted)
        children = {**existing, **applied}
        for obj in decision.prune:
            await self._prune(body, obj)
            children.pop(key_of(obj), None)
        for type_, reason, message in decision.events:
            await self.record(body, reason, message, warning=type_ == "Warning")
        if decision.consume_action:
            meta = body["metadata"]
            patch = {"metadata": {"annotations": {blue_green.ACTION_ANNOTATION: None}}}
            await self._cluster.merge_patch(RAGD, meta["namespace"], meta["name"], patch)
        return Written(children, tuple(errors), tuple(reverted))

    async def patch_status(self, body: Obj, previous: Obj, current: Obj) -> None:
        """Only when it changed: a resync of a settled stack writes nothing."""
        if status.changed(previous, current):
            meta = body["metadata"]
            await self._cluster.patch_status(meta["namespace"], meta["name"], current)

    async def record(self, body: Obj, reason: str, message: str, *, warning: bool = False) -> None:
        metrics.event_recorded("Warning" if warning else "Normal", reason)
        meta = body["metadata"]
        _log.info("%s (%s/%s)", message, meta["namespace"], meta["name"])
        try:
            type_ = "Warning" if warning else "Normal"
            await self._cluster.event(
                body, type_=type_, reason=reason, message=message, now=self._now()
            )
        except ApiError as error:  # an Event is a courtesy: never fail a reconcile for it
            _log.warning(
                "Could not record event %s on %s/%s: %s",
                reason,
                meta["namespace"],
                meta["name"],
                _reason(error),
            )

    async def _apply_all(
        self,
        body: Obj,
        desired: tuple[Obj, ...],
        existing: Mapping[Key, Obj],
        reverted: list[str],
    ) -> tuple[dict[Key, Obj], list[str]]:
        results = await asyncio.gather(
            *(self._apply(body, manifest, existing, reverted) for manifest in desired),
            return_exceptions=True,
        )
        applied: dict[Key, Obj] = {}
        errors: list[str] = []
        transient: list[str] = []
        for manifest, result in zip(desired, results, strict=True):
            what = f"{manifest['kind']} {manifest['metadata']['name']}"
            if isinstance(result, ApiError):
                (transient if is_retryable(result) else errors).append(f"{what}: {_reason(result)}")
            elif isinstance(result, BaseException):
                raise result
            else:
                applied[key_of(manifest)] = result
        if transient:
            raise RetryLater("; ".join(transient))
        return applied, errors

    async def _apply(
        self, body: Obj, manifest: Obj, existing: Mapping[Key, Obj], reverted: list[str]
    ) -> Obj:
        live = existing.get(key_of(manifest))
        if live is not None and self._memory.unchanged(live, manifest):
            return live
        async with self._apply_slots:
            handoff = transitions.replica_handoff(live, manifest, manager=FIELD_MANAGER)
            if handoff is not None:
                await self._cluster.apply(handoff, field_manager=transitions.HANDOFF_MANAGER)
                what = f"{manifest['kind']} {manifest['metadata']['name']}"
                await self.record(
                    body, "ReplicasHandedOver", f"Handed replicas of {what} to its autoscaler"
                )
            growth = transitions.volume_growth(live, manifest)
            if growth and live is not None:
                await self._grow_volumes(body, live, growth)
            applied_before = self._memory.applied_before(manifest)
            result = await self._cluster.apply(manifest)
            result = await self._revert_foreign(body, result, manifest, reverted)
        metrics.child_applied(manifest, applied_before=applied_before, live=live, result=result)
        self._memory.remember(result, manifest)
        if key_of(manifest) not in existing:
            await self.record(
                body, "Created", f"Created {manifest['kind']} {manifest['metadata']['name']}"
            )
        return result

    async def _revert_foreign(
        self, body: Obj, result: Obj, manifest: Obj, reverted: list[str]
    ) -> Obj:
        """Remove what other managers added to the child we just applied (see foreign_fields)."""
        found = foreign_fields.foreign_fields(result, manifest, ours=OUR_MANAGERS)
        operations = foreign_fields.removal_patch(result, found)
        if not operations:
            return result
        meta = result["metadata"]
        try:
            patched = await self._cluster.json_patch(
                kind_of(result), meta["namespace"], meta["name"], operations
            )
        except ApiError as error:
            now = await self._cluster.get(kind_of(result), meta["namespace"], meta["name"])
            if now is None or now["metadata"].get("resourceVersion") != meta["resourceVersion"]:
                # Changed since our apply (a `test` of a removed value failed), or deleted:
                # the next pass looks again at what is there then.
                raise RetryLater(f"{result['kind']} {meta['name']}: {_reason(error)}") from error
            raise  # refused for another reason: reported in status like a refused apply
        for message in foreign_fields.messages(result, found):
            reverted.append(message)
            await self.record(body, "DriftReverted", message, warning=True)
        return patched

    async def _grow_volumes(self, body: Obj, stateful_set: Obj, growth: dict[str, str]) -> None:
        meta = stateful_set["metadata"]
        claims = await self._cluster.list(CLAIMS, meta["namespace"], {})
        for claim, size in transitions.claims_to_grow(claims, meta["name"], growth):
            patch = {"spec": {"resources": {"requests": {"storage": size}}}}
            await self._cluster.merge_patch(CLAIMS, meta["namespace"], claim, patch)
        await self._cluster.delete(stateful_set, orphan=True)
        for _ in range(100):  # the API server finishes an orphaning delete in well under a second
            if (
                await self._cluster.get(kind_of(stateful_set), meta["namespace"], meta["name"])
                is None
            ):
                break
            await asyncio.sleep(0.2)
        else:
            raise RetryLater(
                f"StatefulSet {meta['name']} is still being deleted to grow its volumes"
            )
        reason, message = transitions.growth_event(claims, meta["name"], growth)
        await self.record(body, reason, message)

    async def _prune(self, body: Obj, obj: Obj) -> None:
        await self._cluster.delete(obj)
        self._memory.forget(obj)
        why = (
            "the restore finished or spec.restore was removed"
            if obj["kind"] == "Job"
            else "no longer in the spec"
        )
        await self.record(body, "Pruned", f"Deleted {obj['kind']} {obj['metadata']['name']}: {why}")


def _reason(error: ApiError) -> str:
    return f"{error.status} {error.message}"
