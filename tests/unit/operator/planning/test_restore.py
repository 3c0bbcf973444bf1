"""spec.restore: the restore's phase from the last status and the Job, and what it does to the
desired set and to the Ready condition (an empty index must not look Ready)."""

from __future__ import annotations

from typing import Any

import pytest

from ragops_operator.builders import stack
from ragops_operator.planning import conditions, status
from ragops_operator.planning.restore import Restore, state
from tests.support.builder_specs import OWNER, by_kind, make_spec

SNAPSHOT = "s3://backups/prod/tenant-a/demo/20261129T030000Z/"
SPEC = make_spec(restore={"fromSnapshot": SNAPSHOT})


def job(*, complete: bool = False, failed: str | None = None, active: int = 0) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    if complete:
        found.append(
            {"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-29T04:00:00Z"}
        )
    if failed:
        found.append(
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": failed,
            }
        )
    return {
        "metadata": {"name": "demo-restore"},
        "status": {
            "active": active,
            "conditions": found,
            **({"completionTime": "2026-11-29T04:00:01Z"} if complete else {}),
        },
    }


def test_no_restore_in_the_spec_means_no_restore() -> None:
    assert state(make_spec(), {}, None) is None


@pytest.mark.parametrize(
    ("previous", "live", "phase", "wants_job"),
    [
        ({}, None, "Running", True),
        ({}, job(active=1), "Running", True),
        ({}, job(complete=True), "Completed", False),
        ({}, job(failed="Job has reached the specified backoff limit"), "Failed", True),
        # Remembered: the Job is gone (pruned) and nothing is restored again.
        (
            {"restore": {"snapshot": SNAPSHOT, "phase": "Completed", "completionTime": "t"}},
            None,
            "Completed",
            False,
        ),
        # Another snapshot named later: a new restore (the tool skips a store that holds points).
        ({"restore": {"snapshot": "s3://other/x/", "phase": "Completed"}}, None, "Running", True),
    ],
    ids=["new", "job-running", "job-complete", "job-failed", "completed-earlier", "new-snapshot"],
)
def test_restore_phase(
    previous: dict[str, Any], live: dict[str, Any] | None, phase: str, wants_job: bool
) -> None:
    restore = state(SPEC, previous, live)
    assert restore is not None and restore.phase == phase and restore.wants_job is wants_job


def test_a_failed_restore_says_why_and_how_to_retry() -> None:
    restore = state(SPEC, {}, job(failed="Job has reached the specified backoff limit"))
    assert restore is not None
    assert "backoff limit" in restore.message and "kubectl logs job/demo-restore" in restore.message
    assert "delete the Job to retry" in restore.message


def test_the_restore_job_and_its_network_policies_are_desired_only_while_restoring() -> None:
    restoring = stack.desired(SPEC, OWNER, restoring=True)
    [restore_job] = by_kind(restoring, "Job")
    assert restore_job["metadata"]["name"] == "demo-restore"
    assert restore_job["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "restore",
        "--from",
        SNAPSHOT,
        "--if-empty",
    ]
    policies = {p["metadata"]["name"] for p in by_kind(restoring, "NetworkPolicy")}
    assert {"demo-backup", "demo-qdrant-from-backup"} <= policies
    assert by_kind(stack.desired(SPEC, OWNER, restoring=False), "Job") == []


def _ready(restore: Restore | None, ready_replicas: int = 1) -> dict[str, Any]:
    def deployment(name: str) -> dict[str, Any]:
        return {
            "metadata": {"name": name, "generation": 1},
            "spec": {"replicas": 1},
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "updatedReplicas": 1,
                "readyReplicas": ready_replicas,
                "availableReplicas": ready_replicas,
            },
        }

    children = {
        ("Deployment", "demo-api-blue"): deployment("demo-api-blue"),
        ("Deployment", "demo-worker"): deployment("demo-worker"),
        ("StatefulSet", "demo-qdrant"): {
            **deployment("demo-qdrant"),
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "readyReplicas": 1,
                "updatedReplicas": 1,
                "currentReplicas": 1,
            },
        },
    }
    observed = status.Observation(
        owner=OWNER,
        generation=1,
        active_color="blue",
        api_image="img",
        children=children,
        restore=restore,
    )
    current = status.compute(observed, {}, now="2026-11-29T04:00:00Z")
    return {c["type"]: c for c in current["conditions"]} | {"restore": current["restore"]}


def test_ready_waits_for_the_restore_and_degraded_names_a_failure() -> None:
    running = _ready(Restore(SNAPSHOT, "Running", "restoring from " + SNAPSHOT))
    assert (
        running[conditions.READY]["status"] == "False"
        and running[conditions.READY]["reason"] == "Restoring"
    )
    assert running[conditions.PROGRESSING]["reason"] == "Restoring"

    failed = _ready(Restore(SNAPSHOT, "Failed", "checksum mismatch"))
    assert failed[conditions.READY]["reason"] == "RestoreFailed"
    assert (
        failed[conditions.DEGRADED]["status"] == "True"
        and failed[conditions.DEGRADED]["message"] == "checksum mismatch"
    )

    done = _ready(Restore(SNAPSHOT, "Completed", "restored", "2026-11-29T04:00:01Z"))
    assert done[conditions.READY]["status"] == "True", done
    assert done["restore"] == {
        "snapshot": SNAPSHOT,
        "phase": "Completed",
        "message": "restored",
        "completionTime": "2026-11-29T04:00:01Z",
    }
    assert _ready(None)["restore"] is None
