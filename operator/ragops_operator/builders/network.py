"""NetworkPolicies: deny everything in the stack, then allow exactly the flows it needs.

Flows (TCP unless noted):
- anyone -> API pods on `spec.api.port` (the API is the stack's front door);
- API, worker -> Qdrant 6333/6334; Qdrant peer <-> peer 6333-6335 (REST, gRPC, Raft/p2p);
- API, worker -> anywhere on 6379 (Redis, e.g. ElastiCache outside the cluster) and 443
  (S3, SQS, OpenAI, Bedrock, STS for IRSA, the JWKS), plus the ports of `spec.aws`'s endpoints;
- every pod -> anywhere on 53 UDP and TCP (DNS, including node-local caches);
- pods in `spec.networkPolicy.prometheusNamespace` -> API port, worker port, Qdrant 6333.

Pods are selected by their component's selector labels only; the API's color label is not
relied on, so both colors of a blue/green rollout get the same rules. Kubelet probes come from
the node and are not subject to these policies in the usual CNIs.
"""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import aws, qdrant
from ragops_operator.builders.labels import (
    COMPONENT_API,
    COMPONENT_QDRANT,
    COMPONENT_STACK,
    COMPONENT_WORKER,
    Owner,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
REDIS_PORT = 6379
HTTPS_PORT = 443
DNS_PORT = 53


def _policy(owner: Owner, suffix: str, component: str, body: dict[str, Any]) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(owner, owner.child_name(suffix), component),
        "spec": body,
    }


def stack_selector(owner: Owner) -> dict[str, Any]:
    """Every pod of this instance. `name` as well as `instance`, so an unrelated app that happens
    to use the same instance label value is not cut off."""
    return {
        "matchLabels": {
            "app.kubernetes.io/name": "ragops",
            "app.kubernetes.io/instance": owner.name,
        }
    }


def _pods(owner: Owner, component: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": selector_labels(owner, component)}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _prometheus(spec: api.RAGDeploymentSpec) -> dict[str, Any]:
    return {
        "namespaceSelector": {
            "matchLabels": {NAMESPACE_NAME_LABEL: spec.network_policy.prometheus_namespace}
        }
    }


def _internet_egress(spec: api.RAGDeploymentSpec) -> list[dict[str, Any]]:
    """No `to`: the destinations (ElastiCache, AWS and OpenAI endpoints) have no stable IPs.
    `spec.aws` endpoints on other ports (MinIO's 9000, LocalStack's 4566) are added."""
    return [{"ports": _tcp(REDIS_PORT, HTTPS_PORT, *aws.endpoint_ports(spec))}]


def _qdrant_client_egress(owner: Owner) -> dict[str, Any]:
    return {
        "to": [_pods(owner, COMPONENT_QDRANT)],
        "ports": _tcp(qdrant.HTTP_PORT, qdrant.GRPC_PORT),
    }


def default_deny(owner: Owner) -> Obj:
    return _policy(
        owner,
        "default-deny",
        COMPONENT_STACK,
        {"podSelector": stack_selector(owner), "policyTypes": ["Ingress", "Egress"]},
    )


def dns(owner: Owner) -> Obj:
    ports = [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]
    return _policy(
        owner,
        "allow-dns",
        COMPONENT_STACK,
        {
            "podSelector": stack_selector(owner),
            "policyTypes": ["Egress"],
            "egress": [{"ports": ports}],
        },
    )


def api_policy(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    """Ingress from anywhere already covers Prometheus' scrape of the API port."""
    return _policy(
        owner,
        "api",
        COMPONENT_API,
        {
            "podSelector": {"matchLabels": selector_labels(owner, COMPONENT_API)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": _tcp(spec.api.port)}],
            "egress": [_qdrant_client_egress(owner), *_internet_egress(spec)],
        },
    )


def worker_policy(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    return _policy(
        owner,
        "worker",
        COMPONENT_WORKER,
        {
            "podSelector": {"matchLabels": selector_labels(owner, COMPONENT_WORKER)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [_prometheus(spec)], "ports": _tcp(spec.worker.port)}],
            "egress": [_qdrant_client_egress(owner), *_internet_egress(spec)],
        },
    )


def qdrant_policy(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    def peers() -> list[dict[str, Any]]:
        return [{"protocol": "TCP", "port": qdrant.HTTP_PORT, "endPort": qdrant.P2P_PORT}]

    return _policy(
        owner,
        "qdrant",
        COMPONENT_QDRANT,
        {
            "podSelector": {"matchLabels": selector_labels(owner, COMPONENT_QDRANT)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [_pods(owner, COMPONENT_API), _pods(owner, COMPONENT_WORKER)],
                    "ports": _tcp(qdrant.HTTP_PORT, qdrant.GRPC_PORT),
                },
                {"from": [_pods(owner, COMPONENT_QDRANT)], "ports": peers()},
                {"from": [_prometheus(spec)], "ports": _tcp(qdrant.HTTP_PORT)},
            ],
            "egress": [{"to": [_pods(owner, COMPONENT_QDRANT)], "ports": peers()}],
        },
    )


def build(spec: api.RAGDeploymentSpec, owner: Owner) -> list[Obj]:
    if not spec.network_policy.enabled:
        return []
    return [
        default_deny(owner),
        dns(owner),
        api_policy(spec, owner),
        worker_policy(spec, owner),
        qdrant_policy(spec, owner),
    ]
