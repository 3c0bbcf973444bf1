"""The `ragops dev-cluster` command line: cached build, up/status/down by PID, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragops_devcluster import build, qdrant
from ragops_devcluster.procs import ProcessRecord, is_running

pytestmark = pytest.mark.cluster

_REPO = Path(__file__).resolve().parents[2]


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as users do, in a child process, so detached processes really outlive it."""
    path = os.pathsep.join(
        [str(_REPO / "operator"), str(_REPO / "services"), os.environ.get("PYTHONPATH", "")]
    )
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ragops_devcluster", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def built() -> build.Binaries:
    binaries = build.find_built()
    if binaries is None:
        pytest.fail(build.NOT_BUILT, pytrace=False)
    return binaries


def test_cached_build_is_instant(built: build.Binaries) -> None:
    started = time.monotonic()
    result = _cli("build")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    listed = dict(line.split("\t") for line in result.stdout.splitlines())
    assert listed["kube-apiserver"] == str(built.kube_apiserver)
    assert listed["prometheus"] == str(build.require_prometheus())
    assert listed["helm"] == str(build.require_helm())
    assert listed["qdrant"] == str(qdrant.require_qdrant())
    assert set(listed) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubectl",
        "kwok",
        "kwok-stages",
        # the real node's (up --real-node)
        "kubelet",
        "kube-proxy",
        "containerd",
        "ctr",
        "containerd-shim",
        "cni-bin-dir",
        "coredns",
        "crictl",
        "prometheus",
        "helm",
        "qdrant",
    }
    assert elapsed < 10, f"a cached build took {elapsed:.1f}s"


def test_unusable_go_toolchain_is_reported_clearly(tmp_path: Path) -> None:
    result = _cli(
        "build",
        env={
            "RAGOPS_DEVCLUSTER_CACHE": str(tmp_path / "empty-cache"),
            "RAGOPS_GO": str(tmp_path / "no-such-go"),
        },
    )
    assert result.returncode == 1
    assert "is not an executable go binary" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_up_status_down_round_trip(built: build.Binaries, tmp_path: Path) -> None:
    directory = tmp_path / "cluster"
    up = _cli("up", "--dir", str(directory), "--nodes", "3")
    try:
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == f"export KUBECONFIG={directory / 'kubeconfig'}"

        status = _cli("status", "--dir", str(directory))
        assert status.returncode == 0, status.stdout + status.stderr
        assert "api         ready" in status.stdout

        nodes = subprocess.run(
            [
                str(built.kubectl),
                f"--kubeconfig={directory / 'kubeconfig'}",
                "get",
                "nodes",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert len(json.loads(nodes.stdout)["items"]) == 3
        again = _cli("up", "--dir", str(directory))
        assert again.returncode == 0 and "already running" in again.stderr
        records = [
            ProcessRecord.from_json(p)
            for p in json.loads((directory / "state.json").read_text())["processes"]
        ]
        assert [r.name for r in records] == [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
        ]
    finally:
        down = _cli("down", "--dir", str(directory))
    assert down.returncode == 0, down.stderr
    assert not [r.name for r in records if is_running(r)]
    after = _cli("status", "--dir", str(directory))
    assert after.returncode == 1 and "no dev cluster recorded" in after.stderr
