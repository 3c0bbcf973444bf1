"""Smoke tests proving the cluster under test is a real Kubernetes control plane."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import (
    NotFoundError,
    ResourceNotFoundError,
    UnprocessibleEntityError,
)

from ragops_devcluster import versions
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import ClusterUnderTest, Kube, Obj, Waits, conditions

pytestmark = pytest.mark.cluster

ZONE = "topology.kubernetes.io/zone"
# Never pulled: kwok plays the kubelet and only reports the containers as running.
IMAGE = "registry.k8s.io/pause:3.10"


def _deployment(name: str, replicas: int, **pod_spec: Any) -> Obj:
    container = {
        "name": "main",
        "image": IMAGE,
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container], **pod_spec},
            },
        },
    }


def test_kubectl_talks_to_the_api_server(k8s_cluster: ClusterUnderTest, kubectl: Kubectl) -> None:
    server = json.loads(kubectl.run(["version", "-o", "json"]))["serverVersion"]["gitVersion"]
    if k8s_cluster.backend == "local":
        assert server == versions.KUBERNETES
    assert server.startswith("v1.")
    resources = set(kubectl.run(["api-resources", "-o", "name"]).split())
    expected = {
        "deployments.apps",
        "statefulsets.apps",
        "horizontalpodautoscalers.autoscaling",
        "customresourcedefinitions.apiextensions.k8s.io",
    }
    assert expected <= resources, expected - resources
    assert (
        kubectl.run(["auth", "can-i", "create", "deployments", "--all-namespaces"]).strip() == "yes"
    )


def test_nodes_are_ready_across_three_zones(kube: Kube) -> None:
    nodes = [n for n in kube.list("v1", "Node") if conditions(n).get("Ready") == "True"]
    zones = {n["metadata"]["labels"].get(ZONE) for n in nodes} - {None}
    assert len(zones) >= 3, (
        "Ready nodes per zone: "
        f"{[(n['metadata']['name'], n['metadata']['labels'].get(ZONE)) for n in nodes]}"
    )


def test_deployment_becomes_available_spread_over_zones(
    kube: Kube, namespace: str, waits: Waits
) -> None:
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": ZONE,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ]
    kube.create(_deployment("web", 3, topologySpreadConstraints=spread), namespace)
    deployment = waits.deployment_available(namespace, "web")
    assert deployment["status"]["availableReplicas"] == 3

    pods = kube.list("v1", "Pod", namespace, "app=web")
    assert [p["status"]["phase"] for p in pods] == ["Running"] * 3
    assert all(conditions(p).get("Ready") == "True" for p in pods)
    zones = {
        kube.get("v1", "Node", p["spec"]["nodeName"])["metadata"]["labels"][ZONE] for p in pods
    }
    assert len(zones) == 3, f"topology spread should put one pod per zone, got {zones}"


def test_statefulset_claims_bind_and_pods_become_ready(
    kube: Kube, namespace: str, waits: Waits, k8s_cluster: ClusterUnderTest
) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
        },
        namespace,
    )
    container = {
        "name": "main",
        "image": IMAGE,
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "replicas": 2,
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [container]},
                },
                # No storageClassName: admission must apply the cluster's default class.
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
        namespace,
    )
    claims = waits.claims_bound(namespace, 2)
    if k8s_cluster.backend == "local":
        assert {c["spec"]["storageClassName"] for c in claims} == {"gp3"}
    statefulset = waits.statefulset_ready(namespace, "db")
    assert statefulset["status"]["readyReplicas"] == 2
    for claim in claims:
        volume = kube.get("v1", "PersistentVolume", claim["spec"]["volumeName"])
        assert volume["status"]["phase"] == "Bound"


def test_deleting_an_owner_garbage_collects_its_children(
    kube: Kube, namespace: str, waits: Waits
) -> None:
    kube.create(_deployment("owner", 2), namespace)
    waits.deployment_available(namespace, "owner")
    assert kube.list("apps/v1", "ReplicaSet", namespace, "app=owner")

    # An explicit ownerReference too, so the collector is proven beyond controller-made objects.
    parent = kube.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "parent"}}, namespace
    )
    owner_ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "parent",
        "uid": parent["metadata"]["uid"],
    }
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "child", "ownerReferences": [owner_ref]},
        },
        namespace,
    )

    kube.delete("apps/v1", "Deployment", "owner", namespace)
    kube.delete("v1", "ConfigMap", "parent", namespace)
    waits.gone(
        lambda: kube.list("apps/v1", "ReplicaSet", namespace, "app=owner"),
        what="ReplicaSets of the deleted Deployment to be collected",
    )
    waits.gone(
        lambda: kube.list("v1", "Pod", namespace, "app=owner"),
        what="Pods of the deleted Deployment to be collected",
    )
    waits.gone(
        lambda: [
            c for c in kube.list("v1", "ConfigMap", namespace) if c["metadata"]["name"] == "child"
        ],
        what="the ConfigMap owned by the deleted ConfigMap to be collected",
    )


def _widget_crd(group: str, message: str) -> Obj:
    spec_schema = {
        "type": "object",
        "properties": {"replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.replicas <= self.maxReplicas", "message": message}
        ],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}
                    },
                }
            ],
        },
    }


def test_crd_cel_rule_rejects_invalid_object(kube: Kube, namespace: str, waits: Waits) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.smoke.ragops.dev"
    message = "replicas must not exceed maxReplicas"
    crd_name = f"widgets.{group}"
    kube.create(_widget_crd(group, message))
    try:

        def established() -> bool | Pending:
            found = conditions(
                kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd_name)
            )
            return True if found.get("Established") == "True" else Pending(f"conditions={found}")

        waits.until(established, timeout=30, what=f"CRD {crd_name} Established", interval=0.5)

        def widget(name: str, replicas: int) -> Obj:
            return {
                "apiVersion": f"{group}/v1",
                "kind": "Widget",
                "metadata": {"name": name},
                "spec": {"replicas": replicas, "maxReplicas": 3},
            }

        # Discovery of a fresh CRD can lag Established by a moment: retry "not served yet" only.
        def create_valid() -> bool | Pending:
            try:
                kube.create(widget("ok", 2), namespace)
            except (ResourceNotFoundError, NotFoundError) as exc:
                return Pending(f"Widget not served yet: {exc}")
            return True

        waits.until(
            create_valid,
            timeout=30,
            what="the Widget endpoint to accept a valid object",
            interval=0.5,
        )
        with pytest.raises(UnprocessibleEntityError) as rejected:
            kube.create(widget("bad", 5), namespace)
        assert message in str(rejected.value.body)
    finally:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd_name)


def test_hpa_is_accepted_and_reports_conditions(kube: Kube, namespace: str, waits: Waits) -> None:
    kube.create(_deployment("scaled", 1), namespace)
    waits.deployment_available(namespace, "scaled")
    cpu_target = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}
    kube.create(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "scaled"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
                "minReplicas": 1,
                "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": cpu_target}],
            },
        },
        namespace,
    )

    def reported() -> dict[str, str] | Pending:
        found = conditions(
            kube.get("autoscaling/v2", "HorizontalPodAutoscaler", "scaled", namespace)
        )
        return found if found else Pending("no conditions yet")

    # The HPA controller syncs every 15 s; without a metrics API it still says why it cannot scale.
    found = waits.until(
        reported, timeout=120, what="the HPA controller to report conditions", interval=2.0
    )
    assert "AbleToScale" in found, found
