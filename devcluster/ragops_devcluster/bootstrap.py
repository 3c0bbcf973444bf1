"""Objects every dev cluster starts with: a default StorageClass and kwok-managed Nodes in three
zones."""

from __future__ import annotations

from typing import Any

from ragops_devcluster.components import KWOK_NODE_ANNOTATION
from ragops_devcluster.errors import DevClusterError, KubectlFailed
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending, wait_until

STORAGE_CLASS = "gp3"
ZONES = ("zone-a", "zone-b", "zone-c")
REGION = "local"
FAKE_NODE_LABEL = ("type", "kwok")


def storage_class() -> dict[str, Any]:
    # Named like the EKS default the operator's charts expect; backed by the controller-manager's
    # host-path provisioner (single machine only, which is all a dev cluster is).
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kubernetes.io/host-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        # Like EBS gp3 classes in production: volumes may grow (the operator resizes Qdrant's).
        "allowVolumeExpansion": True,
    }


def node_names(count: int) -> list[str]:
    return [f"kwok-{ZONES[i % len(ZONES)]}-{i // len(ZONES)}" for i in range(count)]


def fake_node(name: str, zone: str) -> dict[str, Any]:
    key, value = KWOK_NODE_ANNOTATION
    label_key, label_value = FAKE_NODE_LABEL
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {key: value, "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": REGION,
                label_key: label_value,
            },
        },
        "status": {
            "allocatable": {
                "cpu": "16",
                "memory": "64Gi",
                "pods": "110",
                "ephemeral-storage": "100Gi",
            },
            "capacity": {
                "cpu": "16",
                "memory": "64Gi",
                "pods": "110",
                "ephemeral-storage": "100Gi",
            },
        },
    }


def seed(kubectl: Kubectl, node_count: int, storage: dict[str, Any] | None = None) -> list[str]:
    """Create the StorageClass (`storage`, default the kwok cluster's) and Nodes (idempotent);
    return the node names."""
    names = node_names(node_count)
    objects = [storage or storage_class()] + [
        fake_node(n, ZONES[i % len(ZONES)]) for i, n in enumerate(names)
    ]
    kubectl.apply(objects)
    return names


def wait_nodes_ready(kubectl: Kubectl, names: list[str], *, timeout: float) -> None:
    def probe() -> bool | Pending:
        ready = set()
        for node in kubectl.get(["nodes", "-l", "=".join(FAKE_NODE_LABEL)])["items"]:
            conditions = {
                c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])
            }
            if conditions.get("Ready") == "True":
                ready.add(node["metadata"]["name"])
        missing = sorted(set(names) - ready)
        return True if not missing else Pending(f"not Ready yet: {', '.join(missing)}")

    wait_until(probe, timeout=timeout, what="kwok to report the nodes Ready", interval=1.0)


def wait_default_service_account(kubectl: Kubectl, *, timeout: float) -> None:
    """Pods cannot be created before the serviceaccount controller made `default` in the
    namespace."""

    def probe() -> bool | Pending:
        try:
            kubectl.get(["serviceaccount", "default", "-n", "default"])
        except KubectlFailed as exc:
            return Pending(str(exc))
        return True

    try:
        wait_until(probe, timeout=timeout, what="the `default` ServiceAccount", interval=1.0)
    except DevClusterError as exc:
        raise DevClusterError(
            f"{exc} (is kube-controller-manager's serviceaccount controller running?)"
        ) from exc
