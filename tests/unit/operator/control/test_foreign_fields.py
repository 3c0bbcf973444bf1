"""Fields other managers added to the children: found from managedFields, removed by a guarded
JSON patch, reported as Events and the DriftReverted condition (issue #15 item 1).

The managedFields below have the shapes the API server writes for `kubectl patch` (an Update
entry of manager `kubectl-patch`); the cluster tests check the same against a real server."""

from __future__ import annotations

import copy
import json
from typing import Any

from ragops_operator.control.foreign_fields import (
    CONDITION,
    REPORT_SECONDS,
    ForeignField,
    drift_condition,
    foreign_fields,
    messages,
    removal_patch,
)
from ragops_operator.control.kube import RAGD
from ragops_operator.control.reconciler import Reconciler
from ragops_operator.control.write import OUR_MANAGERS
from ragops_operator.objects import Obj
from tests.support.builder_specs import MINIMAL
from tests.support.fake_cluster import FakeCluster, ragd


def k(**keys: Any) -> str:
    return "k:" + json.dumps(keys, separators=(",", ":"))


def worker(**pod: Any) -> Obj:
    """A Deployment as the operator applies it (the desired manifest)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "rag-worker", "namespace": "ns", "resourceVersion": "7"},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "worker"}},
                "spec": {
                    "containers": [
                        {
                            "name": "worker",
                            "image": "ragops:1",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                        }
                    ],
                    **pod,
                },
            },
        },
    }


def entry(manager: str, fields: Obj, **extra: Any) -> Obj:
    return {"manager": manager, "operation": "Update", "fieldsV1": fields, **extra}


SIDECAR_AND_HOST_NETWORK = {
    "f:spec": {
        "f:template": {
            "f:spec": {
                "f:containers": {
                    k(name="sidecar"): {".": {}, "f:image": {}, "f:name": {}, "f:resources": {}},
                    # hostNetwork defaults hostPort to containerPort: the patcher owns that too.
                    k(name="worker"): {
                        "f:ports": {k(containerPort=8080, protocol="TCP"): {"f:hostPort": {}}}
                    },
                },
                "f:hostNetwork": {},
            }
        }
    }
}


def patched_worker() -> Obj:
    live = worker()
    pod = live["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["containers"][0]["ports"][0].update(protocol="TCP", hostPort=8080)
    pod["containers"].append({"name": "sidecar", "image": "evil:1", "resources": {}})
    live["metadata"]["managedFields"] = [
        entry("ragops-operator", {"f:spec": {}}, operation="Apply"),
        entry("kubectl-patch", SIDECAR_AND_HOST_NETWORK),
    ]
    return live


def described(live: Obj, desired: Obj) -> list[str]:
    return sorted(f.describe() for f in foreign_fields(live, desired, ours=OUR_MANAGERS))


def test_a_sidecar_host_network_and_its_host_port_are_foreign() -> None:
    assert described(patched_worker(), worker()) == [
        "spec.template.spec.containers[name=sidecar]",
        "spec.template.spec.containers[name=worker].ports[containerPort=8080,protocol=TCP]"
        ".hostPort",
        "spec.template.spec.hostNetwork",
    ]


def test_the_patch_removes_exactly_those_fields_each_guarded_by_its_value() -> None:
    live = patched_worker()
    found = foreign_fields(live, worker(), ours=OUR_MANAGERS)
    sidecar = {"name": "sidecar", "image": "evil:1", "resources": {}}
    assert removal_patch(live, found) == [
        {"op": "test", "path": "/spec/template/spec/hostNetwork", "value": True},
        {"op": "remove", "path": "/spec/template/spec/hostNetwork"},
        {"op": "test", "path": "/spec/template/spec/containers/1", "value": sidecar},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "test", "path": "/spec/template/spec/containers/0/ports/0/hostPort", "value": 8080},
        {"op": "remove", "path": "/spec/template/spec/containers/0/ports/0/hostPort"},
    ]


def test_two_added_items_of_one_list_are_removed_last_index_first() -> None:
    live = worker()
    containers = live["spec"]["template"]["spec"]["containers"]
    containers += [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
    fields = {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {k(name="a"): {}, k(name="b"): {}}}}}
    }
    live["metadata"]["managedFields"] = [entry("kubectl-edit", fields)]
    ops = removal_patch(live, foreign_fields(live, worker(), ours=OUR_MANAGERS))
    assert [op["path"] for op in ops if op["op"] == "remove"] == [
        "/spec/template/spec/containers/2",
        "/spec/template/spec/containers/1",
    ]


def test_fields_in_the_spec_controllers_subresources_and_kept_paths_are_not_drift() -> None:
    desired = worker(securityContext={"runAsNonRoot": True})
    live = copy.deepcopy(desired)
    live["spec"]["template"]["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z"
    }
    live["metadata"]["managedFields"] = [
        # `kubectl set image`: a field we set as well; the forced apply puts ours back.
        entry(
            "kubectl-set",
            {
                "f:spec": {
                    "f:template": {"f:spec": {"f:containers": {k(name="worker"): {"f:image": {}}}}}
                }
            },
        ),
        entry(
            "kubectl-rollout",
            {
                "f:spec": {
                    "f:template": {
                        "f:metadata": {"f:annotations": {"f:kubectl.kubernetes.io/restartedAt": {}}}
                    }
                }
            },
        ),
        entry("kube-controller-manager", {"f:metadata": {"f:annotations": {}}, "f:spec": {}}),
        entry("kube-controller-manager", {"f:status": {"f:replicas": {}}}, subresource="status"),
        entry("kubectl", {"f:spec": {"f:replicas": {}}}, subresource="scale"),
        entry("argo", {"f:metadata": {"f:labels": {"f:team": {}}}}),
        entry("someone", {"f:spec": {"f:replicas": {}}}),
    ]
    assert described(live, desired) == []


def test_a_port_whose_protocol_the_server_defaulted_is_ours() -> None:
    live = worker()
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = "TCP"
    ports = {"f:ports": {k(containerPort=8080, protocol="TCP"): {".": {}, "f:containerPort": {}}}}
    fields = {"f:spec": {"f:template": {"f:spec": {"f:containers": {k(name="worker"): ports}}}}}
    live["metadata"]["managedFields"] = [entry("before-first-apply", fields)]
    assert described(live, worker()) == []


def network_policy(**spec: Any) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "rag-default-deny", "namespace": "ns", "resourceVersion": "3"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec},
    }


def test_an_allow_all_ingress_added_to_the_default_deny_is_foreign() -> None:
    live = network_policy(ingress=[{}])
    live["metadata"]["managedFields"] = [entry("kubectl-patch", {"f:spec": {"f:ingress": {}}})]
    found = foreign_fields(live, network_policy(), ours=OUR_MANAGERS)
    assert removal_patch(live, found) == [
        {"op": "test", "path": "/spec/ingress", "value": [{}]},
        {"op": "remove", "path": "/spec/ingress"},
    ]
    assert messages(live, found) == [
        "Removed spec.ingress from NetworkPolicy rag-default-deny: set by kubectl-patch, "
        "not in the spec"
    ]


def test_service_account_token_mount_and_pull_secrets_are_foreign() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "rag", "namespace": "ns", "resourceVersion": "4"},
        "automountServiceAccountToken": False,
    }
    live = {
        **copy.deepcopy(desired),
        "automountServiceAccountToken": True,
        "imagePullSecrets": [{"name": "stolen"}],
        "secrets": [{"name": "token"}],
    }
    live["metadata"]["managedFields"] = [
        entry(
            "kubectl-edit",
            {
                "f:automountServiceAccountToken": {},
                "f:imagePullSecrets": {},
                "f:secrets": {".": {}, k(name="token"): {}},
            },
        )
    ]
    # automountServiceAccountToken: ours too (the forced apply restores False), not removed.
    assert described(live, desired) == ["imagePullSecrets", "secrets"]


def test_a_field_gone_already_makes_no_patch() -> None:
    live = worker()
    live["metadata"]["managedFields"] = [entry("kubectl-patch", SIDECAR_AND_HOST_NETWORK)]
    found = foreign_fields(live, worker(), ours=OUR_MANAGERS)
    assert found and removal_patch(live, found) == []


def test_jobs_are_never_patched() -> None:
    live = {**patched_worker(), "kind": "Job", "apiVersion": "batch/v1"}
    assert foreign_fields(live, worker(), ours=OUR_MANAGERS) == []


def test_one_message_per_manager_naming_the_object() -> None:
    live = network_policy()
    found = [
        ForeignField("kubectl-patch", (("f", "spec"), ("f", "ingress"))),
        ForeignField("helm", (("f", "spec"), ("f", "egress"))),
        ForeignField("kubectl-patch", (("f", "spec"), ("f", "egress"))),
    ]
    assert messages(live, found) == [
        "Removed spec.egress from NetworkPolicy rag-default-deny: set by helm, not in the spec",
        "Removed spec.egress, spec.ingress from NetworkPolicy rag-default-deny: "
        "set by kubectl-patch, not in the spec",
    ]


def test_the_condition_stays_true_for_the_report_window_then_turns_false() -> None:
    at = "2026-12-01T00:00:00Z"
    assert drift_condition([], [], now=at) is None, "a stack that never drifted has none"
    reverted = drift_condition([], ["Removed spec.ingress from NetworkPolicy x"], now=at)
    assert reverted is not None and reverted.status == "True"
    assert reverted.message == f"{at}: Removed spec.ingress from NetworkPolicy x"
    written = [
        {
            "type": CONDITION,
            "status": "True",
            "reason": reverted.reason,
            "message": reverted.message,
        }
    ]
    later = drift_condition(written, [], now="2026-12-01T00:14:59Z")
    assert later is not None and (later.status, later.message) == ("True", reverted.message)
    expired = drift_condition(written, [], now=f"2026-12-01T00:{int(REPORT_SECONDS) // 60}:00Z")
    assert expired is not None and (expired.status, expired.reason) == ("False", "NoRecentDrift")


# -- the reconcile against the in-memory cluster ---------------------------------------------

NAMESPACE, NAME = "tenant-a", "demo"


async def test_a_reconcile_removes_a_hand_added_sidecar_with_an_event_and_condition() -> None:
    cluster = FakeCluster()
    cluster.add(ragd(MINIMAL, name=NAME, namespace=NAMESPACE))
    operator = Reconciler(cluster, now=lambda: "2026-12-01T00:00:00Z", clock=lambda: 1.8e9)
    body = await cluster.get(RAGD, NAMESPACE, NAME)
    assert body is not None
    await operator.reconcile(body)

    live = cluster.find("Deployment", NAMESPACE, "demo-worker")
    assert live is not None
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["hostNetwork"] = True
    edited["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "x"})
    fields = {
        "f:spec": {
            "f:template": {"f:spec": {"f:containers": {k(name="sidecar"): {}}, "f:hostNetwork": {}}}
        }
    }
    cluster.edit_by("kubectl-patch", edited, fields)
    cluster.reset_calls()

    body = await cluster.get(RAGD, NAMESPACE, NAME)
    assert body is not None
    await operator.reconcile(body)

    after = cluster.find("Deployment", NAMESPACE, "demo-worker")
    assert after is not None
    pod = after["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod
    assert [c["name"] for c in pod["containers"]] == [
        c["name"] for c in live["spec"]["template"]["spec"]["containers"]
    ]
    drift = [e for e in cluster.events if e["reason"] == "DriftReverted"]
    assert [(e["type"], e["message"]) for e in drift] == [
        (
            "Warning",
            "Removed spec.template.spec.containers[name=sidecar], spec.template.spec.hostNetwork "
            "from Deployment demo-worker: set by kubectl-patch, not in the spec",
        )
    ]
    stack = cluster.find("RAGDeployment", NAMESPACE, NAME)
    assert stack is not None
    condition = {c["type"]: c for c in stack["status"]["conditions"]}[CONDITION]
    assert condition["status"] == "True" and condition["reason"] == "ForeignFieldsRemoved"
    assert "hostNetwork from Deployment demo-worker" in condition["message"]

    cluster.reset_calls()
    body = await cluster.get(RAGD, NAMESPACE, NAME)
    assert body is not None
    await operator.reconcile(body)
    assert cluster.of("json_patch") == [] and cluster.events == [], "nothing left to remove"
