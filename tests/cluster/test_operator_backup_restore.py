"""Backups and restore against a real API server.

spec.restore: the stack is not Ready while its restore Job has not succeeded, even with every
pod serving; once it has, the status remembers it and the Job goes. kwok completes Job pods at
once, so the test holds the restore pod back with a ValidatingAdmissionPolicy (a real admission
check in the API server) until it has seen the stack wait, then lets the Job controller create it.

status.lastBackup: a Job the backup CronJob ran is reported once it finished."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import Kube, Waits
from tests.support.operator import RAGD, hold_pods, ragdeployment, ready_condition, wait_ready

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

SNAPSHOT = "s3://ragops-backups/backups/prod/tenant-a/20261129T030000Z/"


def test_a_restoring_stack_is_ready_only_after_its_restore_job_succeeded(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    hold = tmp_path / "hold.yaml"
    hold.write_text(yaml.safe_dump_all(hold_pods(namespace, "restore")))
    kubectl.run(["apply", "-f", str(hold)])
    try:
        kube.create(
            ragdeployment("restored", namespace, restore={"fromSnapshot": SNAPSHOT}), namespace
        )

        def waiting_for_the_restore() -> dict[str, Any] | Pending:
            obj = kube.get(*RAGD, "restored", namespace)
            ready, st = ready_condition(obj), obj.get("status") or {}
            components = [
                st.get(part, {}).get("readyReplicas", 0)
                for part in ("api", "worker", "vectorStore")
            ]
            if ready.get("reason") == "Restoring" and all(components):
                return obj
            return Pending(
                f"Ready={ready.get('reason')} components ready={components} "
                f"restore={st.get('restore')}"
            )

        obj = waits.until(
            waiting_for_the_restore,
            timeout=90,
            what="every component serving, the stack still restoring",
        )
        assert ready_condition(obj)["status"] == "False"
        assert SNAPSHOT in ready_condition(obj)["message"]
        assert obj["status"]["restore"]["phase"] == "Running"
        job = kube.get("batch/v1", "Job", "restored-restore", namespace)
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == [
            "restore",
            "--from",
            SNAPSHOT,
            "--if-empty",
        ]
        assert ready_condition(kube.get(*RAGD, "restored", namespace))["reason"] == "Restoring", (
            "still held"
        )
    finally:
        kubectl.run(["delete", "-f", str(hold), "--ignore-not-found"])

    # The Job controller retries the pod; kwok runs it to completion; the stack becomes Ready.
    obj = wait_ready(waits, namespace, "restored", timeout=120)
    restore = obj["status"]["restore"]
    assert (
        restore["phase"] == "Completed"
        and restore["snapshot"] == SNAPSHOT
        and restore["completionTime"]
    )
    assert ready_condition(obj)["lastTransitionTime"] >= restore["completionTime"]
    waits.gone(
        lambda: [
            j
            for j in kube.list("batch/v1", "Job", namespace)
            if j["metadata"]["name"] == "restored-restore"
        ],
        what="the finished restore Job is cleaned up",
        timeout=30,
    )


def test_the_newest_finished_backup_job_is_reported_in_the_status(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str
) -> None:
    kube.create(
        ragdeployment("backed", namespace, backup={"enabled": True, "bucket": "ragops-backups"}),
        namespace,
    )
    wait_ready(waits, namespace, "backed", timeout=90)
    assert (
        "lastBackup" not in kube.get(*RAGD, "backed", namespace)["status"]
        or kube.get(*RAGD, "backed", namespace)["status"]["lastBackup"] is None
    )

    def reported(job: str) -> dict[str, Any] | Pending:
        last = (kube.get(*RAGD, "backed", namespace).get("status") or {}).get("lastBackup")
        return last if last and last.get("job") == job else Pending(f"lastBackup={last}")

    # Runs of the schedule, started by hand the way an operator of the stack would test it.
    for job in ("backed-backup-manual-1", "backed-backup-manual-2"):
        kubectl.run(["create", "job", job, "--from=cronjob/backed-backup", "-n", namespace])
        last = waits.until(
            lambda job=job: reported(job), timeout=60, what=f"{job} in status.lastBackup"
        )
        # kwok's pods leave no termination report, so the Job's own verdict and time are used.
        assert last["result"] == "success" and last["time"], last
        finished = kube.get("batch/v1", "Job", job, namespace)["status"]["completionTime"]
        assert last["time"] == finished
