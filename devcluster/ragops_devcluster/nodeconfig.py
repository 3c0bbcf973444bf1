"""Configuration files of the real node's programs (the settings ../shared notes measured).

Every path, socket and port is the cluster's own, so the node shares nothing with another
containerd or kubelet on the machine except the host's iptables (see docs/dev-cluster.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.nodebuild import NodeBinaries
from ragops_devcluster.nodenet import NodeNetwork

NODE_NAME = "realnode"
NODE_LABEL = ("ragops.dev/real-node", "true")
CLUSTER_DOMAIN = "cluster.local"
SANDBOX_IMAGE = "localhost/ragops-pause:1"
K8S_NAMESPACE = "k8s.io"  # containerd namespace the CRI plugin (and so the kubelet) uses


@dataclass(frozen=True)
class NodeLayout:
    """Every path of the node, under `<cluster dir>/node` (short: unix sockets allow 107 bytes)."""

    root: Path

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.root / "containerd.toml"

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_config(self) -> Path:
        return self.root / "kubelet.yaml"

    @property
    def kube_proxy_config(self) -> Path:
        return self.root / "kube-proxy.yaml"

    @property
    def corefile(self) -> Path:
        return self.root / "Corefile"

    @property
    def runc_root(self) -> Path:
        return self.root / "runc"

    @property
    def volumes(self) -> Path:
        """hostPath PersistentVolumes of StorageClass gp3 (see volumes.py)."""
        return self.root / "volumes"


def write_containerd_config(node: NodeLayout, binaries: NodeBinaries, runc: Path) -> Path:
    # TOML written by hand: a handful of keys, all strings, booleans and string lists.
    text = f"""version = 3
root = "{node.root / "containerd/root"}"
state = "{node.root / "containerd/state"}"

[grpc]
  address = "{node.containerd_socket}"

[plugins.'io.containerd.internal.v1.opt']
  path = "{node.root / "containerd/opt"}"

# NRI's socket is machine-wide (/var/run/nri/nri.sock); the node needs no NRI plugins.
[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

# No registry is reachable: the sandbox image is built here and imported (sandbox.py).
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = "{SANDBOX_IMAGE}"

# Without it every sandbox fails with "can't get final child's PID from pipe: EOF": the sandbox
# asks for oom_score_adj -998 and root here lacks CAP_SYS_RESOURCE.
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  # Pods' network namespaces under DIR/node, not /var/run/netns: `down` unmounts them there.
  netns_mounts_under_state_dir = true

[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ["{binaries.cni_bin_dir}"]
  conf_dir = "{node.cni_conf_dir}"
  max_conf_num = 1

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = "{runc}"
  Root = "{node.runc_root}"
  SystemdCgroup = false
"""
    node.containerd_config.write_text(text, encoding="utf-8")
    return node.containerd_config


def write_cni_config(node: NodeLayout, network: NodeNetwork) -> Path:
    conflist = {
        "cniVersion": "1.0.0",
        "name": f"ragops-{network.bridge}",
        "plugins": [
            {
                "type": "bridge",
                "bridge": network.bridge,
                "isGateway": True,
                # The default route via the bridge: Service addresses are not on the /24.
                "isDefaultGateway": True,
                # Nothing leaves the host, so nothing is masqueraded off it.
                "ipMasq": False,
                # A pod reaching itself through its Service comes back on its own port.
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": network.subnet, "gateway": network.node_ip}]],
                    "dataDir": str(node.root / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    node.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    path = node.cni_conf_dir / "10-ragops.conflist"
    path.write_text(json.dumps(conflist, indent=2) + "\n", encoding="utf-8")
    return path


def write_kubelet_config(
    node: NodeLayout, network: NodeNetwork, ca_cert: Path, ports: dict[str, int]
) -> Path:
    config: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # v1.37 refuses cgroup v1 by default; these machines have the hybrid layout, no systemd.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupsPerQOS": False,
        "enforceNodeAllocatable": [],
        "failSwapOn": False,
        # On: the node then reports ephemeral-storage capacity, without which the scheduler
        # refuses every pod that requests some (the operator's pods all do: Insufficient
        # ephemeral-storage).
        "localStorageCapacityIsolation": True,
        "containerRuntimeEndpoint": f"unix://{node.containerd_socket}",
        # Its own ports: the control plane's and another cluster's kubelet may hold the defaults.
        "address": network.node_ip,
        "port": ports["kubelet"],
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports["kubelet-healthz"],
        # The API server (logs, exec, port-forward) authenticates with the admin client cert.
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(ca_cert)},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "clusterDNS": [network.node_ip],
        "clusterDomain": CLUSTER_DOMAIN,
        # No host search domains in pods: only the cluster's.
        "resolvConf": "",
        # A shared dev machine: do not evict pods because the disk is 90% full.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        "maxPods": 110,
    }
    node.kubelet_config.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return node.kubelet_config


def write_kube_proxy_config(
    node: NodeLayout, network: NodeNetwork, kubeconfig: Path, ports: dict[str, int]
) -> Path:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "mode": "iptables",
        "clusterCIDR": network.subnet,
        "bindAddress": network.node_ip,
        "metricsBindAddress": f"127.0.0.1:{ports['kube-proxy-metrics']}",
        "healthzBindAddress": f"127.0.0.1:{ports['kube-proxy-healthz']}",
        # Every Service connection is SNATed to the bridge address, so replies come back
        # through the host whatever bridge netfilter does.
        "iptables": {"masqueradeAll": True},
        # Leave the host's conntrack sysctls alone (zero means "do not set").
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }
    node.kube_proxy_config.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return node.kube_proxy_config


def write_corefile(
    node: NodeLayout, network: NodeNetwork, kubeconfig: Path, ports: dict[str, int]
) -> Path:
    # Listens on the node address only (kubelet's clusterDNS), so two clusters never collide
    # on port 53; health and readiness on loopback ports of their own.
    text = f""".:53 {{
    bind {network.node_ip}
    errors
    health 127.0.0.1:{ports["coredns-health"]}
    ready 127.0.0.1:{ports["coredns-ready"]}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
    loop
    reload
}}
"""
    node.corefile.write_text(text, encoding="utf-8")
    return node.corefile


def kubelet_argv(
    binaries: NodeBinaries, node: NodeLayout, network: NodeNetwork, kubeconfig: Path
) -> list[str]:
    key, value = NODE_LABEL
    return [
        str(binaries.kubelet),
        f"--config={node.kubelet_config}",
        f"--kubeconfig={kubeconfig}",
        f"--hostname-override={NODE_NAME}",
        f"--node-ip={network.node_ip}",
        f"--root-dir={node.kubelet_root}",
        f"--cert-dir={node.root / 'kubelet-pki'}",
        f"--node-labels={key}={value}",
    ]


def kube_proxy_argv(binaries: NodeBinaries, node: NodeLayout) -> list[str]:
    return [str(binaries.kube_proxy), f"--config={node.kube_proxy_config}"]


def coredns_argv(binaries: NodeBinaries, node: NodeLayout) -> list[str]:
    return [str(binaries.coredns), "-conf", str(node.corefile)]


def containerd_argv(binaries: NodeBinaries, node: NodeLayout) -> list[str]:
    return [str(binaries.containerd), "--config", str(node.containerd_config)]


NODE_PORT_NAMES = (
    "kubelet",
    "kubelet-healthz",
    "kube-proxy-metrics",
    "kube-proxy-healthz",
    "coredns-health",
    "coredns-ready",
)
