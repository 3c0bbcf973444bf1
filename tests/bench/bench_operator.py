"""Operator benchmark: time from apply to Ready for 1, 10 and 100 RAGDeployments, operator RSS,
and the same rendered manifests applied with `kubectl apply --server-side` as the lower bound.

    python tests/bench/bench_operator.py [--sizes 1,10,100]

Runs on its own dev cluster (`ragops dev-cluster build` first) and `ragops operator` as a child
process. Both paths wait for the same thing: every API, worker and Qdrant pod ready (kwok marks
scheduled pods ready), so the ratio measures what the operator adds on top of the apply.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import record  # noqa: E402

from ragops_devcluster import build, cluster  # noqa: E402
from ragops_devcluster.kubectl import Kubectl  # noqa: E402
from ragops_operator.api import v1alpha1 as api  # noqa: E402
from ragops_operator.builders import stack  # noqa: E402
from ragops_operator.builders.labels import Owner  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# Small requests so that 100 stacks fit the dev cluster's six 16-CPU fake nodes.
SMALL = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
SPEC: dict[str, Any] = {
    "image": "ragops/ragops:bench",
    "api": {"replicas": {"min": 1, "max": 3}, "resources": SMALL},
    "worker": {"resources": SMALL},
    "vectorStore": {"qdrant": {"resources": SMALL}},
    "cache": {"redis": {"urlSecretRef": {"name": "redis", "key": "url"}}},
    "documents": {
        "bucket": "docs-bucket",
        "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/ingest",
    },
}


def _ragd(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{api.GROUP}/{api.VERSION}",
        "kind": api.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": SPEC,
    }


def _apply(kubectl: Kubectl, objects: list[dict[str, Any]]) -> None:
    kubectl.run(
        ["apply", "--server-side", "-f", "-"],
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        timeout=600,
    )


def _namespace(kubectl: Kubectl, name: str) -> None:
    kubectl.run(["create", "namespace", name])
    # The specs reference it; the operator keeps a stack un-Ready while a Secret is missing.
    kubectl.run(
        ["create", "secret", "generic", "redis", "-n", name, "--from-literal=url=redis://x"]
    )


def _wait_all_ready(kubectl: Kubectl, namespace: str, count: int, *, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = kubectl.get(["ragdeployments", "-n", namespace])["items"]
        ready = sum(
            1
            for i in items
            for c in i.get("status", {}).get("conditions") or []
            if c["type"] == "Ready" and c["status"] == "True"
        )
        if ready == count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{namespace}: not all {count} RAGDeployments Ready within {timeout:.0f}s")


def _wait_workloads_ready(
    kubectl: Kubectl, namespace: str, count: int, *, timeout: float = 600
) -> None:
    """The operator's Ready criterion, applied to raw manifests: every workload's pods ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workloads = kubectl.get(["deployments,statefulsets", "-n", namespace])["items"]
        ready = sum(
            1
            for w in workloads
            if (w.get("status", {}).get("readyReplicas") or 0)
            >= max(1, w["spec"].get("replicas", 1))
        )
        if len(workloads) == 3 * count and ready == 3 * count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{namespace}: workloads not ready within {timeout:.0f}s")


def _rss_mib(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _raw_manifests(namespace: str, count: int) -> list[dict[str, Any]]:
    """What the operator would apply, ownerless (no RAGDeployment behind them)."""
    objects: list[dict[str, Any]] = []
    spec = api.RAGDeploymentSpec.model_validate(SPEC)
    for index in range(count):
        owner = Owner(name=f"raw-{index:03d}", namespace=namespace, uid=str(uuid.uuid4()))
        for manifest in stack.desired(spec, owner):
            manifest["metadata"].pop("ownerReferences", None)
            objects.append(manifest)
    return objects


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwind, so the dev cluster in `finally` is stopped


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    binaries = build.find_built()
    if binaries is None:
        raise SystemExit(build.NOT_BUILT)
    with tempfile.TemporaryDirectory(prefix="ragops-bench-") as tmp:
        directory = Path(tmp)
        # 100 stacks are 300 pods: more fake nodes than the default six (110 pods each).
        started = cluster.up(directory / "cluster", binaries, lambda _m: None, nodes=12)
        kubectl = Kubectl(binaries.kubectl, Path(started.kubeconfig))
        try:
            rows = _run(kubectl, Path(started.kubeconfig), directory, sizes)
        finally:
            cluster.down(directory / "cluster")
    if not args.no_record:
        record(
            "operator",
            rows,
            notes=(
                "Apply to Ready: all N RAGDeployments created at once "
                "(one `kubectl apply --server-side` of a List), "
                "until every one reports Ready=True "
                "(API, worker and Qdrant pods ready; kwok plays the kubelet). "
                "Raw apply: the same rendered children, ownerless, "
                "in one `kubectl apply --server-side`, until every "
                "Deployment and StatefulSet has its pods ready. "
                "RSS of the `ragops operator` process after the run "
                "(peak in brackets). "
                "Target: <= 3 s for 1, <= 60 s for 100, <= 1.5x raw, <= 150 MB RSS."
            ),
        )


def _run(
    kubectl: Kubectl, kubeconfig: Path, directory: Path, sizes: list[int]
) -> list[dict[str, Any]]:
    kubectl.run(
        ["apply", "--server-side", "-f", str(REPO / "crds" / "ragops.dev_ragdeployments.yaml")]
    )
    kubectl.wait_established("ragdeployments.ragops.dev")
    log = (directory / "operator.log").open("wb")
    operator = subprocess.Popen(
        # As in the image: the sync `kubernetes` client is a test-only dependency, and kopf
        # would import it (and count its memory) merely because it is installed.
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['kubernetes'] = None; from ragops_cli.main import app; app()",
            "operator",
            "--standalone",
        ],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rows: list[dict[str, Any]] = []
    try:
        time.sleep(3)  # the operator's start-up is not part of apply-to-Ready
        for size in sizes:
            namespace = f"bench-{size}"
            _namespace(kubectl, namespace)
            began = time.monotonic()
            _apply(kubectl, [_ragd(f"stack-{i:03d}", namespace) for i in range(size)])
            _wait_all_ready(kubectl, namespace, size)
            operator_seconds = time.monotonic() - began
            rss, peak = _rss_mib(operator.pid)
            # Free the nodes for the raw run, so both start from the same empty cluster.
            kubectl.run(
                ["delete", "namespace", namespace, "--wait=true", "--timeout=300s"], timeout=320
            )

            raw_namespace = f"raw-{size}"
            _namespace(kubectl, raw_namespace)
            began = time.monotonic()
            _apply(kubectl, _raw_manifests(raw_namespace, size))
            _wait_workloads_ready(kubectl, raw_namespace, size)
            raw_seconds = time.monotonic() - began
            kubectl.run(
                ["delete", "namespace", raw_namespace, "--wait=true", "--timeout=300s"], timeout=320
            )
            rows.append(
                {
                    "RAGDeployments": size,
                    "apply to Ready (s)": round(operator_seconds, 2),
                    "raw SSA apply to ready (s)": round(raw_seconds, 2),
                    "ratio": round(operator_seconds / raw_seconds, 2),
                    "operator RSS MiB (peak)": f"{rss:.0f} ({peak:.0f})",
                }
            )
            print(yaml.safe_dump(rows[-1], sort_keys=False), flush=True)
    finally:
        operator.terminate()
        operator.wait(timeout=30)
    return rows


if __name__ == "__main__":
    main()
