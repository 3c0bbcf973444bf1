"""A change of embedding model against a real API server: the pods keep the old model while the
reindex Job builds the new index, then move to it (worker rolled, API blue/green), a catch-up Job
moves the alias, and the index is Ready on the new version. The reindex pod is held back with an
admission policy (kwok would complete it at once) so the test can see the build in progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from tests.support.cluster import Kube, Waits, conditions
from tests.support.operator import RAGD, hold_pods, ragdeployment, wait_ready

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_operator")]

FAST = {"observeSeconds": 3, "retireDelaySeconds": 1, "progressDeadlineSeconds": 60}
OPENAI = {"provider": "openai", "model": "text-embedding-3-large", "dimensions": 256}
# From the start, so that the change below is the embedding model's alone (credentials change the
# pods too).
CREDENTIALS = {"credentialsSecretRef": {"name": "openai", "key": "api-key"}}


def _index(kube: Kube, namespace: str) -> dict[str, Any]:
    return dict((kube.get(*RAGD, "rx", namespace).get("status") or {}).get("index") or {})


def _config(kube: Kube, namespace: str) -> dict[str, str]:
    return dict(kube.get("v1", "ConfigMap", "rx-config", namespace)["data"])


def _env(job: dict[str, Any]) -> dict[str, str]:
    return {
        e["name"]: e.get("value", "")
        for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def test_an_embedding_model_change_builds_the_new_index_before_any_pod_uses_it(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, tmp_path: Path
) -> None:
    kube.create(
        ragdeployment(
            "rx",
            namespace,
            api={"replicas": {"min": 1, "max": 2}, "rollout": FAST},
            models=CREDENTIALS,
        ),
        namespace,
    )
    wait_ready(waits, namespace, "rx")
    before = _index(kube, namespace)
    assert before["phase"] == "Ready" and before["version"].startswith("local-")
    assert _config(kube, namespace)["RAGOPS_INDEX_VERSION"] == before["version"]
    worker_hash = kube.get("apps/v1", "Deployment", "rx-worker", namespace)["spec"]["template"][
        "metadata"
    ]["annotations"]

    hold = tmp_path / "hold.yaml"
    hold.write_text(yaml.safe_dump_all(hold_pods(namespace, "reindex")))
    kubectl.run(["apply", "-f", str(hold)])
    try:
        patch = {"spec": {"models": {"embedding": OPENAI}}}
        kubectl.run(
            ["patch", "ragd", "rx", "-n", namespace, "--type", "merge", "-p", json.dumps(patch)]
        )

        def building() -> dict[str, Any] | Pending:
            index = _index(kube, namespace)
            return (
                index
                if index.get("phase") == "Building" and index.get("job")
                else Pending(f"index {index}")
            )

        index = waits.until(building, timeout=60, what="the new model's index being built")
        target = index["targetVersion"]
        assert target.startswith("openai-") and index["version"] == before["version"]
        job = kube.get("batch/v1", "Job", index["job"], namespace)
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == [
            "reindex",
            "--from",
            before["version"],
        ]
        env = _env(job)
        assert (
            env["RAGOPS_EMBEDDING_PROVIDER"],
            env["RAGOPS_INDEX_VERSION"],
            env["RAGOPS_EMBEDDING_DIMENSIONS"],
        ) == ("openai", target, "256")
        obj = kube.get(*RAGD, "rx", namespace)
        assert conditions(obj)["Progressing"] == "True"
        # While the build runs, nothing the pods use has changed.
        assert _config(kube, namespace)["RAGOPS_INDEX_VERSION"] == before["version"]
        assert _config(kube, namespace)["RAGOPS_EMBEDDING_PROVIDER"] == "local"
        rollout = obj["status"]["api"]["rollout"]
        assert rollout["phase"] == "Stable" and not rollout.get("previewColor"), (
            "the API must not roll before the index exists"
        )
        worker = kube.get("apps/v1", "Deployment", "rx-worker", namespace)
        assert worker["spec"]["template"]["metadata"]["annotations"] == worker_hash, (
            "the worker must keep the old model"
        )
    finally:
        kubectl.run(["delete", "-f", str(hold), "--ignore-not-found"])

    seen_jobs: dict[str, list[str]] = {}

    def ready_on_the_new_version() -> dict[str, Any] | Pending:
        for job in kube.list("batch/v1", "Job", namespace):
            seen_jobs[job["metadata"]["name"]] = job["spec"]["template"]["spec"]["containers"][0][
                "args"
            ]
        index = _index(kube, namespace)
        if index.get("phase") == "Ready" and index.get("version") == target:
            return index
        return Pending(f"index {index.get('phase')}: {index.get('message')}")

    waits.until(
        ready_on_the_new_version,
        timeout=120,
        what="the stack serving the new model's index",
        interval=0.3,
    )
    config = _config(kube, namespace)
    assert (config["RAGOPS_INDEX_VERSION"], config["RAGOPS_EMBEDDING_PROVIDER"]) == (
        target,
        "openai",
    )
    catchups = [args for name, args in seen_jobs.items() if name.startswith("rx-catchup-")]
    assert catchups == [["reindex", "--from", before["version"], "--switch-alias"]], seen_jobs
    obj = wait_ready(waits, namespace, "rx")
    assert obj["status"]["api"]["rollout"]["phase"] in ("Observing", "Retiring", "Stable")
    api_pods = kube.list("v1", "Pod", namespace, "app.kubernetes.io/component=api")
    active = obj["status"]["api"]["activeColor"]
    assert active == "green", "the API moved to the new model through a blue/green rollout"
    assert any(p["metadata"]["labels"]["ragops.dev/color"] == active for p in api_pods)
    reasons = [
        e["reason"]
        for e in kube.list("v1", "Event", namespace)
        if e["involvedObject"]["name"] == "rx"
    ]
    assert {"ReindexStarted", "ReindexBuilt", "Reindexed"} <= set(reasons), reasons
    waits.gone(
        lambda: [
            j
            for j in kube.list("batch/v1", "Job", namespace)
            if j["metadata"]["name"].startswith("rx-")
        ],
        what="finished reindex Jobs are cleaned up",
        timeout=30,
    )
