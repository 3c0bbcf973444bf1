"""Where `spec.restore` stands, decided purely from the last status and the restore Job.

A stack with `spec.restore.fromSnapshot` is not Ready until its restore Job has succeeded.
Once it has, the status remembers it (the Job is then no longer desired and is pruned), so a
later reconcile does not restore again; naming another snapshot starts another restore
(`ragops restore --if-empty` leaves a store that already holds points untouched). A failed
Job stays for its logs; deleting it retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ragops_operator.api import v1alpha1 as api
from ragops_operator.objects import Obj

Phase = Literal["Running", "Completed", "Failed"]


@dataclass(frozen=True)
class Restore:
    snapshot: str
    phase: Phase
    message: str = ""
    completion_time: str | None = None

    @property
    def wants_job(self) -> bool:
        return self.phase != "Completed"

    def to_status(self) -> Obj:
        return {
            "snapshot": self.snapshot,
            "phase": self.phase,
            "message": self.message,
            "completionTime": self.completion_time,
        }


def job_condition(job: Obj, type_: str) -> Obj | None:
    """A Job's condition of that type when it is True (Complete, Failed)."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type_ and condition.get("status") == "True":
            return dict(condition)
    return None


def job_failure(job: Obj) -> str | None:
    """Why a Job failed (its Failed condition's message or reason); None while it has not."""
    failed = job_condition(job, "Failed")
    return (
        None
        if failed is None
        else str(failed.get("message") or failed.get("reason") or "the Job failed")
    )


def state(spec: api.RAGDeploymentSpec, previous: Obj, job: Obj | None) -> Restore | None:
    """None without `spec.restore`; otherwise the restore's phase for status and conditions."""
    if spec.restore is None:
        return None
    snapshot = spec.restore.from_snapshot
    saved = previous.get("restore") or {}
    if saved.get("snapshot") == snapshot and saved.get("phase") == "Completed":
        return Restore(
            snapshot, "Completed", str(saved.get("message") or ""), saved.get("completionTime")
        )
    if job is None:
        return Restore(snapshot, "Running", "creating the restore Job")
    done = job_condition(job, "Complete")
    if done is not None:
        finished = (job.get("status") or {}).get("completionTime") or done.get("lastTransitionTime")
        return Restore(snapshot, "Completed", f"restored from {snapshot}", finished)
    why = job_failure(job)
    if why is not None:
        name = job["metadata"]["name"]
        return Restore(
            snapshot, "Failed", f"{why}; see `kubectl logs job/{name}`, delete the Job to retry"
        )
    counts = job.get("status") or {}
    return Restore(
        snapshot,
        "Running",
        f"restoring from {snapshot} "
        f"(pods active {counts.get('active', 0)}, failed {counts.get('failed', 0)})",
    )
