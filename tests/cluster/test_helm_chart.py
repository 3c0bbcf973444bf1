"""The operator's Helm chart with the real helm (built by `ragops dev-cluster build`) against the
local control plane: lint, render, server-side dry-runs, and an install whose ServiceAccount
token runs `ragops operator`, so what is tested is the chart's RBAC, not the admin's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ragops_devcluster import build
from ragops_devcluster.errors import KubectlFailed
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import ClusterUnderTest, Kube, Obj, Waits, conditions
from tests.support.helm import CHART, Helm
from tests.support.operator import EXAMPLES, RAGD, OperatorProcess, load_examples, wait_ready

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
NS_MODE_RULE_KINDS = {"customresourcedefinitions", "namespaces"}


@pytest.fixture(scope="module")
def helm_binary() -> Path:
    found = build.find_helm()
    if found is None:
        pytest.fail(build.HELM_NOT_BUILT, pytrace=False)
    return found


@pytest.fixture(scope="module")
def helm(helm_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary, tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="module")
def cluster_helm(
    helm_binary: Path, tmp_path_factory: pytest.TempPathFactory, k8s_cluster: ClusterUnderTest
) -> Helm:
    return Helm(helm_binary, tmp_path_factory.mktemp("helm-home"), k8s_cluster.kubeconfig)


@pytest.fixture(scope="module")
def chart_crds(kubectl: Kubectl, kube: Kube, waits: Waits) -> None:
    """The chart's CRDs (RAGDeployment, kopf peering), applied for real and Established."""
    kubectl.run(["apply", "--server-side", "-f", str(CHART / "crds")])
    for name in (
        "ragdeployments.ragops.dev",
        "clusterkopfpeerings.kopf.dev",
        "kopfpeerings.kopf.dev",
    ):
        # Polled, not `kubectl wait`: that fails while a new CRD has no conditions at all yet.
        def established(crd: str = name) -> bool | Pending:
            found = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd)
            if conditions(found).get("Established") == "True":
                return True
            return Pending(f"{crd} not Established yet")

        waits.until(established, timeout=60, what=f"CRD {name} Established", interval=0.3)


def _kinds(objects: list[Obj]) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["metadata"].get("namespace", "")) for o in objects)


def _one(objects: list[Obj], kind: str) -> Obj:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s rendered"
    return found[0]


def _container(objects: list[Obj]) -> dict[str, Any]:
    container: dict[str, Any] = _one(objects, "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _ragops_rbac_rules() -> list[dict[str, Any]]:
    """The ClusterRole `ragops rbac` prints (the operator's own least-privilege rules)."""
    out = subprocess.run(
        [sys.executable, "-m", "ragops_cli", "rbac"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    role = next(d for d in yaml.safe_load_all(out) if d and d["kind"] == "ClusterRole")
    rules: list[dict[str, Any]] = role["rules"]
    return rules


def _dry_run(kubectl: Kubectl, objects: list[Obj]) -> None:
    """Server-side apply with dry-run: the API server validates every object (schemas, unknown
    fields, RBAC escalation checks) and admission runs, but nothing is stored. Every namespaced
    object names its namespace (the chart sets it), so no `-n` is needed."""
    document = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    kubectl.run(
        [
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=helm-test",
            "-f",
            "-",
        ],
        stdin=document,
    )


# --- lint and render ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[], ["--set", "watchNamespaces={a,b}"], ["--set", "replicas=2"]],
    ids=["default", "namespaced", "ha"],
)
def test_helm_lint_strict_passes(helm: Helm, values: list[str]) -> None:
    out = helm("lint", "--strict", str(CHART), *values)
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_schema_refuses_an_unknown_value(helm: Helm) -> None:
    out = helm("template", "x", str(CHART), "--set", "replica=2", check=False)
    assert "replica" in out and "additional properties" in out.lower(), out


def test_default_render_is_one_standalone_replica_with_the_operators_own_rbac(
    helm: Helm,
) -> None:
    objects = helm.template("-n", "ragops-system")
    dashboards = sorted((CHART / "dashboards").glob("*.json"))
    assert len(dashboards) == 4  # API performance, vector DB, cost, business
    assert _kinds(objects) == [
        ("ClusterRole", ""),
        ("ClusterRoleBinding", ""),
        *[("ConfigMap", "ragops-system")] * len(dashboards),
        ("Deployment", "ragops-system"),
        ("Service", "ragops-system"),
        ("ServiceAccount", "ragops-system"),
    ]
    deployment = _one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = _container(objects)
    assert container["image"] == "ragops/ragops:0.1.0"
    assert container["command"] == ["ragops"]
    assert container["args"][:2] == ["operator", "--standalone"]
    assert "--metrics-port=8080" in container["args"]
    assert "--liveness=http://0.0.0.0:8081/healthz" in container["args"]
    assert not any(a.startswith(("--namespace", "--peering")) for a in container["args"])
    # The chart and `ragops rbac` grant exactly the same.
    role = _one(objects, "ClusterRole")
    assert _grants(role["rules"]) == _grants(_ragops_rbac_rules())
    binding = _one(objects, "ClusterRoleBinding")
    account = _one(objects, "ServiceAccount")
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": "ragops-system",
        }
    ]
    service = _one(objects, "Service")
    assert service["spec"]["ports"][0]["port"] == 8080


