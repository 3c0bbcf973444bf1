"""The runtime around the reconciler: coalesced pokes, one reconcile per resource at a time,
retries of transient errors, the peering gate and the namespaces of the resync."""

from __future__ import annotations

import asyncio

import pytest

from ragops_operator.control.kube import PROMETHEUS_OPERATOR_GROUP, RAGD
from ragops_operator.control.peering import (
    CLUSTER_PEERING,
    PEERING_GROUP,
    PeeringGate,
    PeeringUnavailable,
    ensure_peering,
    unverifiable,
)
from ragops_operator.control.reconciler import Outcome, Reconciler
from ragops_operator.control.runtime import Runtime, matches_namespace
from ragops_operator.objects import Obj
from tests.support.builder_specs import MINIMAL
from tests.support.fake_cluster import FakeCluster, ragd


class Recording(Reconciler):
    """Counts passes per resource and how many ever overlapped; each pass takes `seconds`."""

    def __init__(self, cluster: FakeCluster, *, seconds: float = 0.0) -> None:
        super().__init__(cluster)
        self.seconds = seconds
        self.passes: list[str] = []
        self.running: dict[str, int] = {}
        self.overlap = 0  # most passes of one resource running at the same time
        self.parallel = 0  # most passes of any resources running at the same time
        self.requeue: list[float | None] = []  # what the next passes answer; then None

    async def reconcile(self, body: Obj) -> Outcome:
        name = body["metadata"]["name"]
        self.passes.append(name)
        self.running[name] = self.running.get(name, 0) + 1
        self.overlap = max(self.overlap, self.running[name])
        self.parallel = max(self.parallel, sum(self.running.values()))
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.running[name] -= 1
        return Outcome(ready=True, requeue_after=self.requeue.pop(0) if self.requeue else None)


async def settle(runtime: Runtime) -> None:
    """Until no poke, retry or resync task is left (a requeue timer is not a task)."""
    while pending := [task for task in runtime._tasks if not task.done()]:
        await asyncio.gather(*pending, return_exceptions=True)


def stacks(*names: str, namespace: str = "tenant-a") -> FakeCluster:
    cluster = FakeCluster()
    for name in names:
        cluster.add(ragd(MINIMAL, name=name, namespace=namespace))
    return cluster


async def test_a_burst_of_pokes_is_one_reconcile() -> None:
    cluster = stacks("demo")
    recording = Recording(cluster)
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.05)
    for _ in range(20):
        runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert recording.passes == ["demo"]


async def test_a_poke_during_a_reconcile_brings_one_more_after_it() -> None:
    cluster = stacks("demo")
    recording = Recording(cluster, seconds=0.1)
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.01)
    runtime.poke("tenant-a", "demo")
    await asyncio.sleep(0.05)  # the first pass is running: its inputs may be stale already
    for _ in range(5):
        runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert recording.passes == ["demo", "demo"] and recording.overlap == 1


async def test_one_resource_is_never_reconciled_twice_at_once_but_two_resources_are() -> None:
    cluster = stacks("one", "two")
    recording = Recording(cluster, seconds=0.05)
    runtime = Runtime(cluster, reconciler=recording)
    bodies = [
        {"metadata": {"namespace": "tenant-a", "name": name}}
        for name in ("one", "one", "one", "two")
    ]
    await asyncio.gather(*(runtime.converge(body) for body in bodies))
    assert recording.passes.count("one") == 3 and recording.overlap == 1
    assert recording.parallel == 2


async def test_a_rollout_deadline_brings_another_pass_without_any_event() -> None:
    cluster = stacks("demo")
    recording = Recording(cluster)
    recording.requeue = [30.0]
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.01, resync_seconds=0.05)
    await runtime.converge({"metadata": {"namespace": "tenant-a", "name": "demo"}})
    for _ in range(50):  # the deadline is capped at the resync period
        await asyncio.sleep(0.01)
        await settle(runtime)
        if len(recording.passes) == 2:
            break
    assert recording.passes == ["demo", "demo"]


