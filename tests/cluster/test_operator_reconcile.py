"""`ragops operator` against a real API server: examples reach Ready, children follow the spec,
drift is repaired, bad specs are refused by the API server, deletion honours the volume policy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import NotFoundError, UnprocessibleEntityError

from ragops_core.settings import Settings
from ragops_devcluster.errors import KubectlFailed
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from ragops_operator.builders.config import env_name
from tests.support.cluster import Kube, Obj, Waits, conditions
from tests.support.operator import (
    EXAMPLES,
    RAGD,
    REDIS_PASSWORD,
    children,
    load_examples,
    ragdeployment,
    ready_condition,
    wait_ready,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

SECRET_VALUE = REDIS_PASSWORD


@pytest.fixture
def stack_ns(namespace: str, kubectl: Kubectl) -> str:
    """A namespace that admits only pods meeting the `restricted` Pod Security Standard."""
    kubectl.run(["label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"])
    return namespace


def _create_stack(kube: Kube, namespace: str, name: str = "rag", **spec: Any) -> Obj:
    """The Secret `redis` (holding SECRET_VALUE) is in every test namespace already."""
    return kube.create(ragdeployment(name, namespace, **spec), namespace)


def _eventually(
    waits: Waits, check: Callable[[], str | None], *, what: str, timeout: float = 60
) -> None:
    """`check` returns None when satisfied, else what it saw."""

    def probe() -> bool | Pending:
        seen = check()
        return True if seen is None else Pending(seen)

    waits.until(probe, timeout=timeout, what=what, interval=0.3)


def _patch_ragd(kubectl: Kubectl, namespace: str, name: str, patch: dict[str, Any]) -> None:
    kubectl.run(
        ["patch", "ragd", name, "-n", namespace, "--type", "merge", "-p", json.dumps(patch)]
    )


def test_minimal_example_reaches_ready_under_restricted_pod_security(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    for doc in load_examples(EXAMPLES / "minimal.yaml"):
        kube.create({**doc, "metadata": {**doc["metadata"], "namespace": stack_ns}}, stack_ns)
    kubectl.run(
        ["wait", "--for=condition=Ready", "ragd/docs", "-n", stack_ns, "--timeout=60s"], timeout=70
    )
    obj = kube.get(*RAGD, "docs", stack_ns)
    status = obj["status"]
    assert status["api"]["activeColor"] == "blue" and status["api"]["readyReplicas"] >= 1
    assert status["endpoints"]["api"] == f"http://docs-api.{stack_ns}.svc:80"
    assert conditions(obj) == {
        "Ready": "True",
        "Available": "True",
        "Progressing": "False",
        "Degraded": "False",
        "SecretsResolved": "True",
        "MonitoringAvailable": "False",
    }
    assert {c["type"]: c["reason"] for c in status["conditions"]}[
        "MonitoringAvailable"
    ] == "PrometheusOperatorMissing"
    pods = kube.list("v1", "Pod", stack_ns, "app.kubernetes.io/instance=docs")
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods} == {
        "api",
        "worker",
        "qdrant",
    }
    table = kubectl.run(["get", "ragd", "docs", "-n", stack_ns])
    assert "True" in table and "blue" in table
    assert not obj["metadata"].get("finalizers"), "nothing here needs a finalizer"


def test_a_settled_stack_is_left_alone(kube: Kube, waits: Waits, stack_ns: str) -> None:
    """No reconcile storm: once Ready, neither the resource nor its children are written again,
    across the operator's periodic resync (30 s in these tests)."""
    _create_stack(kube, stack_ns)
    wait_ready(waits, stack_ns, "rag")

    def ours(obj: Obj) -> str:
        """When the operator last changed the object (controllers update statuses on their own)."""
        entries = [m for m in obj["metadata"]["managedFields"] if m["manager"] == "ragops-operator"]
        return f"{obj['metadata'].get('generation')}@{[m['time'] for m in entries]}"

    def versions() -> dict[str, str]:
        found = {
            f"{kind}/{name}": ours(obj)
            for (kind, name), obj in children(kube, stack_ns, "rag").items()
        }
        found["RAGDeployment"] = kube.get(*RAGD, "rag", stack_ns)["metadata"]["resourceVersion"]
        return found

    # Let the HPAs and the last status updates settle first.
    stable: list[dict[str, str]] = []

    def settled() -> bool | Pending:
        stable.append(versions())
        return True if len(stable) > 1 and stable[-1] == stable[-2] else Pending("still changing")

    waits.until(settled, timeout=60, what="the stack settled", interval=5)
    time.sleep(35)  # one periodic resync of every stack happens in this window
    after = versions()
    changed = {key for key in after if after[key] != stable[-1].get(key)}
    assert not changed, f"written while nothing changed: {sorted(changed)}"


