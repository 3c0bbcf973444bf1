"""The operator's /metrics as reconciles move it: results and durations, per-stack conditions,
drift put back, rollout outcomes from the planner's Events, and a stack's series leaving with
it. Read from prometheus_client's default registry, the one `--metrics-port` serves."""

from __future__ import annotations

import socket

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ragops_operator.control.kube import RAGD
from ragops_operator.control.reconciler import Reconciler
from ragops_operator.control.runtime import Runtime
from ragops_operator.control.write import Writer
from ragops_operator.objects import Obj
from ragops_operator.planning.applied import AppliedMemory
from ragops_operator.run import run_operator
from tests.support.builder_specs import MINIMAL
from tests.support.fake_cluster import FakeCluster, ragd

NAMESPACE, NAME = "metrics-ns", "metrics-demo"
STACK = {"ragdeployment_namespace": NAMESPACE, "ragdeployment": NAME}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def reconciler(cluster: FakeCluster) -> Reconciler:
    return Reconciler(cluster, now=lambda: "2026-12-01T00:00:00Z", clock=lambda: 1_800_000_000.0)


async def fresh(cluster: FakeCluster) -> Obj:
    body = await cluster.get(RAGD, NAMESPACE, NAME)
    assert body is not None
    return body


@pytest.fixture
def cluster() -> FakeCluster:
    fake = FakeCluster()
    fake.add(ragd(MINIMAL, name=NAME, namespace=NAMESPACE))
    return fake


async def test_a_reconcile_is_counted_by_result_timed_and_its_stack_shows_its_conditions(
    cluster: FakeCluster,
) -> None:
    before = value("ragops_operator_reconciles_total", result="not_ready")
    timed = value("ragops_operator_reconcile_duration_seconds_count")
    created = value("ragops_operator_events_total", type="Normal", reason="Created")
    await reconciler(cluster).reconcile(await fresh(cluster))
    assert value("ragops_operator_reconciles_total", result="not_ready") == before + 1
    assert value("ragops_operator_reconcile_duration_seconds_count") == timed + 1
    children = len(cluster.of("apply"))
    assert value("ragops_operator_events_total", type="Normal", reason="Created") == (
        created + children
    )
    ready = {"condition": "Ready", **STACK}
    assert value("ragops_operator_stack_condition", status="False", **ready) == 1
    assert value("ragops_operator_stack_condition", status="True", **ready) == 0
    assert value("ragops_operator_stack_rollout_phase", phase="Stable", **STACK) == 1


async def test_a_transient_api_error_counts_as_retry(cluster: FakeCluster) -> None:
    before = value("ragops_operator_reconciles_total", result="retry")
    cluster.fail("apply", status=503, times=100)
    with pytest.raises(Exception, match="503"):
        await reconciler(cluster).reconcile(await fresh(cluster))
    assert value("ragops_operator_reconciles_total", result="retry") == before + 1


async def test_a_deleted_child_put_back_is_a_drift_repair_and_a_quiet_pass_is_not(
    cluster: FakeCluster,
) -> None:
    operator = reconciler(cluster)
    await operator.reconcile(await fresh(cluster))
    repairs = value("ragops_operator_drift_repairs_total", kind="ConfigMap")
    await operator.reconcile(await fresh(cluster))
    assert value("ragops_operator_drift_repairs_total", kind="ConfigMap") == repairs
    config = cluster.find("ConfigMap", NAMESPACE, f"{NAME}-config")
    assert config is not None
    await cluster.delete(config)
    await operator.reconcile(await fresh(cluster))
    assert cluster.find("ConfigMap", NAMESPACE, f"{NAME}-config") is not None
    assert value("ragops_operator_drift_repairs_total", kind="ConfigMap") == repairs + 1


async def test_rollout_events_count_as_rollout_results(cluster: FakeCluster) -> None:
    before = value("ragops_operator_rollouts_total", result="rolled_back")
    writer = Writer(cluster, memory=AppliedMemory(), now=lambda: "2026-12-01T00:00:00Z")
    body = await fresh(cluster)
    await writer.record(body, "RolledBack", "Switched the API Service back to blue", warning=True)
    assert value("ragops_operator_rollouts_total", result="rolled_back") == before + 1
    assert value("ragops_operator_events_total", type="Warning", reason="RolledBack") >= 1


async def test_a_deleted_stack_leaves_the_metrics(cluster: FakeCluster) -> None:
    runtime = Runtime(cluster, reconciler=reconciler(cluster))
    await runtime.converge(await fresh(cluster))
    assert value("ragops_operator_stack_rollout_phase", phase="Stable", **STACK) == 1
    body = await fresh(cluster)
    await cluster.delete(body)
    await runtime.converge(body)
    assert value("ragops_operator_stack_rollout_phase", phase="Stable", **STACK) == 0
    families = {f.name for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())}
    assert "ragops_operator_stack_condition" in families, "the family stays, without samples"


def test_a_metrics_port_in_use_stops_the_operator_with_a_message() -> None:
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit, match=f"cannot serve /metrics on port {port}"):
            run_operator(
                namespaces=[],
                peering=None,
                priority=None,
                liveness=None,
                resync_seconds=300,
                verbose=False,
                metrics_port=port,
            )
