"""The reconcile's I/O against an in-memory cluster: what is applied, kept, pruned, recorded
and written, and how API errors are split into retry-later and report-in-status."""

from __future__ import annotations

from typing import Any

import pytest

from ragops_operator.control.kube import (
    MANAGED_KINDS,
    PROMETHEUS_OPERATOR_GROUP,
    RAGD,
    Kind,
    RetryLater,
)
from ragops_operator.control.reconciler import Reconciler
from ragops_operator.objects import Obj
from ragops_operator.planning.blue_green import ACTION_ANNOTATION
from tests.support.builder_specs import MINIMAL
from tests.support.fake_cluster import FakeCluster, ragd

NAMESPACE, NAME = "tenant-a", "demo"


def reconciler(cluster: FakeCluster) -> Reconciler:
    return Reconciler(cluster, now=lambda: "2026-12-01T00:00:00Z", clock=lambda: 1_800_000_000.0)


async def fresh(cluster: FakeCluster) -> Obj:
    body = await cluster.get(RAGD, NAMESPACE, NAME)
    assert body is not None
    return body


def reasons(cluster: FakeCluster) -> dict[str, tuple[str, str]]:
    obj = cluster.find("RAGDeployment", NAMESPACE, NAME)
    assert obj is not None
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"]["conditions"]}


def applied_names(cluster: FakeCluster) -> set[tuple[str, str]]:
    return {(call.kind, call.name) for call in cluster.of("apply")}


def event_reasons(cluster: FakeCluster) -> list[str]:
    return [event["reason"] for event in cluster.events]


REDIS_SECRET: Obj = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "redis", "namespace": NAMESPACE},
    "data": {"url": "cmVkaXM6Ly9yZWRpczo2Mzc5LzA="},
}


@pytest.fixture
def cluster() -> FakeCluster:
    fake = FakeCluster()
    fake.add(ragd(MINIMAL, name=NAME, namespace=NAMESPACE))
    fake.add(REDIS_SECRET)  # the Secret MINIMAL references
    return fake


async def test_a_new_stack_is_applied_with_one_created_event_per_child(
    cluster: FakeCluster,
) -> None:
    outcome = await reconciler(cluster).reconcile(await fresh(cluster))
    applied = applied_names(cluster)
    assert {
        ("ConfigMap", "demo-config"),
        ("StatefulSet", "demo-qdrant"),
        ("Deployment", "demo-api-blue"),
    } <= applied
    created = sorted(e["message"] for e in cluster.events if e["reason"] == "Created")
    assert created == sorted(f"Created {kind} {name}" for kind, name in applied)
    assert len(cluster.of("patch_status")) == 1 and outcome.ready is False, "nothing runs pods here"
    assert reasons(cluster)["Ready"] == ("False", "ComponentsNotReady")


async def test_a_pass_with_nothing_changed_applies_and_writes_nothing(cluster: FakeCluster) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    assert cluster.of("apply") == [], "unchanged children are not applied again"
    assert cluster.of("patch_status") == [] and cluster.events == []


async def test_a_child_edited_by_hand_is_applied_again_without_a_created_event(
    cluster: FakeCluster,
) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    await cluster.merge_patch(
        _kind("Deployment"), NAMESPACE, "demo-worker", {"spec": {"paused": True}}
    )
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    assert applied_names(cluster) == {("Deployment", "demo-worker")}, "only the drifted child"
    worker = cluster.find("Deployment", NAMESPACE, "demo-worker")
    assert worker is not None and "paused" not in worker["spec"]
    assert cluster.events == []


async def test_status_is_patched_when_a_child_changes(cluster: FakeCluster) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    cluster.set_status(
        "StatefulSet", NAMESPACE, "demo-qdrant", {"observedGeneration": 1, "readyReplicas": 1}
    )
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    (patch,) = cluster.of("patch_status")
    assert patch.detail["status"]["vectorStore"] == {"replicas": 1, "readyReplicas": 1}


