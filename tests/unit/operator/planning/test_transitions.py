"""Pure decisions for changes server-side apply cannot make alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ragops_operator.planning.transitions import (
    claims_to_grow,
    growth_event,
    quantity,
    replica_handoff,
    volume_growth,
)


def _sts(
    size: str, *, replicas: int = 3, owned_by: str | None = "ragops-operator"
) -> dict[str, Any]:
    managed = (
        []
        if owned_by is None
        else [
            {"manager": owned_by, "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
        ]
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "rag-qdrant", "namespace": "ns", "managedFields": managed},
        "spec": {
            "replicas": replicas,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "storage"},
                    "spec": {"resources": {"requests": {"storage": size}}},
                }
            ],
        },
    }


def test_quantities_compare_across_units() -> None:
    assert quantity("1Gi") == Decimal(2**30)
    assert quantity("1500M") > quantity("1Gi") > quantity("1000Mi")
    assert quantity("500m") == Decimal("0.5")
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity("lots")


def test_replicas_are_handed_over_only_when_dropped_from_an_owned_object() -> None:
    desired = _sts("10Gi")
    del desired["spec"]["replicas"]
    handoff = replica_handoff(_sts("10Gi", replicas=3), desired, manager="ragops-operator")
    assert handoff is not None and handoff["spec"] == {"replicas": 3}
    assert (
        replica_handoff(_sts("10Gi"), _sts("10Gi"), manager="ragops-operator") is None
    )  # still applied by us
    assert (
        replica_handoff(
            _sts("10Gi", owned_by="kube-controller-manager"), desired, manager="ragops-operator"
        )
        is None
    )
    assert (
        replica_handoff(None, desired, manager="ragops-operator") is None
    )  # new object: the HPA starts it


def test_only_bigger_volumes_count_as_growth() -> None:
    assert volume_growth(_sts("10Gi"), _sts("20Gi")) == {"storage": "20Gi"}
    assert volume_growth(_sts("10Gi"), _sts("10240Mi")) == {}
    assert volume_growth(None, _sts("20Gi")) == {}


def test_claims_of_that_stateful_set_still_small_are_grown() -> None:
    claims = [
        {"metadata": {"name": name}, "spec": {"resources": {"requests": {"storage": size}}}}
        for name, size in [
            ("storage-rag-qdrant-0", "10Gi"),
            ("storage-rag-qdrant-1", "20Gi"),
            ("storage-other-qdrant-0", "1Gi"),
            ("storage-rag-qdrant-x-0", "1Gi"),
        ]
    ]
    assert claims_to_grow(claims, "rag-qdrant", {"storage": "20Gi"}) == [
        ("storage-rag-qdrant-0", "20Gi")
    ]


def _claims(*sizes: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"metadata": {"name": name}, "spec": {"resources": {"requests": {"storage": size}}}}
        for name, size in sizes
    ]


def test_growth_event_says_which_claims_grew_and_which_stayed_bigger() -> None:
    claims = _claims(("storage-rag-qdrant-0", "10Gi"), ("storage-rag-qdrant-1", "20Gi"))
    reason, message = growth_event(claims, "rag-qdrant", {"storage": "15Gi"})
    assert reason == "VolumesGrown"
    assert "grew storage-rag-qdrant-0 from 10Gi to 15Gi" in message
    assert "kept storage-rag-qdrant-1 at 20Gi" in message


def test_growth_event_never_claims_a_growth_when_every_claim_was_bigger() -> None:
    # The spec went 10Gi -> 15Gi while the claim had been grown to 20Gi by hand: nothing grew.
    claims = _claims(("storage-rag-qdrant-0", "20Gi"))
    reason, message = growth_event(claims, "rag-qdrant", {"storage": "15Gi"})
    assert reason == "VolumesKept"
    assert "grew" not in message.lower()
    assert "kept storage-rag-qdrant-0 at 20Gi" in message
