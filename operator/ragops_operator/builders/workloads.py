"""What the API and worker pods have in common: one image, the generated ConfigMap,
secret references, writable scratch space under a read-only root, the restricted PSS."""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import config, pods
from ragops_operator.builders.labels import Owner, metadata
from ragops_operator.objects import Obj

CONFIG_HASH_ANNOTATION = "ragops.dev/config-hash"
# Writable scratch under the read-only root: models and uploads in `data`, libraries' temp files.
SCRATCH_VOLUMES: list[dict[str, Any]] = [
    {"name": "data", "emptyDir": {"sizeLimit": "2Gi"}},
    {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
]
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def ragops_container(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    name: str,
    image: str,
    args: list[str],
    port: int,
    port_name: str,
    resources: api.Resources,
) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": spec.image_pull_policy,
        "args": args,
        "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": owner.child_name("config")}}],
        "env": config.secret_env(spec),
        "resources": pods.resources(resources, ephemeral=pods.scratch_request(SCRATCH_VOLUMES)),
        "readinessProbe": pods.http_probe("/readyz", port_name, period=5),
        "livenessProbe": pods.http_probe("/healthz", port_name, period=10, failures=6),
        # Loading the embedding model takes a while on a cold node; do not kill the pod for it.
        "startupProbe": pods.http_probe("/healthz", port_name, period=5, failures=60),
        "securityContext": pods.container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": config.DATA_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def pod_template(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    pod_labels: dict[str, str],
    selector: dict[str, str],
    service_account: str,
    container: dict[str, Any],
    grace_seconds: int,
) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": pod_labels,
            "annotations": {CONFIG_HASH_ANNOTATION: config.config_hash(spec, owner)},
        },
        "spec": {
            "serviceAccountName": service_account,
            # Pods never call the Kubernetes API; IRSA mounts its own projected token.
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": grace_seconds,
            "securityContext": pods.pod_security_context(),
            "topologySpreadConstraints": pods.zone_spread(selector),
            "containers": [container],
            "volumes": [dict(volume) for volume in SCRATCH_VOLUMES],
        },
    }


def service_account(spec: api.RAGDeploymentSpec, owner: Owner, *, name: str, component: str) -> Obj:
    annotations = (
        {IRSA_ANNOTATION: spec.service_account.iam_role_arn}
        if spec.service_account.iam_role_arn
        else None
    )
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(owner, name, component, annotations=annotations),
        "automountServiceAccountToken": False,
    }


def disruption_budget(owner: Owner, *, name: str, component: str, selector: dict[str, str]) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(owner, name, component),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(selector)}},
    }


def utilization(resource: str, percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {
            "name": resource,
            "target": {"type": "Utilization", "averageUtilization": percent},
        },
    }


def autoscaler(
    owner: Owner,
    *,
    name: str,
    component: str,
    target: dict[str, str],
    bounds: api.ReplicaRange,
    metrics: list[dict[str, Any]],
) -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(owner, name, component),
        "spec": {
            "scaleTargetRef": dict(target),
            "minReplicas": bounds.min,
            "maxReplicas": bounds.max,
            "metrics": metrics,
        },
    }
