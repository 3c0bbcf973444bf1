"""The RAGDeployment's status, computed purely from what the reconcile saw and did."""

from __future__ import annotations

from dataclasses import dataclass, field

from ragops_operator.builders import api as api_builder
from ragops_operator.builders import config
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj
from ragops_operator.planning import conditions, health
from ragops_operator.planning.reindex import IndexState, to_status
from ragops_operator.planning.restore import Restore


@dataclass(frozen=True)
class Observation:
    """What one reconcile pass learned; the inputs of `compute`."""

    owner: Owner
    generation: int
    active_color: api_builder.Color
    api_image: str
    children: dict[
        tuple[str, str], Obj
    ]  # (kind, name) -> object as last returned by the API server
    paused: bool = False
    monitoring_wanted: bool = True
    prometheus_operator: bool = False
    errors: list[str] = field(default_factory=list)
    minimum_replicas: tuple[int, int, int] = (1, 1, 1)  # api, worker, qdrant: the spec's floors
    # Qdrant peers that may be down while every shard keeps a copy: replicationFactor - 1.
    qdrant_tolerated: int = 0
    missing_secrets: tuple[str, ...] = ()  # planning/secrets.missing: one line per Secret
    unreadable_secrets: tuple[str, ...] = ()  # not readable (no RBAC `get`): not checked
    preview_color: str | None = None
    preview_image: str | None = None
    rollout: Obj | None = None  # status.api.rollout, as blue_green.state_to_status writes it
    restore: Restore | None = None  # spec.restore's progress; None without one
    last_backup: Obj | None = None  # status.lastBackup, as last_backup.from_job writes it
    last_verification: Obj | None = None  # status.lastBackupVerification, likewise
    index: IndexState | None = None  # the embedding model's index and a change in progress
    index_job: str | None = None  # the reindex Job running for it
    quality_check: Obj | None = None  # status.lastQualityCheck (planning/quality.py's report)
    quality_scheduled: bool = False  # a scheduled evaluation exists: QualityDegraded is reported


def _child(observed: Observation, kind: str, suffix: str) -> Obj | None:
    return observed.children.get((kind, observed.owner.child_name(suffix)))


def component_health(observed: Observation) -> tuple[health.Health, health.Health, health.Health]:
    color = observed.active_color
    api_min, worker_min, qdrant_min = observed.minimum_replicas
    return (
        health.of_deployment(
            "api", _child(observed, "Deployment", f"api-{color}"), minimum=api_min
        ),
        health.of_deployment(
            "worker", _child(observed, "Deployment", "worker"), minimum=worker_min
        ),
        health.of_stateful_set(
            "qdrant", _child(observed, "StatefulSet", "qdrant"), minimum=qdrant_min
        ),
    )


def _conditions(
    observed: Observation, parts: tuple[health.Health, ...]
) -> list[conditions.Condition]:
    waiting = [p.describe() for p in parts if not p.serving]
    rolling = [p.describe() for p in parts if not p.updated]
    C = conditions.Condition
    ready = C(conditions.READY, "True", "AllComponentsReady", "api, worker and qdrant are serving")
    if waiting:
        ready = C(
            conditions.READY, "False", "ComponentsNotReady", "waiting for " + "; ".join(waiting)
        )
    if observed.missing_secrets:
        # On a real cluster the pods could not start; on any cluster they must not look Ready.
        ready = C(
            conditions.READY,
            "False",
            "SecretMissing",
            "; ".join([*observed.missing_secrets, *waiting]),
        )
    restoring = observed.restore is not None and observed.restore.phase == "Running"
    restore_failed = observed.restore is not None and observed.restore.phase == "Failed"
    if observed.restore is not None and (restoring or restore_failed):
        # An empty index must not look Ready: queries would find nothing until the restore ends.
        reason = "Restoring" if restoring else "RestoreFailed"
        ready = C(
            conditions.READY, "False", reason, "; ".join([observed.restore.message, *waiting])
        )
    phase, rollout_reason, rollout_message = _rollout(observed)
    index = observed.index
    if observed.paused:
        progressing = C(
            conditions.PROGRESSING,
            "False",
            "Paused",
            "spec.paused is true: children are not changed",
        )
    elif phase in ("Progressing", "Observing", "Retiring"):
        progressing = C(
            conditions.PROGRESSING,
            "True",
            f"BlueGreen{phase}",
            f"{rollout_reason}: {rollout_message}",
        )
    elif restoring and observed.restore is not None:
        progressing = C(conditions.PROGRESSING, "True", "Restoring", observed.restore.message)
    elif index is not None and index.phase not in ("Ready", "Failed") and not index.failed:
        progressing = C(conditions.PROGRESSING, "True", f"Reindex{index.phase}", index.message)
    elif rolling:
        progressing = C(conditions.PROGRESSING, "True", "RollingOut", "; ".join(rolling))
    else:
        progressing = C(
            conditions.PROGRESSING, "False", "ReconcileComplete", "children match the spec"
        )
    degraded = C(conditions.DEGRADED, "False", "AsExpected", "")
    if observed.errors:
        degraded = C(conditions.DEGRADED, "True", "ApplyFailed", "; ".join(observed.errors)[:1000])
    elif restore_failed and observed.restore is not None:
        degraded = C(conditions.DEGRADED, "True", "RestoreFailed", observed.restore.message)
    elif index is not None and index.failed:
        degraded = C(conditions.DEGRADED, "True", "ReindexFailed", index.message)
    elif phase in ("RolledBack", "Aborted"):
        degraded = C(
            conditions.DEGRADED, "True", f"Rollout{phase}", f"{rollout_reason}: {rollout_message}"
        )
    elif any(p.updated and p.ready < p.desired for p in parts):
        lost = [p.describe() for p in parts if p.updated and p.ready < p.desired]
        degraded = C(conditions.DEGRADED, "True", "ReplicasUnavailable", "; ".join(lost))
    quality = [_quality(observed.quality_check)] if observed.quality_scheduled else []
    return [
        ready,
        _available(observed, parts),
        progressing,
        degraded,
        secrets_condition(observed.missing_secrets, observed.unreadable_secrets),
        _monitoring(observed),
        *quality,
    ]