@pytest.mark.parametrize(
    ("files", "stacks"),
    [
        (
            ["tenants/tenant-a.yaml", "tenants/tenant-b.yaml", "tenants/tenant-c.yaml"],
            [("tenant-a", "rag"), ("tenant-b", "rag"), ("tenant-c", "rag")],
        ),
    ],
    ids=["tenants"],  # production.yaml: test_operator_names_and_secrets.py, its Secrets first
)
def test_examples_reach_ready(
    kube: Kube, kubectl: Kubectl, waits: Waits, files: list[str], stacks: list[tuple[str, str]]
) -> None:
    try:
        for file in files:
            kubectl.run(["apply", "-f", str(EXAMPLES / file)])
        for namespace, name in stacks:
            wait_ready(waits, namespace, name, timeout=90)
    finally:
        for namespace in {ns for ns, _ in stacks}:
            kubectl.run(["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"])


def test_children_follow_the_spec_and_never_hold_secret_values(
    kube: Kube, waits: Waits, stack_ns: str
) -> None:
    created = _create_stack(kube, stack_ns)
    wait_ready(waits, stack_ns, "rag")
    kids = children(kube, stack_ns, "rag")
    names = set(kids)
    assert {
        ("ConfigMap", "rag-config"),
        ("Deployment", "rag-api-blue"),
        ("Deployment", "rag-worker"),
        ("StatefulSet", "rag-qdrant"),
        ("Service", "rag-api"),
        ("Service", "rag-qdrant-headless"),
        ("HorizontalPodAutoscaler", "rag-api-blue"),
        ("HorizontalPodAutoscaler", "rag-worker"),
        ("PodDisruptionBudget", "rag-api"),
        ("PodDisruptionBudget", "rag-qdrant"),
        ("ServiceAccount", "rag-api"),
    } <= names
    assert any(kind == "NetworkPolicy" for kind, _ in names)
    for obj in kids.values():
        refs = obj["metadata"]["ownerReferences"]
        assert [r["uid"] for r in refs] == [created["metadata"]["uid"]], obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "ragops"
    assert SECRET_VALUE not in json.dumps(list(kids.values()))

    config = kids[("ConfigMap", "rag-config")]["data"]
    known = {env_name(field) for field in Settings.model_fields}
    assert set(config) <= known, set(config) - known
    assert config[env_name("qdrant_url")] == "http://rag-qdrant:6333"
    api = kids[("Deployment", "rag-api-blue")]
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:1] == ["api"]
    secret_env = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e
    }
    assert secret_env[env_name("redis_url")] == {"name": "redis", "key": "url", "optional": False}
    operator_fields = [
        m for m in api["metadata"]["managedFields"] if m["manager"] == "ragops-operator"
    ]
    assert operator_fields and all(
        "f:replicas" not in json.dumps(m.get("fieldsV1", {}).get("f:spec", {}))
        for m in operator_fields
    )
    assert kids[("Service", "rag-api")]["spec"]["selector"]["ragops.dev/color"] == "blue"
    claims = waits.claims_bound(stack_ns, 1)
    assert claims[0]["spec"]["storageClassName"] == "gp3"


