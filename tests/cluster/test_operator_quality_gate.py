"""Quality-gated blue/green rollouts against a real API server and the real operator process.

kwok runs no containers, so the evaluation's result (`ragops eval --url`'s summary in the pod's
termination message) is driven by hand: the evaluation pods are held back by an admission
policy (tests/support/operator.py hold_pods) while the test writes the summary into a pod of
the Job (a pod with a scheduling gate, which nothing runs or rewrites, whose status the test
patches), then the hold is lifted and the Job controller completes the Job. The operator reads
the summary from that pod, as it would from the real one. The scheduled check is driven the
same way, through a run of its CronJob started by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import Kube, Obj, Waits, conditions
from tests.support.operator import RAGD, hold_pods, ragdeployment, wait_ready
from tests.support.quality_gate import eval_summary, report_job_result

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

GATE = {
    "questions": {"configMapKeyRef": {"name": "golden", "key": "questions.jsonl"}},
    "minimums": {"answer_hit": 0.8},
    "maxRegression": {"answer_hit": 0.05},
    "timeoutSeconds": 300,
}
ROLLOUT = {
    "observeSeconds": 300,
    "retireDelaySeconds": 2,
    "progressDeadlineSeconds": 60,
    "qualityGate": GATE,
}


def _rollout(kube: Kube, namespace: str) -> dict[str, Any]:
    status = kube.get(*RAGD, "rag", namespace).get("status") or {}
    return dict((status.get("api") or {}).get("rollout") or {})


def _gate_job(kube: Kube, waits: Waits, namespace: str) -> Obj:
    def pending() -> Obj | Pending:
        rollout = _rollout(kube, namespace)
        jobs = kube.list("batch/v1", "Job", namespace, "app.kubernetes.io/component=quality-gate")
        if rollout.get("reason") == "QualityGatePending" and jobs:
            return jobs[0]
        return Pending(f"rollout={rollout.get('reason')} {rollout.get('message')} jobs={len(jobs)}")

    return waits.until(pending, timeout=90, what="the evaluation Job, the preview not promoted")


def _roll_out_with_result(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path, message: str
) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "golden", "namespace": namespace},
            "data": {"questions.jsonl": '{"question": "What is RAGOps?", "answers": ["RAG"]}\n'},
        },
        namespace,
    )
    kube.create(
        ragdeployment("rag", namespace, api={"replicas": {"min": 1, "max": 2}, "rollout": ROLLOUT}),
        namespace,
    )
    wait_ready(waits, namespace, "rag", timeout=120)
    hold = tmp_path / "hold.yaml"
    hold.write_text(yaml.safe_dump_all(hold_pods(namespace, "quality-gate")))
    kubectl.run(["apply", "-f", str(hold)])
    try:
        kubectl.run(
            [
                "patch",
                "ragd",
                "rag",
                "-n",
                namespace,
                "--type=merge",
                "-p",
                json.dumps({"spec": {"image": "ragops/ragops:next"}}),
            ]
        )
        job = _gate_job(kube, waits, namespace)
        selector = kube.get("v1", "Service", "rag-api", namespace)["spec"]["selector"]
        assert selector["ragops.dev/color"] == "blue", "not promoted before the evaluation"
        args = job["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[:3] == ["eval", "--url", f"http://rag-api-preview.{namespace}.svc:80"]
        report_job_result(kubectl, kube, namespace, job["metadata"]["name"], message)
    finally:
        kubectl.run(["delete", "-f", str(hold), "--ignore-not-found"])


def test_a_preview_answering_worse_is_not_promoted_and_says_why(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    _roll_out_with_result(kube, kubectl, waits, namespace, tmp_path, eval_summary(0.6, 0.9))

    def aborted() -> dict[str, Any] | Pending:
        rollout = _rollout(kube, namespace)
        if rollout.get("phase") == "Aborted":
            return rollout
        return Pending(f"phase={rollout.get('phase')} {rollout.get('reason')}")

    rollout = waits.until(aborted, timeout=90, what="the rollout aborted by its quality gate")
    assert rollout["reason"] == "QualityGateFailed", rollout
    expected = "answer_hit 0.6 on green vs 0.9 on blue: minimum 0.8"
    assert expected in rollout["message"]
    assert rollout["quality"]["result"] == "failed"
    assert rollout["quality"]["metrics"]["answer_hit"] == 0.6
    assert rollout["quality"]["baselineMetrics"]["answer_hit"] == 0.9
    obj = kube.get(*RAGD, "rag", namespace)
    assert obj["status"]["api"]["activeColor"] == "blue"
    assert kube.get("v1", "Service", "rag-api", namespace)["spec"]["selector"][
        "ragops.dev/color"
    ] == ("blue")
    assert conditions(obj)["Degraded"] == "True"
    # What `kubectl describe ragd` shows: the condition and the Warning event.
    described = kubectl.run(["describe", "ragd", "rag", "-n", namespace])
    assert "RolloutAborted" in described and expected in described
    assert "QualityGateFailed" in described


def test_a_preview_answering_as_well_is_promoted(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    _roll_out_with_result(kube, kubectl, waits, namespace, tmp_path, eval_summary(0.9, 0.88))

    def promoted() -> dict[str, Any] | Pending:
        rollout = _rollout(kube, namespace)
        if rollout.get("phase") == "Observing":
            return rollout
        return Pending(f"phase={rollout.get('phase')} {rollout.get('reason')}")

    rollout = waits.until(promoted, timeout=90, what="the preview promoted after its gate")
    assert rollout["quality"]["result"] == "passed"
    assert rollout["quality"]["color"] == "green"
    selector = kube.get("v1", "Service", "rag-api", namespace)["spec"]["selector"]
    assert selector["ragops.dev/color"] == "green"
    events = kube.list("v1", "Event", namespace)
    reasons = [e["reason"] for e in events if e["involvedObject"].get("name") == "rag"]
    assert "QualityGateStarted" in reasons and "QualityGatePassed" in reasons


def test_the_api_server_refuses_a_minimum_on_a_latency(kube: Kube, namespace: str) -> None:
    bad = {**GATE, "minimums": {"latency_p95_ms": 3000}}
    with pytest.raises(ApiException) as refused:
        kube.create(
            ragdeployment("rag", namespace, api={"rollout": {"qualityGate": bad}}), namespace
        )
    assert refused.value.status == 422
    assert "minimums keys must be among answer_hit" in str(refused.value.body)


def test_a_scheduled_evaluation_below_a_minimum_sets_quality_degraded(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    gate = {**GATE, "schedule": "0 3 * * *"}
    kube.create(ragdeployment("rag", namespace, api={"rollout": {"qualityGate": gate}}), namespace)
    obj = wait_ready(waits, namespace, "rag", timeout=120)
    quality = [c for c in obj["status"]["conditions"] if c["type"] == "QualityDegraded"]
    assert quality and quality[0]["status"] == "Unknown", "no scheduled run yet"
    cron = kube.get("batch/v1", "CronJob", "rag-quality-check", namespace)
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["eval", "--url", f"http://rag-api.{namespace}.svc:80"]
    hold = tmp_path / "hold.yaml"
    hold.write_text(yaml.safe_dump_all(hold_pods(namespace, "quality-check")))
    kubectl.run(["apply", "-f", str(hold)])
    try:
        # A run of the schedule, started by hand as an operator of the stack would.
        kubectl.run(
            [
                "create",
                "job",
                "rag-quality-manual",
                "--from=cronjob/rag-quality-check",
                "-n",
                namespace,
            ]
        )
        low = json.loads(eval_summary(0.5, 0.9))
        low["checks"], low["baseline"] = low["checks"][:1], None
        report_job_result(kubectl, kube, namespace, "rag-quality-manual", json.dumps(low))
    finally:
        kubectl.run(["delete", "-f", str(hold), "--ignore-not-found"])

    def degraded() -> dict[str, Any] | Pending:
        found = kube.get(*RAGD, "rag", namespace)
        st = {c["type"]: c for c in found["status"]["conditions"]}.get("QualityDegraded") or {}
        return found if st.get("status") == "True" else Pending(f"QualityDegraded={st}")

    found = waits.until(degraded, timeout=90, what="QualityDegraded from the scheduled run")
    condition = {c["type"]: c for c in found["status"]["conditions"]}["QualityDegraded"]
    assert condition["reason"] == "BelowThresholds"
    assert "answer_hit 0.5 on blue: minimum 0.8" in condition["message"]
    assert found["status"]["lastQualityCheck"]["job"] == "rag-quality-manual"
