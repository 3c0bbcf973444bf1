"""Fixtures for tests against a real Kubernetes API server.

RAGOPS_CLUSTER_BACKEND picks the cluster:
  local    (default) the dev cluster from `ragops dev-cluster build`, started once per session
  existing the cluster of the current KUBECONFIG (or ~/.kube/config); nothing is started or stopped
  kind     a kind cluster through pytest-kind; needs a Docker engine
A missing tool fails the session with a message saying what to install; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.dynamic.exceptions import NotFoundError

from ragops_devcluster import build, cluster
from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.kubectl import Kubectl
from tests.support.cluster import ClusterUnderTest, Kube, Waits

BACKEND_ENV = "RAGOPS_CLUSTER_BACKEND"
BACKENDS = ("local", "existing", "kind")
_log = logging.getLogger("ragops.tests.cluster")


def _backend() -> str:
    backend = os.environ.get(BACKEND_ENV, "local")
    if backend not in BACKENDS:
        pytest.fail(
            f"{BACKEND_ENV}={backend!r}: expected one of {', '.join(BACKENDS)}", pytrace=False
        )
    return backend


def _kubectl_binary() -> Path:
    """The dev cluster's own kubectl if built, else one on PATH."""
    built = build.find_built()
    if built is not None:
        return built.kubectl
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl not found: run `ragops dev-cluster build` or install kubectl on PATH",
            pytrace=False,
        )
    return Path(found)


def _local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterUnderTest]:
    binaries = build.find_built()
    if binaries is None:
        pytest.fail(build.NOT_BUILT, pytrace=False)
    directory = tmp_path_factory.mktemp("devcluster")
    failure: DevClusterError | None = None
    try:
        started = cluster.up(directory, binaries, _log.info)
    except DevClusterError as exc:
        failure = exc  # reported outside the handler so pytest shows one clean message
    if failure is not None:
        pytest.fail(f"the local dev cluster did not start: {failure}", pytrace=False)
    try:
        kubeconfig = Path(started.kubeconfig)
        yield ClusterUnderTest("local", kubeconfig, Kubectl(binaries.kubectl, kubeconfig))
    finally:
        cluster.down(directory)


def _existing() -> Iterator[ClusterUnderTest]:
    kubeconfig = Path(os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config")
    if not kubeconfig.is_file():
        pytest.fail(
            f"{BACKEND_ENV}=existing but kubeconfig {kubeconfig} does not exist", pytrace=False
        )
    yield ClusterUnderTest("existing", kubeconfig, Kubectl(_kubectl_binary(), kubeconfig))


def _kind() -> Iterator[ClusterUnderTest]:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "info"], capture_output=True, timeout=30, check=False).returncode
        != 0
    ):
        pytest.fail(
            f"{BACKEND_ENV}=kind needs a running Docker engine; "
            "use `local` on machines without one",
            pytrace=False,
        )
    if importlib.util.find_spec("pytest_kind") is None:
        pytest.fail(f"{BACKEND_ENV}=kind needs pytest-kind: pip install pytest-kind", pytrace=False)
    from pytest_kind import KindCluster  # optional: only machines with Docker install it

    kind = KindCluster(f"ragops-{uuid.uuid4().hex[:6]}")
    kind.create()
    try:
        kubeconfig = Path(kind.kubeconfig_path)
        yield ClusterUnderTest("kind", kubeconfig, Kubectl(_kubectl_binary(), kubeconfig))
    finally:
        kind.delete()


@pytest.fixture(scope="session")
def k8s_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterUnderTest]:
    """One real cluster for the whole session, chosen by RAGOPS_CLUSTER_BACKEND."""
    backend = _backend()
    if backend == "local":
        yield from _local(tmp_path_factory)
    elif backend == "existing":
        yield from _existing()
    else:
        yield from _kind()


@pytest.fixture(scope="session")
def api_client(k8s_cluster: ClusterUnderTest) -> Iterator[client.ApiClient]:
    # The loader is untyped upstream; it returns a configured ApiClient.
    api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(k8s_cluster.kubeconfig)
    )
    try:
        yield api
    finally:
        api.close()  # type: ignore[no-untyped-call]  # untyped upstream


@pytest.fixture(scope="session")
def kube(api_client: client.ApiClient) -> Kube:
    return Kube(api_client)


@pytest.fixture(scope="session")
def kubectl(k8s_cluster: ClusterUnderTest) -> Kubectl:
    return k8s_cluster.kubectl


@pytest.fixture(scope="session")
def waits(kube: Kube) -> Waits:
    return Waits(kube)


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (the namespace controller empties it)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{stem}-{uuid.uuid4().hex[:5]}"
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"ragops-test": "true"}},
        }
    )
    from tests.support.operator import stack_secrets

    for secret in stack_secrets(name):  # what the tests' RAGDeployments reference
        kube.create(secret, name)
    try:
        yield name
    finally:
        with contextlib.suppress(NotFoundError):  # a test may delete its own namespace
            kube.delete("v1", "Namespace", name)


@pytest.fixture(scope="session")
def ragops_crd(kubectl: Kubectl, waits: Waits) -> None:
    """The RAGDeployment CRD from crds/, installed once and Established."""
    from tests.support.operator import CRD_FILE

    kubectl.run(["apply", "--server-side", "-f", str(CRD_FILE)])
    kubectl.wait_established("ragdeployments.ragops.dev")


@pytest.fixture(scope="session")
def ragops_operator(
    k8s_cluster: ClusterUnderTest, ragops_crd: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """`ragops operator` running as a child process for the whole session."""
    from tests.support.operator import OperatorProcess

    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(k8s_cluster.kubeconfig, log).start()
    try:
        yield process
    finally:
        process.stop()
