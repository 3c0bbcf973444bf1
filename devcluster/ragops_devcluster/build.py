"""Building etcd, Kubernetes, kwok and Prometheus from Go modules into a cache keyed by version."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ragops_devcluster import gomod, versions
from ragops_devcluster.errors import BinariesNotBuilt, GoCommandFailed
from ragops_devcluster.gotool import GoToolchain, Progress, build_env, find_go, require_go, run_go
from ragops_devcluster.paths import cache_root
from ragops_devcluster.waiting import Pending, wait_until

KUBERNETES_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
# Stages kwokctl feeds its controller by default; standalone kwok refuses to start without any.
KWOK_STAGE_FILES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)
PROMETHEUS_PACKAGE = "github.com/prometheus/prometheus/cmd/prometheus"
# Prometheus's own build tag (plugins/plugin_*.go): leaves out every service discovery but file and
# http, which the tests' static scrape configs do not need, and with them client-go and the cloud
# SDKs' discovery clients: about a third of the packages to compile. No `builtinassets`: the web
# UI is not embedded (it answers 404), the HTTP API works without it.
PROMETHEUS_TAGS = ("remove_all_sd",)
HELM_PACKAGE = "helm.sh/helm/v4/cmd/helm"
_RECORD = "build.json"
_PROGRESS_EVERY = 100  # compiled packages between two progress lines


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    kwok: Path
    kwok_stages: Path

    def items(self) -> list[tuple[str, Path]]:
        return [(name.replace("_", "-"), path) for name, path in vars(self).items()]


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    outputs: tuple[str, ...]  # file names under the component's directory
    recipe: int = versions.RECIPE

    def directory(self, goos: str, goarch: str) -> Path:
        return cache_root() / f"{self.name}-{self.version}-{goos}-{goarch}-r{self.recipe}"


_KUBERNETES = Component(
    "kubernetes", versions.KUBERNETES, tuple(f"bin/{c}" for c in KUBERNETES_COMMANDS)
)
_ETCD = Component("etcd", versions.ETCD, ("bin/etcd",))
_KWOK = Component("kwok", versions.KWOK, ("bin/kwok", "kwok-stages.yaml"))
_COMPONENTS = (_ETCD, _KUBERNETES, _KWOK)  # the control plane `up` starts
_PROMETHEUS = Component(
    "prometheus", versions.PROMETHEUS, ("bin/prometheus",), recipe=versions.PROMETHEUS_RECIPE
)
_HELM = Component("helm", versions.HELM, ("bin/helm",), recipe=versions.HELM_RECIPE)
# Builds one component into its (empty) cache directory: toolchain, directory, progress, nice.
Builder = Callable[[GoToolchain, Path, Progress, int], None]


def host_platform() -> tuple[str, str]:
    """GOOS/GOARCH of this machine without running Go, so cached lookups need no toolchain."""
    machine = platform.machine().lower()
    goarch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return sys.platform, goarch


def is_complete(component: Component, goos: str, goarch: str) -> bool:
    directory = component.directory(goos, goarch)
    return (directory / _RECORD).is_file() and all(
        (directory / out).is_file() for out in component.outputs
    )


def _binaries(goos: str, goarch: str) -> Binaries:
    k8s, etcd, kwok = (c.directory(goos, goarch) for c in (_KUBERNETES, _ETCD, _KWOK))
    return Binaries(
        etcd=etcd / "bin/etcd",
        kube_apiserver=k8s / "bin/kube-apiserver",
        kube_controller_manager=k8s / "bin/kube-controller-manager",
        kube_scheduler=k8s / "bin/kube-scheduler",
        kubectl=k8s / "bin/kubectl",
        kwok=kwok / "bin/kwok",
        kwok_stages=kwok / "kwok-stages.yaml",
    )


def find_built() -> Binaries | None:
    """The cached binaries for the pinned versions, or None if any component is missing."""
    goos, goarch = host_platform()
    if all(is_complete(c, goos, goarch) for c in _COMPONENTS):
        return _binaries(goos, goarch)
    return None


NOT_BUILT = (
    "the dev-cluster binaries are not built yet: run `ragops dev-cluster build` "
    "(or `python -m ragops_devcluster build`); a cold build takes tens of minutes, "
    "later runs reuse the cache"
)


def require_built() -> Binaries:
    found = find_built()
    if found is None:
        raise BinariesNotBuilt(f"{NOT_BUILT} (cache: {cache_root()})")
    return found


def find_prometheus() -> Path | None:
    """The cached prometheus binary for the pinned version, or None if it is not built.

    Apart from find_built(): the cluster does not need it, only tests that query metrics do.
    """
    goos, goarch = host_platform()
    if is_complete(_PROMETHEUS, goos, goarch):
        return _PROMETHEUS.directory(goos, goarch) / "bin/prometheus"
    return None


PROMETHEUS_NOT_BUILT = (
    f"prometheus {versions.PROMETHEUS} is not built yet: run `ragops dev-cluster build` "
    "(or `python -m ragops_devcluster build`); it builds once, later runs reuse the cache"
)


def require_prometheus() -> Path:
    found = find_prometheus()
    if found is None:
        raise BinariesNotBuilt(f"{PROMETHEUS_NOT_BUILT} (cache: {cache_root()})")
    return found


def find_helm() -> Path | None:
    """The cached helm binary for the pinned version, or None if it is not built.

    Like Prometheus, apart from find_built(): only the chart's tests need it.
    """
    goos, goarch = host_platform()
    if is_complete(_HELM, goos, goarch):
        return _HELM.directory(goos, goarch) / "bin/helm"
    return None


HELM_NOT_BUILT = (
    f"helm {versions.HELM} is not built yet: run `ragops dev-cluster build` "
    "(or `python -m ragops_devcluster build`); it builds once, later runs reuse the cache"
)


def require_helm() -> Path:
    found = find_helm()
    if found is None:
        raise BinariesNotBuilt(f"{HELM_NOT_BUILT} (cache: {cache_root()})")
    return found


@contextlib.contextmanager
def cache_lock(progress: Progress, timeout: float = 7200) -> Iterator[None]:
    """Serialise builds: two CI jobs sharing a cache must not write the same directory."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as handle:

        def acquired() -> bool | Pending:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return Pending(f"another build holds {root / '.build.lock'}")
            return True

        if acquired() is not True:
            progress(
                f"waiting for another dev-cluster build to finish (lock {root / '.build.lock'})"
            )
            wait_until(acquired, timeout=timeout, what="the build lock", interval=5.0)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_all(
    progress: Progress,
    *,
    nice: int = 10,
    lock_timeout: float = 7200,
    with_prometheus: bool = True,
    with_helm: bool = True,
) -> Binaries:
    """Build whatever the cache lacks, then return the control plane's binaries.

    A complete cache returns at once without needing a Go toolchain. `lock_timeout` bounds the
    wait for a concurrent build of the same cache (a cold build takes tens of minutes).
    `with_prometheus` also builds Prometheus for the tests (find_prometheus() gives its path),
    `with_helm` helm for the chart's tests (find_helm()).
    """
    builders: list[tuple[Component, Builder]] = [
        (_ETCD, _build_etcd),
        (_KUBERNETES, _build_kubernetes),
        (_KWOK, _build_kwok),
    ]
    if with_prometheus:
        builders.append((_PROMETHEUS, _build_prometheus))
    if with_helm:
        builders.append((_HELM, _build_helm))
    build_components(builders, progress, nice=nice, lock_timeout=lock_timeout)
    return require_built()


