"""Building the real node's programs from Go modules, cached by version like the control plane.

kubelet and kube-proxy come from the control plane's k8s.io/kubernetes wrapper module (same
version stamps); containerd, the CNI plugins, CoreDNS and crictl are `go install`ed at pinned
versions. runc comes from Debian (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster import build, versions
from ragops_devcluster.build import Builder, Component, host_platform, is_complete
from ragops_devcluster.errors import BinariesNotBuilt
from ragops_devcluster.gotool import GoToolchain, Progress, build_env, run_go
from ragops_devcluster.paths import cache_root

NODE_COMMANDS = ("kubelet", "kube-proxy")
CONTAINERD_COMMANDS = ("containerd", "ctr", "containerd-shim-runc-v2")
CNI_PLUGINS = ("main/bridge", "ipam/host-local", "main/loopback", "meta/portmap")
_R = versions.NODE_RECIPE

_KUBE_NODE = Component(
    "kubernetes-node",
    versions.KUBERNETES,
    tuple(f"bin/{c}" for c in NODE_COMMANDS),
    recipe=_R,
)
_CONTAINERD = Component(
    "containerd", versions.CONTAINERD, tuple(f"bin/{c}" for c in CONTAINERD_COMMANDS), recipe=_R
)
_CNI = Component(
    "cni-plugins",
    versions.CNI_PLUGINS,
    tuple(f"bin/{p.rsplit('/', 1)[1]}" for p in CNI_PLUGINS),
    recipe=_R,
)
_COREDNS = Component("coredns", versions.COREDNS, ("bin/coredns",), recipe=_R)
_CRICTL = Component("crictl", versions.CRI_TOOLS, ("bin/crictl",), recipe=_R)
_NODE_COMPONENTS = (_KUBE_NODE, _CONTAINERD, _CNI, _COREDNS, _CRICTL)


@dataclass(frozen=True)
class NodeBinaries:
    kubelet: Path
    kube_proxy: Path
    containerd: Path
    ctr: Path
    containerd_shim: Path
    cni_bin_dir: Path
    coredns: Path
    crictl: Path

    def items(self) -> list[tuple[str, Path]]:
        return [(name.replace("_", "-"), path) for name, path in vars(self).items()]


def _node_binaries(goos: str, goarch: str) -> NodeBinaries:
    k8s, containerd, cni, coredns, crictl = (c.directory(goos, goarch) for c in _NODE_COMPONENTS)
    return NodeBinaries(
        kubelet=k8s / "bin/kubelet",
        kube_proxy=k8s / "bin/kube-proxy",
        containerd=containerd / "bin/containerd",
        ctr=containerd / "bin/ctr",
        containerd_shim=containerd / "bin/containerd-shim-runc-v2",
        cni_bin_dir=cni / "bin",
        coredns=coredns / "bin/coredns",
        crictl=crictl / "bin/crictl",
    )


def find_node_built() -> NodeBinaries | None:
    goos, goarch = host_platform()
    if all(is_complete(c, goos, goarch) for c in _NODE_COMPONENTS):
        return _node_binaries(goos, goarch)
    return None


NODE_NOT_BUILT = (
    "the real node's binaries (kubelet, kube-proxy, containerd, CNI plugins, CoreDNS, crictl) are "
    "not built yet: run `ragops dev-cluster build` (cold: about 15 minutes on 2 cores after the "
    "control plane), later runs reuse the cache"
)


def require_node_built() -> NodeBinaries:
    found = find_node_built()
    if found is None:
        raise BinariesNotBuilt(f"{NODE_NOT_BUILT} (cache: {cache_root()})")
    return found


def build_node(progress: Progress, *, nice: int = 10, lock_timeout: float = 7200) -> NodeBinaries:
    """Build whatever of the node the cache lacks; a complete cache returns without Go."""
    builders: list[tuple[Component, Builder]] = [
        (_CONTAINERD, _build_containerd),
        (_CNI, _build_cni),
        (_CRICTL, _build_crictl),
        (_KUBE_NODE, _build_kube_node),
        (_COREDNS, _build_coredns),
    ]
    build.build_components(builders, progress, nice=nice, lock_timeout=lock_timeout)
    return require_node_built()


def _build_kube_node(
    toolchain: GoToolchain, directory: Path, progress: Progress, nice: int
) -> None:
    build.build_kubernetes_commands(toolchain, directory, progress, nice, NODE_COMMANDS)


def _go_install(
    toolchain: GoToolchain,
    directory: Path,
    progress: Progress,
    nice: int,
    *,
    label: str,
    packages: list[str],
    ldflags: list[str],
) -> None:
    # `go install pkg@version` builds outside any module, like the upstream release binaries,
    # with the module's own go.mod (none of these has replace directives, which it would refuse).
    names = (p.split("@")[0].rsplit("/", 1)[1] for p in packages)
    progress(f"{label}: compiling {', '.join(names)}")
    run_go(
        toolchain,
        ["install", "-v", "-trimpath", "-ldflags", " ".join(["-s", "-w", *ldflags]), *packages],
        cwd=directory / "src",
        env=build_env({"GOBIN": str(directory / "bin")}),
        nice=nice,
        on_line=build.package_counter(label, progress),
    )


def _build_containerd(
    toolchain: GoToolchain, directory: Path, progress: Progress, nice: int
) -> None:
    version = versions.CONTAINERD
    module = "github.com/containerd/containerd/v2"
    _go_install(
        toolchain,
        directory,
        progress,
        nice,
        label=f"containerd {version}",
        packages=[f"{module}/cmd/{c}@{version}" for c in CONTAINERD_COMMANDS],
        # Without the stamp the node would report `containerd://2.4.2+unknown`.
        ldflags=[f"-X {module}/version.Version={version.removeprefix('v')}"],
    )
    build.check_version(directory / "bin/containerd", version.removeprefix("v"))


def _build_cni(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    version = versions.CNI_PLUGINS
    module = "github.com/containernetworking/plugins"
    _go_install(
        toolchain,
        directory,
        progress,
        nice,
        label=f"cni-plugins {version}",
        packages=[f"{module}/plugins/{p}@{version}" for p in CNI_PLUGINS],
        ldflags=[f"-X {module}/pkg/utils/buildversion.BuildVersion={version}"],
    )


def _build_coredns(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    version = versions.COREDNS
    _go_install(
        toolchain,
        directory,
        progress,
        nice,
        label=f"coredns {version}",
        packages=[f"github.com/coredns/coredns@{version}"],
        ldflags=[],
    )
    build.check_version(directory / "bin/coredns", version.removeprefix("v"), args=("-version",))


def _build_crictl(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    version = versions.CRI_TOOLS
    _go_install(
        toolchain,
        directory,
        progress,
        nice,
        label=f"crictl {version}",
        packages=[f"sigs.k8s.io/cri-tools/cmd/crictl@{version}"],
        ldflags=[f"-X sigs.k8s.io/cri-tools/pkg/version.Version={version}"],
    )
    build.check_version(directory / "bin/crictl", version, args=("--version",))


def runc() -> Path:
    """Debian's runc (crun refuses this machine's hybrid cgroup layout)."""
    for candidate in (shutil.which("runc"), "/usr/sbin/runc", "/usr/bin/runc"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise BinariesNotBuilt(
        "runc is not installed: run scripts/install-system-deps.sh (Debian's runc package)"
    )
