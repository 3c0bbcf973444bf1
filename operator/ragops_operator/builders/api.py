"""The query API: one Deployment per color (blue/green), the Service that selects the active
color, its HorizontalPodAutoscaler, PodDisruptionBudget and ServiceAccount."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import workloads
from ragops_operator.builders.labels import (
    COMPONENT_API,
    Owner,
    image_tag,
    labels,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

Color = Literal["blue", "green"]
COLOR_LABEL = "ragops.dev/color"
TEMPLATE_ANNOTATION = "ragops.dev/template-hash"
SERVICE_PORT = 80
GRACE_SECONDS = 30
# The colors share one answer cache; each answers under a scope of its own template, so that
# a promoted color never serves answers its predecessor (another image, prompt or setting)
# made, and a rollback finds its own answers again.
ANSWER_CACHE_SCOPE_ENV = "RAGOPS_ANSWER_CACHE_SCOPE"


def image(spec: api.RAGDeploymentSpec) -> str:
    return spec.api.image or spec.image


def deployment_name(owner: Owner, color: Color) -> str:
    return owner.child_name(f"api-{color}")


def preview_service_name(owner: Owner) -> str:
    return owner.child_name("api-preview")


def color_selector(owner: Owner, color: Color) -> dict[str, str]:
    return {**selector_labels(owner, COMPONENT_API), COLOR_LABEL: color}


def _pod_template(spec: api.RAGDeploymentSpec, owner: Owner, color: Color) -> dict[str, Any]:
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
    pod_labels = {
        **labels(owner, COMPONENT_API, version=image_tag(image(spec))),
        COLOR_LABEL: color,
    }
    return workloads.pod_template(
        spec,
        owner,
        pod_labels=pod_labels,
        selector=color_selector(owner, color),
        service_account=owner.child_name("api"),
        container=container,
        grace_seconds=GRACE_SECONDS,
    )


def template_hash(spec: api.RAGDeploymentSpec, owner: Owner) -> str:
    """Identifies what a color runs (image, config, resources...), whichever color runs it:
    a change is what starts a blue/green rollout."""
    template = _pod_template(spec, owner, "blue")
    template["metadata"]["labels"].pop(COLOR_LABEL)
    template["spec"]["topologySpreadConstraints"] = []  # mention the color through the selector
    encoded = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def deployment(spec: api.RAGDeploymentSpec, owner: Owner, color: Color) -> Obj:
    """No `replicas`: the color's HPA owns it, and an operator that also set it would fight the
    HPA."""
    revision = template_hash(spec, owner)
    template = _pod_template(spec, owner, color)
    (container,) = template["spec"]["containers"]
    container.setdefault("env", []).append({"name": ANSWER_CACHE_SCOPE_ENV, "value": revision})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(
            owner,
            deployment_name(owner, color),
            COMPONENT_API,
            extra_labels={COLOR_LABEL: color},
            annotations={TEMPLATE_ANNOTATION: revision},
        ),
        "spec": {
            "selector": {"matchLabels": color_selector(owner, color)},
            "revisionHistoryLimit": 3,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": template,
        },
    }


def service(owner: Owner, color: Color, *, preview: bool = False) -> Obj:
    """The API Service selects exactly one color; the preview Service, the color being started."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(
            owner,
            preview_service_name(owner) if preview else owner.child_name("api"),
            COMPONENT_API,
        ),
        "spec": {
            "type": "ClusterIP",
            "selector": color_selector(owner, color),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def autoscaler(spec: api.RAGDeploymentSpec, owner: Owner, color: Color, *, minimum: int = 1) -> Obj:
    """One HPA per color, so a preview starts at the active color's size and the active color
    keeps scaling under load while the preview starts."""
    bounds = spec.api.replicas
    floor = min(max(bounds.min, minimum), bounds.max)
    return workloads.autoscaler(
        owner,
        name=deployment_name(owner, color),
        component=COMPONENT_API,
        target={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment_name(owner, color),
        },
        bounds=api.ReplicaRange(min=floor, max=bounds.max),
        metrics=[
            workloads.utilization("cpu", spec.api.target_cpu_utilization),
            workloads.utilization("memory", spec.api.target_memory_utilization),
        ],
    )


def build(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    active: Color = "blue",
    render: tuple[Color, ...] | None = None,
    preview: Color | None = None,
    preview_minimum: int = 1,
) -> list[Obj]:
    """`render`: colors built from this spec (default: the active one); a color neither rendered
    nor kept by the caller is retired. `preview`: the color behind the preview Service."""
    manifests = [
        workloads.service_account(
            spec, owner, name=owner.child_name("api"), component=COMPONENT_API
        )
    ]
    for color in render if render is not None else (active,):
        minimum = preview_minimum if color == preview else 1
        manifests += [
            deployment(spec, owner, color),
            autoscaler(spec, owner, color, minimum=minimum),
        ]
    manifests.append(service(owner, active))
    if preview is not None:
        manifests.append(service(owner, preview, preview=True))
    manifests.append(
        workloads.disruption_budget(
            owner,
            name=owner.child_name("api"),
            component=COMPONENT_API,
            selector=selector_labels(owner, COMPONENT_API),
        )
    )
    return manifests


def url(owner: Owner) -> str:
    return f"http://{owner.child_name('api')}.{owner.namespace}.svc:{SERVICE_PORT}"
