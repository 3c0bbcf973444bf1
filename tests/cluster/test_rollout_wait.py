"""scripts/rollout-wait.sh, the pipeline's production step, against the operator on the local
control plane: a new image that passes the health gate and observation exits 0; one whose pods
never start is aborted by the operator, and the script exits 1 with the operator's reason."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ragops_devcluster.kubectl import Kubectl
from tests.support.cluster import Kube, Waits
from tests.support.operator import RAGD, hold_pods, ragdeployment, wait_held, wait_ready

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rollout-wait.sh"
FAST = {"observeSeconds": 6, "retireDelaySeconds": 2, "progressDeadlineSeconds": 20}


def rollout_wait(kubectl: Kubectl, namespace: str, image: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), namespace, "rag", image, "180"],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "KUBECTL": str(kubectl.binary), "KUBECONFIG": str(kubectl.kubeconfig)},
        check=False,
    )


@pytest.fixture
def stack(kube: Kube, waits: Waits, namespace: str) -> str:
    kube.create(ragdeployment("rag", namespace, api={"rollout": FAST}), namespace)
    wait_ready(waits, namespace, "rag")
    return namespace


def test_a_healthy_image_is_released_and_the_script_exits_0(
    kube: Kube, kubectl: Kubectl, stack: str
) -> None:
    done = rollout_wait(kubectl, stack, "ragops/ragops:next")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "serves ragops/ragops:next" in done.stdout
    status = kube.get(*RAGD, "rag", stack)["status"]
    assert status["api"]["activeImage"] == "ragops/ragops:next"
    assert status["api"]["rollout"]["phase"] in ("Retiring", "Stable")


def test_an_image_whose_pods_never_start_fails_with_the_operators_reason(
    kube: Kube, kubectl: Kubectl, stack: str
) -> None:
    held = hold_pods(stack, "api")
    kubectl.apply(held)
    try:
        wait_held(kubectl, stack, "api")
        done = rollout_wait(kubectl, stack, "ragops/ragops:broken")
    finally:
        for obj in reversed(held):
            kubectl.run(["delete", obj["kind"], obj["metadata"]["name"], "--ignore-not-found"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rollout of ragops/ragops:broken Aborted: PreviewNotHealthy" in done.stderr, done.stderr
    assert kube.get(*RAGD, "rag", stack)["status"]["api"]["activeImage"] != "ragops/ragops:broken"
