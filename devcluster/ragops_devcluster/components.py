"""Command lines of the control-plane processes (flags follow kwokctl's binary runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster.build import Binaries
from ragops_devcluster.pki import SERVICE_CIDR, ClusterPki
from ragops_devcluster.state import Layout

# Nodes carrying this annotation are the ones kwok pretends to be the kubelet for.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
POD_CIDR = "10.244.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
PORT_NAMES = ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok")


@dataclass(frozen=True)
class Kubeconfigs:
    admin: Path
    controller_manager: Path
    scheduler: Path


def etcd(binaries: Binaries, layout: Layout, ports: dict[str, int]) -> list[str]:
    client = f"http://127.0.0.1:{ports['etcd']}"
    peer = f"http://127.0.0.1:{ports['etcd-peer']}"
    return [
        str(binaries.etcd),
        "--name=devcluster",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=devcluster={peer}",
        "--initial-cluster-state=new",
        # A throw-away test store: durability across power loss is not worth the fsync latency.
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def _api_addresses(node_ip: str | None, pki: ClusterPki) -> list[str]:
    if node_ip is None:
        return [
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            # The endpoint reconciler refuses loopback addresses, and nothing in a kwok cluster
            # can dial the `kubernetes` Service anyway (no pod network): Endpoints unmanaged.
            "--endpoint-reconciler-type=none",
        ]
    return [
        # Loopback for the host's clients (the kubeconfig), the node's bridge address for pods:
        # one --bind-address can only name one address, or all of them.
        "--bind-address=0.0.0.0",
        # The `kubernetes` Service's endpoint: pods dial 10.96.0.1:443, kube-proxy sends them here.
        f"--advertise-address={node_ip}",
        "--endpoint-reconciler-type=lease",
        # The node's hostname does not resolve; logs, exec and port-forward dial its address.
        "--kubelet-preferred-address-types=InternalIP",
        f"--kubelet-client-certificate={pki.admin.cert}",
        f"--kubelet-client-key={pki.admin.key}",
    ]


def kube_apiserver(
    binaries: Binaries,
    layout: Layout,
    ports: dict[str, int],
    pki: ClusterPki,
    node_ip: str | None = None,
) -> list[str]:
    return [
        str(binaries.kube_apiserver),
        f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
        *_api_addresses(node_ip, pki),
        f"--secure-port={ports['apiserver']}",
        f"--cert-dir={layout.components / 'apiserver'}",
        f"--tls-cert-file={pki.apiserver.cert}",
        f"--tls-private-key-file={pki.apiserver.key}",
        f"--client-ca-file={pki.ca.cert}",
        "--authorization-mode=Node,RBAC",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.service_account_pub}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true",
    ]


def _secure_serving(name: str, layout: Layout, port: int, kubeconfig: Path) -> list[str]:
    # Delegated authn/authz lets the health endpoints run behind the API server's RBAC;
    # /healthz, /readyz and /livez stay open by the components' default always-allow paths.
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={layout.components / name}",
        # A single instance: leader election would only delay start-up by a lease period.
        "--leader-elect=false",
    ]


def kube_controller_manager(
    binaries: Binaries,
    layout: Layout,
    ports: dict[str, int],
    pki: ClusterPki,
    kubeconfigs: Kubeconfigs,
) -> list[str]:
    return [
        str(binaries.kube_controller_manager),
        *_secure_serving(
            "controller-manager",
            layout,
            ports["controller-manager"],
            kubeconfigs.controller_manager,
        ),
        # Every default controller (garbage collector, deployment, statefulset, job, HPA, ...).
        "--controllers=*",
        # Each controller acts as its own service account, as in a real cluster, so RBAC is
        # exercised.
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.service_account_key}",
        f"--root-ca-file={pki.ca.cert}",
        f"--cluster-signing-cert-file={pki.ca.cert}",
        f"--cluster-signing-key-file={pki.ca.key}",
        # Dynamic provisioning for StorageClass provisioner kubernetes.io/host-path, so
        # StatefulSet volumeClaimTemplates bind without a CSI driver.
        "--enable-hostpath-provisioner=true",
        "--kube-api-qps=100",
        "--kube-api-burst=200",
    ]


def kube_scheduler(
    binaries: Binaries, layout: Layout, ports: dict[str, int], kubeconfigs: Kubeconfigs
) -> list[str]:
    return [
        str(binaries.kube_scheduler),
        *_secure_serving("scheduler", layout, ports["scheduler"], kubeconfigs.scheduler),
    ]


def kwok(binaries: Binaries, ports: dict[str, int], kubeconfigs: Kubeconfigs) -> list[str]:
    key, value = KWOK_NODE_ANNOTATION
    return [
        str(binaries.kwok),
        f"--kubeconfig={kubeconfigs.admin}",
        # Stages copied from the kwok release at build time: nodes become Ready, pods Running/Ready.
        f"--config={binaries.kwok_stages}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={key}={value}",
        f"--cidr={POD_CIDR}",
        "--node-lease-duration-seconds=40",
        f"--server-address=127.0.0.1:{ports['kwok']}",
    ]