def test_edited_and_deleted_children_are_restored(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    _create_stack(kube, stack_ns)
    wait_ready(waits, stack_ns, "rag")
    top_k = env_name("top_k")
    kubectl.run(
        [
            "patch",
            "service",
            "rag-api",
            "-n",
            stack_ns,
            "--type",
            "merge",
            "-p",
            '{"spec":{"selector":{"ragops.dev/color":"green"}}}',
        ]
    )
    kubectl.run(
        [
            "patch",
            "configmap",
            "rag-config",
            "-n",
            stack_ns,
            "--type",
            "merge",
            "-p",
            json.dumps({"data": {top_k: "9"}}),
        ]
    )
    worker_uid = kube.get("apps/v1", "Deployment", "rag-worker", stack_ns)["metadata"]["uid"]
    kube.delete("apps/v1", "Deployment", "rag-worker", stack_ns)
    kube.delete("networking.k8s.io/v1", "NetworkPolicy", "rag-default-deny", stack_ns)

    def restored() -> str | None:
        selector = kube.get("v1", "Service", "rag-api", stack_ns)["spec"]["selector"].get(
            "ragops.dev/color"
        )
        value = kube.get("v1", "ConfigMap", "rag-config", stack_ns)["data"].get(top_k)
        try:
            worker = kube.get("apps/v1", "Deployment", "rag-worker", stack_ns)["metadata"]["uid"]
            kube.get("networking.k8s.io/v1", "NetworkPolicy", "rag-default-deny", stack_ns)
        except NotFoundError as missing:
            return f"missing: {missing}"
        if selector == "blue" and value == "3" and worker != worker_uid:
            return None
        return f"selector={selector} {top_k}={value} worker recreated={worker != worker_uid}"

    _eventually(waits, restored, what="drift repaired")
    wait_ready(waits, stack_ns, "rag")


def test_spec_update_changes_children_and_leaves_replicas_to_the_hpa(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    """Autoscaling bounds and the worker's template change in place (the API's pod template is
    untouched, so no blue/green rollout); what the HPA sets is never reset by the operator."""
    _create_stack(kube, stack_ns)
    wait_ready(waits, stack_ns, "rag")
    _patch_ragd(
        kubectl,
        stack_ns,
        "rag",
        {
            "spec": {
                "api": {"replicas": {"min": 3, "max": 12}},
                "worker": {"image": "ragops/ragops:next", "targetQueueDepthPerPod": 20},
            }
        },
    )

    def updated() -> str | None:
        hpa = kube.get("autoscaling/v2", "HorizontalPodAutoscaler", "rag-api-blue", stack_ns)[
            "spec"
        ]
        worker_hpa = kube.get("autoscaling/v2", "HorizontalPodAutoscaler", "rag-worker", stack_ns)[
            "spec"
        ]
        depth = next(
            m["external"]["target"]["averageValue"]
            for m in worker_hpa["metrics"]
            if m["type"] == "External"
        )
        worker = kube.get("apps/v1", "Deployment", "rag-worker", stack_ns)["spec"]["template"][
            "spec"
        ]["containers"][0]["image"]
        replicas = kube.get("apps/v1", "Deployment", "rag-api-blue", stack_ns)["spec"]["replicas"]
        if (hpa["minReplicas"], hpa["maxReplicas"], worker, depth, replicas) == (
            3,
            12,
            "ragops/ragops:next",
            "20",
            3,
        ):
            return None
        return (
            f"hpa={hpa['minReplicas']}-{hpa['maxReplicas']} worker={worker} depth={depth} "
            f"api replicas={replicas}"
        )

    _eventually(
        waits,
        updated,
        what="children follow the new spec and the HPA scales the API to 3",
        timeout=90,
    )
    generation = kube.get(*RAGD, "rag", stack_ns)["metadata"]["generation"]
    wait_ready(waits, stack_ns, "rag", generation=generation)
    # Another reconcile must not reset what the HPA set.
    _patch_ragd(kubectl, stack_ns, "rag", {"spec": {"worker": {"replicas": {"min": 1, "max": 6}}}})
    wait_ready(waits, stack_ns, "rag", generation=generation + 1)
    assert kube.get("apps/v1", "Deployment", "rag-api-blue", stack_ns)["spec"]["replicas"] == 3
    assert kube.get(*RAGD, "rag", stack_ns)["status"]["api"]["activeColor"] == "blue"


INVALID_SPECS: list[tuple[str, dict[str, Any], str]] = [
    (
        "replicas min above max",
        {"api": {"replicas": {"min": 5, "max": 3}}},
        "spec.api.replicas.min",
    ),
    (
        "overlap not below chunk",
        {"retrieval": {"chunkWords": 100, "overlapWords": 100}},
        "spec.retrieval.overlapWords",
    ),
    (
        "replication above peers",
        {"vectorStore": {"qdrant": {"replicas": 1, "replicationFactor": 2}}},
        "spec.vectorStore.qdrant.replicationFactor",
    ),
    ("unknown retrieval mode", {"retrieval": {"mode": "fuzzy"}}, "spec.retrieval.mode"),
    (
        "cpu not a quantity",
        {
            "api": {
                "resources": {
                    "requests": {"cpu": "lots", "memory": "1Gi"},
                    "limits": {"cpu": "2", "memory": "2Gi"},
                }
            }
        },
        "spec.api.resources.requests.cpu",
    ),
    (
        "requests above limits",
        {
            "worker": {
                "resources": {
                    "requests": {"cpu": "1", "memory": "4Gi"},
                    "limits": {"cpu": "2", "memory": "2Gi"},
                }
            }
        },
        "spec.worker.resources.requests.memory",
    ),
    ("topK zero", {"retrieval": {"topK": 0}}, "spec.retrieval.topK"),
    (
        "queue not a URL",
        {"documents": {"bucket": "docs-bucket", "queueUrl": "ingest-queue"}},
        "spec.documents.queueUrl",
    ),
    (
        "openai embeddings without credentials",
        {"models": {"embedding": {"provider": "openai"}}},
        "spec.models.credentialsSecretRef",
    ),
    (
        "bad IAM role",
        {"serviceAccount": {"iamRoleArn": "role/ragops"}},
        "spec.serviceAccount.iamRoleArn",
    ),
    (
        "qdrant autoscaling below replicas",
        {
            "vectorStore": {
                "qdrant": {"replicas": 3, "autoscaling": {"enabled": True, "maxReplicas": 2}}
            }
        },
        "spec.vectorStore.qdrant.autoscaling.maxReplicas",
    ),
    (
        "JWKS over plain HTTP",
        {"auth": {"jwksUrl": "http://idp/jwks.json", "issuer": "https://idp"}},
        "spec.auth.jwksUrl",
    ),
    (
        "HPA target above 100%",
        {"api": {"targetCPUUtilization": 150}},
        "spec.api.targetCPUUtilization",
    ),
    (
        "secret name not a DNS name",
        {"cache": {"redis": {"urlSecretRef": {"name": "Redis_URL", "key": "url"}}}},
        "spec.cache.redis.urlSecretRef.name",
    ),
    (
        "monitoring label overrides ours",
        {"monitoring": {"labels": {"app.kubernetes.io/instance": "x"}}},
        "spec.monitoring.labels",
    ),
    (
        "rate limit not in the limits notation",
        {"api": {"rateLimits": {"questions": "60/min"}}},
        "spec.api.rateLimits.questions",
    ),
    (
        "Prometheus URL without a scheme",
        {"monitoring": {"prometheusUrl": "prometheus:9090"}},
        "spec.monitoring.prometheusUrl",
    ),
]


def _refusal(kube: Kube, obj: Obj) -> str:
    """The API server's own message (no client-side validation in between)."""
    with pytest.raises(UnprocessibleEntityError) as refused:
        kube.create(obj, obj["metadata"]["namespace"])
    return str(json.loads(refused.value.body)["message"])


@pytest.mark.parametrize(
    ("case", "spec", "field"), INVALID_SPECS, ids=[c[0] for c in INVALID_SPECS]
)
def test_invalid_spec_is_rejected_naming_the_field(
    kube: Kube, namespace: str, case: str, spec: dict[str, Any], field: str
) -> None:
    message = _refusal(kube, ragdeployment("bad", namespace, **spec))
    assert field in message, message


def test_missing_required_fields_are_named(kube: Kube, namespace: str) -> None:
    obj = ragdeployment("bad", namespace)
    del obj["spec"]["image"], obj["spec"]["documents"]
    message = _refusal(kube, obj)
    assert (
        "spec.image: Required value" in message and "spec.documents: Required value" in message
    ), message


def test_storage_cannot_shrink_or_change_class(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    _create_stack(kube, stack_ns, vectorStore={"qdrant": {"storage": {"size": "20Gi"}}})
    with pytest.raises(KubectlFailed) as shrink:
        _patch_ragd(
            kubectl,
            stack_ns,
            "rag",
            {"spec": {"vectorStore": {"qdrant": {"storage": {"size": "10Gi"}}}}},
        )
    assert "spec.vectorStore.qdrant.storage.size" in str(
        shrink.value
    ) and "cannot be decreased" in str(shrink.value)
    with pytest.raises(KubectlFailed) as reclass:
        _patch_ragd(
            kubectl,
            stack_ns,
            "rag",
            {"spec": {"vectorStore": {"qdrant": {"storage": {"storageClassName": "gp2"}}}}},
        )
    assert "spec.vectorStore.qdrant.storage.storageClassName" in str(reclass.value)
    wait_ready(waits, stack_ns, "rag")
    waits.claims_bound(stack_ns, 1)
    pod_uid = kube.get("v1", "Pod", "rag-qdrant-0", stack_ns)["metadata"]["uid"]
    _patch_ragd(
        kubectl,
        stack_ns,
        "rag",
        {"spec": {"vectorStore": {"qdrant": {"storage": {"size": "30Gi"}}}}},
    )

    def grown() -> str | None:
        claim = kube.get("v1", "PersistentVolumeClaim", "storage-rag-qdrant-0", stack_ns)["spec"][
            "resources"
        ]["requests"]["storage"]
        try:
            template = kube.get("apps/v1", "StatefulSet", "rag-qdrant", stack_ns)["spec"][
                "volumeClaimTemplates"
            ][0]["spec"]["resources"]["requests"]["storage"]
        except NotFoundError:
            return "StatefulSet being re-created with the bigger template"
        return (
            None if (claim, template) == ("30Gi", "30Gi") else f"claim={claim} template={template}"
        )

    _eventually(waits, grown, what="volume and StatefulSet template grown to 30Gi")
    obj = wait_ready(waits, stack_ns, "rag")
    assert conditions(obj)["Degraded"] == "False"
    assert kube.get("v1", "Pod", "rag-qdrant-0", stack_ns)["metadata"]["uid"] == pod_uid, (
        "the Qdrant pod was restarted"
    )


def test_turning_qdrant_autoscaling_on_never_drops_peers(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    _create_stack(kube, stack_ns, vectorStore={"qdrant": {"replicas": 3, "replicationFactor": 2}})
    wait_ready(waits, stack_ns, "rag", timeout=90)
    _patch_ragd(
        kubectl,
        stack_ns,
        "rag",
        {"spec": {"vectorStore": {"qdrant": {"autoscaling": {"enabled": True, "maxReplicas": 6}}}}},
    )
    seen: list[int] = []

    def handed_over() -> str | None:
        sts = kube.get("apps/v1", "StatefulSet", "rag-qdrant", stack_ns)
        seen.append(sts["spec"]["replicas"])
        managers = {
            m["manager"]
            for m in sts["metadata"]["managedFields"]
            if "f:replicas" in json.dumps(m.get("fieldsV1", {}).get("f:spec", {}))
        }
        hpa_exists = ("HorizontalPodAutoscaler", "rag-qdrant") in children(kube, stack_ns, "rag")
        return (
            None
            if hpa_exists and "ragops-operator" not in managers and len(seen) > 20
            else f"managers={managers} hpa={hpa_exists}"
        )

    waits.until(
        lambda: True if handed_over() is None else Pending(f"replicas seen {seen[-3:]}"),
        timeout=60,
        what="replicas handed to the HPA",
        interval=0.1,
    )
    wait_ready(waits, stack_ns, "rag", timeout=60)
    assert min(seen) == 3, f"Qdrant replicas dipped: {seen}"


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_deleting_the_stack_collects_children_and_honours_the_volume_policy(
    kube: Kube, waits: Waits, stack_ns: str, policy: str
) -> None:
    _create_stack(kube, stack_ns, vectorStore={"qdrant": {"deletionPolicy": policy}})
    wait_ready(waits, stack_ns, "rag")
    waits.claims_bound(stack_ns, 1)
    kube.delete(*RAGD, "rag", stack_ns)
    waits.gone(
        lambda: list(children(kube, stack_ns, "rag").values()), what="children garbage-collected"
    )
    waits.gone(lambda: kube.list("v1", "Pod", stack_ns), what="pods gone")
    claims = lambda: kube.list("v1", "PersistentVolumeClaim", stack_ns)  # noqa: E731
    if policy == "Delete":
        waits.gone(claims, what="volumes deleted with the stack")
    else:
        assert [c["metadata"]["name"] for c in claims()] == ["storage-rag-qdrant-0"]


def test_paused_stack_is_left_alone_until_resumed(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    _create_stack(kube, stack_ns)
    wait_ready(waits, stack_ns, "rag")
    _patch_ragd(kubectl, stack_ns, "rag", {"spec": {"paused": True}})

    def paused() -> str | None:
        obj = kube.get(*RAGD, "rag", stack_ns)
        reasons = {c["type"]: c["reason"] for c in obj["status"]["conditions"]}
        return (
            None
            if reasons.get("Progressing") == "Paused"
            else f"Progressing={reasons.get('Progressing')}"
        )

    _eventually(waits, paused, what="Progressing=False/Paused")
    kube.delete("v1", "Service", "rag-worker", stack_ns)
    _patch_ragd(kubectl, stack_ns, "rag", {"spec": {"retrieval": {"topK": 7}}})
    generation = kube.get(*RAGD, "rag", stack_ns)["metadata"]["generation"]
    _eventually(
        waits,
        lambda: (
            None
            if kube.get(*RAGD, "rag", stack_ns)["status"].get("observedGeneration") == generation
            else "not observed"
        ),
        what="the paused spec change observed",
    )
    with pytest.raises(NotFoundError):
        kube.get("v1", "Service", "rag-worker", stack_ns)
    assert kube.get("v1", "ConfigMap", "rag-config", stack_ns)["data"][env_name("top_k")] == "3"
    _patch_ragd(kubectl, stack_ns, "rag", {"spec": {"paused": False}})
    _eventually(
        waits,
        lambda: (
            None
            if kube.get("v1", "ConfigMap", "rag-config", stack_ns)["data"][env_name("top_k")] == "7"
            else "old config"
        ),
        what="resumed stack follows the spec",
    )
    kube.get("v1", "Service", "rag-worker", stack_ns)


def test_status_reports_an_unready_component(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    """A worker whose pods cannot be scheduled leaves the stack not Ready, and the message says
    which."""
    _create_stack(
        kube,
        stack_ns,
        worker={
            "resources": {
                "requests": {"cpu": "500", "memory": "1Gi"},
                "limits": {"cpu": "500", "memory": "2Gi"},
            }
        },
    )

    def worker_named() -> str | None:
        ready = ready_condition(kube.get(*RAGD, "rag", stack_ns))
        if ready.get("status") == "False" and "worker 0/1" in ready.get("message", ""):
            return None
        return f"Ready={ready}"

    _eventually(waits, worker_named, what="Ready=False naming the worker")
    _patch_ragd(
        kubectl,
        stack_ns,
        "rag",
        {
            "spec": {
                "worker": {
                    "resources": {
                        "requests": {"cpu": "1", "memory": "1Gi"},
                        "limits": {"cpu": "2", "memory": "2Gi"},
                    }
                }
            }
        },
    )
    wait_ready(waits, stack_ns, "rag", timeout=90)


def test_backup_schedule_follows_the_spec(
    kube: Kube, kubectl: Kubectl, waits: Waits, stack_ns: str
) -> None:
    _create_stack(
        kube,
        stack_ns,
        backup={"enabled": True, "bucket": "backups-bucket", "schedule": "15 2 * * *"},
    )
    wait_ready(waits, stack_ns, "rag")
    cron = kube.get("batch/v1", "CronJob", "rag-backup", stack_ns)
    assert (cron["spec"]["schedule"], cron["spec"]["concurrencyPolicy"]) == ("15 2 * * *", "Forbid")
    assert (
        cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][0]
        == "backup"
    )
    _patch_ragd(kubectl, stack_ns, "rag", {"spec": {"backup": {"enabled": False}}})

    def pruned() -> str | None:
        try:
            kube.get("batch/v1", "CronJob", "rag-backup", stack_ns)
        except NotFoundError:
            return None
        return "CronJob still there"

    _eventually(waits, pruned, what="backup CronJob pruned")
