"""The blue/green planner as a decision table, with an injected clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ragops_operator.planning.rollout import (
    ColorHealth,
    Observation,
    Plan,
    Policy,
    RolloutState,
    Signals,
    plan,
)

POLICY = Policy(observe_seconds=900, retire_delay_seconds=60, progress_deadline_seconds=600)
GONE = ColorHealth()


def ready(template: str) -> ColorHealth:
    return ColorHealth(exists=True, ready=3, desired=3, updated=True, template=template)


def starting(template: str) -> ColorHealth:
    return ColorHealth(exists=True, ready=1, desired=3, updated=True, template=template)


READY, STARTING = ready("v1"), starting("v2")
STABLE = RolloutState(phase="Stable", active_color="blue", active_hash="v1")


def _obs(
    desired: str, blue: ColorHealth = READY, green: ColorHealth = GONE, **extra: object
) -> Observation:
    """Blue runs v1 and is ready unless said otherwise."""
    return Observation(desired_hash=desired, health={"blue": blue, "green": green}, **extra)  # type: ignore[arg-type]


def _reasons(result: Plan) -> list[str]:
    return [reason for _, reason, _ in result.events]


def test_a_new_stack_serves_its_first_template() -> None:
    result = plan(RolloutState(), _obs("v1", blue=GONE), POLICY, now=0)
    assert (result.state.phase, result.state.active_hash, result.service, result.render) == (
        "Stable",
        "v1",
        "blue",
        ("blue",),
    )


def test_nothing_changes_while_the_template_is_the_same() -> None:
    result = plan(STABLE, _obs("v1"), POLICY, now=100)
    assert (result.render, result.keep, result.service, result.events) == (
        ("blue",),
        (),
        "blue",
        (),
    )


def test_a_template_change_starts_the_other_color_behind_a_preview() -> None:
    result = plan(STABLE, _obs("v2"), POLICY, now=100)
    assert result.state.phase == "Progressing" and result.state.preview_color == "green"
    assert (result.render, result.keep, result.service, result.preview_service) == (
        ("green",),
        ("blue",),
        "blue",
        "green",
    )
    assert _reasons(result) == ["RolloutStarted"]


def _progressing(now: float = 100) -> RolloutState:
    return plan(STABLE, _obs("v2"), POLICY, now=now).state


def test_health_gate_holds_the_switch_until_every_preview_pod_is_ready() -> None:
    waiting = plan(_progressing(), _obs("v2", green=STARTING), POLICY, now=200)
    assert waiting.service == "blue" and waiting.state.reason == "PreviewNotReady"
    assert "green: 1/3 ready" in waiting.state.message
    promoted = plan(waiting.state, _obs("v2", green=ready("v2")), POLICY, now=250)
    assert promoted.service == "green" and promoted.state.phase == "Observing"
    assert promoted.keep == ("blue",) and _reasons(promoted) == ["Promoted"]


def test_failing_metrics_block_the_switch() -> None:
    result = plan(
        _progressing(),
        _obs("v2", green=ready("v2"), signals={"green": Signals(error_rate_percent=12.0)}),
        POLICY,
        now=200,
    )
    assert result.service == "blue" and "error rate 12.0%" in result.state.message


def test_a_preview_that_never_gets_ready_is_aborted_and_not_retried() -> None:
    aborted = plan(_progressing(now=100), _obs("v2", green=STARTING), POLICY, now=701)
    assert aborted.state.phase == "Aborted" and aborted.service == "blue"
    assert aborted.retired == ("green",) and aborted.state.failed_hash == "v2"
    again = plan(aborted.state, _obs("v2"), POLICY, now=800)
    assert again.state.phase == "Aborted" and again.render == () and again.keep == ("blue",), (
        "the failed template must not be applied"
    )
    fixed = plan(again.state, _obs("v3"), POLICY, now=900)
    assert fixed.state.phase == "Progressing" and fixed.state.preview_hash == "v3"


def test_manual_promotion_when_auto_promote_is_off() -> None:
    manual = replace(POLICY, auto_promote=False)
    state = plan(STABLE, _obs("v2"), manual, now=100).state
    waiting = plan(state, _obs("v2", green=ready("v2")), manual, now=200)
    assert waiting.service == "blue" and waiting.state.reason == "AwaitingPromotion"
    promoted = plan(waiting.state, _obs("v2", green=ready("v2"), action="promote"), manual, now=210)
    assert promoted.service == "green" and promoted.consume_action


def test_manual_abort_stops_the_rollout_at_once() -> None:
    result = plan(
        _progressing(),
        _obs("v2", green=ready("v2"), action="abort"),
        replace(POLICY, auto_promote=False),
        now=200,
    )
    assert (
        result.state.phase == "Aborted"
        and result.service == "blue"
        and result.retired == ("green",)
    )
    assert result.consume_action and _reasons(result) == ["RolloutAborted"]


def _observing() -> RolloutState:
    return plan(_progressing(), _obs("v2", green=ready("v2")), POLICY, now=200).state


def test_readiness_lost_while_observing_rolls_back_to_the_ready_old_color() -> None:
    result = plan(_observing(), _obs("v2", green=STARTING), POLICY, now=300)
    assert result.service == "blue" and result.state.phase == "RolledBack"
    assert result.retired == ("green",) and result.state.failed_hash == "v2"
    assert _reasons(result) == ["RolledBack"]


def test_latency_over_threshold_while_observing_rolls_back() -> None:
    result = plan(
        _observing(),
        _obs("v2", green=ready("v2"), signals={"green": Signals(p95_seconds=3.5)}),
        POLICY,
        now=300,
    )
    assert result.service == "blue" and "p95 latency 3.50s" in result.state.message


def test_no_rollback_to_an_unready_old_color() -> None:
    result = plan(_observing(), _obs("v2", blue=starting("v1"), green=STARTING), POLICY, now=300)
    assert result.service == "green" and result.state.reason == "RollbackImpossible"
    assert result.keep == ("blue",), "the old color is kept, not deleted"


def test_auto_rollback_off_keeps_the_new_color() -> None:
    result = plan(
        _observing(), _obs("v2", green=STARTING), replace(POLICY, auto_rollback=False), now=300
    )
    assert result.service == "green" and result.state.phase == "Observing"


def test_after_observation_the_old_color_is_retired_after_the_delay() -> None:
    observed = plan(_observing(), _obs("v2", green=ready("v2")), POLICY, now=1100)
    assert observed.state.phase == "Retiring" and observed.keep == ("blue",)
    still = plan(observed.state, _obs("v2", green=ready("v2")), POLICY, now=1130)
    assert still.keep == ("blue",) and still.requeue_after == pytest.approx(30)
    retired = plan(still.state, _obs("v2", green=ready("v2")), POLICY, now=1161)
    assert (
        retired.state.phase == "Stable"
        and retired.retired == ("blue",)
        and retired.service == "green"
    )


def test_a_newer_change_while_progressing_supersedes_the_preview() -> None:
    result = plan(_progressing(), _obs("v3", green=STARTING), POLICY, now=200)
    assert result.state.preview_hash == "v3" and result.state.started_at == 200
    assert result.service == "blue" and "RolloutSuperseded" in _reasons(result)


def test_a_newer_change_while_observing_rebuilds_the_old_color() -> None:
    result = plan(_observing(), _obs("v3", green=ready("v2")), POLICY, now=300)
    assert result.state.phase == "Progressing" and result.state.preview_color == "blue"
    assert result.service == "green" and result.render == ("blue",) and result.keep == ("green",)
    rebuilt = plan(result.state, _obs("v3", blue=ready("v3"), green=ready("v2")), POLICY, now=320)
    assert rebuilt.service == "blue" and rebuilt.state.active_hash == "v3"


def test_reverting_the_spec_cancels_the_rollout() -> None:
    result = plan(_progressing(), _obs("v1", green=STARTING), POLICY, now=200)
    assert (
        result.state.phase == "Stable" and result.service == "blue" and result.retired == ("green",)
    )


@pytest.mark.parametrize("now", [100, 200, 250, 300, 701, 1100, 1161])
def test_the_service_always_selects_a_color_with_ready_pods(now: float) -> None:
    """Whatever happens, traffic goes to a color that was serving (or the only one left)."""
    state = STABLE
    for health, desired in [
        ((READY, GONE), "v2"),
        ((READY, STARTING), "v2"),
        ((READY, ready("v2")), "v2"),
        ((READY, STARTING), "v2"),
    ]:
        result = plan(state, _obs(desired, blue=health[0], green=health[1]), POLICY, now=now)
        chosen = {"blue": health[0], "green": health[1]}[result.service]
        assert chosen.serving, (state.phase, result.service)
        state = result.state


def test_with_prometheus_the_color_under_watch_is_looked_at_every_analysis_interval() -> None:
    watched = replace(POLICY, analysis_interval_seconds=15)
    waiting = plan(_progressing(now=100), _obs("v2", green=STARTING), watched, now=200)
    assert waiting.requeue_after == 15
    observing = plan(waiting.state, _obs("v2", green=ready("v2")), watched, now=250)
    assert observing.state.phase == "Observing" and observing.requeue_after == 15
    near_the_end = plan(observing.state, _obs("v2", green=ready("v2")), watched, now=250 + 890)
    assert near_the_end.requeue_after == 10, "the observation deadline is sooner than the next read"
    unwatched = plan(_progressing(now=100), _obs("v2", green=STARTING), POLICY, now=200)
    assert unwatched.requeue_after == 500, "without Prometheus only the deadline needs a look"


def test_unknown_signals_do_not_block_a_ready_color() -> None:
    """No requests in the window (or Prometheus unreachable): readiness alone decides."""
    result = plan(
        _progressing(), _obs("v2", green=ready("v2"), signals={"green": Signals()}), POLICY, now=200
    )
    assert result.service == "green" and result.state.phase == "Observing"


def test_failing_metrics_past_the_deadline_abort_with_the_metric_as_reason() -> None:
    bad = {"green": Signals(error_rate_percent=40.0)}
    result = plan(
        _progressing(now=100), _obs("v2", green=ready("v2"), signals=bad), POLICY, now=701
    )
    assert (
        result.state.phase == "Aborted"
        and result.service == "blue"
        and result.retired == ("green",)
    )
    assert "error rate 40.0% over 5%" in result.state.message
