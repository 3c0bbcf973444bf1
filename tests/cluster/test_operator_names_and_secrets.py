"""Names that fit and missing Secrets named (issue #15 items 2 and 3), against a real API server
and the operator as a process: the longest name the CRD accepts reaches Ready with every child
(and the pods, revisions and labels Kubernetes derives from them), one character more is refused
by the API server itself; examples/production.yaml without its Secrets says which are missing
and is not Ready until they exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import UnprocessibleEntityError

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from ragops_operator.api.v1alpha1 import MAX_NAME_LENGTH
from tests.support.cluster import Kube, Obj, Waits
from tests.support.operator import EXAMPLES, RAGD, ragdeployment, wait_ready

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

EVERY_OPTIONAL_CHILD: dict[str, Any] = {
    "backup": {"enabled": True, "bucket": "ragops-backups", "verify": {"enabled": True}},
    "vectorStore": {"qdrant": {"replicas": 2, "replicationFactor": 2}},
}


def _refusal(kube: Kube, obj: Obj) -> str:
    with pytest.raises(UnprocessibleEntityError) as refused:
        kube.create(obj, obj["metadata"]["namespace"])
    return str(json.loads(refused.value.body)["message"])


def test_the_longest_accepted_name_reaches_ready_and_one_more_is_refused(
    kube: Kube, waits: Waits, namespace: str
) -> None:
    longest = "r" + "x" * (MAX_NAME_LENGTH - 1)
    message = _refusal(kube, ragdeployment(longest + "x", namespace, **EVERY_OPTIONAL_CHILD))
    assert f"at most {MAX_NAME_LENGTH} characters" in message, message
    assert "start with a letter" in _refusal(kube, ragdeployment("1rag", namespace))

    kube.create(ragdeployment(longest, namespace, **EVERY_OPTIONAL_CHILD), namespace)
    obj = wait_ready(waits, namespace, longest, timeout=120)
    assert obj["status"]["vectorStore"]["readyReplicas"] == 2
    pods = kube.list("v1", "Pod", namespace, f"app.kubernetes.io/instance={longest}")
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods} == {
        "api",
        "worker",
        "qdrant",
    }
    qdrant = [p for p in pods if p["metadata"]["labels"]["app.kubernetes.io/component"] == "qdrant"]
    for pod in qdrant:  # the labels the StatefulSet controller adds fit
        assert pod["metadata"]["labels"]["controller-revision-hash"].startswith(f"{longest}-qdrant")
    cron_jobs = kube.list("batch/v1", "CronJob", namespace)
    assert {c["metadata"]["name"] for c in cron_jobs} == {
        f"{longest}-backup",
        f"{longest}-backup-verify",
    }
    reasons = {c["type"]: c["reason"] for c in obj["status"]["conditions"]}
    assert reasons["Degraded"] == "AsExpected", obj["status"]["conditions"]


def _secrets_condition(kube: Kube) -> Obj:
    obj = kube.get(*RAGD, "rag", "prod")
    found = {c["type"]: c for c in obj.get("status", {}).get("conditions") or []}
    return found


def test_production_without_its_secrets_names_them_and_is_ready_once_they_exist(
    kube: Kube, kubectl: Kubectl, waits: Waits
) -> None:
    try:
        kubectl.run(["apply", "-f", str(EXAMPLES / "production.yaml")])

        def named() -> Obj | Pending:
            found = _secrets_condition(kube)
            resolved = found.get("SecretsResolved") or {}
            if resolved.get("status") == "False":
                return found
            return Pending(f"SecretsResolved={resolved}")

        found = waits.until(named, timeout=60, what="the missing Secrets named", interval=0.3)
        message = found["SecretsResolved"]["message"]
        for secret, key in (
            ("ragops-redis", "url"),
            ("ragops-openai", "OPENAI_API_KEY"),
            ("ragops-qdrant", "api-key"),
        ):
            assert f"Secret {secret} (key {key}) not found" in message, message
        assert (found["Ready"]["status"], found["Ready"]["reason"]) == ("False", "SecretMissing")
        warnings = [e for e in kube.list("v1", "Event", "prod") if e["reason"] == "SecretMissing"]
        assert warnings and "ragops-openai" in warnings[0]["message"]

        for secret, key in (
            ("ragops-redis", "url"),
            ("ragops-openai", "OPENAI_API_KEY"),
            ("ragops-qdrant", "api-key"),
        ):
            kubectl.run(
                ["create", "secret", "generic", secret, "-n", "prod", f"--from-literal={key}=x"]
            )
        obj = wait_ready(waits, "prod", "rag", timeout=120)
        resolved = next(c for c in obj["status"]["conditions"] if c["type"] == "SecretsResolved")
        assert resolved["status"] == "True"
        qdrant = kube.get("apps/v1", "StatefulSet", "rag-qdrant", "prod")
        assert "replicas" not in qdrant["spec"] or qdrant["spec"]["replicas"] >= 3  # HPA-owned
        assert qdrant["status"]["readyReplicas"] >= 3
        waits.claims_bound("prod", 3)
    finally:
        kubectl.run(["delete", "namespace", "prod", "--wait=false", "--ignore-not-found"])
