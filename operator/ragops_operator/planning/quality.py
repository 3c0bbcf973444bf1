"""The quality gate's verdict, decided purely from an evaluation Job and its pods.

The evaluation pod runs `ragops eval --url ... --summary-file /dev/termination-log`, so the
summary JSON (`kind: ragops-eval-summary`) is the container's termination message (or the last
line of its log tail when the file stayed empty). Evidence is required to promote: a Job that
failed without a summary, ran out of time, or left something that does not parse is an
`error`, never a pass; a summary is `passed` only when it says so AND every check it lists
passed AND every threshold the spec asks for was checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ragops_operator.objects import Obj
from ragops_operator.planning import last_backup, restore

Result = Literal["running", "passed", "failed", "error"]
SUMMARY_KIND = "ragops-eval-summary"
# A termination message is at most 4096 bytes; anything longer is not the CLI's summary.
MAX_MESSAGE = 4096


@dataclass(frozen=True)
class Verdict:
    result: Result
    message: str
    report: Obj | None = None  # status.api.rollout.quality / status.lastQualityCheck, once done

    @property
    def done(self) -> bool:
        return self.result != "running"


def parse_summary(message: str | None) -> Obj | None:
    """The eval summary in a termination message (whole, or its last line); None otherwise."""
    if not message or len(message) > MAX_MESSAGE:
        return None
    for candidate in (message, message.strip().splitlines()[-1] if message.strip() else ""):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if (
            isinstance(data, dict)
            and data.get("kind") == SUMMARY_KIND
            and isinstance(data.get("metrics"), dict)
            and isinstance(data.get("checks"), list)
            and isinstance(data.get("passed"), bool)
        ):
            return data
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metrics(raw: Any) -> dict[str, float | None]:
    if not isinstance(raw, dict):
        return {}
    return {str(k)[:64]: _number(v) for k, v in list(raw.items())[:32]}


def _checks(raw: list[Any]) -> list[Obj]:
    checks = []
    for item in raw[:32]:
        if not isinstance(item, dict):
            continue
        checks.append(
            {
                "metric": str(item.get("metric"))[:64],
                "kind": str(item.get("kind"))[:16],
                "value": _number(item.get("value")),
                "threshold": _number(item.get("threshold")),
                "baseline": _number(item.get("baseline")),
                "allowed": _number(item.get("allowed")),
                "passed": item.get("passed") is True,
            }
        )
    return checks


def _show(value: float | None) -> str:
    return "no data" if value is None else f"{value:g}"


def describe_check(
    check: Obj, *, color: str | None, baseline_color: str | None, baseline: Mapping[str, Any]
) -> str:
    """The failed check for humans: the metric, both colors' values and the threshold."""
    metric, value = check["metric"], check["value"]
    other = check["baseline"] if check["baseline"] is not None else _number(baseline.get(metric))
    values = f"{metric} {_show(value)} on {color or 'the preview'}"
    # Both colors' values where the active color was measured too (not for e.g. an errors check).
    if baseline_color is not None and (other is not None or check["kind"] == "regression"):
        values += f" vs {_show(other)} on {baseline_color}"
    if check["kind"] == "regression":
        return f"{values}: regression allowed {_show(check['allowed'])}"
    if check["kind"] == "min":
        return f"{values}: minimum {_show(check['threshold'])}"
    return f"{values}: {check['kind']} {_show(check['threshold'])}"


def verdict(
    job: Obj | None,
    pods: Sequence[Obj],
    *,
    color: str | None,
    baseline_color: str | None,
    wanted: Sequence[tuple[str, str]],
    now: str,
) -> Verdict:
    """`wanted`: the (kind, metric) checks the spec asks for (min / regression); a summary
    missing one of them does not pass."""
    if job is None:
        return Verdict("running", "creating the evaluation Job")
    name = str(job["metadata"]["name"])
    complete = restore.job_condition(job, "Complete") is not None
    failure = restore.job_failure(job)
    if not complete and failure is None:
        return Verdict("running", f"evaluating {color} (job {name})")
    newest_first = sorted(
        pods, key=lambda pod: pod["metadata"].get("creationTimestamp") or "", reverse=True
    )
    summary = next(
        (
            s
            for pod in newest_first
            if (s := parse_summary(last_backup.termination_message(pod))) is not None
        ),
        None,
    )
    report: Obj = {
        "color": color,
        "baselineColor": baseline_color,
        "time": now,
        "job": name,
        "metrics": {},
        "baselineMetrics": None,
        "checks": [],
        "questions": None,
    }
    if summary is None:
        why = failure or "it left no summary"
        if "deadline" in why.lower():
            why = f"timed out ({why})"
        message = f"evaluation Job {name} gave no usable result: {why}; see kubectl logs job/{name}"
        return Verdict("error", message, {**report, "result": "error", "message": message})
    baseline = summary.get("baseline") if isinstance(summary.get("baseline"), dict) else None
    baseline_metrics = _metrics(baseline.get("metrics")) if baseline is not None else None
    checks = _checks(summary["checks"])
    report = {
        **report,
        "metrics": _metrics(summary["metrics"]),
        "baselineMetrics": baseline_metrics,
        "checks": checks,
        "questions": int(q) if (q := _number(summary.get("questions"))) is not None else None,
    }
    failed = [c for c in checks if not c["passed"]]
    if failed:
        first = describe_check(
            failed[0], color=color, baseline_color=baseline_color, baseline=baseline_metrics or {}
        )
        more = f" (and {len(failed) - 1} more failed checks)" if len(failed) > 1 else ""
        message = first + more
        return Verdict("failed", message, {**report, "result": "failed", "message": message})
    missing = [
        f"{k} {m}"
        for k, m in wanted
        if not any(c["kind"] == k and c["metric"] == m for c in checks)
    ]
    if missing:
        message = f"the summary of {name} has no check for {', '.join(missing)}"
    elif not summary["passed"] or failure is not None:
        errors = summary.get("errors")
        message = f"the evaluation did not pass (errors: {errors}); see kubectl logs job/{name}"
    else:
        checked = ", ".join(f"{c['metric']} {_show(c['value'])}" for c in checks) or "no checks"
        message = f"{color} passed the quality gate: {checked}"
        return Verdict("passed", message, {**report, "result": "passed", "message": message})
    return Verdict("error", message, {**report, "result": "error", "message": message})


def wanted_checks(
    minimums: Mapping[str, float], regressions: Mapping[str, float]
) -> list[tuple[str, str]]:
    return [("min", m) for m in sorted(minimums)] + [("regression", m) for m in sorted(regressions)]
