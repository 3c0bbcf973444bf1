"""Starting and removing the real node: containerd, kubelet, kube-proxy, CoreDNS, volumes.

`cluster.up(real_node=True)` calls `prepare` before the control plane (the API server needs the
node's address for its certificate and the `kubernetes` Service) and `start` after it; `down`
calls `teardown`, which also removes what the node leaves on the host (pods, iptables chains,
mounts, the bridge).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster import health, images, nodeconfig, nodenet, procs
from ragops_devcluster.build import Binaries
from ragops_devcluster.errors import ComponentFailed, DeadlineExceeded, DevClusterError
from ragops_devcluster.gotool import Progress
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.nodebuild import NodeBinaries, runc
from ragops_devcluster.nodeconfig import NODE_NAME, NodeLayout
from ragops_devcluster.nodenet import NodeNetwork
from ragops_devcluster.pki import ClusterPki
from ragops_devcluster.procs import ProcessRecord
from ragops_devcluster.waiting import Pending, wait_until

# Process names in the cluster's state; `down` stops them in this order, before the control plane.
NODE_PROCESSES = ("volumes", "coredns", "kube-proxy", "kubelet", "containerd")
Spawn = Callable[[str, list[str], dict[str, str] | None], ProcessRecord]


@dataclass(frozen=True)
class NodeDeadlines:
    containerd: float = 60
    node_ready: float = 120
    services: float = 60


def layout_of(cluster_root: Path) -> NodeLayout:
    return NodeLayout(cluster_root / "node")


def _kube_proxy_running() -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "kube-proxy":
                    return True
    return False


def prepare(cluster_root: Path, node_binaries: NodeBinaries, progress: Progress) -> NodeNetwork:
    """Pick the node's bridge and address and create the bridge."""
    if os.geteuid() != 0:
        raise DevClusterError(
            "--real-node needs root: it creates a bridge, iptables rules, mounts and containers"
        )
    if any(c.endswith("/nat/KUBE-SERVICES") for c in nodenet.kube_chains()):
        if _kube_proxy_running():
            # kube-proxy's chains are host-wide: two real nodes would rewrite each other's.
            raise DevClusterError(
                "another real node's kube-proxy runs on this machine (iptables nat chain "
                "KUBE-SERVICES): stop that cluster first with `ragops dev-cluster down --dir DIR`"
            )
        # A real node killed without `down` (a session or CI job ended): its rules are stale.
        progress("removing stale kube-proxy and kubelet iptables rules (no kube-proxy runs)")
        _run_quietly([str(node_binaries.kube_proxy), "--cleanup"])
        nodenet.remove_kubelet_chains()
    network = nodenet.allocate(cluster_root)
    progress(f"creating bridge {network.bridge} with node address {network.node_ip}")
    nodenet.create_bridge(network)
    return network


def _wait(
    record: ProcessRecord, probe: Callable[[], bool | Pending], what: str, timeout: float
) -> None:
    def checked() -> bool | Pending:
        if not procs.is_running(record):
            raise ComponentFailed(
                f"{record.name} exited during start-up; "
                f"last lines of {record.log}:\n{procs.log_tail(record.log)}"
            )
        return probe()

    try:
        wait_until(checked, timeout=timeout, what=what, interval=0.5)
    except DeadlineExceeded as exc:
        raise ComponentFailed(
            f"{exc}\nlast lines of {record.log}:\n{procs.log_tail(record.log)}"
        ) from exc


