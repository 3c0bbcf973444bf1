"""Glue between the cluster's objects and the pure rollout planner: state to and from status,
each color's health from its Deployment, the manual promote/abort annotation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.objects import Obj
from ragops_operator.planning import health, rollout

ACTION_ANNOTATION = "ragops.dev/rollout"
QUALITY_GRACE_SECONDS = 60
_TIMES = ("started_at", "switched_at", "retire_at", "quality_started_at")


def to_time(seconds: float | None) -> str | None:
    return (
        None
        if seconds is None
        else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _from_time(text: str | None) -> float | None:
    return (
        None
        if not text
        else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    )


def state_from_status(status: Obj) -> rollout.RolloutState:
    api_status = status.get("api") or {}
    saved = api.RolloutStatus.model_validate(api_status.get("rollout") or {})
    active = "green" if api_status.get("activeColor") == "green" else "blue"
    values = saved.model_dump()
    times = {name: _from_time(values.pop(name)) for name in _TIMES}
    return rollout.RolloutState(**{**values, **times, "active_color": active})


def state_to_status(state: rollout.RolloutState) -> Obj:
    values: dict[str, Any] = {
        "phase": state.phase,
        "active_hash": state.active_hash,
        "previous_color": state.previous_color,
        "previous_hash": state.previous_hash,
        "preview_color": state.preview_color,
        "preview_hash": state.preview_hash,
        "started_at": to_time(state.started_at),
        "switched_at": to_time(state.switched_at),
        "retire_at": to_time(state.retire_at),
        "failed_hash": state.failed_hash,
        "reason": state.reason,
        "message": state.message,
        "quality_started_at": to_time(state.quality_started_at),
        "quality": state.quality,
    }
    return api.RolloutStatus.model_validate(values).model_dump(by_alias=True)


def color_health(live: Obj | None, *, minimum: int) -> rollout.ColorHealth:
    if live is None:
        return rollout.ColorHealth()
    part = health.of_deployment("api", live, minimum=minimum)
    template = (live["metadata"].get("annotations") or {}).get(api_builder.TEMPLATE_ANNOTATION)
    return rollout.ColorHealth(
        exists=True, ready=part.ready, desired=part.desired, updated=part.updated, template=template
    )


def action_of(body: Obj) -> rollout.Action | None:
    value = (body["metadata"].get("annotations") or {}).get(ACTION_ANNOTATION)
    return cast(rollout.Action, value) if value in ("promote", "abort") else None


def policy_of(spec: api.RAGDeploymentSpec) -> rollout.Policy:
    settings = spec.api.rollout
    return rollout.Policy(
        observe_seconds=settings.observe_seconds,
        retire_delay_seconds=settings.retire_delay_seconds,
        progress_deadline_seconds=settings.progress_deadline_seconds,
        auto_promote=settings.auto_promote,
        auto_rollback=settings.auto_rollback,
        max_error_rate_percent=spec.monitoring.max_error_rate_percent,
        max_p95_seconds=spec.monitoring.max_p95_latency_seconds,
        analysis_interval_seconds=settings.analysis_interval_seconds
        if spec.monitoring.prometheus_url
        else None,
        quality_gate=settings.quality_gate is not None,
        # The Job's own deadline fires first; this covers a Job that never even started.
        quality_timeout_seconds=(
            settings.quality_gate.timeout_seconds + QUALITY_GRACE_SECONDS
            if settings.quality_gate is not None
            else 600
        ),
    )


def colors_under_watch(state: rollout.RolloutState) -> tuple[rollout.Color, ...]:
    """The colors whose signals the planner reads in this phase: the preview before the switch,
    the new active color while it is observed."""
    if state.phase == "Progressing" and state.preview_color is not None:
        return (state.preview_color,)
    if state.phase == "Observing":
        return (state.active_color,)
    return ()


def image_of(live: Obj | None) -> str | None:
    if live is None:
        return None
    containers = live["spec"]["template"]["spec"].get("containers") or []
    return str(containers[0]["image"]) if containers else None
