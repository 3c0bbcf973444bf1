"""The query API: one Deployment per color (blue/green), the Service that selects the active
color, its HorizontalPodAutoscaler, PodDisruptionBudget and ServiceAccount."""

from __future__ import annotations

from typing import Literal

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import workloads
from ragops_operator.builders.labels import (
    COMPONENT_API,
    Manifest,
    Owner,
    image_tag,
    labels,
    metadata,
    selector_labels,
)

Color = Literal["blue", "green"]
COLOR_LABEL = "ragops.dev/color"
SERVICE_PORT = 80
GRACE_SECONDS = 30


def image(spec: api.RAGDeploymentSpec) -> str:
    return spec.api.image or spec.image


def deployment_name(owner: Owner, color: Color) -> str:
    return owner.child_name(f"api-{color}")


def color_selector(owner: Owner, color: Color) -> dict[str, str]:
    return {**selector_labels(owner, COMPONENT_API), COLOR_LABEL: color}


def deployment(spec: api.RAGDeploymentSpec, owner: Owner, color: Color) -> Manifest:
    """No `replicas`: the color's HPA owns it, and an operator that also set it would fight the HPA."""
    selector = color_selector(owner, color)
    container = workloads.ragops_container(
        spec,
        owner,
        name="api",
        image=image(spec),
        args=["api", "--port", str(spec.api.port)],
        port=spec.api.port,
        port_name="http",
        resources=spec.api.resources,
    )
    pod_labels = {**labels(owner, COMPONENT_API, version=image_tag(image(spec))), COLOR_LABEL: color}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(owner, deployment_name(owner, color), COMPONENT_API, extra_labels={COLOR_LABEL: color}),
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "revisionHistoryLimit": 3,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "template": workloads.pod_template(
                spec,
                owner,
                pod_labels=pod_labels,
                selector=selector,
                service_account=owner.child_name("api"),
                container=container,
                grace_seconds=GRACE_SECONDS,
            ),
        },
    }


def service(owner: Owner, active: Color) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(owner, owner.child_name("api"), COMPONENT_API),
        "spec": {
            "type": "ClusterIP",
            "selector": color_selector(owner, active),
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def autoscaler(spec: api.RAGDeploymentSpec, owner: Owner, color: Color) -> Manifest:
    return workloads.autoscaler(
        owner,
        name=deployment_name(owner, color),
        component=COMPONENT_API,
        target={"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment_name(owner, color)},
        bounds=spec.api.replicas,
        metrics=[
            workloads.utilization("cpu", spec.api.target_cpu_utilization),
            workloads.utilization("memory", spec.api.target_memory_utilization),
        ],
    )


def build(spec: api.RAGDeploymentSpec, owner: Owner, *, active: Color = "blue") -> list[Manifest]:
    return [
        workloads.service_account(spec, owner, name=owner.child_name("api"), component=COMPONENT_API),
        deployment(spec, owner, active),
        autoscaler(spec, owner, active),
        service(owner, active),
        workloads.disruption_budget(
            owner, name=owner.child_name("api"), component=COMPONENT_API, selector=selector_labels(owner, COMPONENT_API)
        ),
    ]


def url(owner: Owner) -> str:
    return f"http://{owner.child_name('api')}.{owner.namespace}.svc:{SERVICE_PORT}"
