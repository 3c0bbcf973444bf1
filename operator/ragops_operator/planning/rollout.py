"""The blue/green planner of the API, as one pure function:
(state, observation, policy, now) -> plan.

Lessons from Argo Rollouts and KubeRay, and from their users' bug reports:
- the Service moves to a color only when every one of its pods is ready (never to an unready color);
- the old color is never scaled down before the new one serves and has been observed;
- a rollback moves the Service back only to a color that is still ready;
- an abort stops the rollout at once and for good: the failed template is remembered and not
  retried until the spec changes again;
- the retired color is deleted (its Deployment and HPA), not left behind at some size.
Each color has its own HPA, so the preview starts at full size and the active color keeps
scaling under load during the rollout.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ragops_operator.planning.quality import Verdict

Color = Literal["blue", "green"]
Phase = Literal["Stable", "Progressing", "Observing", "Retiring", "RolledBack", "Aborted"]
Action = Literal["promote", "abort"]
Event = tuple[str, str, str]  # (Normal|Warning, Reason, message)


def other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


@dataclass(frozen=True)
class RolloutState:
    """What the operator remembers between passes (stored in status.api.rollout)."""

    phase: Phase = "Stable"
    active_color: Color = "blue"
    active_hash: str | None = None
    previous_color: Color | None = None  # the last good color, kept while the new one is observed
    previous_hash: str | None = None
    preview_color: Color | None = None
    preview_hash: str | None = None
    started_at: float | None = None
    switched_at: float | None = None
    retire_at: float | None = None
    failed_hash: str | None = None  # rolled back or aborted: not retried until the spec changes
    reason: str = ""
    message: str = ""
    quality_started_at: float | None = None  # the quality gate's evaluation Job was wanted
    quality: dict[str, Any] | None = field(default=None, hash=False)  # its verdict, once known


@dataclass(frozen=True)
class ColorHealth:
    exists: bool = False
    ready: int = 0
    desired: int = 1
    updated: bool = False
    template: str | None = None  # the API template hash the color's pods run

    @property
    def serving(self) -> bool:
        return self.exists and self.updated and self.desired >= 1 and self.ready >= self.desired

    def serves(self, template: str | None) -> bool:
        """Serving, and with that template (a ready color on an older template does not count)."""
        return self.serving and template is not None and self.template == template

    def describe(self, color: Color) -> str:
        return f"{color}: {self.ready}/{self.desired} ready" if self.exists else f"{color}: no pods"


@dataclass(frozen=True)
class Signals:
    """From Prometheus, when configured; None means unknown (not a failure)."""

    error_rate_percent: float | None = None
    p95_seconds: float | None = None


@dataclass(frozen=True)
class Policy:
    observe_seconds: float = 900
    retire_delay_seconds: float = 60
    progress_deadline_seconds: float = 600
    auto_promote: bool = True
    auto_rollback: bool = True
    max_error_rate_percent: float = 5.0
    max_p95_seconds: float = 2.0
    analysis_interval_seconds: float | None = None  # Prometheus configured: look again this often
    quality_gate: bool = False  # spec.api.rollout.qualityGate: promote only on a passed evaluation
    quality_timeout_seconds: float = 600

    def next_look(self, deadline: float) -> float:
        """When a color under watch needs another look: its deadline, or sooner to read
        Prometheus."""
        if self.analysis_interval_seconds is None:
            return deadline
        return min(deadline, self.analysis_interval_seconds)


@dataclass(frozen=True)
class Observation:
    desired_hash: str
    health: dict[Color, ColorHealth] = field(default_factory=dict)
    signals: dict[Color, Signals] = field(default_factory=dict)
    action: Action | None = None
    quality: Verdict | None = None  # the evaluation Job of desired_hash, when there is one


@dataclass(frozen=True)
class Plan:
    state: RolloutState
    render: tuple[Color, ...]  # colors applied from the current spec
    keep: tuple[Color, ...]  # colors left exactly as they are (neither applied nor pruned)
    service: Color  # the color the API Service selects
    preview_service: Color | None  # the color the preview Service selects, if any
    events: tuple[Event, ...] = ()
    consume_action: bool = False
    requeue_after: float | None = None  # seconds until a deadline needs another look
    evaluate: bool = False  # the quality gate's evaluation Job of the preview is wanted

    @property
    def retired(self) -> tuple[Color, ...]:
        return tuple(c for c in ("blue", "green") if c not in self.render and c not in self.keep)


def _health(obs: Observation, color: Color) -> ColorHealth:
    return obs.health.get(color, ColorHealth())


def failing_signals(signals: Signals, policy: Policy) -> str | None:
    if (
        signals.error_rate_percent is not None
        and signals.error_rate_percent > policy.max_error_rate_percent
    ):
        return (
            f"error rate {signals.error_rate_percent:.1f}% over {policy.max_error_rate_percent:g}%"
        )
    if signals.p95_seconds is not None and signals.p95_seconds > policy.max_p95_seconds:
        return f"p95 latency {signals.p95_seconds:.2f}s over {policy.max_p95_seconds:g}s"
    return None


def plan(state: RolloutState, obs: Observation, policy: Policy, now: float) -> Plan:
    if state.active_hash is None:  # a new stack: its first template is simply the active one
        first = replace(state, phase="Stable", active_hash=obs.desired_hash)
        return Plan(
            first,
            render=(first.active_color,),
            keep=(),
            service=first.active_color,
            preview_service=None,
        )
    if state.phase == "Progressing":
        return _progressing(state, obs, policy, now)
    if state.phase == "Observing":
        return _observing(state, obs, policy, now)
    return _settled(state, obs, policy, now)


def _settled(state: RolloutState, obs: Observation, policy: Policy, now: float) -> Plan:
    """Stable, Retiring, RolledBack or Aborted: one color serves; maybe start a rollout."""
    active = state.active_color
    if obs.desired_hash not in (state.active_hash, state.failed_hash):
        started = replace(
            state,
            phase="Progressing",
            preview_color=other(active),
            preview_hash=obs.desired_hash,
            started_at=now,
            retire_at=None,
            previous_color=None,
            previous_hash=None,
            reason="PreviewStarting",
            message=f"starting {other(active)} with the new API template",
            quality_started_at=None,
            quality=None,
        )
        event = (
            "Normal",
            "RolloutStarted",
            f"Started {other(active)} with the new API template; {active} keeps serving",
        )
        return _progressing(started, obs, policy, now, events=(event,))
    render = (active,) if obs.desired_hash == state.active_hash else ()
    keep = () if render else (active,)  # the spec still holds a failed template: do not apply it
    if state.phase == "Retiring" and state.previous_color is not None:
        assert state.retire_at is not None
        if now < state.retire_at:
            return Plan(
                state,
                render=render,
                keep=(*keep, state.previous_color),
                service=active,
                preview_service=None,
                requeue_after=state.retire_at - now,
            )
        done = replace(
            state,
            phase="Stable",
            previous_color=None,
            previous_hash=None,
            retire_at=None,
            reason="RolloutComplete",
            message=f"{active} serves; {state.previous_color} retired",
        )
        return Plan(
            done,
            render=render,
            keep=keep,
            service=active,
            preview_service=None,
            events=(("Normal", "Retired", f"Retired {state.previous_color} after the rollout"),),
        )
    return Plan(state, render=render, keep=keep, service=active, preview_service=None)


def _stop(state: RolloutState, *, phase: Phase, reason: str, message: str) -> RolloutState:
    return replace(
        state,
        phase=phase,
        preview_color=None,
        preview_hash=None,
        started_at=None,
        failed_hash=state.preview_hash,
        reason=reason,
        message=message,
        quality_started_at=None,
    )


def _progressing(
    state: RolloutState,
    obs: Observation,
    policy: Policy,
    now: float,
    *,
    events: tuple[Event, ...] = (),
) -> Plan:
    active, preview = state.active_color, state.preview_color
    assert preview is not None and state.started_at is not None
    if obs.desired_hash == state.active_hash:  # the change was reverted: nothing to roll out
        cancelled = replace(
            _stop(
                state,
                phase="Stable",
                reason="RolloutCancelled",
                message="the spec went back to the active template",
            ),
            failed_hash=state.failed_hash,
        )
        return Plan(
            cancelled,
            render=(active,),
            keep=(),
            service=active,
            preview_service=None,
            events=(
                *events,
                (
                    "Normal",
                    "RolloutCancelled",
                    f"Deleted {preview}: the spec went back to {active}'s template",
                ),
            ),
        )
    if obs.desired_hash != state.preview_hash:  # superseded: the preview follows the newest spec
        state = replace(
            state,
            preview_hash=obs.desired_hash,
            started_at=now,
            reason="PreviewStarting",
            message=f"{preview} restarted with a newer API template",
            quality_started_at=None,
            quality=None,
        )
        events = (
            *events,
            ("Normal", "RolloutSuperseded", f"Replaced {preview} with the newest API template"),
        )
    if obs.action == "abort":
        aborted = _stop(
            state,
            phase="Aborted",
            reason="AbortedByUser",
            message=f"rollout aborted; {active} keeps serving",
        )
        return Plan(
            aborted,
            render=(),
            keep=(active,),
            service=active,
            preview_service=None,
            consume_action=True,
            events=(
                *events,
                (
                    "Warning",
                    "RolloutAborted",
                    f"Aborted by request: deleted {preview}; {active} keeps serving",
                ),
            ),
        )
    health = _health(obs, preview)
    ready = health.serves(state.preview_hash)
    failing = failing_signals(obs.signals.get(preview, Signals()), policy) if ready else None
    if ready and failing is None and policy.quality_gate:
        state, gated, events = _quality_gate(state, obs, policy, now, events)
        if gated is not None:
            return gated
    if ready and failing is None and (policy.auto_promote or obs.action == "promote"):
        switched = replace(
            state,
            phase="Observing",
            active_color=preview,
            active_hash=state.preview_hash,
            previous_color=active,
            previous_hash=state.active_hash,
            preview_color=None,
            preview_hash=None,
            switched_at=now,
            reason="Observing",
            message=f"{preview} serves; watching it for {policy.observe_seconds:g}s",
        )
        return Plan(
            switched,
            render=(preview,),
            keep=(active,),
            service=preview,
            preview_service=None,
            consume_action=obs.action == "promote",
            requeue_after=policy.next_look(policy.observe_seconds),
            events=(
                *events,
                ("Normal", "Promoted", f"Switched the API Service from {active} to {preview}"),
            ),
        )
    assert state.started_at is not None
    elapsed = now - state.started_at
    if elapsed >= policy.progress_deadline_seconds:
        why = failing or health.describe(preview)
        aborted = _stop(
            state,
            phase="Aborted",
            reason="PreviewNotHealthy",
            message=f"{why} after {elapsed:.0f}s",
        )
        return Plan(
            aborted,
            render=(),
            keep=(active,),
            service=active,
            preview_service=None,
            events=(
                *events,
                (
                    "Warning",
                    "RolloutAborted",
                    f"{preview} not healthy in time ({why}); {active} keeps serving",
                ),
            ),
        )
    waiting = "AwaitingPromotion" if ready and failing is None else "PreviewNotReady"
    message = (
        f"{preview} ready; promote with the ragops.dev/rollout=promote annotation"
        if waiting == "AwaitingPromotion"
        else (failing or health.describe(preview))
    )
    state = replace(state, reason=waiting, message=message)
    return Plan(
        state,
        render=(preview,),
        keep=(active,),
        service=active,
        preview_service=preview,
        events=events,
        requeue_after=policy.next_look(policy.progress_deadline_seconds - elapsed),
    )


def _quality_gate(
    state: RolloutState,
    obs: Observation,
    policy: Policy,
    now: float,
    events: tuple[Event, ...],
) -> tuple[RolloutState, Plan | None, tuple[Event, ...]]:
    """The ready, healthy preview's evaluation: (state, None, events) once it passed (promotion
    goes on as without a gate); otherwise the plan that waits for it or aborts the rollout.
    Only a passed verdict lets the preview through: a missing, failed, timed out or unusable
    evaluation never does."""
    active, preview = state.active_color, state.preview_color
    assert preview is not None
    if state.quality_started_at is not None and (state.quality or {}).get("result") == "passed":
        return state, None, events  # decided on an earlier pass (e.g. waiting for a manual promote)
    if state.quality_started_at is None:
        state = replace(state, quality_started_at=now, quality=None)
        events = (
            *events,
            (
                "Normal",
                "QualityGateStarted",
                f"Evaluating {preview} with the golden questions before promotion",
            ),
        )
    assert state.quality_started_at is not None
    verdict = obs.quality or Verdict("running", "creating the evaluation Job")
    if verdict.result == "passed":
        passed = replace(state, quality=verdict.report)
        return passed, None, (*events, ("Normal", "QualityGatePassed", verdict.message))
    waited = now - state.quality_started_at
    if verdict.result == "running" and waited < policy.quality_timeout_seconds:
        waiting = replace(state, reason="QualityGatePending", message=verdict.message)
        return (
            waiting,
            Plan(
                waiting,
                render=(preview,),
                keep=(active,),
                service=active,
                preview_service=preview,
                events=events,
                evaluate=True,
                # Job changes trigger a pass; the timeout needs one even without them.
                requeue_after=policy.next_look(policy.quality_timeout_seconds - waited),
            ),
            events,
        )
    if verdict.result == "failed":
        reason, why = "QualityGateFailed", verdict.message
    elif verdict.result == "error":
        reason, why = "QualityGateError", verdict.message
    else:
        reason = "QualityGateError"
        limit = policy.quality_timeout_seconds
        why = f"no evaluation result after {waited:.0f}s (timeout {limit:g}s)"
    report = verdict.report or {"result": "error", "color": preview, "message": why}
    aborted = replace(
        _stop(state, phase="Aborted", reason=reason, message=f"{preview} not promoted: {why}"),
        quality=report,
    )
    plan_ = Plan(
        aborted,
        render=(),
        keep=(active,),
        service=active,
        preview_service=None,
        events=(
            *events,
            ("Warning", reason, f"{preview} not promoted: {why}; {active} keeps serving"),
        ),
    )
    return aborted, plan_, plan_.events


def _observing(state: RolloutState, obs: Observation, policy: Policy, now: float) -> Plan:
    active, previous = state.active_color, state.previous_color
    assert previous is not None and state.switched_at is not None
    if obs.desired_hash not in (state.active_hash, state.failed_hash):
        # A newer change: the last good color is rebuilt with it; the current one keeps serving.
        superseded = replace(
            state,
            phase="Progressing",
            preview_color=previous,
            preview_hash=obs.desired_hash,
            started_at=now,
            previous_color=None,
            previous_hash=None,
            switched_at=None,
            reason="PreviewStarting",
            message=f"starting {previous} with a newer API template",
            quality_started_at=None,
            quality=None,
        )
        return _progressing(
            superseded,
            obs,
            policy,
            now,
            events=(
                (
                    "Normal",
                    "RolloutSuperseded",
                    f"Rebuilding {previous} with a newer API template; {active} keeps serving",
                ),
            ),
        )
    health = _health(obs, active)
    failure = (
        None if health.serves(state.active_hash) else f"readiness lost ({health.describe(active)})"
    )
    failure = failure or failing_signals(obs.signals.get(active, Signals()), policy)
    if obs.action == "abort":
        failure = "aborted by request"
    if failure is not None and (policy.auto_rollback or obs.action == "abort"):
        if _health(obs, previous).serves(state.previous_hash):
            rolled = replace(
                state,
                phase="RolledBack",
                active_color=previous,
                active_hash=state.previous_hash,
                previous_color=None,
                previous_hash=None,
                switched_at=None,
                failed_hash=state.active_hash,
                reason="RolledBack",
                message=f"{active} failed while observed: {failure}",
            )
            return Plan(
                rolled,
                render=(),
                keep=(previous,),
                service=previous,
                preview_service=None,
                consume_action=obs.action == "abort",
                events=(
                    (
                        "Warning",
                        "RolledBack",
                        f"Switched the API Service back to {previous}: {active} {failure}",
                    ),
                ),
            )
        stuck = replace(
            state,
            reason="RollbackImpossible",
            message=f"{active}: {failure}; {previous} is not ready either",
        )
        return Plan(
            stuck,
            render=(active,),
            keep=(previous,),
            service=active,
            preview_service=None,
            consume_action=obs.action == "abort",
            events=(
                (
                    "Warning",
                    "RollbackImpossible",
                    f"{active} {failure}, but {previous} is not ready: keeping {active}",
                ),
            ),
        )
    observed_for = now - state.switched_at
    if observed_for >= policy.observe_seconds:
        retiring = replace(
            state,
            phase="Retiring",
            retire_at=now + policy.retire_delay_seconds,
            reason="Retiring",
            message=f"{active} passed observation; retiring {previous}",
        )
        return Plan(
            retiring,
            render=(active,),
            keep=(previous,),
            service=active,
            preview_service=None,
            requeue_after=policy.retire_delay_seconds,
            events=(
                ("Normal", "RolloutObserved", f"{active} healthy for {policy.observe_seconds:g}s"),
            ),
        )
    return Plan(
        state,
        render=(active,),
        keep=(previous,),
        service=active,
        preview_service=None,
        requeue_after=policy.next_look(policy.observe_seconds - observed_for),
    )