async def test_converge_reads_the_current_object_and_skips_one_being_deleted() -> None:
    cluster = stacks("demo")
    recording = Recording(cluster)
    runtime = Runtime(cluster, reconciler=recording)
    assert await runtime.converge({"metadata": {"namespace": "tenant-a", "name": "gone"}}) is False
    await cluster.merge_patch(
        RAGD, "tenant-a", "demo", {"metadata": {"deletionTimestamp": "2026-12-01T00:00:00Z"}}
    )
    assert await runtime.converge({"metadata": {"namespace": "tenant-a", "name": "demo"}}) is False
    assert recording.passes == []


async def test_a_transient_apply_error_is_retried_by_the_runtime() -> None:
    cluster = stacks("demo")
    cluster.fail("apply", kind="Deployment", name="demo-worker", status=409)
    runtime = Runtime(cluster, coalesce_seconds=0.01)
    runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert [(c.kind, c.name) for c in cluster.of("apply")].count(
        ("Deployment", "demo-worker")
    ) == 2, "failed once, then retried"
    assert cluster.find("Deployment", "tenant-a", "demo-worker") is not None
    body = cluster.find("RAGDeployment", "tenant-a", "demo")
    assert (
        body is not None
        and {c["type"]: c["status"] for c in body["status"]["conditions"]}["Degraded"] == "False"
    )


async def test_a_permanent_apply_error_is_not_retried_but_reported() -> None:
    cluster = stacks("demo")
    cluster.fail("apply", kind="Deployment", name="demo-worker", status=422)
    runtime = Runtime(cluster, coalesce_seconds=0.01)
    runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert [(c.kind, c.name) for c in cluster.of("apply")].count(("Deployment", "demo-worker")) == 1
    body = cluster.find("RAGDeployment", "tenant-a", "demo")
    assert body is not None
    assert {c["type"]: c["reason"] for c in body["status"]["conditions"]}[
        "Degraded"
    ] == "ApplyFailed"


def peering(leader: str) -> Obj:
    peers = {
        name: {"priority": 100 if name == leader else 10, "lifetime": 60}
        for name in ("me", "other")
    }
    return {
        "apiVersion": CLUSTER_PEERING.api_version,
        "kind": CLUSTER_PEERING.kind,
        "metadata": {"name": "ragops", "namespace": ""},
        "status": peers,
    }


@pytest.mark.parametrize(("leader", "passes"), [("me", ["demo"]), ("other", [])])
async def test_only_the_leading_replica_reconciles(leader: str, passes: list[str]) -> None:
    cluster = stacks("demo")
    cluster.add(peering(leader))
    recording = Recording(cluster)
    gate = PeeringGate(
        cluster, name="ragops", identity="me", priority=100 if leader == "me" else 10
    )
    runtime = Runtime(cluster, gate=gate, reconciler=recording, coalesce_seconds=0.01)
    runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert recording.passes == passes


async def test_the_resync_pokes_every_stack_in_the_watched_namespaces() -> None:
    cluster = stacks("a1", namespace="tenant-a")
    cluster.add(ragd(MINIMAL, name="b1", namespace="tenant-b"))
    cluster.add(ragd(MINIMAL, name="s1", namespace="system"))
    recording = Recording(cluster)
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.01, resync_seconds=0.02)
    runtime.start_resync(["tenant-*,!tenant-b"])
    for _ in range(100):
        await asyncio.sleep(0.01)
        if recording.passes:
            break
    await asyncio.sleep(0.05)
    await runtime.close()
    assert set(recording.passes) == {"a1"}
    assert cluster.closed


@pytest.mark.parametrize(
    ("name", "pattern", "expected"),
    [
        ("tenant-a", "tenant-a", True),
        ("tenant-b", "tenant-a", False),
        ("tenant-b", "tenant-*", True),
        ("tenant-b", "tenant-*,!tenant-b", False),
        ("tenant-a", "tenant-*,!tenant-b", True),
        ("system", "!kube-*", True),  # a leading exclusion implies everything else
        ("kube-system", "!kube-*", False),
        ("other", " tenant-a , other ", True),  # comma-separated, spaces ignored
        ("anything", "", True),
    ],
)
def test_namespace_patterns_follow_kopf(name: str, pattern: str, expected: bool) -> None:
    assert matches_namespace(name, pattern) is expected


