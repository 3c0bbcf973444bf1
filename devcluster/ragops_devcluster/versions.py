"""Pinned upstream versions of the local control plane, and the cache key derived from them."""

from __future__ import annotations

from typing import Final

# v1.37.2's go.mod asks for Go 1.26.0, which the project's toolchain (1.26.x) satisfies.
KUBERNETES: Final = "v1.37.2"
# The issue pins etcd 3.6.x: the newest patch of the series Kubernetes 1.3x is tested against.
ETCD: Final = "v3.6.16"
KWOK: Final = "v0.8.0"
# Prometheus publishes its Go module as v0.3XY.Z for release v3.XY.Z: this is Prometheus 3.16.0.
# It is not part of the cluster: tests query it (the blue/green rollout gate's metrics).
PROMETHEUS: Final = "v0.316.0"
# The oldest Go whose toolchain satisfies the cluster's releases' go.mod `go` lines. Prometheus
# v0.316.0 asks for 1.26.7; that is checked when it is built, so `up` still works on 1.26.0.
MIN_GO: Final = "1.26.0"
# Helm 4 for the chart's tests (lint, template, install/upgrade/uninstall); not part of the cluster.
# The newest release on the Go module proxy when it was pinned; its go.mod asks for Go 1.26.0.
HELM: Final = "v4.3.2"

# Bump when build flags or the cache layout change, so existing caches are rebuilt instead of
# reused.
RECIPE: Final = 1
# Prometheus's own recipe number: changing how it is built must not rebuild Kubernetes.
PROMETHEUS_RECIPE: Final = 1
# Helm's own recipe number, for the same reason.
HELM_RECIPE: Final = 1


def staging_version(kubernetes_version: str) -> str:
    """The version of the k8s.io/<staging> modules published with a Kubernetes release.

    Kubernetes v1.X.Y publishes its staging modules (k8s.io/api, k8s.io/client-go...) as v0.X.Y,
    pre-release suffixes included.
    """
    if not kubernetes_version.startswith("v1."):
        raise ValueError(f"not a Kubernetes 1.x release tag: {kubernetes_version!r}")
    return "v0." + kubernetes_version.removeprefix("v1.")


def major_minor(kubernetes_version: str) -> tuple[str, str]:
    """("1", "37") for "v1.37.2", as component-base/version expects gitMajor/gitMinor."""
    parts = kubernetes_version.removeprefix("v").split(".")
    if len(parts) < 2:
        raise ValueError(f"not a semantic version: {kubernetes_version!r}")
    return parts[0], parts[1]


# The real node (`up --real-node`): all built from the Go module proxy like the control plane;
# kubelet and kube-proxy come from KUBERNETES through the same wrapper module.
CONTAINERD: Final = "v2.4.2"
CNI_PLUGINS: Final = "v1.10.0"
COREDNS: Final = "v1.15.0"
# crictl: the newest sigs.k8s.io/cri-tools the Go module proxy served when it was pinned (v1.37.x
# matches the kubelet's minor; its go.mod asks for Go 1.26.6).
CRI_TOOLS: Final = "v1.37.0"
# The node components' own recipe number: changing how they are built must not rebuild the
# control plane.
NODE_RECIPE: Final = 1
