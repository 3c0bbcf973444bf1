"""One reconcile pass's decisions as a pure function: (resource, last status, Observed, now) ->
Decision.

The planners compose here in dependency order: the index plan says which embedding model the
pods run (reindex), the rollout plan which API colors are applied, kept and served (rollout),
the restore plan whether the restore Job is wanted (restore); the builders then render the
whole desired set, and every owned child neither desired nor kept is pruned. Status is the one
output that also depends on the write (the objects the API server returns), so a Decision
carries its inputs (Report) and `final_status` turns them into status once the write is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import backup, config, qdrant, stack
from ragops_operator.builders import quality as quality_builder
from ragops_operator.builders.labels import COMPONENT_LABEL, COMPONENT_WORKER, Owner
from ragops_operator.objects import Key, Obj, key_of
from ragops_operator.planning import (
    blue_green,
    conditions,
    health,
    last_backup,
    quality,
    reindex,
    restore,
    rollout,
    secrets,
    status,
)
from ragops_operator.planning.observed import Observed
from ragops_operator.planning.restore import Restore
from ragops_operator.planning.rollout import Color

Event = tuple[str, str, str]  # (Normal|Warning, Reason, message)
# Secrets are not watched (that would need list/watch on every Secret): while one is missing the
# stack looks again this often, so creating it is noticed well before the periodic resync.
SECRET_RECHECK_SECONDS = 10.0


def _sooner(first: float | None, second: float | None) -> float | None:
    return min((t for t in (first, second) if t is not None), default=None)


@dataclass(frozen=True)
class Report:
    """The inputs of status.compute that the write does not change."""

    owner: Owner
    generation: int
    active_color: Color
    preview_color: Color | None
    spec_image: str  # the API image until the active color's Deployment reports its own
    rollout: Obj  # status.api.rollout
    index: reindex.IndexState
    index_job: str | None
    minimum_replicas: tuple[int, int, int]  # api, worker, qdrant
    qdrant_tolerated: int = 0  # peers that may be down: replicationFactor - 1
    missing_secrets: tuple[str, ...] = ()
    unreadable_secrets: tuple[str, ...] = ()
    paused: bool = False
    monitoring_wanted: bool = True
    prometheus_operator: bool = False
    restore: Restore | None = None
    last_backup: Obj | None = None
    last_verification: Obj | None = None
    quality_check: Obj | None = None  # status.lastQualityCheck
    quality_scheduled: bool = False  # qualityGate.schedule: the QualityDegraded condition

    def observation(self, children: Mapping[Key, Obj], errors: Sequence[str]) -> status.Observation:
        """`children` as the write left them: applied ones as the API server returned them."""

        def image(color: Color) -> str | None:
            live = children.get(("Deployment", api_builder.deployment_name(self.owner, color)))
            return blue_green.image_of(live)

        preview = self.preview_color
        return status.Observation(
            owner=self.owner,
            generation=self.generation,
            active_color=self.active_color,
            api_image=image(self.active_color) or self.spec_image,
            preview_color=preview,
            preview_image=image(preview) if preview else None,
            rollout=self.rollout,
            children=dict(children),
            paused=self.paused,
            monitoring_wanted=self.monitoring_wanted,
            prometheus_operator=self.prometheus_operator,
            errors=list(errors),
            minimum_replicas=self.minimum_replicas,
            qdrant_tolerated=self.qdrant_tolerated,
            missing_secrets=self.missing_secrets,
            unreadable_secrets=self.unreadable_secrets,
            restore=self.restore,
            last_backup=self.last_backup,
            last_verification=self.last_verification,
            quality_check=self.quality_check,
            quality_scheduled=self.quality_scheduled,
            index=self.index,
            index_job=self.index_job,
        )


@dataclass(frozen=True)
class Decision:
    """What one pass does: apply `desired` in order, prune `prune`, record `events`, then write
    the status (`status` is a Report to compute it from after the write, or final already)."""

    status: Report | Obj
    desired: tuple[Obj, ...] = ()  # empty when paused or invalid: nothing is changed
    keep: frozenset[Key] = frozenset()  # not desired, yet left exactly as they are
    prune: tuple[Obj, ...] = ()  # live children to delete
    events: tuple[Event, ...] = ()  # the planners' own, recorded after apply and prune
    consume_action: bool = False  # remove the promote/abort annotation: it was acted on
    requeue_after: float | None = None  # a rollout deadline: look again then, even without events


def decide(
    resource: api.RAGDeployment, previous: Obj, observed: Observed, *, now: float
) -> Decision:
    """`previous` is the status as read; `now` the clock in seconds (rollout deadlines)."""
    owner, spec = Owner.of(resource), resource.spec
    indexing = plan_index(spec, owner, previous, observed.children)
    # The pods run the index's embedding model, which trails the spec's during a re-index.
    pods_spec = reindex.effective_spec(spec, indexing.effective)
    step = plan_api(pods_spec, owner, previous, observed, now=now)
    restore_job = observed.children.get(("Job", owner.child_name(backup.COMPONENT_RESTORE)))
    restoring = restore.state(spec, previous, restore_job)
    report = _report(resource, previous, observed, step, restoring, indexing, now=now)
    warnings = secret_events(report.missing_secrets, previous)
    if spec.paused:
        return Decision(report, events=warnings)
    desired = _render(pods_spec, owner, observed, step, restoring, indexing)
    desired += quality_builder.build(
        pods_spec,
        owner,
        evaluate=api_builder.template_hash(pods_spec, owner) if step.evaluate else None,
    )
    keep = frozenset(
        (kind, api_builder.deployment_name(owner, color))
        for color in step.keep
        for kind in ("Deployment", "HorizontalPodAutoscaler")
    )
    held = worker_held(step.state, api_builder.template_hash(pods_spec, owner), owner, observed)
    if held is not None:
        desired = [manifest for manifest in desired if key_of(manifest) != held]
        keep = keep | {held}
    wanted = {key_of(manifest) for manifest in desired} | keep
    return Decision(
        report,
        desired=tuple(desired),
        keep=keep,
        prune=tuple(obj for key, obj in observed.children.items() if key not in wanted),
        events=(*step.events, *indexing.events, *warnings),
        consume_action=step.consume_action,
        requeue_after=_sooner(
            step.requeue_after, SECRET_RECHECK_SECONDS if report.missing_secrets else None
        ),
    )


def secret_events(missing: tuple[str, ...], previous: Obj) -> tuple[Event, ...]:
    """A Warning naming the missing Secrets and keys when that list changes (not every resync)."""
    saved: Obj = next(
        (c for c in previous.get("conditions") or [] if c.get("type") == conditions.SECRETS), {}
    )
    message = status.secrets_condition(missing, ()).message
    if not missing or (saved.get("status") == "False" and saved.get("message") == message):
        return ()
    return (("Warning", "SecretMissing", message + ": the pods cannot start without it"),)


def worker_held(
    state: rollout.RolloutState, desired_hash: str, owner: Owner, observed: Observed
) -> Key | None:
    """The worker Deployment's key while it must stay as it is, else None.

    The worker rolls with the API, behind the same gate: only once the API's new template has
    passed its observation (Retiring, or Stable on it). Before, the running worker is kept, and
    after a rollback or abort it was never touched, so it stays on the template that works
    instead of being left on the failed image. A missing worker is always created."""
    key = ("Deployment", owner.child_name(COMPONENT_WORKER))
    committed = state.phase in ("Stable", "Retiring") and state.active_hash == desired_hash
    return None if committed or key not in observed.children else key


def _render(
    pods_spec: api.RAGDeploymentSpec,
    owner: Owner,
    observed: Observed,
    step: rollout.Plan,
    restoring: Restore | None,
    indexing: reindex.IndexPlan,
) -> list[Obj]:
    """The whole desired set, in apply order, as the three plans shape it."""
    active_live = observed.children.get(
        ("Deployment", api_builder.deployment_name(owner, step.service))
    )
    return stack.desired(
        pods_spec,
        owner,
        active=step.service,
        render=step.render,
        preview=step.preview_service,
        # The preview starts as big as the color it will replace, not at the HPA's floor.
        preview_minimum=int((active_live or {}).get("spec", {}).get("replicas") or 1),
        prometheus_operator=observed.prometheus_operator,
        restoring=restoring is not None and restoring.wants_job,
        reindexing=indexing.job,
        live_qdrant=observed.children.get(("StatefulSet", qdrant.name(owner))),
    )


def _report(
    resource: api.RAGDeployment,
    previous: Obj,
    observed: Observed,
    step: rollout.Plan,
    restoring: Restore | None,
    indexing: reindex.IndexPlan,
    *,
    now: float,
) -> Report:
    owner, spec = Owner.of(resource), resource.spec
    gate = spec.api.rollout.quality_gate
    wanted_secrets = secrets.wanted(spec, owner)
    saved_backup: Obj | None = previous.get("lastBackup")
    saved_verification: Obj | None = previous.get("lastBackupVerification")
    return Report(
        owner=owner,
        generation=int(observed.body["metadata"].get("generation") or 0),
        active_color=step.service,
        preview_color=step.preview_service,
        spec_image=api_builder.image(spec),
        rollout=blue_green.state_to_status(step.state),
        index=indexing.state,
        index_job=owner.child_name(indexing.job.suffix) if indexing.job is not None else None,
        minimum_replicas=(
            spec.api.replicas.min,
            spec.worker.replicas.min,
            spec.vector_store.qdrant.replicas,
        ),
        qdrant_tolerated=spec.vector_store.qdrant.replication_factor - 1,
        missing_secrets=tuple(secrets.missing(wanted_secrets, observed.secrets)),
        unreadable_secrets=tuple(secrets.unreadable(wanted_secrets, observed.secrets)),
        paused=spec.paused,
        monitoring_wanted=spec.monitoring.service_monitor or spec.monitoring.prometheus_rule,
        prometheus_operator=observed.prometheus_operator,
        restore=restoring,
        last_backup=(
            last_backup.reported(list(observed.jobs), saved_backup, list(observed.backup_pods))
            if spec.backup.enabled
            else saved_backup
        ),
        last_verification=(
            last_backup.reported_verification(
                list(observed.jobs), saved_verification, list(observed.verify_pods)
            )
            if spec.backup.enabled and spec.backup.verify.enabled
            else saved_verification
        ),
        quality_check=_quality_check(spec, previous, observed, step.service, now=now),
        quality_scheduled=gate is not None and gate.schedule is not None,
    )


def _quality_check(
    spec: api.RAGDeploymentSpec, previous: Obj, observed: Observed, active: Color, *, now: float
) -> Obj | None:
    """status.lastQualityCheck: the newest finished scheduled evaluation's verdict."""
    saved: Obj | None = previous.get("lastQualityCheck")
    gate = spec.api.rollout.quality_gate
    job = last_backup.unreported(
        list(observed.jobs), saved, component=quality_builder.COMPONENT_CHECK
    )
    if gate is None or job is None:
        return saved
    name = job["metadata"]["name"]
    found = quality.verdict(
        job,
        [p for p in observed.quality_pods if _job_of(p) == name],
        color=active,
        baseline_color=None,
        wanted=quality.wanted_checks(gate.minimums, {}),
        now=blue_green.to_time(now) or "",
    )
    return found.report