def build_components(
    builders: list[tuple[Component, Builder]],
    progress: Progress,
    *,
    nice: int,
    lock_timeout: float,
) -> None:
    """Build each component the cache lacks, under the cache lock, recording its build time."""
    goos, goarch = host_platform()
    if all(is_complete(component, goos, goarch) for component, _ in builders):
        return
    with cache_lock(progress, lock_timeout):
        toolchain: GoToolchain | None = None
        for component, builder in builders:
            if is_complete(component, goos, goarch):
                progress(
                    f"{component.name} {component.version}: "
                    f"cached in {component.directory(goos, goarch)}"
                )
                continue
            toolchain = toolchain or find_go()
            directory = component.directory(goos, goarch)
            # A previous build may have died half-way; start from a clean directory.
            shutil.rmtree(directory, ignore_errors=True)
            (directory / "src").mkdir(parents=True)
            progress(
                f"{component.name} {component.version}: "
                f"building with {toolchain.version_text} in {directory}"
            )
            started = time.monotonic()
            builder(toolchain, directory, progress, nice)
            _write_record(directory, component, toolchain, time.monotonic() - started)
            progress(
                f"{component.name} {component.version}: "
                f"built in {minutes(time.monotonic() - started)}"
            )


def _write_record(
    directory: Path, component: Component, toolchain: GoToolchain, seconds: float
) -> None:
    # Written last and atomically: its presence is what marks the component as usable.
    record = {
        "component": component.name,
        "version": component.version,
        "go": toolchain.version_text,
        "recipe": component.recipe,
        "build_seconds": round(seconds, 1),
    }
    scratch = directory / (_RECORD + ".tmp")
    scratch.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, directory / _RECORD)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def package_counter(label: str, progress: Progress) -> Callable[[str], None]:
    """Condense `go build -v` / `go mod tidy` output into a progress line every N items.

    `go build -v` prints one compiled package per line; tidy and install print one
    "go: downloading" line per module. Any other "go: " line is a message worth showing as is.
    """
    started = time.monotonic()
    counts = {"packages compiled": 0, "modules downloaded": 0}

    def on_line(line: str) -> None:
        if line.startswith("go: downloading "):
            noun = "modules downloaded"
        elif line.startswith("go: "):
            progress(f"{label}: {line}")
            return
        else:
            noun = "packages compiled"
        counts[noun] += 1
        if counts[noun] % _PROGRESS_EVERY == 0:
            progress(f"{label}: {counts[noun]} {noun} ({minutes(time.monotonic() - started)})")

    return on_line