async def test_a_child_no_longer_desired_is_pruned_by_uid_and_others_are_left(
    cluster: FakeCluster,
) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    uid = (await fresh(cluster))["metadata"]["uid"]
    labels = {"app.kubernetes.io/instance": NAME, "app.kubernetes.io/managed-by": "ragops-operator"}
    stale = cluster.add(_obj("ConfigMap", "demo-old", labels, owner_uid=uid))
    not_ours = cluster.add(
        _obj(
            "Job",
            "demo-backup-1",
            {**labels, "app.kubernetes.io/component": "backup"},
            owner_uid="cronjob",
        )
    )
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    deletes = [(call.kind, call.name, call.detail["uid"]) for call in cluster.of("delete")]
    assert deletes == [("ConfigMap", "demo-old", stale["metadata"]["uid"])]
    assert cluster.find("ConfigMap", NAMESPACE, "demo-old") is None
    assert cluster.find("Job", NAMESPACE, not_ours["metadata"]["name"]) is not None, (
        "the CronJob's Jobs are not ours"
    )
    assert [e["message"] for e in cluster.events] == [
        "Deleted ConfigMap demo-old: no longer in the spec"
    ]


async def test_a_rollout_keeps_the_serving_color_and_announces_itself(cluster: FakeCluster) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    await cluster.merge_patch(RAGD, NAMESPACE, NAME, {"spec": {"image": "ragops/ragops:0.2.0"}})
    cluster.reset_calls()
    outcome = await operator.reconcile(await fresh(cluster))
    assert ("Deployment", "demo-api-green") in applied_names(cluster)
    assert ("Deployment", "demo-api-blue") not in applied_names(cluster), (
        "the serving color is kept as it is"
    )
    assert cluster.of("delete") == []
    assert cluster.find("Deployment", NAMESPACE, "demo-api-blue") is not None
    assert "RolloutStarted" in event_reasons(cluster) and outcome.requeue_after is not None
    status = cluster.find("RAGDeployment", NAMESPACE, NAME)
    assert status is not None and status["status"]["api"]["previewColor"] == "green"


async def test_a_consumed_action_annotation_is_removed(cluster: FakeCluster) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    patch = {
        "metadata": {"annotations": {ACTION_ANNOTATION: "abort"}},
        "spec": {"image": "ragops/ragops:0.2.0"},
    }
    await cluster.merge_patch(RAGD, NAMESPACE, NAME, patch)
    await operator.reconcile(await fresh(cluster))
    body = await fresh(cluster)
    assert ACTION_ANNOTATION not in (body["metadata"].get("annotations") or {})
    assert body["status"]["api"]["rollout"]["phase"] == "Aborted"


@pytest.mark.parametrize("status", [409, 429, 500, 503])
async def test_a_transient_apply_error_retries_later_before_pruning_or_writing_status(
    cluster: FakeCluster, status: int
) -> None:
    uid = (await fresh(cluster))["metadata"]["uid"]
    labels = {"app.kubernetes.io/instance": NAME, "app.kubernetes.io/managed-by": "ragops-operator"}
    cluster.add(_obj("ConfigMap", "demo-old", labels, owner_uid=uid))
    cluster.fail("apply", kind="Deployment", name="demo-worker", status=status)
    operator = reconciler(cluster)
    with pytest.raises(RetryLater, match=f"Deployment demo-worker: {status}"):
        await operator.reconcile(await fresh(cluster))
    assert cluster.of("delete") == [] and cluster.of("patch_status") == []
    assert cluster.find("ConfigMap", NAMESPACE, "demo-old") is not None
    await operator.reconcile(await fresh(cluster))  # the same pass, later, succeeds
    assert cluster.find("ConfigMap", NAMESPACE, "demo-old") is None
    assert cluster.find("Deployment", NAMESPACE, "demo-worker") is not None


async def test_a_rejected_manifest_is_reported_as_degraded_and_the_rest_applied(
    cluster: FakeCluster,
) -> None:
    cluster.fail("apply", kind="Deployment", name="demo-worker", status=422)
    outcome = await reconciler(cluster).reconcile(await fresh(cluster))
    assert outcome.ready is False
    assert reasons(cluster)["Degraded"] == ("True", "ApplyFailed")
    obj = cluster.find("RAGDeployment", NAMESPACE, NAME)
    assert obj is not None
    degraded = next(c for c in obj["status"]["conditions"] if c["type"] == "Degraded")
    assert degraded["message"].startswith("Deployment demo-worker: 422")
    assert cluster.find("Deployment", NAMESPACE, "demo-worker") is None
    assert cluster.find("Deployment", NAMESPACE, "demo-api-blue") is not None


async def test_an_event_the_server_refuses_does_not_fail_the_pass(cluster: FakeCluster) -> None:
    cluster.fail("event", status=403, times=100)
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert cluster.find("Deployment", NAMESPACE, "demo-api-blue") is not None and cluster.of(
        "patch_status"
    )


