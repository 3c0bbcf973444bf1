"""status.lastBackup from the CronJob's Jobs and their pods' termination messages."""

from __future__ import annotations

import json
from typing import Any

from ragops_operator.planning.last_backup import from_job, newest_finished


def job(
    name: str,
    *,
    complete_at: str | None = None,
    failed_at: str | None = None,
    created: str = "2026-11-29T03:00:00Z",
) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    status: dict[str, Any] = {"conditions": conditions}
    if complete_at:
        conditions.append({"type": "Complete", "status": "True", "lastTransitionTime": complete_at})
        status["completionTime"] = complete_at
    if failed_at:
        conditions.append(
            {
                "type": "Failed",
                "status": "True",
                "lastTransitionTime": failed_at,
                "reason": "BackoffLimitExceeded",
            }
        )
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


def pod(message: str | None, created: str = "2026-11-29T03:00:01Z") -> dict[str, Any]:
    terminated = {"exitCode": 0, **({"message": message} if message else {})}
    return {
        "metadata": {"creationTimestamp": created},
        "status": {"containerStatuses": [{"state": {"terminated": terminated}}]},
    }


REPORT = {
    "time": "2026-11-29T03:04:05Z",
    "snapshot": "s3://b/backups/ns/demo/20261129T030000Z/",
    "result": "success",
    "points": 1234,
}


def test_the_newest_finished_job_wins_and_running_ones_are_ignored() -> None:
    jobs = [
        job("demo-backup-1", complete_at="2026-11-28T03:05:00Z", created="2026-11-28T03:00:00Z"),
        job("demo-backup-2", failed_at="2026-11-29T03:20:00Z", created="2026-11-29T03:00:00Z"),
        job("demo-backup-3", created="2026-11-29T04:00:00Z"),  # still running
    ]
    newest = newest_finished(jobs)
    assert newest is not None and newest["metadata"]["name"] == "demo-backup-2"
    assert newest_finished([job("running")]) is None
    assert newest_finished([]) is None


def test_the_pods_report_fills_the_status() -> None:
    entry = from_job(
        job("demo-backup-1", complete_at="2026-11-29T03:04:06Z"), [pod(json.dumps(REPORT))]
    )
    assert entry == {**REPORT, "job": "demo-backup-1"}


def test_a_failed_run_reports_failure_from_the_newest_pod_that_left_a_report() -> None:
    failure = {
        "time": "2026-11-29T03:10:00Z",
        "snapshot": None,
        "result": "failure",
        "points": None,
        "message": "S3 access denied",
    }
    pods = [
        pod(json.dumps(failure), created="2026-11-29T03:09:00Z"),
        pod("panic: out of memory (a log tail, not a report)", created="2026-11-29T03:12:00Z"),
    ]
    entry = from_job(job("demo-backup-2", failed_at="2026-11-29T03:20:00Z"), pods)
    assert (
        entry["result"] == "failure"
        and entry["time"] == "2026-11-29T03:10:00Z"
        and entry["job"] == "demo-backup-2"
    )


def test_without_a_report_the_jobs_own_verdict_and_time_are_used() -> None:
    assert from_job(job("demo-backup-1", complete_at="2026-11-29T03:04:06Z"), [pod(None)]) == {
        "time": "2026-11-29T03:04:06Z",
        "snapshot": None,
        "result": "success",
        "points": None,
        "job": "demo-backup-1",
    }
    assert (
        from_job(job("demo-backup-2", failed_at="2026-11-29T03:20:00Z"), [])["result"] == "failure"
    )


def test_a_verification_job_without_a_report_says_where_to_look() -> None:
    from ragops_operator.planning.last_backup import verification_from_job

    failed = verification_from_job(
        job("demo-backup-verify-7", failed_at="2026-11-29T05:30:00Z"), [pod("Killed")]
    )
    assert failed == {
        "time": "2026-11-29T05:30:00Z",
        "backup": None,
        "result": "failed",
        "reason": "the Job failed without a report: kubectl logs job/demo-backup-verify-7",
        "job": "demo-backup-verify-7",
    }
    report = {
        "kind": "verification",
        "time": "2026-11-29T05:04:00Z",
        "backup": "s3://b/backups/ns/demo/20261129T030000Z/",
        "result": "ok",
        "reason": "matches its manifest",
    }
    ok = verification_from_job(
        job("demo-backup-verify-8", complete_at="2026-11-29T05:04:01Z"),
        [pod(json.dumps(REPORT), created="2026-11-29T05:00:00Z"), pod(json.dumps(report))],
    )
    assert ok == {**{k: v for k, v in report.items() if k != "kind"}, "job": "demo-backup-verify-8"}
