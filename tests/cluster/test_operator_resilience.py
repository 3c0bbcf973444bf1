"""The operator under stress and failure: killed mid-reconcile, 50 stacks at once, only its
least-privilege RBAC, two replicas with peering, Prometheus Operator CRDs appearing later."""

from __future__ import annotations

import datetime
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from ragops_operator import rbac
from tests.support.cluster import ClusterUnderTest, Kube, Waits
from tests.support.operator import (
    RAGD,
    REPO,
    OperatorProcess,
    children,
    ragdeployment,
    ready_condition,
    wait_ready,
)

pytestmark = [pytest.mark.cluster]


@contextmanager
def session_operator_stopped(session: OperatorProcess) -> Iterator[None]:
    """Tests that run their own operator stop the shared one, and restart it afterwards."""
    session.stop()
    try:
        yield
    finally:
        session.start()


def _all_ready(waits: Waits, namespace: str, names: list[str], *, timeout: float) -> None:
    def probe() -> bool | Pending:
        items = waits.kube.list(*RAGD, namespace)
        ready = {i["metadata"]["name"] for i in items if ready_condition(i).get("status") == "True"}
        missing = sorted(set(names) - ready)
        return True if not missing else Pending(f"{len(missing)} not Ready, e.g. {missing[:3]}")

    waits.until(probe, timeout=timeout, what=f"{len(names)} RAGDeployments Ready", interval=1.0)


def test_operator_killed_mid_reconcile_is_replaced_and_converges(
    kube: Kube, waits: Waits, namespace: str, ragops_operator: OperatorProcess
) -> None:
    names = [f"stack-{i}" for i in range(8)]
    for name in names:
        kube.create(ragdeployment(name, namespace), namespace)

    def some_children() -> bool | Pending:
        count = sum(len(children(kube, namespace, name)) for name in names[:2])
        return True if count > 0 else Pending("no children yet")

    waits.until(
        some_children, timeout=30, what="the operator started creating children", interval=0.1
    )
    ragops_operator.stop(signal.SIGKILL)
    not_ready = [
        n for n in names if ready_condition(kube.get(*RAGD, n, namespace)).get("status") != "True"
    ]
    assert not_ready, "every stack was already Ready: the kill did not interrupt anything"
    ragops_operator.start()
    _all_ready(waits, namespace, names, timeout=120)
    for name in names:
        kids = children(kube, namespace, name)
        assert ("Deployment", f"{name}-api-blue") in kids and (
            "StatefulSet",
            f"{name}-qdrant",
        ) in kids


# 50 stacks at the default requests need 100 CPUs; the dev cluster's six fake nodes have 96.
SMALL = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}


def test_fifty_stacks_applied_at_once_all_become_ready(
    kube: Kube, waits: Waits, namespace: str, ragops_operator: OperatorProcess
) -> None:
    names = [f"tenant-{i:02d}" for i in range(50)]
    for name in names:
        kube.create(
            ragdeployment(
                name,
                namespace,
                api={"replicas": {"min": 1, "max": 3}, "resources": SMALL},
                worker={"resources": SMALL},
                vectorStore={"qdrant": {"resources": SMALL}},
            ),
            namespace,
        )
    _all_ready(waits, namespace, names, timeout=300)