def secrets_condition(
    missing: tuple[str, ...], unreadable: tuple[str, ...]
) -> conditions.Condition:
    C = conditions.Condition
    if missing:
        return C(conditions.SECRETS, "False", "SecretMissing", "; ".join(missing)[:1000])
    if unreadable:
        return C(
            conditions.SECRETS,
            "Unknown",
            "SecretsNotReadable",
            "the operator may not get Secret " + ", ".join(unreadable) + ": apply `ragops rbac`",
        )
    return C(conditions.SECRETS, "True", "AllFound", "every referenced Secret and key exists")


def _available(observed: Observation, parts: tuple[health.Health, ...]) -> conditions.Condition:
    """Serving, whatever the template: the active API color answers (a rollout's old color
    still does), a worker ingests, and enough Qdrant peers are ready for every shard to keep a
    copy. A restore in progress is not serving: the index is still empty."""
    api_part, worker_part, qdrant_part = parts
    C = conditions.Condition
    if observed.restore is not None and observed.restore.phase in ("Running", "Failed"):
        reason = "Restoring" if observed.restore.phase == "Running" else "RestoreFailed"
        return C(conditions.AVAILABLE, "False", reason, observed.restore.message)
    qdrant_needed = max(1, qdrant_part.desired - observed.qdrant_tolerated)
    missing = [
        f"{part.name} {part.ready}/{part.desired} ready (needs {needed})"
        for part, needed in (
            (api_part, 1),
            (worker_part, 1),
            (qdrant_part, qdrant_needed),
        )
        if part.ready < needed
    ]
    if missing:
        return C(conditions.AVAILABLE, "False", "NotServing", "; ".join(missing))
    counts = ", ".join(f"{p.name} {p.ready}/{p.desired}" for p in parts)
    return C(
        conditions.AVAILABLE,
        "True",
        "Serving",
        f"{observed.active_color} API color answers; ready: {counts}",
    )


def _quality(check: Obj | None) -> conditions.Condition:
    """QualityDegraded from the newest scheduled evaluation of the active color: True below a
    threshold, Unknown without a usable result (no evidence either way)."""
    C = conditions.Condition
    if check is None:
        return C(conditions.QUALITY_DEGRADED, "Unknown", "NotEvaluatedYet", "no scheduled run yet")
    result, message = check.get("result"), str(check.get("message") or "")[:1000]
    if result == "failed":
        return C(conditions.QUALITY_DEGRADED, "True", "BelowThresholds", message)
    if result == "passed":
        return C(conditions.QUALITY_DEGRADED, "False", "AsExpected", message)
    return C(conditions.QUALITY_DEGRADED, "Unknown", "EvaluationError", message)


def _rollout(observed: Observation) -> tuple[str, str, str]:
    saved = observed.rollout or {}
    return (
        str(saved.get("phase") or "Stable"),
        str(saved.get("reason") or ""),
        str(saved.get("message") or ""),
    )


def _monitoring(observed: Observation) -> conditions.Condition:
    C = conditions.Condition
    if not observed.monitoring_wanted:
        return C(
            conditions.MONITORING,
            "False",
            "Disabled",
            "spec.monitoring turns ServiceMonitors and PrometheusRule off",
        )
    if observed.prometheus_operator:
        return C(
            conditions.MONITORING,
            "True",
            "PrometheusOperatorFound",
            "ServiceMonitors and PrometheusRule are applied",
        )
    return C(
        conditions.MONITORING,
        "False",
        "PrometheusOperatorMissing",
        "monitoring.coreos.com/v1 is not served: "
        "install the Prometheus Operator CRDs for ServiceMonitors and alerts",
    )


def compute(observed: Observation, previous: Obj, *, now: str) -> Obj:
    api_part, worker_part, qdrant_part = parts = component_health(observed)
    owner = observed.owner
    return {
        "observedGeneration": observed.generation,
        "conditions": conditions.merge(
            previous.get("conditions") or [],
            _conditions(observed, parts),
            generation=observed.generation,
            now=now,
        ),
        "api": {
            "activeColor": observed.active_color,
            "activeImage": observed.api_image,
            "previewColor": observed.preview_color,
            "previewImage": observed.preview_image,
            "replicas": api_part.desired,
            "readyReplicas": api_part.ready,
            "rollout": observed.rollout,
        },
        "worker": {"replicas": worker_part.desired, "readyReplicas": worker_part.ready},
        "vectorStore": {"replicas": qdrant_part.desired, "readyReplicas": qdrant_part.ready},
        "endpoints": {"api": api_builder.url(owner), "qdrant": config.qdrant_url(owner)},
        "restore": observed.restore.to_status() if observed.restore is not None else None,
        "lastBackup": observed.last_backup,
        "lastBackupVerification": observed.last_verification,
        "index": to_status(observed.index, observed.index_job)
        if observed.index is not None
        else None,
        "lastQualityCheck": observed.quality_check,
    }


def changed(previous: Obj, current: Obj) -> bool:
    """Whether writing `current` would change anything we own (avoids no-op status writes)."""
    return any(previous.get(key) != value for key, value in current.items())