async def test_a_paused_stack_changes_no_child(cluster: FakeCluster) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    await cluster.merge_patch(
        RAGD, NAMESPACE, NAME, {"spec": {"paused": True, "image": "ragops/ragops:0.2.0"}}
    )
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    assert cluster.of("apply") == [] and cluster.of("delete") == [] and cluster.events == []
    assert reasons(cluster)["Progressing"] == ("False", "Paused")


async def test_an_invalid_spec_reads_no_child_and_warns_once(cluster: FakeCluster) -> None:
    await cluster.merge_patch(RAGD, NAMESPACE, NAME, {"spec": {"documents": None}})
    cluster.reset_calls()
    operator = reconciler(cluster)
    outcome = await operator.reconcile(await fresh(cluster))
    assert outcome.ready is False and reasons(cluster)["Ready"] == ("False", "InvalidSpec")
    assert {call.verb for call in cluster.calls} == {"get", "event", "patch_status"}
    assert event_reasons(cluster) == ["InvalidSpec"]
    cluster.reset_calls()
    await operator.reconcile(await fresh(cluster))
    assert cluster.events == [] and cluster.of("patch_status") == []


async def test_monitors_are_applied_once_the_prometheus_operator_is_served() -> None:
    cluster = FakeCluster(served={PROMETHEUS_OPERATOR_GROUP: {"ServiceMonitor", "PrometheusRule"}})
    cluster.add(ragd(MINIMAL, name=NAME, namespace=NAMESPACE))
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert {("ServiceMonitor", "demo-api"), ("PrometheusRule", "demo")} <= applied_names(cluster)
    assert reasons(cluster)["MonitoringAvailable"] == ("True", "PrometheusOperatorFound")


def _obj(kind: str, name: str, labels: dict[str, str], *, owner_uid: str) -> Obj:
    api_version = "batch/v1" if kind == "Job" else "v1"
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "labels": labels,
        "ownerReferences": [{"uid": owner_uid}],
    }
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def _kind(name: str) -> Kind:
    return next(kind for kind in MANAGED_KINDS if kind.kind == name)


async def test_a_missing_secret_or_key_is_named_in_a_condition_and_one_event(
    cluster: FakeCluster,
) -> None:
    cluster.objects.pop(("v1", "Secret", NAMESPACE, "redis"))
    outcome = await reconciler(cluster).reconcile(await fresh(cluster))
    assert outcome.requeue_after == 10, "Secrets are not watched: look again soon"
    obj = cluster.find("RAGDeployment", NAMESPACE, NAME)
    assert obj is not None
    found = {c["type"]: c for c in obj["status"]["conditions"]}
    assert (found["SecretsResolved"]["status"], found["SecretsResolved"]["reason"]) == (
        "False",
        "SecretMissing",
    )
    assert "Secret redis (key url) not found" in found["SecretsResolved"]["message"]
    assert (found["Ready"]["status"], found["Ready"]["reason"]) == ("False", "SecretMissing")
    warnings = [e for e in cluster.events if e["reason"] == "SecretMissing"]
    assert len(warnings) == 1 and "Secret redis" in warnings[0]["message"]
    await reconciler(cluster).reconcile(await fresh(cluster))  # a resync: no second Event
    assert len([e for e in cluster.events if e["reason"] == "SecretMissing"]) == 1

    cluster.add({**REDIS_SECRET, "data": {"uri": "eA=="}})  # there, but with the wrong key
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert reasons(cluster)["SecretsResolved"] == ("False", "SecretMissing")
    warnings = [e for e in cluster.events if e["reason"] == "SecretMissing"]
    assert "Secret redis has no key url" in warnings[-1]["message"]

    cluster.add(REDIS_SECRET)
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert reasons(cluster)["SecretsResolved"] == ("True", "AllFound")
    assert reasons(cluster)["Ready"] == ("False", "ComponentsNotReady")  # no pods run here


async def test_secrets_the_operator_may_not_read_are_unknown_not_missing(
    cluster: FakeCluster,
) -> None:
    cluster.objects.pop(("v1", "Secret", NAMESPACE, "redis"))
    cluster.fail("get", kind="Secret", status=403, times=5)
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert reasons(cluster)["SecretsResolved"] == ("Unknown", "SecretsNotReadable")
    assert reasons(cluster)["Ready"] == ("False", "ComponentsNotReady")