def _token_kubeconfig(
    cluster: ClusterUnderTest, kubectl: Kubectl, namespace: str, path: Path
) -> Path:
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    token = kubectl.run(["create", "token", rbac.NAME, "-n", namespace, "--duration=1h"]).strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": admin["clusters"][0]["cluster"]}],
        "users": [{"name": rbac.NAME, "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "dev", "user": rbac.NAME}}],
        "current-context": "operator",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_operator_works_with_only_its_cluster_role(
    k8s_cluster: ClusterUnderTest,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    namespace: str,
    ragops_operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    kubectl.run(["apply", "-f", "-"], stdin=rbac.render_yaml(namespace))
    kubeconfig = _token_kubeconfig(
        k8s_cluster, kubectl, namespace, tmp_path / "operator.kubeconfig"
    )
    restricted = OperatorProcess(kubeconfig, tmp_path / "restricted-operator.log")
    with session_operator_stopped(ragops_operator):
        restricted.start()
        try:
            kube.create(
                ragdeployment(
                    "rbac", namespace, vectorStore={"qdrant": {"storage": {"size": "10Gi"}}}
                ),
                namespace,
            )
            wait_ready(waits, namespace, "rbac", timeout=90)
            kube.delete(
                "apps/v1", "Deployment", "rbac-worker", namespace
            )  # drift repair needs watch + patch
            wait_ready(waits, namespace, "rbac", timeout=60)
            kubectl.run(
                [
                    "patch",
                    "ragd",
                    "rbac",
                    "-n",
                    namespace,
                    "--type",
                    "merge",
                    "-p",
                    '{"spec":{"vectorStore":{"qdrant":{"storage":{"size":"20Gi"}}}}}',
                ]
            )
            generation = kube.get(*RAGD, "rbac", namespace)["metadata"]["generation"]
            wait_ready(waits, namespace, "rbac", generation=generation, timeout=60)
        finally:
            restricted.stop()
    # An Event about a stack of an earlier test whose namespace is being deleted is refused with a
    # 403 by the namespace lifecycle admission, whatever the role: not a missing permission.
    denied = [
        line
        for line in restricted.log_path.read_text().splitlines()
        if ("403" in line or "orbidden" in line) and "is being terminated" not in line
    ]
    assert not denied, restricted.log_tail()


PEERING_LIFETIME_SECONDS = 20
RESYNC_SECONDS = 5


def _services(kube: Kube, namespace: str) -> set[str]:
    return {item["metadata"]["name"] for item in kube.list("v1", "Service", namespace)}


def _announced(kube: Kube, identity: str) -> bool | Pending:
    status = kube.get("kopf.dev/v1", "ClusterKopfPeering", "ragops").get("status") or {}
    return True if identity in status else Pending(f"peers: {sorted(status)}")


def _lease(kube: Kube, identity: str) -> tuple[float, float]:
    """The peer's last keep-alive and when its lease runs out (epoch seconds)."""
    status = kube.get("kopf.dev/v1", "ClusterKopfPeering", "ragops").get("status") or {}
    info = status.get(identity)
    assert isinstance(info, dict), f"no peer {identity!r} in the peering object: {status}"
    seen = datetime.datetime.fromisoformat(info["lastseen"]).timestamp()
    return seen, seen + int(info["lifetime"])


def test_a_paused_standby_does_no_work_until_the_leader_is_gone(
    k8s_cluster: ClusterUnderTest,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    namespace: str,
    ragops_operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    kubectl.run(["apply", "-f", str(REPO / "crds" / "kopf-peering.yaml")])
    kubectl.wait_established("clusterkopfpeerings.kopf.dev", timeout=30)
    kubectl.run(["apply", "-f", str(REPO / "deploy" / "kopf-peering.yaml")])

    def replica(role: str, priority: int) -> OperatorProcess:
        # A short resync: a standby that ignored the pause would repair drift within seconds.
        return OperatorProcess(
            k8s_cluster.kubeconfig,
            tmp_path / f"{role}.log",
            standalone=False,
            env={"POD_ID": f"ragops-{role}"},
            extra_args=[
                "--peering",
                "ragops",
                "--priority",
                str(priority),
                "--peering-lifetime",
                str(PEERING_LIFETIME_SECONDS),
                "--resync-seconds",
                str(RESYNC_SECONDS),
            ],
        )

    def writes(process: OperatorProcess) -> list[str]:
        return [
            line
            for line in process.log_path.read_text().splitlines()
            if line.startswith("Created ")
        ]

    with session_operator_stopped(ragops_operator):
        # The standby starts first, so it is alone for a moment and the leader must displace it.
        standby = replica("standby", 100).start()
        waits.until(
            lambda: _announced(kube, "ragops-standby"),
            timeout=60,
            what="the standby announces itself",
        )
        leader = replica("leader", 200).start()
        try:
            waits.until(
                lambda: _announced(kube, "ragops-leader"),
                timeout=60,
                what="the leader announces itself",
            )
            kube.create(ragdeployment("peered", namespace), namespace)
            wait_ready(waits, namespace, "peered", timeout=60)
            assert "Created Service peered-api" in leader.log_path.read_text(), leader.log_tail()
            assert writes(standby) == [], standby.log_tail()

            # Freeze the leader right after it renewed its lease: for a whole lease nobody may act.
            renewed_before = _lease(kube, "ragops-leader")[0]
            waits.until(
                lambda: (
                    True
                    if _lease(kube, "ragops-leader")[0] > renewed_before
                    else Pending("no renewal yet")
                ),
                timeout=PEERING_LIFETIME_SECONDS + 5,
                what="the leader renews its lease",
            )
            assert leader.process is not None
            leader.process.send_signal(signal.SIGSTOP)
            try:
                kube.delete("v1", "Service", "peered-api", namespace)
                time.sleep(2 * RESYNC_SECONDS + 1)
                assert time.time() < _lease(kube, "ragops-leader")[1], (
                    "the check ran after the lease ended"
                )
                assert "peered-api" not in _services(kube, namespace), (
                    "the standby repaired drift while the leader's lease was valid\n"
                    + standby.log_tail()
                )
                assert writes(standby) == [], standby.log_tail()

                # The lease runs out: the standby takes over and repairs it.
                waits.until(
                    lambda: (
                        True
                        if "peered-api" in _services(kube, namespace)
                        else Pending(standby.log_tail(5))
                    ),
                    timeout=PEERING_LIFETIME_SECONDS + 45,
                    what="the standby takes over after the lease",
                )
                assert writes(standby) == [
                    "Created Service peered-api (" + namespace + "/peered)"
                ], standby.log_tail()
            finally:
                leader.process.send_signal(signal.SIGCONT)
        finally:
            leader.stop()
            standby.stop()


PROMETHEUS_OPERATOR_CRDS = [
    {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    for kind, plural in (
        ("ServiceMonitor", "servicemonitors"),
        ("PrometheusRule", "prometheusrules"),
    )
]


def test_monitoring_appears_within_seconds_when_the_prometheus_operator_is_installed(
    k8s_cluster: ClusterUnderTest,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    namespace: str,
    ragops_operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    """Issue #15 item 5: a settled stack, nothing touching it, and a resync far away: only the
    operator's watch on the CRDs can bring its ServiceMonitors and PrometheusRule in time."""
    for crd in PROMETHEUS_OPERATOR_CRDS:  # an earlier test may have installed them
        kubectl.run(["delete", "crd", crd["metadata"]["name"], "--ignore-not-found", "--wait=true"])
    with session_operator_stopped(ragops_operator):
        operator = OperatorProcess(
            k8s_cluster.kubeconfig,
            tmp_path / "operator.log",
            extra_args=["--resync-seconds", "3600"],
        ).start()
        try:
            kube.create(ragdeployment("watched", namespace), namespace)
            obj = wait_ready(waits, namespace, "watched", timeout=90)
            reasons = {c["type"]: c["reason"] for c in obj["status"]["conditions"]}
            assert reasons["MonitoringAvailable"] == "PrometheusOperatorMissing"
            # Past the operator's discovery cache (10 s): a stale "missing" cannot excuse it.
            time.sleep(11)
            installed = time.monotonic()
            kubectl.apply(PROMETHEUS_OPERATOR_CRDS)

            def monitored() -> bool | Pending:
                status = {
                    c["type"]: c["status"]
                    for c in kube.get(*RAGD, "watched", namespace)["status"]["conditions"]
                }
                monitors = kubectl.get(["servicemonitors", "-n", namespace])["items"]
                rules = kubectl.get(["prometheusrules", "-n", namespace])["items"]
                if (
                    status["MonitoringAvailable"] == "True"
                    and len(monitors) == 3
                    and len(rules) == 1
                ):
                    return True
                return Pending(
                    f"MonitoringAvailable={status['MonitoringAvailable']} "
                    f"monitors={len(monitors)} rules={len(rules)}"
                )

            waits.until(
                monitored,
                timeout=30,
                what="ServiceMonitors and PrometheusRule applied",
                interval=0.5,
            )
            seconds = time.monotonic() - installed
            print(f"monitoring applied {seconds:.1f} s after the CRDs were installed")
            assert seconds < 20, operator.log_tail()
        finally:
            operator.stop()


def test_peering_is_opt_in_created_when_missing_and_refused_without_its_crd(
    k8s_cluster: ClusterUnderTest,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    namespace: str,
    ragops_operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    """Issue #15 item 4: kopf waits silently for a missing peering object; the operator does
    not. No `--peering`: standalone. `--peering NAME`: the object is created if missing; without
    kopf's peering CRD the operator exits at once, saying what to apply."""

    def operator(log: str, *args: str) -> OperatorProcess:
        return OperatorProcess(
            k8s_cluster.kubeconfig, tmp_path / log, standalone=False, extra_args=list(args)
        ).start()

    with session_operator_stopped(ragops_operator):
        kubectl.run(
            [
                "delete",
                "crd",
                "clusterkopfpeerings.kopf.dev",
                "kopfpeerings.kopf.dev",
                "--ignore-not-found",
                "--wait=true",
            ]
        )
        refused = operator("refused.log", "--peering", "ragops-drift")
        assert refused.process is not None
        try:
            code = refused.process.wait(timeout=60)
        finally:
            refused.stop()  # still running: kopf waiting without a word (the issue)
        log = refused.log_path.read_text()
        assert code != 0 and "apply crds/kopf-peering.yaml" in log, log[-2000:]

        kubectl.run(["apply", "-f", str(REPO / "crds" / "kopf-peering.yaml")])
        for crd in ("clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):
            kubectl.wait_established(crd, timeout=30)
        kubectl.run(["delete", "clusterkopfpeering", "ragops", "--ignore-not-found"])

        # The default, with the peering CRD installed and no peering object: standalone.
        default = operator("default.log")
        try:
            kube.create(ragdeployment("alone", namespace), namespace)
            wait_ready(waits, namespace, "alone", timeout=60)
        finally:
            default.stop()

        peered = operator("peered.log", "--peering", "ragops-drift")
        try:
            kube.create(ragdeployment("peered", namespace), namespace)
            wait_ready(waits, namespace, "peered", timeout=60)
            created = kube.get("kopf.dev/v1", "ClusterKopfPeering", "ragops-drift")
            assert created["metadata"]["name"] == "ragops-drift"
            assert "Created ClusterKopfPeering ragops-drift" in peered.log_path.read_text()
        finally:
            peered.stop()
            kubectl.run(["delete", "clusterkopfpeering", "ragops-drift", "--ignore-not-found"])