def _build_kubernetes(
    toolchain: GoToolchain, directory: Path, progress: Progress, nice: int
) -> None:
    build_kubernetes_commands(toolchain, directory, progress, nice, KUBERNETES_COMMANDS)


def build_kubernetes_commands(
    toolchain: GoToolchain,
    directory: Path,
    progress: Progress,
    nice: int,
    commands: tuple[str, ...],
) -> None:
    """Build `commands` of k8s.io/kubernetes through the wrapper module, version-stamped.

    The node's kubelet and kube-proxy go through here too, so they report the same version as
    the control plane (an unstamped kubelet says `v0.0.0-master+$Format:%H$`).
    """
    src = directory / "src"
    release = gomod.fetch(toolchain, "k8s.io/kubernetes", versions.KUBERNETES, workdir=src)
    require_go(toolchain, release.go_version, why=f"k8s.io/kubernetes {release.version}")
    packages = [f"k8s.io/kubernetes/cmd/{command}" for command in commands]
    (src / "go.mod").write_text(gomod.kubernetes_wrapper(release), encoding="utf-8")
    (src / "tools.go").write_text(gomod.tools_file(packages), encoding="utf-8")
    label = f"kubernetes {release.version}"
    progress(f"{label}: resolving dependencies (go mod tidy)")
    run_go(toolchain, ["mod", "tidy"], cwd=src, nice=nice, on_line=package_counter(label, progress))
    major, minor = versions.major_minor(release.version)
    stamps = {
        "gitVersion": release.version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
    }
    # kubectl reads its client version from client-go, the servers from component-base.
    ldflags = ["-s", "-w"] + [
        f"-X {package}.{key}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in stamps.items()
    ]
    progress(f"{label}: compiling {', '.join(commands)} (cold: minutes to tens of minutes)")
    run_go(
        toolchain,
        [
            "build",
            "-v",
            "-trimpath",
            "-ldflags",
            " ".join(ldflags),
            "-o",
            f"{directory / 'bin'}/",
            *packages,
        ],
        cwd=src,
        nice=nice,
        on_line=package_counter(label, progress),
    )
    check_version(directory / f"bin/{commands[0]}", release.version)


