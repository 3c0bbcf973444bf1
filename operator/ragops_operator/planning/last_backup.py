"""`status.lastBackup` and `status.lastBackupVerification`, decided purely from the Jobs the
two CronJobs ran and their pods.

`ragops backup` writes `{time, snapshot, result, points[, message]}` as its pod's termination
message; the operator copies the newest finished Job's into the status. A pod that ended
without one (killed, evicted, out of memory) still yields the Job's own verdict and time.
`ragops backup verify` does the same with `{kind: verification, time, backup, result, reason}`.
"""

from __future__ import annotations

from ragops_operator.builders import backup
from ragops_operator.builders.labels import COMPONENT_LABEL
from ragops_operator.objects import Obj

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def _finished(job: Obj) -> tuple[str, str] | None:
    """(result, time) of a finished Job; None while it runs."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return "success", str(
                status.get("completionTime") or condition.get("lastTransitionTime") or ""
            )
        if condition.get("type") == "Failed":
            return "failure", str(condition.get("lastTransitionTime") or "")
    return None


def newest_finished(jobs: list[Obj]) -> Obj | None:
    """The backup Job that finished last (ties: the later-created one)."""
    done = [
        (finished[1], job["metadata"].get("creationTimestamp") or "", job)
        for job in jobs
        if (finished := _finished(job)) is not None
    ]
    if not done:
        return None
    return max(done, key=lambda item: (item[0], item[1]))[2]


def _termination_message(pod: Obj) -> str | None:
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (container.get("state") or {}).get("terminated") or {}
        if terminated.get("message"):
            return str(terminated["message"])
    return None


termination_message = _termination_message  # also the quality gate's evaluation pods


def from_job(job: Obj, pods: list[Obj]) -> Obj:
    """The status entry for `job`, from its last pod's report when it left one."""
    result, finished_at = _finished(job) or ("failure", "")
    name = job["metadata"]["name"]
    newest_first = sorted(
        pods, key=lambda pod: pod["metadata"].get("creationTimestamp") or "", reverse=True
    )
    for pod in newest_first:
        report = backup.last_backup_from_message(_termination_message(pod))
        if report is not None:
            return {**report, "job": name}
    return {"time": finished_at, "snapshot": None, "result": result, "points": None, "job": name}


def unreported(
    jobs: list[Obj], saved: Obj | None, *, component: str = backup.COMPONENT_BACKUP
) -> Obj | None:
    """The newest finished Job of `component` when `saved` (its status entry) does not report
    it yet; only then are its pods read. `jobs` may hold any Jobs: the CronJob's runs are
    picked out."""
    runs = [
        job
        for job in jobs
        if job["kind"] == "Job"
        and (job["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component
    ]
    job = newest_finished(runs)
    if job is None or (saved is not None and saved.get("job") == job["metadata"]["name"]):
        return None
    return job


def reported(jobs: list[Obj], saved: Obj | None, pods: list[Obj]) -> Obj | None:
    """status.lastBackup: the newest finished Job's report (from `pods`, the pods of
    `unreported(jobs, saved)`); the saved one when no newer Job is left (history limits)."""
    job = unreported(jobs, saved)
    return saved if job is None else from_job(job, pods)


def verification_from_job(job: Obj, pods: list[Obj]) -> Obj:
    """The status entry for a verification `job`, from its last pod's report when it left one."""
    result, finished_at = _finished(job) or ("failure", "")
    name = job["metadata"]["name"]
    newest_first = sorted(
        pods, key=lambda pod: pod["metadata"].get("creationTimestamp") or "", reverse=True
    )
    for pod in newest_first:
        report = backup.last_verification_from_message(_termination_message(pod))
        if report is not None:
            return {**report, "job": name}
    return {
        "time": finished_at,
        "backup": None,
        "result": "ok" if result == "success" else "failed",
        "reason": None
        if result == "success"
        else f"the Job failed without a report: kubectl logs job/{name}",
        "job": name,
    }


def reported_verification(jobs: list[Obj], saved: Obj | None, pods: list[Obj]) -> Obj | None:
    """status.lastBackupVerification: as `reported`, for the verification CronJob's runs (`pods`
    are those of `unreported(jobs, saved, component=backup.COMPONENT_VERIFY)`)."""
    job = unreported(jobs, saved, component=backup.COMPONENT_VERIFY)
    return saved if job is None else verification_from_job(job, pods)
