"""Bringing a dev cluster up in a directory, reporting on it, and taking it down again."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster import bootstrap, components, health, kubeconfig, node, pki, procs, state
from ragops_devcluster import volumes as real_volumes
from ragops_devcluster.build import Binaries
from ragops_devcluster.errors import ClusterNotRunning, ComponentFailed, DeadlineExceeded
from ragops_devcluster.gotool import Progress
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.nodebuild import NodeBinaries, find_node_built
from ragops_devcluster.nodeconfig import NODE_PORT_NAMES
from ragops_devcluster.nodenet import NodeNetwork
from ragops_devcluster.ports import free_ports
from ragops_devcluster.procs import ProcessRecord
from ragops_devcluster.state import ClusterState, Layout
from ragops_devcluster.waiting import Pending, wait_until

DEFAULT_NODES = 6  # two per zone: enough for anti-affinity and topology-spread tests


@dataclass(frozen=True)
class Deadlines:
    """Seconds each start-up step may take; generous because CI machines are shared."""

    etcd: float = 30
    apiserver: float = 120
    controllers: float = 60
    nodes: float = 60


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int
    running: bool
    log: str


@dataclass(frozen=True)
class ClusterStatus:
    directory: Path
    server: str
    kubeconfig: str
    components: list[ComponentStatus]
    api_ready: bool | Pending
    node: NodeNetwork | None = None

    @property
    def healthy(self) -> bool:
        return self.api_ready is True and all(c.running for c in self.components)


def _running(records: Sequence[ProcessRecord]) -> bool:
    return bool(records) and all(procs.is_running(r) for r in records)


def _reset(layout: Layout) -> None:
    """Remove what a previous run left, touching only paths this module creates."""
    for directory in (layout.pki, layout.etcd_data, layout.components, layout.logs):
        shutil.rmtree(directory, ignore_errors=True)
    layout.kubeconfig.unlink(missing_ok=True)
    state.forget(layout)


def _wait_healthy(
    record: ProcessRecord, url: str, verify: ssl.SSLContext | bool, timeout: float
) -> None:
    """Wait for `url` to answer 200, failing fast (with the log tail) if the process dies."""

    def probe() -> bool | Pending:
        if not procs.is_running(record):
            raise ComponentFailed(
                f"{record.name} exited during start-up; "
                f"last lines of {record.log}:\n{procs.log_tail(record.log)}"
            )
        return health.probe(url, verify=verify)

    try:
        wait_until(probe, timeout=timeout, what=f"{record.name} to become healthy", interval=0.5)
    except DeadlineExceeded as exc:
        raise ComponentFailed(
            f"{exc}\nlast lines of {record.log}:\n{procs.log_tail(record.log)}"
        ) from exc


def up(
    directory: Path,
    binaries: Binaries,
    progress: Progress,
    *,
    nodes: int = DEFAULT_NODES,
    deadlines: Deadlines = Deadlines(),
    node_binaries: NodeBinaries | None = None,
) -> ClusterState:
    """Start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok; seed Nodes.

    With `node_binaries`, also the real node (node.py): its bridge, containerd, kubelet,
    kube-proxy, CoreDNS and the gp3 volume provisioner.

    Idempotent: a healthy cluster already recorded in `directory` is returned as is. On any
    failure every process started so far is stopped before the error propagates.
    """
    layout = Layout(directory.resolve())
    previous = state.load(layout)
    if previous is not None:
        if _running(previous.processes):
            progress(f"already running in {layout.root}")
            return previous
        _stop_all(layout, previous)  # leftovers of a half-dead cluster
    _reset(layout)
    layout.root.mkdir(parents=True, exist_ok=True)

    names = components.PORT_NAMES + (NODE_PORT_NAMES if node_binaries else ())
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    network = node.prepare(layout.root, node_binaries, progress) if node_binaries else None
    certs = pki.generate(layout.pki, extra_ips=(network.node_ip,) if network else ())
    server = f"https://127.0.0.1:{ports['apiserver']}"
    layout.components.mkdir(parents=True, exist_ok=True)
    kubeconfigs = components.Kubeconfigs(
        admin=kubeconfig.write(
            layout.kubeconfig, server=server, ca=certs.ca.cert, client=certs.admin, user="admin"
        ),
        controller_manager=kubeconfig.write(
            layout.components / "controller-manager.kubeconfig",
            server=server,
            ca=certs.ca.cert,
            client=certs.controller_manager,
            user="system:kube-controller-manager",
        ),
        scheduler=kubeconfig.write(
            layout.components / "scheduler.kubeconfig",
            server=server,
            ca=certs.ca.cert,
            client=certs.scheduler,
            user="system:kube-scheduler",
        ),
    )
    current = ClusterState(
        server=server,
        kubeconfig=str(layout.kubeconfig),
        ports=ports,
        node=network.to_json() if network else None,
    )
    state.save(layout, current)

    def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> ProcessRecord:
        progress(f"starting {name}")
        record = procs.spawn(name, argv, layout.log(name), cwd=layout.root, env=env)
        current.processes.append(record)
        state.save(layout, current)
        return record

    try:
        etcd = start("etcd", components.etcd(binaries, layout, ports))
        _wait_healthy(etcd, f"http://127.0.0.1:{ports['etcd']}/health", False, deadlines.etcd)
        apiserver = start(
            "kube-apiserver",
            components.kube_apiserver(
                binaries, layout, ports, certs, network.node_ip if network else None
            ),
        )
        _wait_healthy(
            apiserver, f"{server}/readyz", health.trusted_client_context(certs), deadlines.apiserver
        )
        others: list[tuple[ProcessRecord, str, ssl.SSLContext | bool]] = [
            (
                start(
                    "kube-controller-manager",
                    components.kube_controller_manager(binaries, layout, ports, certs, kubeconfigs),
                ),
                f"https://127.0.0.1:{ports['controller-manager']}/healthz",
                health.self_signed_context(),
            ),
            (
                start(
                    "kube-scheduler",
                    components.kube_scheduler(binaries, layout, ports, kubeconfigs),
                ),
                f"https://127.0.0.1:{ports['scheduler']}/healthz",
                health.self_signed_context(),
            ),
            (
                start("kwok", components.kwok(binaries, ports, kubeconfigs)),
                f"http://127.0.0.1:{ports['kwok']}/healthz",
                False,
            ),
        ]
        # Started together, awaited in turn: they do not depend on each other, only on the API.
        for record, url, verify in others:
            _wait_healthy(record, url, verify, deadlines.controllers)
        progress(
            f"creating StorageClass {bootstrap.STORAGE_CLASS} and {nodes} kwok nodes in zones "
            + ", ".join(bootstrap.ZONES)
        )
        kubectl = Kubectl(binaries.kubectl, layout.kubeconfig)
        storage = real_volumes.storage_class() if network else bootstrap.storage_class()
        kwok_nodes = bootstrap.seed(kubectl, nodes, storage)
        bootstrap.wait_nodes_ready(kubectl, kwok_nodes, timeout=deadlines.nodes)
        bootstrap.wait_default_service_account(kubectl, timeout=deadlines.controllers)
        if node_binaries and network:
            node.start(
                cluster_root=layout.root,
                network=network,
                binaries=binaries,
                node_binaries=node_binaries,
                certs=certs,
                kubeconfig=layout.kubeconfig,
                ports=ports,
                spawn=start,
                progress=progress,
            )
    except BaseException:
        progress("start-up failed; stopping the processes started so far")
        _stop_all(layout, current)
        state.forget(layout)
        raise
    return current


def _stop_all(layout: Layout, recorded: ClusterState, *, timeout: float = 10) -> list[str]:
    """Stop the real node first (its pods are removed through containerd, and its host state
    cleaned), then the control plane, last started first."""
    stopped: list[str] = []
    if recorded.node is not None:
        stopped += node.teardown(
            layout.root,
            NodeNetwork.from_json(recorded.node),
            recorded.processes,
            find_node_built(),
            timeout=timeout,
        )
    stopped += procs.stop(
        [r for r in recorded.processes if r.name not in node.NODE_PROCESSES], timeout=timeout
    )
    return stopped


def down(directory: Path, *, timeout: float = 10) -> list[str]:
    """Stop every process recorded in `directory`; return the names of those that were running."""
    layout = Layout(directory.resolve())
    recorded = state.load(layout)
    if recorded is None:
        raise ClusterNotRunning(
            f"no dev cluster recorded in {layout.root} (no {layout.state_file.name})"
        )
    stopped = _stop_all(layout, recorded, timeout=timeout)
    state.forget(layout)
    return stopped


def status(directory: Path) -> ClusterStatus:
    layout = Layout(directory.resolve())
    recorded = state.load(layout)
    if recorded is None:
        raise ClusterNotRunning(
            f"no dev cluster recorded in {layout.root} (no {layout.state_file.name})"
        )
    listing = [
        ComponentStatus(r.name, r.pid, procs.is_running(r), r.log) for r in recorded.processes
    ]
    ready: bool | Pending
    try:
        context = health.trusted_client_context(pki.locate(layout.pki))
    except OSError as exc:  # a half-removed directory: report it rather than crash
        ready = Pending(f"cannot load the cluster's certificates: {exc}")
    else:
        ready = health.probe(f"{recorded.server}/readyz", verify=context)
    network = NodeNetwork.from_json(recorded.node) if recorded.node else None
    return ClusterStatus(layout.root, recorded.server, recorded.kubeconfig, listing, ready, network)