def _build_etcd(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    src = directory / "src"
    release = gomod.fetch(toolchain, "go.etcd.io/etcd/server/v3", versions.ETCD, workdir=src)
    require_go(toolchain, release.go_version, why=f"etcd {release.version}")
    (src / "go.mod").write_text(gomod.etcd_wrapper(release), encoding="utf-8")
    (src / "tools.go").write_text(gomod.tools_file([release.path]), encoding="utf-8")
    label = f"etcd {release.version}"
    progress(f"{label}: resolving dependencies (go mod tidy)")
    run_go(toolchain, ["mod", "tidy"], cwd=src, nice=nice, on_line=package_counter(label, progress))
    run_go(
        toolchain,
        [
            "build",
            "-v",
            "-trimpath",
            "-ldflags",
            "-s -w",
            "-o",
            str(directory / "bin/etcd"),
            release.path,
        ],
        cwd=src,
        nice=nice,
        on_line=package_counter(label, progress),
    )
    check_version(directory / "bin/etcd", release.version.removeprefix("v"))


def _build_kwok(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    src = directory / "src"
    label = f"kwok {versions.KWOK}"
    run_go(
        toolchain,
        [
            "install",
            "-v",
            "-trimpath",
            "-ldflags",
            "-s -w",
            f"sigs.k8s.io/kwok/cmd/kwok@{versions.KWOK}",
        ],
        cwd=src,
        env=build_env({"GOBIN": str(directory / "bin")}),
        nice=nice,
        on_line=package_counter(label, progress),
    )
    release = gomod.fetch(toolchain, "sigs.k8s.io/kwok", versions.KWOK, workdir=src)
    documents = [
        (release.source_dir / name).read_text(encoding="utf-8").strip() for name in KWOK_STAGE_FILES
    ]
    (directory / "kwok-stages.yaml").write_text("\n---\n".join(documents) + "\n", encoding="utf-8")


def _build_prometheus(
    toolchain: GoToolchain, directory: Path, progress: Progress, nice: int
) -> None:
    src = directory / "src"
    release = gomod.fetch(
        toolchain, "github.com/prometheus/prometheus", versions.PROMETHEUS, workdir=src
    )
    require_go(toolchain, release.go_version, why=f"prometheus {release.version}")
    # `go install module@version` refuses a go.mod with replace directives; v0.316.0 has none.
    # Should a later release add some, build it through a wrapper module like etcd and Kubernetes.
    if release.gomod.get("Replace"):
        raise GoCommandFailed(
            f"github.com/prometheus/prometheus {release.version} go.mod has replace directives, "
            "which `go install module@version` refuses: build it through a wrapper module "
            "(see k8s_go_mod.tmpl and gomod.py)"
        )
    # The module is v0.3XY.Z, the program calls itself 3.XY.Z (the release's VERSION file).
    program_version = (release.source_dir / "VERSION").read_text(encoding="utf-8").strip()
    stamps = {
        "Version": program_version,
        "Revision": release.version,
        "Branch": "HEAD",
        "BuildUser": "ragops-devcluster",
    }
    ldflags = ["-s", "-w"] + [
        f"-X github.com/prometheus/common/version.{key}={value}" for key, value in stamps.items()
    ]
    label = f"prometheus {release.version}"
    progress(
        f"{label}: compiling Prometheus {program_version} with tags {','.join(PROMETHEUS_TAGS)} "
        "(cold: about 8 minutes on 2 cores)"
    )
    run_go(
        toolchain,
        [
            "install",
            "-v",
            "-trimpath",
            "-tags",
            ",".join(PROMETHEUS_TAGS),
            "-ldflags",
            " ".join(ldflags),
            f"{PROMETHEUS_PACKAGE}@{release.version}",
        ],
        cwd=src,
        env=build_env({"GOBIN": str(directory / "bin")}),
        nice=nice,
        on_line=package_counter(label, progress),
    )
    check_version(directory / "bin/prometheus", f"version {program_version}")


def _build_helm(toolchain: GoToolchain, directory: Path, progress: Progress, nice: int) -> None:
    src = directory / "src"
    release = gomod.fetch(toolchain, "helm.sh/helm/v4", versions.HELM, workdir=src)
    require_go(toolchain, release.go_version, why=f"helm {release.version}")
    # As for Prometheus: `go install module@version` refuses replace directives; v4.3.2 has none.
    if release.gomod.get("Replace"):
        raise GoCommandFailed(
            f"helm.sh/helm/v4 {release.version} go.mod has replace directives, "
            "which `go install module@version` refuses: build it through a wrapper module "
            "(see k8s_go_mod.tmpl and gomod.py)"
        )
    # The stamps helm's Makefile sets for a tagged release (an empty metadata: not "unreleased").
    ldflags = ["-s", "-w"] + [
        f"-X helm.sh/helm/v4/internal/version.{key}={value}"
        for key, value in {"version": release.version, "gitTreeState": "clean"}.items()
    ]
    label = f"helm {release.version}"
    progress(f"{label}: compiling helm (cold: a few minutes on 2 cores)")
    run_go(
        toolchain,
        [
            "install",
            "-v",
            "-trimpath",
            "-ldflags",
            " ".join(ldflags),
            f"{HELM_PACKAGE}@{release.version}",
        ],
        cwd=src,
        env=build_env({"GOBIN": str(directory / "bin")}),
        nice=nice,
        on_line=package_counter(label, progress),
    )
    # helm has no --version flag; `helm version --short` prints e.g. "v4.3.2".
    check_version(directory / "bin/helm", release.version, args=("version", "--short"))


def check_version(binary: Path, expected: str, args: tuple[str, ...] = ("--version",)) -> None:
    """Catch a mis-stamped or broken binary at build time rather than at cluster start."""
    result = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=60, check=False
    )
    if expected not in result.stdout + result.stderr:
        output = (result.stdout + result.stderr).strip()[:400]
        raise GoCommandFailed(f"{binary} {' '.join(args)} does not report {expected}: {output}")
