"""The real-node cluster the tests in tests/realnode get, and what its `down` must remove."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster import images, nodenet
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.nodenet import NodeNetwork

_log = logging.getLogger("ragops.tests.realnode")


@dataclass(frozen=True)
class RealNodeCluster:
    directory: Path
    kubeconfig: Path
    node_name: str
    kubectl: Kubectl
    network: NodeNetwork
    ctr: Path
    containerd_socket: Path

    def load_image(self, reference: str) -> None:
        """Import a podman image (or an OCI/docker archive) into the node, keeping its name."""
        loaded = images.load(self.ctr, self.containerd_socket, reference, _log.info)
        _log.info("loaded %s in %.1fs", ", ".join(loaded.names), loaded.seconds)


def leftovers(directory: Path, network: NodeNetwork, socket: Path) -> list[str]:
    """What a taken-down real node must not leave on the host."""
    found = []
    if nodenet.bridge_exists(network.bridge):
        found.append(f"bridge {network.bridge}")
    found += [f"iptables chain {chain}" for chain in nodenet.kube_chains()]
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        found += [
            f"mount {line.split()[4]}"
            for line in handle
            if line.split()[4].startswith(f"{directory}/")
        ]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmdline and str(socket).encode() in cmdline:
                found.append(f"shim process {entry.name}")
    return found