def test_pod_meets_the_restricted_pod_security_standard(helm: Helm) -> None:
    pod = _one(helm.template(), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = pod["containers"][0]["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is True  # the operator needs its token


def test_ha_render_runs_two_peered_replicas_and_creates_the_peering_object(helm: Helm) -> None:
    objects = helm.template("--set", "replicas=2")
    deployment = _one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    args = _container(objects)["args"]
    assert "--peering=ragops" in args and "--standalone" not in args
    peering = _one(objects, "ClusterKopfPeering")
    assert peering["metadata"]["name"] == "ragops"


def test_namespaced_render_has_roles_per_namespace_and_only_reads_cluster_wide(
    helm: Helm,
) -> None:
    objects = helm.template("-n", "ops", "--set", "watchNamespaces={team-a,team-b}")
    assert [(k, n) for k, n in _kinds(objects) if k in ("Role", "RoleBinding")] == [
        ("Role", "team-a"),
        ("Role", "team-b"),
        ("RoleBinding", "team-a"),
        ("RoleBinding", "team-b"),
    ]
    cluster_role = _one(objects, "ClusterRole")
    assert {r for _, r, _ in _grants(cluster_role["rules"])} == NS_MODE_RULE_KINDS
    assert {v for _, _, v in _grants(cluster_role["rules"])} == {"get", "list", "watch"}
    args = _container(objects)["args"]
    assert "--namespace=team-a" in args and "--namespace=team-b" in args
    # Together, Role and ClusterRole grant what the cluster-wide operator has, minus the
    # cluster-scoped kinds a namespaced operator does not use.
    role = next(o for o in objects if o["kind"] == "Role")
    everything = _grants(_ragops_rbac_rules())
    unused = {g for g in everything if g[1] == "clusterkopfpeerings"}
    assert _grants(role["rules"]) | _grants(cluster_role["rules"]) == everything - unused
    ha = helm.template("--set", "watchNamespaces={team-a}", "--set", "replicas=2")
    peering = _one(ha, "KopfPeering")
    assert peering["metadata"]["namespace"] == "team-a"


def test_notes_tell_the_next_command(helm: Helm) -> None:
    out = helm("install", "ragops-operator", str(CHART), "--dry-run=client", "-n", "ops")
    notes = out[out.index("NOTES:") :]
    assert "kubectl -n ops rollout status deployment/ragops-operator" in notes
    assert "kubectl apply -f examples/minimal.yaml" in notes
    assert "kubectl wait --for=condition=Ready ragd/docs" in notes
    scoped = helm(
        "install", "x", str(CHART), "--dry-run=client", "--set", "watchNamespaces={team-a}"
    )
    assert "kubectl apply -n team-a -f examples/minimal.yaml" in scoped


def test_service_monitor_only_where_the_prometheus_operator_is_installed(helm: Helm) -> None:
    assert not [o for o in helm.template() if o["kind"] == "ServiceMonitor"]
    objects = helm.template("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
    monitor = _one(objects, "ServiceMonitor")
    service = _one(objects, "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]


def test_operator_alerts_only_where_the_prometheus_operator_is_installed(helm: Helm) -> None:
    assert not [o for o in helm.template() if o["kind"] == "PrometheusRule"]
    objects = helm.template("--api-versions", "monitoring.coreos.com/v1/PrometheusRule")
    rules = {r["alert"]: r for r in _one(objects, "PrometheusRule")["spec"]["groups"][0]["rules"]}
    assert set(rules) == {"RAGOpsStackNotAvailable", "RAGOpsReconcileErrors"}
    not_available = rules["RAGOpsStackNotAvailable"]
    assert 'condition="Available", status="False"' in not_available["expr"]
    assert not_available["for"] == "5m"
    assert "{{ $labels.ragdeployment }}" in not_available["annotations"]["summary"]
    off = helm.template(
        "--api-versions",
        "monitoring.coreos.com/v1/PrometheusRule",
        "--set",
        "metrics.prometheusRule.enabled=false",
    )
    assert not [o for o in off if o["kind"] == "PrometheusRule"]


def test_every_dashboard_json_becomes_a_labelled_config_map(helm: Helm, tmp_path: Path) -> None:
    chart = tmp_path / "ragops-operator"
    shutil.copytree(CHART, chart)
    dashboards = chart / "dashboards"
    shutil.rmtree(dashboards, ignore_errors=True)
    dashboards.mkdir()
    sources = {
        "api_performance.json": json.dumps({"title": "API performance", "panels": []}),
        "vector-db.json": json.dumps({"title": "Vector DB", "panels": [{"id": 1}]}),
    }
    for name, text in sources.items():
        (dashboards / name).write_text(text)
    maps = [o for o in helm.template(chart=chart) if o["kind"] == "ConfigMap"]
    assert sorted(m["metadata"]["name"] for m in maps) == [
        "ragops-operator-dashboard-api-performance",
        "ragops-operator-dashboard-vector-db",
    ]
    assert all(m["metadata"]["labels"]["grafana_dashboard"] == "1" for m in maps)
    assert {k: v for m in maps for k, v in m["data"].items()} == sources
    off = helm.template("--set", "dashboards.enabled=false", chart=chart)
    assert not [o for o in off if o["kind"] == "ConfigMap"]


# --- against the API server ----------------------------------------------------------------------


@pytest.fixture
def watched(kube: Kube, namespace: str) -> Iterator[list[str]]:
    """Two namespaces for the namespace-scoped mode: the test's own and a second one."""
    second = f"{namespace[:55]}-b"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": second}})
    try:
        yield [namespace, second]
    finally:
        kube.delete("v1", "Namespace", second)


@pytest.mark.parametrize(
    "values",
    [[], ["--set", "replicas=2"]],
    ids=["default", "ha"],
)
def test_rendered_chart_passes_a_server_side_dry_run(
    helm: Helm, kubectl: Kubectl, chart_crds: None, namespace: str, values: list[str]
) -> None:
    objects = helm.template("-n", namespace, *values)
    _dry_run(kubectl, objects)


def test_namespaced_render_passes_a_server_side_dry_run(
    helm: Helm, kubectl: Kubectl, chart_crds: None, watched: list[str]
) -> None:
    values = ["--set", "watchNamespaces={" + ",".join(watched) + "}", "--set", "replicas=2"]
    objects = helm.template("-n", watched[0], *values)
    assert len([o for o in objects if o["kind"] == "Role"]) == 2
    _dry_run(kubectl, objects)


def test_dry_run_catches_a_broken_object(
    helm: Helm, kubectl: Kubectl, chart_crds: None, namespace: str
) -> None:
    """The dry-run is a real check: the API server refuses an invalid Deployment."""
    objects = helm.template("-n", namespace)
    _one(objects, "Deployment")["spec"]["replicas"] = "two"
    with pytest.raises(KubectlFailed):
        _dry_run(kubectl, objects)


def _token_kubeconfig(
    admin_kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str, path: Path
) -> Path:
    """A kubeconfig authenticating as the ServiceAccount (a TokenRequest token), nothing else."""
    token = kubectl.run(["create", "token", account, "-n", namespace, "--duration=1h"]).strip()
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": account}}],
        "current-context": "c",
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def _can_i(kubectl: Kubectl, kubeconfig: Path, *args: str) -> bool:
    """`kubectl auth can-i` as the kubeconfig's user: exit 0 is yes, 1 is no."""
    result = subprocess.run(
        [str(kubectl.binary), f"--kubeconfig={kubeconfig}", "auth", "can-i", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def _apply_minimal(kube: Kube, namespace: str) -> None:
    for doc in load_examples(EXAMPLES / "minimal.yaml"):
        kube.create({**doc, "metadata": {**doc["metadata"], "namespace": namespace}}, namespace)


def _assert_reconciled_by(operator: OperatorProcess, namespace: str) -> None:
    log = operator.log_path.read_text(errors="replace")
    # This process, under the chart's token, created the stack's children itself. (Another
    # operator running cluster-wide, e.g. the session's `ragops_operator` fixture, would race it:
    # this module runs before the test_operator_* modules that start one.)
    assert f"Created Deployment docs-api-blue ({namespace}/docs)" in log, operator.log_tail()
    assert "Forbidden" not in log and "403" not in log, operator.log_tail()


def _release_objects(kubectl: Kubectl, release: str) -> list[str]:
    selector = f"app.kubernetes.io/instance={release},app.kubernetes.io/name=ragops-operator"
    kinds = "deployments,services,serviceaccounts,configmaps,roles,rolebindings"
    found = kubectl.get([kinds, "-A", "-l", selector])["items"]
    found += kubectl.get(["clusterroles,clusterrolebindings", "-l", selector])["items"]
    return [f"{o['kind']}/{o['metadata']['name']}" for o in found]


def test_install_runs_the_operator_under_the_charts_rbac_then_upgrade_and_uninstall(
    cluster_helm: Helm,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    k8s_cluster: ClusterUnderTest,
    namespace: str,
    tmp_path: Path,
) -> None:
    kubectl.run(["label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"])
    release = "ragops-operator"
    cluster_helm("install", release, str(CHART), "-n", namespace, "--wait", "--timeout=120s")
    # kwok runs the pod: it was admitted under the `restricted` Pod Security Standard.
    waits.deployment_available(namespace, release)
    assert kube.get(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", "ragdeployments.ragops.dev"
    )

    token = _token_kubeconfig(k8s_cluster.kubeconfig, kubectl, namespace, release, tmp_path / "kc")
    assert _can_i(kubectl, token, "patch", "ragdeployments/status", "-A")
    # Secrets: a get by name (the SecretsResolved check), never a list or watch of their values.
    assert _can_i(kubectl, token, "get", "secrets", "-A")
    assert not _can_i(kubectl, token, "list", "secrets", "-A"), "least privilege: no Secret list"
    assert not _can_i(kubectl, token, "watch", "secrets", "-A"), "least privilege: no watch"
    stacks = f"{namespace}-stacks"[:63]
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": stacks}})
    operator = OperatorProcess(token, tmp_path / "operator.log").start()
    try:
        _apply_minimal(kube, stacks)
        wait_ready(waits, stacks, "docs", timeout=120)
        _assert_reconciled_by(operator, stacks)
    finally:
        operator.stop()
        kube.delete(*RAGD, "docs", stacks)
        kube.delete("v1", "Namespace", stacks)

    before = kube.get("apps/v1", "Deployment", release, namespace)
    cluster_helm(
        "upgrade",
        release,
        str(CHART),
        "-n",
        namespace,
        "--set",
        "logLevel=debug",
        "--set",
        "resources.limits.memory=256Mi",
        "--wait",
        "--timeout=120s",
    )
    after = kube.get("apps/v1", "Deployment", release, namespace)
    container = after["spec"]["template"]["spec"]["containers"][0]
    assert after["metadata"]["generation"] > before["metadata"]["generation"]
    assert "--verbose" in container["args"]
    assert container["resources"]["limits"]["memory"] == "256Mi"
    assert "--verbose" not in before["spec"]["template"]["spec"]["containers"][0]["args"]

    assert _release_objects(kubectl, release)
    cluster_helm("uninstall", release, "-n", namespace, "--wait", "--timeout=120s")
    assert _release_objects(kubectl, release) == []
    # Helm never deletes CRDs it installed from crds/: the users' RAGDeployments survive.
    assert kube.get(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", "ragdeployments.ragops.dev"
    )


def test_namespace_scoped_install_reconciles_a_watched_namespace_with_roles_only(
    cluster_helm: Helm,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    k8s_cluster: ClusterUnderTest,
    watched: list[str],
    tmp_path: Path,
) -> None:
    release, home = "ragops-ns", watched[0]
    values = "watchNamespaces={" + ",".join(watched) + "}"
    cluster_helm("install", release, str(CHART), "-n", home, "--set", values, "--wait")
    account = f"{release}-ragops-operator"
    token = _token_kubeconfig(k8s_cluster.kubeconfig, kubectl, home, account, tmp_path / "kc")
    assert _can_i(kubectl, token, "patch", "ragdeployments/status", "-n", watched[1])
    assert not _can_i(kubectl, token, "list", "ragdeployments", "-A")
    assert not _can_i(kubectl, token, "list", "deployments", "-n", "default")
    args = [f"--namespace={n}" for n in watched]
    operator = OperatorProcess(token, tmp_path / "operator.log", extra_args=args).start()
    try:
        _apply_minimal(kube, watched[1])
        wait_ready(waits, watched[1], "docs", timeout=120)
        _assert_reconciled_by(operator, watched[1])
    finally:
        operator.stop()
        kube.delete(*RAGD, "docs", watched[1])
    cluster_helm("uninstall", release, "-n", home, "--wait")
    assert _release_objects(kubectl, release) == []


def test_ha_install_peers_under_the_charts_rbac(
    cluster_helm: Helm,
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    k8s_cluster: ClusterUnderTest,
    namespace: str,
    tmp_path: Path,
) -> None:
    """Two replicas: the chart's ClusterKopfPeering exists, and an operator peering through it
    with the chart's token (kopf reads and patches the peering object) reconciles a stack."""
    release, peering = "ragops-ha", f"ragops-{namespace[-5:]}"
    cluster_helm(
        "install",
        release,
        str(CHART),
        "-n",
        namespace,
        "--set",
        "replicas=2",
        "--set",
        f"peering.name={peering}",
        "--wait",
        "--timeout=120s",
    )
    name = f"{release}-ragops-operator"
    deployment = waits.deployment_available(namespace, name)
    assert deployment["status"]["readyReplicas"] == 2
    assert kube.get("kopf.dev/v1", "ClusterKopfPeering", peering)
    token = _token_kubeconfig(k8s_cluster.kubeconfig, kubectl, namespace, name, tmp_path / "kc")
    stacks = f"{namespace}-stacks"[:63]
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": stacks}})
    operator = OperatorProcess(
        token, tmp_path / "operator.log", standalone=False, extra_args=[f"--peering={peering}"]
    ).start()
    try:
        _apply_minimal(kube, stacks)
        wait_ready(waits, stacks, "docs", timeout=120)
        _assert_reconciled_by(operator, stacks)
        # kopf announced this replica in the chart's peering object.
        status = kube.get("kopf.dev/v1", "ClusterKopfPeering", peering).get("status") or {}
        assert status, "no replica announced itself in the peering object"
    finally:
        operator.stop()
        kube.delete(*RAGD, "docs", stacks)
        kube.delete("v1", "Namespace", stacks)
    cluster_helm("uninstall", release, "-n", namespace, "--wait", "--timeout=120s")
    assert _release_objects(kubectl, release) == []
    assert not [
        p for p in kubectl.get(["clusterkopfpeerings"])["items"] if p["metadata"]["name"] == peering
    ]
