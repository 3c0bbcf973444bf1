"""The real node's host networking: its bridge and address, and the host state it leaves behind.

Everything stays on this machine: the node's address is the gateway of a bridge made here
(`ip link add type dummy` is refused on these machines, a bridge is not), pods get addresses on
that bridge, and nothing is masqueraded off the host.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import DevClusterError

# /24s are picked from here; clear of the dev cluster's service range (10.96.0.0/12), kwok's pod
# range (10.244.0.0/16) and podman's default network (10.88.0.0/16).
_POOL = ipaddress.IPv4Network("10.250.0.0/16")
# Chains the kubelet creates (and the mode hint kubelet and kube-proxy share) that nothing
# removes; kube-proxy --cleanup removes its own.
KUBELET_CHAINS = ("KUBE-KUBELET-CANARY", "KUBE-FIREWALL", "KUBE-IPTABLES-HINT")


class NetworkSetupFailed(DevClusterError):
    """A host networking command (ip, iptables, sysctl) failed; the message carries its output."""


@dataclass(frozen=True)
class NodeNetwork:
    bridge: str
    subnet: str  # the pods' /24, on the bridge
    node_ip: str  # the bridge's own address: the node's InternalIP, CoreDNS's, the API server's

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeNetwork:
        return cls(**data)


def _run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        raise NetworkSetupFailed(
            f"{argv[0]} is not installed: run scripts/install-system-deps.sh"
        ) from exc
    if check and result.returncode != 0:
        raise NetworkSetupFailed(
            f"`{' '.join(argv)}` failed (exit {result.returncode}): {result.stderr.strip()}"
        )
    return result


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    used: list[ipaddress.IPv4Network] = []
    for entry in json.loads(_run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]"):
        for info in entry.get("addr_info", []):
            used.append(ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False))
    for route in json.loads(_run(["ip", "-j", "-4", "route", "show"]).stdout or "[]"):
        destination = route.get("dst", "default")
        if destination != "default":
            used.append(ipaddress.IPv4Network(destination, strict=False))
    return used


def allocate(root: Path) -> NodeNetwork:
    """A bridge name and a free /24 derived from the cluster directory (stable per directory)."""
    digest = hashlib.sha256(str(root).encode()).digest()
    bridge = "rgn" + digest.hex()[:8]  # interface names are at most 15 characters
    subnets = list(_POOL.subnets(new_prefix=24))
    used = _networks_in_use()
    for offset in range(len(subnets)):
        subnet = subnets[(digest[0] * 256 + digest[1] + offset) % len(subnets)]
        if not any(subnet.overlaps(other) for other in used):
            return NodeNetwork(bridge, str(subnet), str(next(subnet.hosts())))
    raise NetworkSetupFailed(f"no free /24 left in {_POOL} for the node's bridge")


def create_bridge(network: NodeNetwork) -> None:
    prefix = ipaddress.ip_network(network.subnet).prefixlen
    delete_bridge(network)  # a leftover of a killed run
    _run(["ip", "link", "add", network.bridge, "type", "bridge"])
    _run(["ip", "addr", "add", f"{network.node_ip}/{prefix}", "dev", network.bridge])
    _run(["ip", "link", "set", network.bridge, "up"])
    # Pods reach Services and each other through the host: it must route. A host-wide setting,
    # left on at `down` (other bridges, podman's included, rely on it too).
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def delete_bridge(network: NodeNetwork) -> None:
    if _run(["ip", "link", "show", network.bridge], check=False).returncode == 0:
        _run(["ip", "link", "delete", network.bridge])


def bridge_exists(bridge: str) -> bool:
    return _run(["ip", "link", "show", bridge], check=False).returncode == 0


def kube_chains() -> list[str]:
    """`tool/table/chain` of every KUBE-* chain on the host, in iptables and ip6tables."""
    found = []
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            result = _run([tool, "-t", table, "-S"], check=False)
            for line in result.stdout.splitlines():
                if line.startswith("-N KUBE-"):
                    found.append(f"{tool}/{table}/{line.split()[1]}")
    return found


def remove_kubelet_chains() -> None:
    """Remove the kubelet's chains and the rules that jump to them, in both IP families."""
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            listing = _run([tool, "-t", table, "-S"], check=False).stdout.splitlines()
            for chain in KUBELET_CHAINS:
                if f"-N {chain}" not in listing:
                    continue
                for line in listing:
                    parts = line.split()
                    # Jumps into the chain from elsewhere must go first, or -X refuses.
                    if parts[:1] == ["-A"] and parts[1] != chain and f"-j {chain}" in line:
                        _run([tool, "-t", table, "-D", *parts[1:]], check=False)
                _run([tool, "-t", table, "-F", chain], check=False)
                _run([tool, "-t", table, "-X", chain], check=False)


def unmount_under(root: Path) -> list[str]:
    """Unmount (lazily, deepest first) every mount below `root`: kubelet's volumes, netns, shm."""
    mounts = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if point == str(root) or point.startswith(f"{root}/"):
                mounts.append(point)
    for point in sorted(set(mounts), key=lambda p: p.count("/"), reverse=True):
        _run(["umount", "-l", point], check=False)
    return mounts
