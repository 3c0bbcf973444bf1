"""What one reconcile pass reads before it decides anything, and the rules for what to read.

Gathering everything up front (control/gather.py) is what lets `decide` be pure: every input it
needs is here, read once, before any write. The two reads that depend on other inputs depend
only on what is known before planning: Prometheus is read for the colors the saved rollout
state watches, and a backup Job's pods only when the saved status does not report that Job yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import quality as quality_builder
from ragops_operator.builders.labels import COMPONENT_LABEL
from ragops_operator.objects import Key, Obj
from ragops_operator.planning import blue_green, last_backup
from ragops_operator.planning.rollout import Color, Signals


@dataclass(frozen=True)
class Observed:
    """A snapshot of the cluster (and Prometheus) as one RAGDeployment's reconcile saw it."""

    body: Obj  # the RAGDeployment as read: its annotations carry the manual promote/abort
    children: Mapping[Key, Obj] = field(default_factory=dict)  # owned by it: ownerReferences
    # Every Job carrying the stack's labels: the CronJob's backup runs are the CronJob's, not
    # children, yet status.lastBackup comes from them.
    jobs: tuple[Obj, ...] = ()
    signals: Mapping[Color, Signals] = field(default_factory=dict)  # for colors_to_read
    prometheus_operator: bool = False  # ServiceMonitor and PrometheusRule are served
    backup_pods: tuple[Obj, ...] = ()  # the pods of last_backup.unreported(jobs, saved)
    verify_pods: tuple[Obj, ...] = ()  # the same for the verification CronJob's newest Job
    quality_pods: tuple[Obj, ...] = ()  # the pods of quality_jobs_to_read(spec, previous, jobs)
    # Each referenced Secret's key names (None: not found); planning/secrets.py
    secrets: Mapping[str, frozenset[str] | None] = field(default_factory=dict)


def owned_by(obj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def colors_to_read(spec: api.RAGDeploymentSpec, previous: Obj) -> tuple[Color, ...]:
    """The colors whose Prometheus signals the rollout planner reads this pass: none without a
    Prometheus, and none while paused (a paused stack's rollout is frozen, nothing is planned)."""
    state = blue_green.state_from_status(previous)
    if spec.monitoring.prometheus_url is None or (spec.paused and state.active_hash is not None):
        return ()
    return blue_green.colors_under_watch(state)


def quality_jobs_to_read(
    spec: api.RAGDeploymentSpec, previous: Obj, jobs: tuple[Obj, ...]
) -> tuple[Obj, ...]:
    """The finished evaluation Jobs whose pods hold a verdict not in status yet: the gate's
    while a rollout waits for one, and the newest scheduled check not reported yet."""
    gate = spec.api.rollout.quality_gate
    if gate is None:
        return ()
    state = blue_green.state_from_status(previous)
    wanted: list[Obj] = []
    if state.phase == "Progressing" and state.quality is None:
        wanted += [
            job
            for job in jobs
            if (job["metadata"].get("labels") or {}).get(COMPONENT_LABEL)
            == quality_builder.COMPONENT_GATE
            and last_backup.newest_finished([job]) is not None
        ]
    check = last_backup.unreported(
        list(jobs), previous.get("lastQualityCheck"), component=quality_builder.COMPONENT_CHECK
    )
    return (*wanted, *([check] if check is not None else []))
