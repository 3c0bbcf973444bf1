"""The ingestion worker: Deployment, metrics Service, HPA on CPU and queue depth, PDB,
ServiceAccount."""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import config, workloads
from ragops_operator.builders.labels import (
    COMPONENT_WORKER,
    Owner,
    image_tag,
    labels,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

GRACE_SECONDS = config.WORKER_TERMINATION_GRACE_SECONDS


def image(spec: api.RAGDeploymentSpec) -> str:
    return spec.worker.image or spec.image


def deployment(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    selector = selector_labels(owner, COMPONENT_WORKER)
    container = workloads.ragops_container(
        spec,
        owner,
        name="worker",
        image=image(spec),
        args=["worker", "--port", str(spec.worker.port)],
        port=spec.worker.port,
        port_name="metrics",
        resources=spec.worker.resources,
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(owner, owner.child_name("worker"), COMPONENT_WORKER),
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "revisionHistoryLimit": 3,
            "template": workloads.pod_template(
                spec,
                owner,
                pod_labels=labels(owner, COMPONENT_WORKER, version=image_tag(image(spec))),
                selector=selector,
                service_account=owner.child_name("worker"),
                container=container,
                grace_seconds=GRACE_SECONDS,
            ),
        },
    }


def queue_depth_metric(spec: api.RAGDeploymentSpec, owner: Owner) -> dict[str, Any]:
    return {
        "type": "External",
        "external": {
            "metric": {
                "name": spec.worker.queue_depth_metric.name,
                "selector": {
                    "matchLabels": {"namespace": owner.namespace, "ragdeployment": owner.name}
                },
            },
            "target": {
                "type": "AverageValue",
                "averageValue": str(spec.worker.target_queue_depth_per_pod),
            },
        },
    }


def build(spec: api.RAGDeploymentSpec, owner: Owner) -> list[Obj]:
    name = owner.child_name("worker")
    selector = selector_labels(owner, COMPONENT_WORKER)
    return [
        workloads.service_account(spec, owner, name=name, component=COMPONENT_WORKER),
        deployment(spec, owner),
        workloads.autoscaler(
            owner,
            name=name,
            component=COMPONENT_WORKER,
            target={"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            bounds=spec.worker.replicas,
            metrics=[
                workloads.utilization("cpu", spec.worker.target_cpu_utilization),
                queue_depth_metric(spec, owner),
            ],
        ),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(owner, name, COMPONENT_WORKER),
            "spec": {
                "type": "ClusterIP",
                "selector": dict(selector),
                "ports": [
                    {
                        "name": "metrics",
                        "port": spec.worker.port,
                        "targetPort": "metrics",
                        "protocol": "TCP",
                    }
                ],
            },
        },
        workloads.disruption_budget(
            owner, name=name, component=COMPONENT_WORKER, selector=selector
        ),
    ]