def _job_of(pod: Obj) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(last_backup.JOB_NAME_LABEL)


def plan_api(
    spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, observed: Observed, *, now: float
) -> rollout.Plan:
    """The blue/green step of the API; `spec` is the one the pods run."""
    state = blue_green.state_from_status(previous)
    if spec.paused and state.active_hash is not None:  # frozen: serve what serves, change nothing
        colors = tuple(
            c for c in (state.active_color, state.previous_color, state.preview_color) if c
        )
        return rollout.Plan(
            state,
            render=(),
            keep=colors,
            service=state.active_color,
            preview_service=state.preview_color,
        )
    minimum = spec.api.replicas.min

    def color_health(color: Color) -> rollout.ColorHealth:
        live = observed.children.get(("Deployment", api_builder.deployment_name(owner, color)))
        return blue_green.color_health(live, minimum=minimum)

    if (
        state.active_hash is None
    ):  # status lost or written by an older operator: trust the live color
        state = replace(state, active_hash=color_health(state.active_color).template)
    desired_hash = api_builder.template_hash(spec, owner)
    observation = rollout.Observation(
        desired_hash=desired_hash,
        health={color: color_health(color) for color in ("blue", "green")},
        signals=dict(observed.signals),
        action=blue_green.action_of(observed.body),
        quality=_gate_verdict(spec, owner, state, observed, desired_hash, now=now),
    )
    return rollout.plan(state, observation, blue_green.policy_of(spec), now)


