"""Smoke tests proving the cluster under test is a real Kubernetes control plane."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from cluster_support import ClusterUnderTest, Waits
from kubernetes import client
from kubernetes.client.rest import ApiException
from ragops_devcluster import versions
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending

pytestmark = pytest.mark.cluster

ZONE = "topology.kubernetes.io/zone"
# Never pulled: kwok plays the kubelet and only reports the containers as running.
IMAGE = "registry.k8s.io/pause:3.10"


def _deployment(name: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": IMAGE,
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ],
                    **pod_spec,
                },
            },
        },
    }


def test_kubectl_talks_to_the_api_server(k8s_cluster: ClusterUnderTest, kubectl: Kubectl) -> None:
    version = json.loads(kubectl.run(["version", "-o", "json"]))
    server = version["serverVersion"]["gitVersion"]
    if k8s_cluster.backend == "local":
        assert server == versions.KUBERNETES
    assert server.startswith("v1.")
    resources = kubectl.run(["api-resources", "-o", "name"]).split()
    assert {
        "deployments.apps",
        "statefulsets.apps",
        "horizontalpodautoscalers.autoscaling",
        "customresourcedefinitions.apiextensions.k8s.io",
    } <= set(resources)
    assert (
        kubectl.run(["auth", "can-i", "create", "deployments", "--all-namespaces"]).strip() == "yes"
    )


def test_nodes_are_ready_across_three_zones(api_client: client.ApiClient) -> None:
    nodes = client.CoreV1Api(api_client).list_node().items
    ready = [
        n
        for n in nodes
        if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
    ]
    zones = {n.metadata.labels.get(ZONE) for n in ready}
    assert len(zones - {None}) >= 3, (
        f"Ready nodes per zone: {[(n.metadata.name, n.metadata.labels.get(ZONE)) for n in ready]}"
    )


def test_deployment_becomes_available_spread_over_zones(
    api_client: client.ApiClient, namespace: str, waits: Waits
) -> None:
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": ZONE,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ]
    client.AppsV1Api(api_client).create_namespaced_deployment(
        namespace, _deployment("web", 3, topologySpreadConstraints=spread)
    )
    deployment = waits.deployment_available(namespace, "web")
    assert deployment.status.available_replicas == 3

    core = client.CoreV1Api(api_client)
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert all(p.status.phase == "Running" for p in pods)
    assert all(
        any(c.type == "Ready" and c.status == "True" for c in p.status.conditions) for p in pods
    )
    zones = {core.read_node(p.spec.node_name).metadata.labels[ZONE] for p in pods}
    assert len(zones) == 3, f"topology spread should put one pod per zone, got {zones}"


def test_statefulset_claims_bind_and_pods_become_ready(
    api_client: client.ApiClient, namespace: str, waits: Waits, k8s_cluster: ClusterUnderTest
) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    core.create_namespaced_service(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
        },
    )
    apps.create_namespaced_stateful_set(
        namespace,
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
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": IMAGE,
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                            }
                        ]
                    },
                },
                # No storageClassName: the cluster's default class must be applied by admission.
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
    )
    claims = waits.pvcs_bound(namespace, "", 2)
    if k8s_cluster.backend == "local":
        assert {c.spec.storage_class_name for c in claims} == {"gp3"}
    statefulset = waits.statefulset_ready(namespace, "db")
    assert statefulset.status.ready_replicas == 2
    for claim in claims:
        volume = core.read_persistent_volume(claim.spec.volume_name)
        assert volume.status.phase == "Bound"


def test_deleting_an_owner_garbage_collects_its_children(
    api_client: client.ApiClient, namespace: str, waits: Waits
) -> None:
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("owner", 2))
    waits.deployment_available(namespace, "owner")
    assert apps.list_namespaced_replica_set(namespace, label_selector="app=owner").items

    # An explicit ownerReference too, so the collector is proven on more than controller-made objects.
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "parent"}})
    core.create_namespaced_config_map(
        namespace,
        {
            "metadata": {
                "name": "child",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "parent",
                        "uid": owner.metadata.uid,
                    }
                ],
            }
        },
    )

    apps.delete_namespaced_deployment("owner", namespace, propagation_policy="Background")
    core.delete_namespaced_config_map("parent", namespace, propagation_policy="Background")
    waits.gone(
        lambda: apps.list_namespaced_replica_set(namespace, label_selector="app=owner").items,
        what="ReplicaSets of the deleted Deployment to be collected",
    )
    waits.gone(
        lambda: core.list_namespaced_pod(namespace, label_selector="app=owner").items,
        what="Pods of the deleted Deployment to be collected",
    )
    waits.gone(
        lambda: [
            c
            for c in core.list_namespaced_config_map(namespace).items
            if c.metadata.name == "child"
        ],
        what="the ConfigMap owned by the deleted ConfigMap to be collected",
    )


def test_crd_cel_rule_rejects_invalid_object(
    api_client: client.ApiClient, namespace: str, waits: Waits
) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.smoke.ragops.dev"
    message = "replicas must not exceed maxReplicas"
    extensions = client.ApiextensionsV1Api(api_client)
    crd_name = f"widgets.{group}"
    extensions.create_custom_resource_definition(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": crd_name},
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
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "properties": {
                                            "replicas": {"type": "integer"},
                                            "maxReplicas": {"type": "integer"},
                                        },
                                        "x-kubernetes-validations": [
                                            {
                                                "rule": "self.replicas <= self.maxReplicas",
                                                "message": message,
                                            }
                                        ],
                                    }
                                },
                            }
                        },
                    }
                ],
            },
        }
    )
    try:

        def established() -> bool | Pending:
            crd = extensions.read_custom_resource_definition(crd_name)
            conditions = {c.type: c.status for c in crd.status.conditions or []}
            return (
                True
                if conditions.get("Established") == "True"
                else Pending(f"conditions={conditions}")
            )

        waits.until(established, timeout=30, what=f"CRD {crd_name} Established", interval=0.5)
        custom = client.CustomObjectsApi(api_client)

        def widget(name: str, replicas: int) -> dict[str, Any]:
            return {
                "apiVersion": f"{group}/v1",
                "kind": "Widget",
                "metadata": {"name": name},
                "spec": {"replicas": replicas, "maxReplicas": 3},
            }

        # The discovery cache of a fresh CRD can lag Established by a moment: retry 404s only.
        def create_valid() -> bool | Pending:
            try:
                custom.create_namespaced_custom_object(
                    group, "v1", namespace, "widgets", widget("ok", 2)
                )
            except ApiException as exc:
                if exc.status == 404:
                    return Pending("widgets endpoint not served yet")
                raise
            return True

        waits.until(
            create_valid,
            timeout=30,
            what="the Widget endpoint to accept a valid object",
            interval=0.5,
        )
        with pytest.raises(ApiException) as rejected:
            custom.create_namespaced_custom_object(
                group, "v1", namespace, "widgets", widget("bad", 5)
            )
        assert rejected.value.status == 422
        assert message in str(rejected.value.body)
    finally:
        extensions.delete_custom_resource_definition(crd_name)


def test_hpa_is_accepted_and_reports_conditions(
    api_client: client.ApiClient, namespace: str, waits: Waits
) -> None:
    client.AppsV1Api(api_client).create_namespaced_deployment(namespace, _deployment("scaled", 1))
    waits.deployment_available(namespace, "scaled")
    autoscaling = client.AutoscalingV2Api(api_client)
    autoscaling.create_namespaced_horizontal_pod_autoscaler(
        namespace,
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "scaled"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
                "minReplicas": 1,
                "maxReplicas": 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50},
                        },
                    }
                ],
            },
        },
    )

    def conditions() -> dict[str, str] | Pending:
        hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler("scaled", namespace)
        found = {c.type: f"{c.status} ({c.reason})" for c in hpa.status.conditions or []}
        return found if found else Pending("no conditions yet")

    # The HPA controller syncs every 15 s; without a metrics API it still reports why it cannot scale.
    reported = waits.until(
        conditions, timeout=120, what="the HPA controller to report conditions", interval=2.0
    )
    assert "AbleToScale" in reported, reported
