"""The real node runs real pods: images loaded here, probes the kubelet runs, Services kube-proxy
routes, names CoreDNS answers, the API server reached in-cluster, volumes of class gp3.

The images are a static busybox imported into podman (no registry is reachable), loaded into
the node with `ragops dev-cluster load-image`.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragops_devcluster import build, versions
from ragops_devcluster.waiting import Pending, wait_until
from tests.support.real_node import RealNodeCluster

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

BUSYBOX = Path("/bin/busybox")
# busybox's applets plus the dev cluster's kubectl (static Go): a client that reads in-cluster
# configuration and verifies the API server against the mounted CA (busybox's wget cannot do
# TLS with the API server's ECDSA certificate).
IMAGE = f"localhost/ragops-realnode-busybox:kubectl-{versions.KUBERNETES}"
GREETING = "hello from the real node"


@pytest.fixture(scope="module")
def busybox_image() -> str:
    """A podman image holding a static busybox with its applets (sh, httpd, wget, ...)."""
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} missing: run scripts/install-system-deps.sh", pytrace=False)
    binaries = build.require_built()
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode == 0:
        return IMAGE
    with tempfile.TemporaryDirectory(prefix="rn-image-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        (rootfs / "tmp").mkdir(mode=0o1777)
        shutil.copy2(BUSYBOX, rootfs / "bin/busybox")
        shutil.copy2(binaries.kubectl, rootfs / "bin/kubectl")
        applets = subprocess.run(
            [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
        ).stdout.split()
        for applet in applets:
            if applet not in ("busybox", "kubectl"):
                (rootfs / "bin" / applet).symlink_to("busybox")
        layer = Path(scratch) / "layer.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(layer), "."], check=True)
        subprocess.run(
            ["podman", "import", "--change", 'CMD ["/bin/sh"]', str(layer), IMAGE],
            check=True,
            capture_output=True,
        )
    return IMAGE


@pytest.fixture(scope="module")
def loaded_image(real_node_cluster: RealNodeCluster, busybox_image: str) -> str:
    """The busybox image, loaded into the node through the CLI as a user would."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ragops_devcluster",
            "load-image",
            busybox_image,
            "--dir",
            str(real_node_cluster.directory),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"loaded {busybox_image}" in result.stdout, result.stdout + result.stderr
    assert "image(s) in" in result.stderr
    return busybox_image


@pytest.fixture
def namespace(real_node_cluster: RealNodeCluster) -> Iterator[str]:
    name = f"rn-{uuid.uuid4().hex[:8]}"
    real_node_cluster.kubectl.run(["create", "namespace", name])
    yield name
    real_node_cluster.kubectl.run(["delete", "namespace", name, "--wait=false"])


