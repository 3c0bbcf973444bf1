"""A dev cluster with a real node (`ragops dev-cluster up --real-node`), once per session.

Needs root, `ragops dev-cluster build` (control plane and node) and scripts/install-system-deps.sh
(runc, busybox-static, iptables, podman); a missing piece fails the session with what to do.
Only one real node can run on a machine (kube-proxy's iptables chains are host-wide).

At the end of the session the cluster is taken down and the fixture checks that the node left
nothing behind: bridge, KUBE-* iptables chains, mounts, containerd shims.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragops_devcluster import build, cluster, nodebuild
from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.nodeconfig import NODE_NAME, NodeLayout
from ragops_devcluster.nodenet import NodeNetwork
from tests.support.real_node import RealNodeCluster, leftovers

_log = logging.getLogger("ragops.tests.realnode")


@pytest.fixture(scope="session")
def real_node_cluster() -> Iterator[RealNodeCluster]:
    if os.geteuid() != 0:
        pytest.fail(
            "the real node needs root (bridge, iptables, mounts, containers)", pytrace=False
        )
    binaries = build.find_built()
    node_binaries = nodebuild.find_node_built()
    if binaries is None or node_binaries is None:
        pytest.fail(f"{build.NOT_BUILT}; {nodebuild.NODE_NOT_BUILT}", pytrace=False)
    missing = [tool for tool in ("podman", "iptables", "ip6tables") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run scripts/install-system-deps.sh", pytrace=False
        )
    # Short: containerd's and the kubelet's unix sockets live under it (107-byte limit).
    directory = Path(tempfile.mkdtemp(prefix="rn-", dir="/tmp"))
    failure: DevClusterError | None = None
    try:
        started = cluster.up(directory, binaries, _log.info, nodes=0, node_binaries=node_binaries)
    except DevClusterError as exc:
        failure = exc
    if failure is not None:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"the real-node dev cluster did not start: {failure}", pytrace=False)
    assert started.node is not None
    network = NodeNetwork.from_json(started.node)
    socket = NodeLayout(directory / "node").containerd_socket
    kubeconfig = Path(started.kubeconfig)
    try:
        yield RealNodeCluster(
            directory=directory,
            kubeconfig=kubeconfig,
            node_name=NODE_NAME,
            kubectl=Kubectl(binaries.kubectl, kubeconfig),
            network=network,
            ctr=node_binaries.ctr,
            containerd_socket=socket,
        )
    finally:
        cluster.down(directory)
        left = leftovers(directory, network, socket)
        if not left:
            shutil.rmtree(directory, ignore_errors=True)
    if left:
        pytest.fail(f"`down` left these behind: {', '.join(left)}", pytrace=False)