async def test_prometheus_operator_crds_appearing_reconcile_every_stack_at_once() -> None:
    cluster = stacks("a1", "a2")
    recording = Recording(cluster)
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.01, resync_seconds=3600)
    assert not await recording._gatherer.prometheus_operator()  # cached as missing for 10 s
    cluster._served[PROMETHEUS_OPERATOR_GROUP] = {"ServiceMonitor", "PrometheusRule"}
    await runtime.monitoring_kind_changed([], "ServiceMonitor", served=True)
    await settle(runtime)
    assert sorted(recording.passes) == ["a1", "a2"]
    assert await recording._gatherer.prometheus_operator(), "discovery is asked again"


async def test_a_crd_discovery_does_not_serve_yet_is_waited_for() -> None:
    cluster = stacks("a1")
    recording = Recording(cluster)
    runtime = Runtime(cluster, reconciler=recording, coalesce_seconds=0.01, resync_seconds=3600)

    async def served_later() -> None:
        await asyncio.sleep(0.3)
        cluster._served[PROMETHEUS_OPERATOR_GROUP] = {"ServiceMonitor", "PrometheusRule"}

    later = asyncio.ensure_future(served_later())
    await runtime.monitoring_kind_changed([], "PrometheusRule", served=True, timeout_seconds=5)
    await later
    assert len(cluster.of("served")) > 1, "asked until discovery showed the kind"
    await settle(runtime)
    assert recording.passes == ["a1"]


async def test_peering_creates_the_missing_cluster_peering_object() -> None:
    cluster = FakeCluster(served={PEERING_GROUP: {"ClusterKopfPeering", "KopfPeering"}})
    assert await ensure_peering(cluster, "ragops", []) == ["ClusterKopfPeering ragops"]
    assert await cluster.get(CLUSTER_PEERING, "", "ragops") is not None
    assert await ensure_peering(cluster, "ragops", []) == [], "an existing one is kept"


async def test_peering_per_namespace_creates_in_plain_names_only() -> None:
    cluster = FakeCluster(served={PEERING_GROUP: {"ClusterKopfPeering", "KopfPeering"}})
    created = await ensure_peering(cluster, "ragops", ["tenant-a", "tenant-*"])
    assert created == ["KopfPeering tenant-a/ragops"]
    assert unverifiable(["tenant-a", "tenant-*", "!kube-*"]) == ["tenant-*", "!kube-*"]


async def test_peering_without_its_crd_fails_saying_what_to_apply() -> None:
    with pytest.raises(PeeringUnavailable, match="apply crds/kopf-peering.yaml"):
        await ensure_peering(FakeCluster(), "ragops", [])


async def test_a_discovery_answer_older_than_the_crd_change_is_not_cached() -> None:
    """A reconcile asking discovery while the second CRD is being established must not leave
    its stale "missing" in the cache for the reconcile the CRD's event asks for."""
    cluster = stacks("a1")
    reconciler = Reconciler(cluster)
    answered = asyncio.Event()
    asked = asyncio.Event()
    original = cluster.served

    async def slow_served(group_version: str) -> set[str]:
        found = await original(group_version)
        asked.set()
        await answered.wait()
        return found

    cluster.served = slow_served  # type: ignore[method-assign]
    stale = asyncio.ensure_future(reconciler._gatherer.prometheus_operator())
    await asked.wait()
    cluster._served[PROMETHEUS_OPERATOR_GROUP] = {"ServiceMonitor", "PrometheusRule"}
    reconciler.forget_discovery()
    answered.set()
    assert await stale is False
    assert await reconciler._gatherer.prometheus_operator() is True


async def test_a_read_answered_429_is_retried_by_a_poke() -> None:
    """A just-established CRD's objects are answered 429 for a moment (seen on the dev
    cluster): the reconcile its event asked for must not be lost."""
    cluster = stacks("demo")
    cluster.fail("list", kind="Deployment", status=429)
    runtime = Runtime(cluster, coalesce_seconds=0.01)
    runtime.poke("tenant-a", "demo")
    await settle(runtime)
    assert cluster.find("Deployment", "tenant-a", "demo-worker") is not None