def _ctr_answers(binaries: NodeBinaries, node: NodeLayout) -> bool | Pending:
    result = subprocess.run(
        [str(binaries.ctr), "--address", str(node.containerd_socket), "version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return True if result.returncode == 0 else Pending(result.stderr.strip()[-300:])


def _node_ready(kubectl: Kubectl) -> bool | Pending:
    try:
        found = kubectl.get(["node", NODE_NAME])
    except DevClusterError as exc:
        return Pending(str(exc))
    conditions = {c["type"]: c for c in found.get("status", {}).get("conditions", [])}
    ready = conditions.get("Ready", {})
    if ready.get("status") == "True":
        return True
    return Pending(f"Ready={ready.get('status')}: {ready.get('message', 'no condition yet')}")


def start(
    *,
    cluster_root: Path,
    network: NodeNetwork,
    binaries: Binaries,
    node_binaries: NodeBinaries,
    certs: ClusterPki,
    kubeconfig: Path,
    ports: dict[str, int],
    spawn: Spawn,
    progress: Progress,
    deadlines: NodeDeadlines = NodeDeadlines(),
) -> None:
    node = layout_of(cluster_root)
    node.root.mkdir(parents=True, exist_ok=True)
    node.volumes.mkdir(parents=True, exist_ok=True)
    runc_binary = runc()
    sandbox = images.sandbox_archive(progress)
    nodeconfig.write_containerd_config(node, node_binaries, runc_binary)
    # Before containerd starts: its CRI plugin reads the CNI directory when it loads.
    nodeconfig.write_cni_config(node, network)
    # containerd finds its shim on PATH.
    env = dict(os.environ)
    env["PATH"] = f"{node_binaries.containerd.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    containerd = spawn("containerd", nodeconfig.containerd_argv(node_binaries, node), env)
    _wait(
        containerd,
        lambda: _ctr_answers(node_binaries, node),
        "containerd to answer on its socket",
        deadlines.containerd,
    )
    progress(f"importing the sandbox image {nodeconfig.SANDBOX_IMAGE}")
    images.import_archive(node_binaries.ctr, node.containerd_socket, sandbox)
    nodeconfig.write_kubelet_config(node, network, certs.ca.cert, ports)
    nodeconfig.write_kube_proxy_config(node, network, kubeconfig, ports)
    nodeconfig.write_corefile(node, network, kubeconfig, ports)
    kubelet = spawn(
        "kubelet", nodeconfig.kubelet_argv(node_binaries, node, network, kubeconfig), None
    )
    kube_proxy = spawn("kube-proxy", nodeconfig.kube_proxy_argv(node_binaries, node), None)
    coredns = spawn("coredns", nodeconfig.coredns_argv(node_binaries, node), None)
    spawn(
        "volumes",
        [
            sys.executable,
            "-m",
            "ragops_devcluster.volumes",
            str(binaries.kubectl),
            str(kubeconfig),
            str(node.volumes),
        ],
        None,
    )
    kubectl = Kubectl(binaries.kubectl, kubeconfig)
    progress(f"waiting for node {NODE_NAME} to be Ready")
    _wait(kubelet, lambda: _node_ready(kubectl), f"node {NODE_NAME} Ready", deadlines.node_ready)
    _wait(
        kube_proxy,
        lambda: health.probe(f"http://127.0.0.1:{ports['kube-proxy-healthz']}/healthz"),
        "kube-proxy to sync its rules",
        deadlines.services,
    )
    _wait(
        coredns,
        lambda: health.probe(f"http://127.0.0.1:{ports['coredns-ready']}/ready"),
        "CoreDNS to sync with the API server",
        deadlines.services,
    )


def _run_quietly(argv: list[str], timeout: float = 120) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(argv, capture_output=True, timeout=timeout, check=False)


def _kill_leftover_containers(node: NodeLayout, runc_binary: Path | None) -> None:
    """Containers and shims that outlived containerd (a killed `down`, a crash)."""
    if runc_binary is not None and node.runc_root.is_dir():
        for namespace_root in node.runc_root.iterdir():
            listing = subprocess.run(
                [str(runc_binary), "--root", str(namespace_root), "list", "-q"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            for container in listing.stdout.split():
                _run_quietly(
                    [
                        str(runc_binary),
                        "--root",
                        str(namespace_root),
                        "delete",
                        "--force",
                        container,
                    ]
                )
    marker = str(node.containerd_socket).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"containerd-shim" in cmdline and marker in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def teardown(
    cluster_root: Path,
    network: NodeNetwork,
    records: Sequence[ProcessRecord],
    node_binaries: NodeBinaries | None,
    *,
    timeout: float = 10,
) -> list[str]:
    """Stop the node's processes and remove its pods, iptables chains, mounts and bridge.

    Returns the names of the processes that were running. Safe to repeat.
    """
    node = layout_of(cluster_root)
    by_name = {r.name: r for r in records}
    # Everything but containerd (procs.stop goes last-started first: volumes ... kubelet), so
    # no kubelet restarts pods while containerd removes them.
    started_order = ("kubelet", "kube-proxy", "coredns", "volumes")
    stopped = procs.stop([by_name[n] for n in started_order if n in by_name], timeout=timeout)
    if node_binaries is not None and "containerd" in by_name:
        if procs.is_running(by_name["containerd"]):
            # Through the CRI, so the CNI plugins release addresses, veths and portmap rules.
            _run_quietly(
                [
                    str(node_binaries.crictl),
                    f"--runtime-endpoint=unix://{node.containerd_socket}",
                    "rmp",
                    "--all",
                    "--force",
                ]
            )
        stopped += procs.stop([by_name["containerd"]], timeout=timeout)
    elif "containerd" in by_name:
        stopped += procs.stop([by_name["containerd"]], timeout=timeout)
    try:
        runc_binary: Path | None = runc()
    except DevClusterError:
        runc_binary = None
    _kill_leftover_containers(node, runc_binary)
    if node_binaries is not None:
        _run_quietly([str(node_binaries.kube_proxy), "--cleanup"])
    nodenet.remove_kubelet_chains()
    nodenet.unmount_under(node.root)
    nodenet.delete_bridge(network)
    # Let the kernel finish tearing the pods' network namespaces down before the caller checks.
    time.sleep(0.2)
    return stopped
