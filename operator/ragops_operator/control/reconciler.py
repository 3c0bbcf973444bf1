"""One level-based reconcile: observe -> build -> apply -> prune -> status.

Every trigger (create, update, resume, a changed or deleted child, the periodic resync) runs
this same function, so what the cluster converges to depends only on the spec, never on which
event arrived or in which order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import backup, config, stack
from ragops_operator.builders.labels import COMPONENT_LABEL, Owner, instance_selector
from ragops_operator.builders.monitoring import Jobs
from ragops_operator.builders.workloads import CONFIG_HASH_ANNOTATION
from ragops_operator.control.kube import (
    CLAIMS,
    FIELD_MANAGER,
    JOBS,
    MANAGED_KINDS,
    PODS,
    PROMETHEUS_OPERATOR_GROUP,
    RAGD,
    ApiError,
    Cluster,
    Kind,
    is_retryable,
    kind_of,
)
from ragops_operator.control.prometheus import PrometheusSignals, SignalSource
from ragops_operator.objects import Obj
from ragops_operator.planning import (
    blue_green,
    conditions,
    health,
    last_backup,
    reindex,
    restore,
    rollout,
    status,
    transitions,
)
from ragops_operator.planning.applied import AppliedMemory

_log = logging.getLogger("ragops.operator")


@dataclass(frozen=True)
class Outcome:
    ready: bool
    requeue_after: float | None = None  # a rollout deadline: look again then, even without events


class RetryLater(Exception):
    """A transient API error (conflict, throttling, 5xx): the same reconcile will succeed later."""


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(obj: Obj) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _rolled_out(deployment: Obj | None, config_hash: str) -> bool:
    """Every pod of the Deployment runs `config_hash`, and no older pod is still stopping."""
    if deployment is None:
        return False
    template = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    counts = deployment.get("status") or {}
    return (
        template.get(CONFIG_HASH_ANNOTATION) == config_hash
        and health.of_deployment("worker", deployment).updated
        and int(counts.get("replicas") or 0) == int(counts.get("updatedReplicas") or 0)
        and not counts.get("terminatingReplicas")
    )


def _owned_by(obj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


class Reconciler:
    def __init__(
        self,
        cluster: Cluster,
        *,
        now: Callable[[], str] = utc_now,
        clock: Callable[[], float] = time.time,
        apply_concurrency: int = 32,
        discovery_ttl_seconds: float = 10.0,
        signals: SignalSource | None = None,
    ) -> None:
        self._cluster = cluster
        self._signals = signals if signals is not None else PrometheusSignals()
        self._now = now
        self._clock = clock
        self._apply_slots = asyncio.Semaphore(apply_concurrency)
        self._discovery_ttl = discovery_ttl_seconds
        self._discovered: tuple[float, bool] | None = None
        self.memory = AppliedMemory()

    async def reconcile(self, body: Obj) -> Outcome:
        """Converge one RAGDeployment. Raises RetryLater on transient errors."""
        try:
            resource = api.RAGDeployment.model_validate(body)
        except ValidationError as error:
            await self._invalid(body, error)
            return Outcome(ready=False)
        owner, spec = Owner.of(resource), resource.spec
        previous: Obj = dict(body.get("status") or {})
        prometheus_operator = await self._prometheus_operator()
        kinds = [k for k in MANAGED_KINDS if prometheus_operator or k.api_version != PROMETHEUS_OPERATOR_GROUP]
        listed = await self._observe(kinds, owner)
        existing = {_key(obj): obj for obj in listed if _owned_by(obj, owner.uid)}
        indexing = self._plan_index(spec, owner, previous, existing)
        # The pods run the index's embedding model, which trails the spec's during a re-index.
        pods_spec = reindex.effective_spec(spec, indexing.effective)
        step = await self._plan_api(body, pods_spec, owner, previous, existing)
        restoring = restore.state(spec, previous, existing.get(("Job", owner.child_name(backup.COMPONENT_RESTORE))))
        active_live = existing.get(("Deployment", api_builder.deployment_name(owner, step.service)))
        desired = stack.desired(
            pods_spec,
            owner,
            active=step.service,
            render=step.render,
            preview=step.preview_service,
            preview_minimum=int((active_live or {}).get("spec", {}).get("replicas") or 1),
            prometheus_operator=prometheus_operator,
            restoring=restoring is not None and restoring.wants_job,
            reindexing=indexing.job,
        )
        children = {**existing}
        errors: list[str] = []
        if not spec.paused:
            applied, errors = await self._apply_all(body, desired, existing)
            children.update(applied)
            kept = {(kind, api_builder.deployment_name(owner, c)) for c in step.keep for kind in ("Deployment", "HorizontalPodAutoscaler")}
            for key in await self._prune(body, owner, desired, existing, keep=kept):
                children.pop(key, None)
            await self._announce(body, step)
            for type_, reason, message in indexing.events:
                await self._record(body, reason, message, warning=type_ == "Warning")
        # The CronJob's Jobs carry the stack's labels but belong to the CronJob: they are in the
        # listing, not among the owned children.
        backups = await self._last_backup(owner, previous, listed) if spec.backup.enabled else previous.get("lastBackup")
        observed = self._observation(body, resource, owner, step, children, errors, prometheus_operator,
                                     restoring=restoring, last_backup=backups, index=indexing)
        current = status.compute(observed, previous, now=self._now())
        if status.changed(previous, current):
            await self._cluster.patch_status(owner.namespace, owner.name, current)
        ready = any(c["type"] == conditions.READY and c["status"] == "True" for c in current["conditions"])
        return Outcome(ready=ready, requeue_after=None if spec.paused else step.requeue_after)

    async def _plan_api(self, body: Obj, spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, existing: dict[tuple[str, str], Obj]) -> rollout.Plan:
        state = blue_green.state_from_status(previous)
        if spec.paused and state.active_hash is not None:  # frozen: serve what serves, change nothing
            colors = tuple(c for c in (state.active_color, state.previous_color, state.preview_color) if c)
            return rollout.Plan(state, render=(), keep=colors, service=state.active_color, preview_service=state.preview_color)
        minimum = spec.api.replicas.min
        if state.active_hash is None:  # status lost or written by an older operator: trust the live color
            live = existing.get(("Deployment", api_builder.deployment_name(owner, state.active_color)))
            state = replace(state, active_hash=blue_green.color_health(live, minimum=minimum).template)
        observation = rollout.Observation(
            desired_hash=api_builder.template_hash(spec, owner),
            health={
                color: blue_green.color_health(existing.get(("Deployment", api_builder.deployment_name(owner, color))), minimum=minimum)
                for color in ("blue", "green")
            },
            signals=await self._read_signals(spec, owner, state),
            action=blue_green.action_of(body),
        )
        return rollout.plan(state, observation, blue_green.policy_of(spec), self._clock())

    def _plan_index(self, spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, existing: dict[tuple[str, str], Obj]) -> reindex.IndexPlan:
        live_config = existing.get(("ConfigMap", owner.child_name("config")))
        saved = reindex.from_status(
            previous, spec=spec.models.embedding,
            live_embedding=reindex.embedding_from_config((live_config or {}).get("data"), config.env_name),
        )
        if spec.paused:
            return reindex.IndexPlan(saved)
        running = reindex.effective_spec(spec, saved.embedding)
        rollout_state = blue_green.state_from_status(previous)
        template = api_builder.template_hash(running, owner)
        failed = rollout_state.failed_hash == template and rollout_state.phase in ("RolledBack", "Aborted")
        observed = reindex.Observed(
            jobs={
                name.removeprefix(f"{owner.name}-"): reindex.JobState(
                    succeeded=restore.job_condition(job, "Complete") is not None,
                    failed=restore.job_failure(job),
                )
                for (kind, name), job in existing.items()
                if kind == "Job" and job["metadata"].get("labels", {}).get(COMPONENT_LABEL) == backup.COMPONENT_REINDEX
            },
            workers_switched=_rolled_out(existing.get(("Deployment", owner.child_name("worker"))), config.config_hash(running, owner)),
            api_switched=rollout_state.active_hash == template and rollout_state.phase != "Progressing",
            api_failed=rollout_state.message if failed else None,
        )
        return reindex.plan(spec.models.embedding, saved, observed)

    async def _read_signals(self, spec: api.RAGDeploymentSpec, owner: Owner, state: rollout.RolloutState) -> dict[rollout.Color, rollout.Signals]:
        colors = blue_green.colors_under_watch(state)
        url = spec.monitoring.prometheus_url
        if url is None or not colors:
            return {}
        return await self._signals.read(url, Jobs.of(owner), colors, spec.api.rollout.analysis_window_seconds)

    async def close(self) -> None:
        await self._signals.close()

    async def _announce(self, body: Obj, step: rollout.Plan) -> None:
        for type_, reason, message in step.events:
            await self._record(body, reason, message, warning=type_ == "Warning")
        if step.consume_action:
            meta = body["metadata"]
            patch = {"metadata": {"annotations": {blue_green.ACTION_ANNOTATION: None}}}
            await self._cluster.merge_patch(RAGD, meta["namespace"], meta["name"], patch)

    def _observation(
        self,
        body: Obj,
        resource: api.RAGDeployment,
        owner: Owner,
        step: rollout.Plan,
        children: dict[tuple[str, str], Obj],
        errors: list[str],
        prometheus_operator: bool,
        *,
        restoring: restore.Restore | None,
        last_backup: Obj | None,
        index: reindex.IndexPlan,
    ) -> status.Observation:
        spec = resource.spec
        preview = step.preview_service
        return status.Observation(
            owner=owner,
            generation=int(body["metadata"].get("generation") or 0),
            active_color=step.service,
            api_image=blue_green.image_of(children.get(("Deployment", api_builder.deployment_name(owner, step.service)))) or api_builder.image(spec),
            preview_color=preview,
            preview_image=blue_green.image_of(children.get(("Deployment", api_builder.deployment_name(owner, preview)))) if preview else None,
            rollout=blue_green.state_to_status(step.state),
            children=children,
            paused=spec.paused,
            monitoring_wanted=spec.monitoring.service_monitor or spec.monitoring.prometheus_rule,
            prometheus_operator=prometheus_operator,
            errors=errors,
            minimum_replicas=(spec.api.replicas.min, spec.worker.replicas.min, spec.vector_store.qdrant.replicas),
            restore=restoring,
            last_backup=last_backup,
            index=index.state,
            index_job=owner.child_name(index.job.suffix) if index.job is not None else None,
        )

    async def _last_backup(self, owner: Owner, previous: Obj, listed: list[Obj]) -> Obj | None:
        """The newest finished backup Job's report; the saved one when no Job is left (history limits)."""
        jobs = [obj for obj in listed if obj["kind"] == JOBS.kind
                and obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == backup.COMPONENT_BACKUP]
        job = last_backup.newest_finished(jobs)
        saved: Obj | None = previous.get("lastBackup")
        if job is None or (saved is not None and saved.get("job") == job["metadata"]["name"]):
            return saved
        pods = await self._cluster.list(PODS, owner.namespace, {last_backup.JOB_NAME_LABEL: job["metadata"]["name"]})
        return last_backup.from_job(job, pods)

    async def _observe(self, kinds: list[Kind], owner: Owner) -> list[Obj]:
        """Everything in the namespace that carries the stack's labels (owned by it or not)."""
        listings = await asyncio.gather(*(self._cluster.list(k, owner.namespace, instance_selector(owner)) for k in kinds))
        return [obj for items in listings for obj in items]

    async def _apply_all(
        self, body: Obj, desired: list[Obj], existing: dict[tuple[str, str], Obj]
    ) -> tuple[dict[tuple[str, str], Obj], list[str]]:
        results = await asyncio.gather(*(self._apply(body, manifest, existing) for manifest in desired), return_exceptions=True)
        applied: dict[tuple[str, str], Obj] = {}
        errors: list[str] = []
        transient: list[str] = []
        for manifest, result in zip(desired, results, strict=True):
            what = f"{manifest['kind']} {manifest['metadata']['name']}"
            if isinstance(result, ApiError):
                (transient if is_retryable(result) else errors).append(f"{what}: {_reason(result)}")
            elif isinstance(result, BaseException):
                raise result
            else:
                applied[_key(manifest)] = result
        if transient:
            raise RetryLater("; ".join(transient))
        return applied, errors

    async def _apply(self, body: Obj, manifest: Obj, existing: dict[tuple[str, str], Obj]) -> Obj:
        live = existing.get(_key(manifest))
        if live is not None and self.memory.unchanged(live, manifest):
            return live
        async with self._apply_slots:
            handoff = transitions.replica_handoff(live, manifest, manager=FIELD_MANAGER)
            if handoff is not None:
                await self._cluster.apply(handoff, field_manager=transitions.HANDOFF_MANAGER)
                await self._record(body, "ReplicasHandedOver", f"Handed replicas of {manifest['kind']} {manifest['metadata']['name']} to its autoscaler")
            growth = transitions.volume_growth(live, manifest)
            if growth and live is not None:
                await self._grow_volumes(body, live, growth)
            result = await self._cluster.apply(manifest)
        self.memory.remember(result, manifest)
        if _key(manifest) not in existing:
            await self._record(body, "Created", f"Created {manifest['kind']} {manifest['metadata']['name']}")
        return result

    async def _grow_volumes(self, body: Obj, stateful_set: Obj, growth: dict[str, str]) -> None:
        meta = stateful_set["metadata"]
        claims = await self._cluster.list(CLAIMS, meta["namespace"], {})
        for claim, size in transitions.claims_to_grow(claims, meta["name"], growth):
            await self._cluster.merge_patch(CLAIMS, meta["namespace"], claim, {"spec": {"resources": {"requests": {"storage": size}}}})
        await self._cluster.delete(stateful_set, orphan=True)
        for _ in range(100):  # the API server finishes an orphaning delete in well under a second
            if await self._cluster.get(kind_of(stateful_set), meta["namespace"], meta["name"]) is None:
                break
            await asyncio.sleep(0.2)
        else:
            raise RetryLater(f"StatefulSet {meta['name']} is still being deleted to grow its volumes")
        await self._record(body, "VolumesGrown", f"Grew volumes of StatefulSet {meta['name']} to {', '.join(growth.values())}; pods kept running")

    async def _prune(
        self,
        body: Obj,
        owner: Owner,
        desired: list[Obj],
        existing: dict[tuple[str, str], Obj],
        *,
        keep: set[tuple[str, str]],
    ) -> list[tuple[str, str]]:
        wanted = {_key(m) for m in desired} | keep
        stale = [obj for key, obj in existing.items() if key not in wanted]
        for obj in stale:
            await self._cluster.delete(obj)
            self.memory.forget(obj)
            why = "the restore finished or spec.restore was removed" if obj["kind"] == "Job" else "no longer in the spec"
            await self._record(body, "Pruned", f"Deleted {obj['kind']} {obj['metadata']['name']}: {why}")
        return [_key(obj) for obj in stale]

    async def _record(self, body: Obj, reason: str, message: str, *, warning: bool = False) -> None:
        meta = body["metadata"]
        _log.info("%s (%s/%s)", message, meta["namespace"], meta["name"])
        try:
            await self._cluster.event(body, type_="Warning" if warning else "Normal", reason=reason, message=message, now=self._now())
        except ApiError as error:  # an Event is a courtesy: never fail a reconcile for it
            _log.warning("Could not record event %s on %s/%s: %s", reason, meta["namespace"], meta["name"], _reason(error))

    async def _invalid(self, body: Obj, error: ValidationError) -> None:
        problems = "; ".join(f"spec.{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors())
        meta = body["metadata"]
        previous = dict(body.get("status") or {})
        invalid = conditions.Condition(conditions.READY, "False", "InvalidSpec", problems[:1000])
        generation = int(meta.get("generation") or 0)
        current = {
            "observedGeneration": generation,
            "conditions": conditions.merge(previous.get("conditions") or [], [invalid], generation=generation, now=self._now()),
        }
        if status.changed(previous, current):
            await self._cluster.patch_status(meta["namespace"], meta["name"], current)
            await self._record(body, "InvalidSpec", problems, warning=True)

    async def _prometheus_operator(self) -> bool:
        """Whether ServiceMonitor and PrometheusRule are served; rechecked at most every 10 seconds."""
        cached = self._discovered
        if cached is not None and time.monotonic() - cached[0] < self._discovery_ttl:
            return cached[1]
        served = await self._cluster.served(PROMETHEUS_OPERATOR_GROUP)
        available = {"ServiceMonitor", "PrometheusRule"} <= served
        self._discovered = (time.monotonic(), available)
        return available


def _reason(error: ApiError) -> str:
    return f"{error.status} {error.message}"
