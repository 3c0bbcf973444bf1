"""Status conditions as pure functions: `lastTransitionTime` moves only when `status` changes,
so `kubectl wait` and alerting see real transitions, not every reconcile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

READY = "Ready"
# Serving: queries are answered and uploads ingested, possibly by an older template (the old color
# during a blue/green rollout). Ready additionally wants everything on the current template, so
# it goes False on every rollout: alert on Available, not on Ready.
AVAILABLE = "Available"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
MONITORING = "MonitoringAvailable"
QUALITY_DEGRADED = "QualityDegraded"  # only with a scheduled evaluation (qualityGate.schedule)
SECRETS = "SecretsResolved"
ORDER = (READY, AVAILABLE, PROGRESSING, DEGRADED, SECRETS, MONITORING, QUALITY_DEGRADED)

Status = Literal["True", "False", "Unknown"]


@dataclass(frozen=True)
class Condition:
    type: str
    status: Status
    reason: str
    message: str


def merge(
    previous: list[dict[str, Any]], current: list[Condition], *, generation: int, now: str
) -> list[dict[str, Any]]:
    """The conditions to write: `current`, keeping each one's transition time if unchanged."""
    before = {c.get("type"): c for c in previous}
    merged = []
    for condition in sorted(
        current, key=lambda c: ORDER.index(c.type) if c.type in ORDER else len(ORDER)
    ):
        old = before.get(condition.type)
        unchanged = old is not None and old.get("status") == condition.status
        merged.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message,
                "lastTransitionTime": old["lastTransitionTime"]
                if unchanged and old is not None
                else now,
                "observedGeneration": generation,
            }
        )
    return merged