def _pod(name: str, image: str, command: str, **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["/bin/sh", "-c", command],
    }
    container.update(extra.pop("container", {}))
    spec: dict[str, Any] = {"containers": [container], "terminationGracePeriodSeconds": 1}
    spec.update(extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _wait_pod(
    cluster: RealNodeCluster, namespace: str, name: str, *, phase: str | None = None
) -> dict[str, Any]:
    """Wait until the pod is Ready (phase None) or reached `phase`; return it."""

    def probe() -> dict[str, Any] | Pending:
        pod = cluster.kubectl.get(["pod", name, "-n", namespace])
        status = pod.get("status", {})
        if phase is not None:
            if status.get("phase") == phase:
                return pod
            if status.get("phase") == "Failed" and phase != "Failed":
                logs = cluster.kubectl.run(["logs", name, "-n", namespace])
                raise AssertionError(f"pod {name} failed: {logs}\n{json.dumps(status)}")
            return Pending(f"phase {status.get('phase')}: {json.dumps(status)[:600]}")
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        if conditions.get("Ready") == "True":
            return pod
        return Pending(f"not Ready: {json.dumps(status)[:600]}")

    found: dict[str, Any] = wait_until(
        probe, timeout=120, what=f"pod {namespace}/{name}", interval=1.0
    )
    return found


def _web(cluster: RealNodeCluster, namespace: str, image: str) -> dict[str, Any]:
    """An httpd pod behind Service `web`, Ready only once the kubelet's HTTP probe passed."""
    pod = _pod(
        "web",
        image,
        f"mkdir -p /tmp/www && echo '{GREETING}' > /tmp/www/index.html "
        "&& exec httpd -f -p 8080 -h /tmp/www",
        container={
            "ports": [{"containerPort": 8080}],
            "readinessProbe": {
                "httpGet": {"path": "/index.html", "port": 8080},
                "periodSeconds": 1,
            },
        },
    )
    pod["metadata"]["labels"] = {"app": "web"}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    cluster.kubectl.run(["apply", "-n", namespace, "-f", "-"], stdin=json.dumps(pod))
    cluster.kubectl.run(["apply", "-n", namespace, "-f", "-"], stdin=json.dumps(service))
    return _wait_pod(cluster, namespace, "web")


def _run_to_completion(
    cluster: RealNodeCluster, namespace: str, pod: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    pod["spec"]["restartPolicy"] = "Never"
    cluster.kubectl.run(["apply", "-n", namespace, "-f", "-"], stdin=json.dumps(pod))
    name = pod["metadata"]["name"]
    done = _wait_pod(cluster, namespace, name, phase="Succeeded")
    # Through the API server to the kubelet: `kubectl logs` works on the real node.
    return done, cluster.kubectl.run(["logs", name, "-n", namespace])


def test_load_image_imports_a_podman_image_into_the_node_under_its_name(
    real_node_cluster: RealNodeCluster, loaded_image: str
) -> None:
    # `loaded_image` ran `ragops dev-cluster load-image IMAGE --dir DIR` and checked its output;
    # the kubelet's runtime (CRI, namespace k8s.io) must now list the image by that name.
    listed = subprocess.run(
        [
            str(real_node_cluster.ctr),
            "--address",
            str(real_node_cluster.containerd_socket),
            "--namespace",
            "k8s.io",
            "images",
            "ls",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert loaded_image in listed


def test_a_pod_from_a_loaded_image_runs_on_the_real_node_and_passes_a_real_probe(
    real_node_cluster: RealNodeCluster, loaded_image: str, namespace: str
) -> None:
    pod = _web(real_node_cluster, namespace, loaded_image)

    assert pod["spec"]["nodeName"] == real_node_cluster.node_name
    pod_ip = pod["status"]["podIP"]
    assert pod_ip.rsplit(".", 1)[0] == real_node_cluster.network.subnet.rsplit(".", 1)[0]
    # The pod's own address, on the node's bridge, answers from the host.
    assert httpx.get(f"http://{pod_ip}:8080/index.html", timeout=10).text.strip() == GREETING


def test_a_service_answers_from_the_host_and_from_another_pod_by_dns_name(
    real_node_cluster: RealNodeCluster, loaded_image: str, namespace: str
) -> None:
    _web(real_node_cluster, namespace, loaded_image)
    service = real_node_cluster.kubectl.get(["service", "web", "-n", namespace])
    cluster_ip = service["spec"]["clusterIP"]

    def answered() -> str | Pending:
        try:
            return httpx.get(f"http://{cluster_ip}/index.html", timeout=5).text.strip()
        except httpx.TransportError as exc:
            return Pending(str(exc))

    # kube-proxy writes the Service's rules within a second or two of its endpoints.
    assert wait_until(answered, timeout=30, what="the ClusterIP from the host") == GREETING

    fqdn = f"web.{namespace}.svc.cluster.local"
    _, logs = _run_to_completion(
        real_node_cluster,
        namespace,
        _pod("client", loaded_image, f"nslookup {fqdn} && wget -q -O - http://{fqdn}/index.html"),
    )
    assert cluster_ip in logs, logs
    assert GREETING in logs, logs


def test_a_pod_reaches_the_api_server_with_its_service_account(
    real_node_cluster: RealNodeCluster, loaded_image: str, namespace: str
) -> None:
    kubectl = real_node_cluster.kubectl
    kubectl.run(["create", "configmap", "probe", "-n", namespace, "--from-literal=word=granite"])
    kubectl.run(["create", "role", "read", "-n", namespace, "--verb=get", "--resource=configmaps"])
    kubectl.run(
        [
            "create",
            "rolebinding",
            "read",
            "-n",
            namespace,
            "--role=read",
            f"--serviceaccount={namespace}:default",
        ]
    )
    account = "/var/run/secrets/kubernetes.io/serviceaccount"
    done, logs = _run_to_completion(
        real_node_cluster,
        namespace,
        _pod(
            "in-cluster",
            loaded_image,
            # No kubeconfig: kubectl takes the in-cluster configuration, as client libraries
            # do: $KUBERNETES_SERVICE_HOST/PORT (the `kubernetes` Service), the mounted token,
            # and the mounted CA it verifies the API server's certificate with.
            f"cat {account}/ca.crt && echo $KUBERNETES_SERVICE_HOST && HOME=/tmp kubectl get "
            f"configmap probe -n {namespace} -o jsonpath='word={{.data.word}}'",
        ),
    )
    assert done["spec"]["nodeName"] == real_node_cluster.node_name
    ca = (real_node_cluster.directory / "pki/ca.crt").read_text().strip()
    assert ca in logs, "the pod's ca.crt is not the cluster's CA"
    assert "10.96.0.1" in logs, logs
    assert "word=granite" in logs, logs

    # The host verifies the same path: the `kubernetes` Service, through kube-proxy, presents a
    # certificate valid for its ClusterIP, signed by the cluster's CA.
    version = httpx.get(
        "https://10.96.0.1:443/version",
        verify=ssl.create_default_context(cafile=real_node_cluster.directory / "pki/ca.crt"),
        timeout=10,
    )
    assert version.status_code == 200 and version.json()["gitVersion"].startswith("v1.")


def test_a_gp3_claim_binds_and_the_pod_writes_to_it(
    real_node_cluster: RealNodeCluster, loaded_image: str, namespace: str
) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "storageClassName": "gp3",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "20Gi"}},
        },
    }
    real_node_cluster.kubectl.run(["apply", "-n", namespace, "-f", "-"], stdin=json.dumps(claim))
    pod = _pod(
        "writer",
        loaded_image,
        "echo written-by-uid-$(id -u) > /data/proof && cat /data/proof",
        container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        securityContext={"runAsUser": 1000, "runAsGroup": 1000},
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
    )
    _, logs = _run_to_completion(real_node_cluster, namespace, pod)

    assert "written-by-uid-1000" in logs
    bound = real_node_cluster.kubectl.get(["pvc", "data", "-n", namespace])
    assert bound["status"]["phase"] == "Bound"
    assert bound["status"]["capacity"]["storage"] == "20Gi"
    volume = real_node_cluster.kubectl.get(["pv", bound["spec"]["volumeName"]])
    host_path = Path(volume["spec"]["hostPath"]["path"])
    assert host_path.is_relative_to(real_node_cluster.directory)
    assert (host_path / "proof").read_text().strip() == "written-by-uid-1000"

    # Deleting the claim deletes the volume and its directory (reclaim policy Delete).
    real_node_cluster.kubectl.run(["delete", "pod", "writer", "-n", namespace])
    real_node_cluster.kubectl.run(["delete", "pvc", "data", "-n", namespace])

    def removed() -> bool | Pending:
        names = [pv["metadata"]["name"] for pv in real_node_cluster.kubectl.get(["pv"])["items"]]
        if volume["metadata"]["name"] in names or host_path.exists():
            return Pending(f"{volume['metadata']['name']} still there")
        return True

    wait_until(removed, timeout=60, what="the released volume to be deleted")
