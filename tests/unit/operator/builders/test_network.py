"""NetworkPolicies allow exactly the stack's flows: evaluated with a small model of Kubernetes'
NetworkPolicy semantics (a connection needs the source's egress and the destination's ingress,
each checked only where some policy selects that pod) over every endpoint pair and port."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from ragops_operator.builders import network
from ragops_operator.builders.labels import selector_labels
from ragops_operator.objects import Obj
from tests.support.builder_specs import OWNER, make_spec

NAMESPACE = OWNER.namespace
API_PORT, WORKER_PORT = 9000, 9100
PROMETHEUS_NS = "observability"


@dataclass(frozen=True)
class Endpoint:
    name: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    namespace: str | None = NAMESPACE  # None: outside the cluster (an IP on the internet)


API = Endpoint(
    "api", {**selector_labels(OWNER, "api"), "ragops.dev/color": "green", "pod-template-hash": "x"}
)
WORKER = Endpoint("worker", selector_labels(OWNER, "worker"))
QDRANT = Endpoint("qdrant", selector_labels(OWNER, "qdrant"))
PROMETHEUS = Endpoint("prometheus", {"app.kubernetes.io/name": "prometheus"}, PROMETHEUS_NS)
NEIGHBOUR = Endpoint("neighbour", {"app": "other"})
OTHER_NS = Endpoint("other-namespace", {"app": "other"}, "elsewhere")
OTHER_STACK = Endpoint(
    "other-stack-qdrant",
    {**selector_labels(OWNER, "qdrant"), "app.kubernetes.io/instance": "other"},
)
INTERNET = Endpoint("internet", namespace=None)
OURS = [API, WORKER, QDRANT]
ENDPOINTS = [API, WORKER, QDRANT, PROMETHEUS, NEIGHBOUR, OTHER_NS, OTHER_STACK, INTERNET]
PORTS = [
    ("UDP", 53),
    ("TCP", 53),
    ("TCP", 80),
    ("TCP", 443),
    ("TCP", 5432),
    ("TCP", 6333),
    ("TCP", 6334),
    ("TCP", 6335),
    ("TCP", 6336),
    ("TCP", 6379),
    ("TCP", API_PORT),
    ("TCP", WORKER_PORT),
]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "the model only knows matchLabels"
    return selector.get("matchLabels", {}).items() <= labels.items()


def peer_matches(peer: dict[str, Any], other: Endpoint) -> bool:
    assert "ipBlock" not in peer, "the model only knows pod and namespace selectors"
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        ns_ok = matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace})
    else:
        ns_ok = other.namespace == NAMESPACE
    return ns_ok and matches(peer.get("podSelector", {}), other.labels)


def port_matches(rule_ports: list[dict[str, Any]] | None, protocol: str, port: int) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        low = p["port"]
        assert isinstance(low, int), "named ports are not used"
        if p.get("protocol", "TCP") == protocol and low <= port <= p.get("endPort", low):
            return True
    return False


def direction_allows(
    policies: list[Obj], pod: Endpoint, other: Endpoint, kind: str, protocol: str, port: int
) -> bool:
    """Allowed in one direction: unrestricted if no policy of this kind selects `pod`."""
    if pod.namespace != NAMESPACE:
        return True  # not ours: no policy of ours applies
    key, peers_key = ("ingress", "from") if kind == "Ingress" else ("egress", "to")
    selecting = [
        p["spec"]
        for p in policies
        if kind in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    for spec in selecting:
        for rule in spec.get(key, []):
            peers = rule.get(peers_key)
            if (peers is None or any(peer_matches(peer, other) for peer in peers)) and port_matches(
                rule.get("ports"), protocol, port
            ):
                return True
    return False


def allowed(policies: list[Obj], src: Endpoint, dst: Endpoint, protocol: str, port: int) -> bool:
    return direction_allows(policies, src, dst, "Egress", protocol, port) and direction_allows(
        policies, dst, src, "Ingress", protocol, port
    )


def flows(policies: list[Obj]) -> set[tuple[str, str, str, int]]:
    """Every (source, destination, protocol, port) with one end in the stack that is allowed."""
    return {
        (src.name, dst.name, protocol, port)
        for src, dst in itertools.product(ENDPOINTS, ENDPOINTS)
        for protocol, port in PORTS
        if src != dst and {src, dst} & set(OURS) and allowed(policies, src, dst, protocol, port)
    }


def expected_flows() -> set[tuple[str, str, str, int]]:
    ours = {e.name for e in OURS}
    outside = [e for e in ENDPOINTS if e.name not in ours]
    wanted: set[tuple[str, str, str, int]] = set()
    # The API's port is open to everyone (our own pods have no egress to it).
    wanted |= {(e.name, "api", "TCP", API_PORT) for e in outside}
    # Clients of Qdrant, and peers among themselves.
    wanted |= {(c, "qdrant", "TCP", p) for c in ("api", "worker") for p in (6333, 6334)}
    # Redis and HTTPS anywhere, DNS anywhere: destinations outside the stack that accept them.
    for src in ("api", "worker"):
        wanted |= {(src, d.name, "TCP", p) for d in outside for p in (6379, 443)}
    for src in ours:
        wanted |= {(src, d.name, proto, 53) for d in outside for proto in ("UDP", "TCP")}
    # Prometheus scrapes.
    wanted |= {("prometheus", "worker", "TCP", WORKER_PORT), ("prometheus", "qdrant", "TCP", 6333)}
    return wanted


@pytest.fixture
def policies() -> list[Obj]:
    spec = make_spec(
        api={"port": API_PORT},
        worker={"port": WORKER_PORT},
        networkPolicy={"prometheusNamespace": PROMETHEUS_NS},
    )
    return network.build(spec, OWNER)


def test_renders_default_deny_dns_and_one_policy_per_component(policies: list[Obj]) -> None:
    assert [p["metadata"]["name"] for p in policies] == [
        "demo-default-deny",
        "demo-allow-dns",
        "demo-api",
        "demo-worker",
        "demo-qdrant",
    ]
    for p in policies:
        assert p["apiVersion"] == "networking.k8s.io/v1"
        assert p["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid


def test_default_deny_covers_every_pod_of_the_instance_both_ways(policies: list[Obj]) -> None:
    deny = policies[0]["spec"]
    assert deny["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "demo"
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for pod in (API, WORKER, QDRANT):
        assert matches(deny["podSelector"], pod.labels)


def test_exactly_the_listed_flows_are_allowed(policies: list[Obj]) -> None:
    got, want = flows(policies), expected_flows()
    assert got - want == set(), "allowed but not listed"
    assert want - got == set(), "listed but not allowed"


def test_qdrant_peers_talk_on_all_three_ports(policies: list[Obj]) -> None:
    peer = Endpoint("qdrant-1", QDRANT.labels)
    for port in (6333, 6334, 6335):
        assert allowed(policies, QDRANT, peer, "TCP", port)
    assert not allowed(policies, QDRANT, peer, "TCP", 6336)
    assert not allowed(policies, API, QDRANT, "TCP", 6335), "clients must not reach the Raft port"


def test_rules_do_not_depend_on_the_api_color(policies: list[Obj]) -> None:
    for p in policies:
        assert "ragops.dev/color" not in str(p)
    blue = Endpoint("api-blue", {**selector_labels(OWNER, "api"), "ragops.dev/color": "blue"})
    assert allowed(policies, blue, QDRANT, "TCP", 6333)


def test_other_stacks_in_the_namespace_are_not_peers(policies: list[Obj]) -> None:
    assert not allowed(policies, API, OTHER_STACK, "TCP", 6333)
    assert not allowed(policies, OTHER_STACK, QDRANT, "TCP", 6335)


def test_disabled_renders_nothing() -> None:
    assert network.build(make_spec(networkPolicy={"enabled": False}), OWNER) == []


def test_default_prometheus_namespace_is_monitoring() -> None:
    qdrant_policy = network.build(make_spec(), OWNER)[-1]
    (scrape,) = [r for r in qdrant_policy["spec"]["ingress"] if "namespaceSelector" in r["from"][0]]
    assert scrape["from"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
    }