def _gate_verdict(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    state: rollout.RolloutState,
    observed: Observed,
    desired_hash: str,
    *,
    now: float,
) -> quality.Verdict | None:
    """The verdict of the evaluation Job of the template being rolled out (the preview's)."""
    gate = spec.api.rollout.quality_gate
    if gate is None:
        return None
    name = quality_builder.gate_job_name(owner, desired_hash)
    compare = gate.compare_with_active
    return quality.verdict(
        observed.children.get(("Job", name)),
        [p for p in observed.quality_pods if _job_of(p) == name],
        color=state.preview_color or rollout.other(state.active_color),
        baseline_color=state.active_color if compare else None,
        wanted=quality.wanted_checks(gate.minimums, gate.max_regression if compare else {}),
        now=blue_green.to_time(now) or "",
    )


def plan_index(
    spec: api.RAGDeploymentSpec, owner: Owner, previous: Obj, children: Mapping[Key, Obj]
) -> reindex.IndexPlan:
    """The embedding model's index: which model the pods run, and the Job that moves it."""
    live_config = children.get(("ConfigMap", owner.child_name("config")))
    saved = reindex.from_status(
        previous,
        spec=spec.models.embedding,
        live_embedding=reindex.embedding_from_config(
            (live_config or {}).get("data"), config.env_name
        ),
    )
    if spec.paused:
        return reindex.IndexPlan(saved)
    running = reindex.effective_spec(spec, saved.embedding)
    rollout_state = blue_green.state_from_status(previous)
    template = api_builder.template_hash(running, owner)
    failed = rollout_state.failed_hash == template and rollout_state.phase in (
        "RolledBack",
        "Aborted",
    )
    observed = reindex.Observed(
        jobs={
            name.removeprefix(f"{owner.name}-"): reindex.JobState(
                succeeded=restore.job_condition(job, "Complete") is not None,
                failed=restore.job_failure(job),
            )
            for (kind, name), job in children.items()
            if kind == "Job"
            and job["metadata"].get("labels", {}).get(COMPONENT_LABEL) == backup.COMPONENT_REINDEX
        },
        workers_switched=health.rolled_out(
            children.get(("Deployment", owner.child_name("worker"))),
            config.config_hash(running, owner),
        ),
        api_switched=rollout_state.active_hash == template and rollout_state.phase != "Progressing",
        api_failed=rollout_state.message if failed else None,
    )
    return reindex.plan(spec.models.embedding, saved, observed)


