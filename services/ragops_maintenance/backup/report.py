"""How a backup run tells the world: the pod's termination message and Prometheus metrics.

The termination message (`/dev/termination-log`, at most 4096 bytes) is what the operator
reads from the Job's pod to fill `status.lastBackup`; the metrics are what the BackupFailed
alert of the stack's PrometheusRule watches, with the names and `job` label fixed by
`ragops_operator.builders.monitoring.BACKUP_METRICS`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

log = logging.getLogger(__name__)

LAST_SUCCESS = "ragops_backup_last_success_timestamp_seconds"
LAST_RESULT = "ragops_backup_last_result"
JOB_SUFFIX = "backup"
TERMINATION_LIMIT = 4096


def termination_message(
    *,
    time: datetime,
    snapshot: str | None,
    result: str,
    points: int | None,
    message: str | None = None,
) -> str:
    """`{time, snapshot, result, points[, message]}` as JSON, cut to fit Kubernetes' limit."""
    body: dict[str, object] = {
        "time": time.isoformat().replace("+00:00", "Z"),
        "snapshot": snapshot,
        "result": result,
        "points": points,
    }
    if message:
        body["message"] = message
    text = json.dumps(body)
    if len(text.encode()) > TERMINATION_LIMIT and message:
        overflow = len(text.encode()) - TERMINATION_LIMIT + 3
        body["message"] = (
            message.encode()[: max(0, len(message.encode()) - overflow)].decode(errors="ignore")
            + "..."
        )
        text = json.dumps(body)
    return text


def verification_message(*, time: datetime, backup: str | None, ok: bool, reason: str) -> str:
    """`{kind: verification, time, backup, result: ok|failed, reason}` for the verify Job's pod,
    which the operator reads into `status.lastBackupVerification`."""
    body: dict[str, object] = {
        "kind": "verification",
        "time": time.isoformat().replace("+00:00", "Z"),
        "backup": backup,
        "result": "ok" if ok else "failed",
        "reason": reason,
    }
    text = json.dumps(body)
    if len(text.encode()) > TERMINATION_LIMIT:
        overflow = len(text.encode()) - TERMINATION_LIMIT + 3
        cut = reason.encode()[: max(0, len(reason.encode()) - overflow)]
        body["reason"] = cut.decode(errors="ignore") + "..."
        text = json.dumps(body)
    return text


def write_termination_message(path: Path, text: str) -> bool:
    """Write where Kubernetes looks; outside a pod the path is usually absent or not writable."""
    try:
        with path.open("w") as out:
            out.write(text)
    except OSError as exc:
        log.debug("Skipped termination message at %s: %s", path, exc)
        return False
    return True


def registry_for(*, success: bool, finished: datetime) -> CollectorRegistry:
    """The gauges of one run: the result always, the success time only on success (so a failure
    pushed with POST leaves the last good time in place)."""
    registry = CollectorRegistry()
    result = Gauge(
        LAST_RESULT,
        "Result of the latest backup (1 for the label that happened).",
        ["result"],
        registry=registry,
    )
    result.labels(result="success").set(1 if success else 0)
    result.labels(result="failure").set(0 if success else 1)
    if success:
        Gauge(LAST_SUCCESS, "Unix time of the last successful backup.", registry=registry).set(
            finished.timestamp()
        )
    return registry


def push_metrics(url: str, *, namespace: str, name: str, success: bool, finished: datetime) -> None:
    """POST (pushadd): replaces only the metrics pushed now, within the group {job, namespace}."""
    pushadd_to_gateway(
        url,
        job=f"{name}-{JOB_SUFFIX}",
        grouping_key={"namespace": namespace},
        registry=registry_for(success=success, finished=finished),
        timeout=10,
    )
