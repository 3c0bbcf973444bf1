"""Ephemeral storage: every emptyDir is bounded, every container requests the scratch space it
fills, and Qdrant's snapshots directory is bounded by its volume size (issue #15 item 6)."""

from __future__ import annotations

from typing import Any

from ragops_operator.builders import qdrant
from ragops_operator.planning.transitions import quantity
from tests.support.builder_specs import OWNER, one, qdrant_spec
from tests.support.full_stack import every_child
from tests.support.pod_security import pod_spec_of


def _pods() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for manifest in every_child(OWNER):
        pod = pod_spec_of(manifest)
        if pod is not None:
            found.append((f"{manifest['kind']} {manifest['metadata']['name']}", pod))
    return found


def test_every_empty_dir_of_the_stack_has_a_size_limit() -> None:
    pods = _pods()
    assert len(pods) >= 8  # api x2, worker, qdrant, backup, verify, restore, reindex x2
    unbounded = [
        (what, volume["name"])
        for what, pod in pods
        for volume in pod.get("volumes") or []
        if "emptyDir" in volume and not volume["emptyDir"].get("sizeLimit")
    ]
    assert unbounded == []


def test_every_container_requests_the_scratch_space_its_pod_always_fills() -> None:
    for what, pod in _pods():
        scratch = sum(
            quantity(v["emptyDir"]["sizeLimit"])
            for v in pod.get("volumes") or []
            if "emptyDir" in v and v["name"] != qdrant.SNAPSHOTS
        )
        for container in pod["containers"]:
            requested = container["resources"]["requests"].get("ephemeral-storage")
            assert requested is not None, f"{what}: {container['name']} requests none"
            assert quantity(requested) >= scratch, what


def test_qdrant_snapshots_are_bounded_by_the_volume_size_which_they_follow() -> None:
    for size in ("10Gi", "100Gi", "1Ti"):
        sts = one(
            qdrant.build(qdrant_spec(storage={"size": size}), OWNER), "StatefulSet", "demo-qdrant"
        )
        pod = sts["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes[qdrant.SNAPSHOTS]["emptyDir"] == {"sizeLimit": size}
        # The request covers the small scratch (tmp, init), not the occasional snapshot: a 1Ti
        # request would leave the peer unschedulable on any ordinary node.
        requests = pod["containers"][0]["resources"]["requests"]
        assert requests["ephemeral-storage"] == "1025Mi"


def _snapshots(sts: dict[str, Any]) -> str:
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    return str(volumes[qdrant.SNAPSHOTS]["emptyDir"]["sizeLimit"])


def test_growing_the_volume_keeps_the_running_snapshots_limit_so_no_peer_restarts() -> None:
    running = qdrant.stateful_set(qdrant_spec(storage={"size": "20Gi"}).vector_store.qdrant, OWNER)
    grown_spec = qdrant_spec(storage={"size": "30Gi"}).vector_store.qdrant
    grown = qdrant.stateful_set(grown_spec, OWNER, live=running)
    assert grown["spec"]["template"] == running["spec"]["template"], "the pods would restart"
    assert grown["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"] == {
        "storage": "30Gi"
    }
    # A change that restarts the peers anyway brings the limit up to the volume size.
    new_image = qdrant_spec(storage={"size": "30Gi"}, image="qdrant/qdrant:v9").vector_store.qdrant
    assert _snapshots(qdrant.stateful_set(new_image, OWNER, live=running)) == "30Gi"
    assert _snapshots(qdrant.stateful_set(grown_spec, OWNER)) == "30Gi"  # a new StatefulSet