def invalid(body: Obj, error: ValidationError, *, now: str) -> Decision:
    """A spec the API server let through but the model rejects: Ready=False, reason InvalidSpec,
    nothing changed; the Warning only when the status changes (not on every resync)."""
    problems = "; ".join(
        f"spec.{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
    )
    meta = body["metadata"]
    previous = dict(body.get("status") or {})
    condition = conditions.Condition(conditions.READY, "False", "InvalidSpec", problems[:1000])
    generation = int(meta.get("generation") or 0)
    current = {
        "observedGeneration": generation,
        "conditions": conditions.merge(
            previous.get("conditions") or [], [condition], generation=generation, now=now
        ),
    }
    if not status.changed(previous, current):
        return Decision(current)
    return Decision(current, events=(("Warning", "InvalidSpec", problems),))


def final_status(
    decision: Decision,
    previous: Obj,
    *,
    children: Mapping[Key, Obj],
    errors: Sequence[str],
    now: str,
) -> Obj:
    """The status to write after the write step: from the children it left and its errors."""
    if isinstance(decision.status, Report):
        return status.compute(decision.status.observation(children, errors), previous, now=now)
    return decision.status


def ready(current: Obj) -> bool:
    return any(
        c["type"] == conditions.READY and c["status"] == "True"
        for c in current.get("conditions") or []
    )
