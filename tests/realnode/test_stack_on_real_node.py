"""The product on a real node (issue 18, "Prove the product on it" 2-7): the Helm-installed
operator turns a RAGDeployment into real pods (API, worker, Qdrant on a gp3 volume) from images
built here, using an in-cluster Redis and moto (S3 + SQS through `spec.aws`); a PDF uploaded
through the API Service is ingested by the worker pod and answered with the right page; a new
API image rolls out blue/green and a broken one never gets traffic; a worker killed mid-document
is replaced and the document finished exactly once; the backup CronJob's Job lands a snapshot in
S3 and a new RAGDeployment restored from it answers the same.

One test, in order of value: every step needs the ones before it. Figures (time from `kubectl
apply` to the first cited answer, pod start times, node memory) are printed; with
RAGOPS_RECORD_BENCH=1 they also replace the `real-node` section of docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ragops_devcluster import build
from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending, wait_until
from tests.support.dev_images import DevImages, ensure_dev_images, ensure_project_image
from tests.support.helm import CHART, Helm
from tests.support.real_stack import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Api,
    Cluster,
    Figures,
    Moto,
    broken_image,
    cited,
    infra_manifests,
    long_pdf,
    node_memory,
    pod_start_seconds,
    podman,
    points_of,
    wait_reachable,
)

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

REPO = Path(__file__).resolve().parents[2]
PDF = REPO / "examples" / "ragops-backups.pdf"
QUESTION = "How many backups are always kept?"
INFRA, STACK_NS, OPERATOR_NS = "infra", "tenant-docs", "ragops-system"
NAME, RESTORED = "docs", "restored"
MOTO_URL = f"http://moto.{INFRA}.svc.cluster.local:5000"
DOCS_BUCKET, BACKUP_BUCKET = "docs", "docs-backups"


def small(cpu: str, memory: str, cpu_limit: str = "2", memory_limit: str = "2Gi") -> dict[str, Any]:
    """Requests that fit two stacks and a blue/green preview on one 2-core node."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def stack_spec(
    image: str, qdrant_image: str, queue_url: str, redis_secret: str, **extra: Any
) -> dict[str, Any]:
    """One API and one worker pod, one Qdrant peer on a gp3 volume, offline embeddings,
    extractive answers, S3 and SQS in the in-cluster moto."""
    spec: dict[str, Any] = {
        "image": image,
        "imagePullPolicy": "Never",
        "aws": {
            "region": REGION,
            "s3EndpointUrl": MOTO_URL,
            "sqsEndpointUrl": MOTO_URL,
            "credentialsSecretRef": {"name": "aws"},
        },
        "api": {
            "replicas": {"min": 1, "max": 1},
            "resources": small("100m", "512Mi"),
            "rollout": {
                "observeSeconds": 20,
                "retireDelaySeconds": 5,
                "progressDeadlineSeconds": 90,
            },
        },
        "worker": {
            "replicas": {"min": 1, "max": 1},
            "resources": small("100m", "512Mi"),
            # A killed worker's document comes back after 30 s, not the default 300.
            "jobVisibilitySeconds": 30,
        },
        "vectorStore": {
            "qdrant": {
                "image": qdrant_image,
                "resources": small("100m", "256Mi", "1", "1Gi"),
                "storage": {"size": "1Gi", "storageClassName": "gp3"},
                "deletionPolicy": "Delete",
            }
        },
        "cache": {"redis": {"urlSecretRef": {"name": redis_secret, "key": "url"}}},
        "documents": {"bucket": DOCS_BUCKET, "queueUrl": queue_url},
        "models": {"embedding": {"provider": "local"}, "chat": {"provider": "extractive"}},
        "monitoring": {"serviceMonitor": False, "prometheusRule": False, "dashboards": False},
        "backup": {
            "enabled": True,
            "bucket": BACKUP_BUCKET,
            "schedule": "0 3 * * *",
            "scratchSize": "1Gi",
            "resources": small("100m", "256Mi", "1", "1Gi"),
        },
    }
    spec.update(extra)
    return spec


def ragdeployment(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "ragops.dev/v1alpha1",
        "kind": "RAGDeployment",
        "metadata": {"name": name, "namespace": STACK_NS},
        "spec": spec,
    }


def secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": data,
    }


def _helm(cluster_dir: Path, kubeconfig: Path) -> Helm:
    try:
        binary = build.require_helm()
    except DevClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    home = cluster_dir / "helm-home"
    home.mkdir(exist_ok=True)
    return Helm(binary, home, kubeconfig)


@pytest.fixture
def tags() -> Iterator[list[str]]:
    """Image tags this test adds to podman's store, removed afterwards (the image stays)."""
    made: list[str] = []
    yield made
    for tag in made:
        subprocess.run(["podman", "rmi", tag], capture_output=True, check=False)


@dataclass
class Run:
    """What the steps share: the cluster, the images, moto, the first stack's API, figures."""

    node: Any  # tests.support.real_node.RealNodeCluster
    cluster: Cluster
    figures: Figures
    tags: list[str]
    project: str = ""
    dev: DevImages | None = None
    moto: Moto | None = None

    @property
    def kubectl(self) -> Kubectl:
        kubectl: Kubectl = self.node.kubectl
        return kubectl

    @property
    def images(self) -> DevImages:
        assert self.dev is not None
        return self.dev

    @property
    def s3(self) -> Moto:
        assert self.moto is not None
        return self.moto


def test_the_product_on_a_real_node(real_node_cluster: Any, tags: list[str]) -> None:
    run = Run(real_node_cluster, Cluster(real_node_cluster.kubectl, STACK_NS), Figures(), tags)
    queues = _images_and_infrastructure(run)
    _operator(run)
    api, first_answer = _stack(run, queues[0])
    second = _blue_green(run, api)
    _broken_release(run, api, second)
    _worker_killed(run, api)
    backup_url = _backup(run)
    _restore(run, api, backup_url, queues[1])
    run.figures.value("node memory (two stacks)", node_memory(run.kubectl, run.node.node_name))
    _record(run.figures, first_answer)


def _images_and_infrastructure(run: Run) -> tuple[str, str]:
    """Images built here, loaded into the node's containerd (never pulled); the in-cluster
    Redis and moto; the buckets and queues (made through moto's ClusterIP). Returns the URLs of
    the two stacks' queues."""
    run.project = ensure_project_image()
    run.dev = ensure_dev_images()
    run.figures.mark("images built (cached)")
    for reference in (run.project, run.dev.qdrant, run.dev.redis, run.dev.moto):
        loading = time.monotonic()
        run.node.load_image(reference)
        run.figures.mark(f"loaded {reference}", seconds=round(time.monotonic() - loading, 1))
    run.kubectl.run(["create", "namespace", INFRA])
    run.kubectl.apply(infra_manifests(INFRA, redis_image=run.dev.redis, moto_image=run.dev.moto))
    for deployment in ("deployment/redis", "deployment/moto"):
        run.cluster.rollout_status(deployment, INFRA, 180)
    moto = run.moto = Moto(f"http://{run.cluster.cluster_ip('moto', INFRA)}:5000")
    wait_reachable(f"{moto.endpoint}/moto-api/")
    for bucket in (DOCS_BUCKET, BACKUP_BUCKET):
        moto.create_bucket(bucket)
    # The queue URLs as pods name the server (the SDK sends to the endpoint; moto finds the
    # queue by the URL's path).
    queue_url = moto.create_queue("docs-ingest").url.replace(moto.endpoint, MOTO_URL)
    restored_queue = moto.create_queue("restored-ingest").url.replace(moto.endpoint, MOTO_URL)
    run.figures.mark("Redis and moto ready")
    return queue_url, restored_queue


def _operator(run: Run) -> None:
    """2. The operator, installed with its chart, runs as a pod on the real node."""
    helm = _helm(run.node.directory, run.node.kubeconfig)
    repository, tag = run.project.rsplit(":", 1)
    helm(
        "install", "ragops-operator", str(CHART), "-n", OPERATOR_NS, "--create-namespace",
        "--set", f"image.repository={repository}", "--set-string", f"image.tag={tag}",
        "--set", "image.pullPolicy=Never", "--wait", "--timeout", "5m",
        timeout=330,
    )  # fmt: skip
    (operator,) = run.cluster.pods(OPERATOR_NS, "app.kubernetes.io/name=ragops-operator")
    assert operator["spec"]["nodeName"] == run.node.node_name
    run.figures.mark("operator pod Ready (helm install --wait)")


def _stack(run: Run, queue_url: str) -> tuple[Api, float]:
    """3. The stack: a namespace enforcing the restricted Pod Security Standard, its Secrets, and
    the RAGDeployment. Ready means real pods passed real probes."""
    run.kubectl.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": STACK_NS,
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            },
            secret("redis", STACK_NS, {"url": f"redis://redis.{INFRA}.svc.cluster.local:6379/0"}),
            secret(
                "redis-restored",
                STACK_NS,
                {"url": f"redis://redis.{INFRA}.svc.cluster.local:6379/1"},
            ),
            secret(
                "aws",
                STACK_NS,
                {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
            ),
        ]
    )
    spec = stack_spec(run.project, run.images.qdrant, queue_url, "redis")
    applied = time.monotonic()
    run.kubectl.apply([ragdeployment(NAME, spec)])
    try:
        run.cluster.wait_ready(NAME, timeout=900)
    except DevClusterError as exc:
        pytest.fail(f"{exc}\n{run.cluster.describe_failure(STACK_NS)}", pytrace=False)
    run.figures.mark("RAGDeployment Ready", since_apply=round(time.monotonic() - applied, 1))
    for pod in run.cluster.pods(STACK_NS, f"app.kubernetes.io/instance={NAME}"):
        assert pod["spec"]["nodeName"] == run.node.node_name, pod["metadata"]["name"]
        pod_started(run.figures, pod)

    # 4. A PDF through the API Service; the worker pod ingests it through S3 and SQS.
    api = Api(f"http://{run.cluster.cluster_ip(f'{NAME}-api', STACK_NS)}")
    wait_reachable(f"{api.base_url}/healthz")
    upload = api.upload(PDF.name, PDF.read_bytes())
    job = api.wait_job(upload["job_id"], timeout=300)
    assert job["state"] == "ready", job
    answer = api.ask(QUESTION)
    assert answer["answered"] and cited(answer) == (PDF.name, 2), answer
    first_answer = round(time.monotonic() - applied, 1)
    run.figures.mark("first cited answer", since_apply=first_answer)
    assert run.s3.keys(DOCS_BUCKET), "the upload never reached moto's S3"
    run.figures.value("node memory (one stack)", node_memory(run.kubectl, run.node.node_name))
    return api, first_answer


def _blue_green(run: Run, api: Api) -> str:
    """5a. Blue/green: a second tag of the same image, and a changed setting."""
    repository, tag = run.project.rsplit(":", 1)
    second = f"{repository}:{tag}-bluegreen"
    podman("tag", run.project, second)
    run.tags.append(second)
    run.node.load_image(second)
    started = time.monotonic()
    run.cluster.patch(NAME, {"api": {"image": second, "rateLimits": {"questions": "120/minute"}}})

    def switched() -> dict[str, Any] | Pending:
        status = run.cluster.ragd(NAME).get("status", {}).get("api", {})
        selector = run.cluster.get("service", f"{NAME}-api", "-n", STACK_NS)["spec"]["selector"]
        if status.get("activeColor") == "green" and selector.get("ragops.dev/color") == "green":
            return status
        return Pending(f"api status {status}, Service selects {selector}")

    wait_until(switched, timeout=600, what="the API Service switched to green", interval=2)
    (green,) = run.cluster.pods(
        STACK_NS, f"app.kubernetes.io/instance={NAME},ragops.dev/color=green"
    )
    assert green["spec"]["containers"][0]["image"] == second
    wait_reachable(f"{api.base_url}/healthz")  # kube-proxy follows the switch within moments
    assert pod_start_seconds(green) is not None, "switched to a green pod that is not Ready"
    pod_started(run.figures, green)
    run.figures.mark(
        "blue/green: switched to green", seconds_after_patch=round(time.monotonic() - started, 1)
    )
    assert cited(api.ask(QUESTION)) == (PDF.name, 2)

    def stable(color: str) -> bool | Pending:
        rollout = run.cluster.ragd(NAME).get("status", {}).get("api", {}).get("rollout") or {}
        others = run.cluster.pods(
            STACK_NS,
            f"app.kubernetes.io/instance={NAME},ragops.dev/color!={color},app.kubernetes.io/component=api",
        )
        if rollout.get("phase") == "Stable" and not others:
            return True
        return Pending(f"rollout {rollout.get('phase')}, other color pods {len(others)}")

    wait_until(lambda: stable("green"), timeout=300, what="blue retired", interval=2)
    run.figures.mark("blue/green: observed, blue retired")
    return second


def _broken_release(run: Run, api: Api, second: str) -> None:
    """5b. A broken tag (its command exits) never receives traffic and is rolled back."""
    repository, tag = run.project.rsplit(":", 1)
    broken = broken_image(run.project, f"{repository}:{tag}-broken")
    run.tags.append(broken)
    run.node.load_image(broken)
    run.cluster.patch(NAME, {"api": {"image": broken}})
    deadline = time.monotonic() + 600

    def aborted() -> dict[str, Any] | Pending:
        selector = run.cluster.get("service", f"{NAME}-api", "-n", STACK_NS)["spec"]["selector"]
        assert selector.get("ragops.dev/color") == "green", "the broken color got traffic"
        rollout = run.cluster.ragd(NAME).get("status", {}).get("api", {}).get("rollout") or {}
        if rollout.get("phase") in ("Aborted", "RolledBack"):
            return rollout
        return Pending(f"rollout {rollout.get('phase')}: {rollout.get('message')}")

    rollout = wait_until(
        aborted, timeout=deadline - time.monotonic(), what="broken rollout aborted", interval=2
    )
    assert cited(api.ask(QUESTION)) == (PDF.name, 2)
    run.figures.mark("broken tag aborted, never served", phase=rollout["phase"])
    run.cluster.patch(NAME, {"api": {"image": second}})  # back to the running release


def _worker_killed(run: Run, api: Api) -> None:
    """6a. A worker killed mid-document: its replacement finishes it, each chunk once."""
    long = api.upload("long.pdf", long_pdf(120))

    def processing() -> dict[str, Any] | Pending:
        job = api.job(long["job_id"])
        progress = job["progress"]
        if job["state"] == "processing" and (progress.get("pages_done") or 0) > 0:
            return job
        assert job["state"] in ("queued", "processing"), f"finished before the kill: {job}"
        return Pending(f"{job['state']} {progress}")

    before = wait_until(processing, timeout=300, what="the long PDF being ingested", interval=0.5)
    (victim,) = run.cluster.pods(
        STACK_NS, f"app.kubernetes.io/instance={NAME},app.kubernetes.io/component=worker"
    )
    run.kubectl.run(
        ["delete", "pod", victim["metadata"]["name"], "-n", STACK_NS, "--grace-period=0", "--force"]
    )
    killed = time.monotonic()
    run.figures.mark("worker killed mid-document", progress=json.dumps(before["progress"]))
    done = api.wait_job(long["job_id"], timeout=600)
    assert done["state"] == "ready", done
    (replacement,) = run.cluster.pods(
        STACK_NS, f"app.kubernetes.io/instance={NAME},app.kubernetes.io/component=worker"
    )
    assert replacement["metadata"]["name"] != victim["metadata"]["name"]
    pod_started(run.figures, replacement)
    chunks = done["progress"]["chunks_total"]
    qdrant = f"http://{run.cluster.cluster_ip(f'{NAME}-qdrant', STACK_NS)}:6333"
    points = points_of(qdrant, long["document_id"])
    assert chunks > 0 and points == chunks, f"{points} points for {chunks} chunks"
    run.figures.mark(
        "document finished by the replacement",
        seconds_after_kill=round(time.monotonic() - killed, 1),
        chunks=chunks,
    )


def _backup(run: Run) -> str:
    """6b. The backup CronJob's Job, run for real: a snapshot lands in moto's S3."""
    run.kubectl.run(
        ["create", "job", "--from=cronjob/docs-backup", "docs-backup-now", "-n", STACK_NS]
    )
    run.kubectl.run(
        [
            "wait",
            "--for=condition=complete",
            "job/docs-backup-now",
            "-n",
            STACK_NS,
            "--timeout=600s",
        ],
        timeout=620,
    )
    prefix = f"backups/{STACK_NS}/{NAME}/"
    manifests = [k for k in run.s3.keys(BACKUP_BUCKET, prefix) if k.endswith("/manifest.json")]
    assert len(manifests) == 1, run.s3.keys(BACKUP_BUCKET, prefix)
    backup_url = f"s3://{BACKUP_BUCKET}/{manifests[0].rsplit('/', 1)[0]}/"
    run.figures.mark("backup Job complete", objects=len(run.s3.keys(BACKUP_BUCKET, prefix)))
    return backup_url


def _restore(run: Run, api: Api, backup_url: str, queue_url: str) -> None:
    """6c. A new RAGDeployment restored from the backup gives the same answers (the same tenant,
    its own Redis database and queue)."""
    restored_spec = stack_spec(
        run.project,
        run.images.qdrant,
        queue_url,
        "redis-restored",
        tenant=NAME,
        restore={"fromSnapshot": backup_url},
    )
    restored_spec["backup"] = {"enabled": False}
    run.kubectl.apply([ragdeployment(RESTORED, restored_spec)])
    try:
        run.cluster.wait_ready(RESTORED, timeout=900)
    except DevClusterError as exc:
        pytest.fail(f"{exc}\n{run.cluster.describe_failure(STACK_NS)}", pytrace=False)
    run.figures.mark("restored stack Ready (restore Job first)")
    for pod in run.cluster.pods(STACK_NS, f"app.kubernetes.io/instance={RESTORED}"):
        pod_started(run.figures, pod)
    restored_api = Api(f"http://{run.cluster.cluster_ip(f'{RESTORED}-api', STACK_NS)}")
    wait_reachable(f"{restored_api.base_url}/healthz")
    again = restored_api.ask(QUESTION)
    original = api.ask(QUESTION)
    assert again["answer"] == original["answer"] and cited(again) == cited(original), again
    assert {d["document_id"] for d in restored_api.documents()} == {
        d["document_id"] for d in api.documents()
    }
    run.figures.mark("restored stack answers the same")
    restored_api.close()


def pod_started(figures: Figures, pod: dict[str, Any]) -> None:
    component = pod["metadata"]["labels"].get("app.kubernetes.io/component", "")
    figures.value(
        f"pod start: {pod['metadata']['name']} ({component})",
        f"created -> Ready {pod_start_seconds(pod)} s",
    )


def _record(figures: Figures, first_answer: float) -> None:
    if os.environ.get("RAGOPS_RECORD_BENCH") != "1":
        return
    path = REPO / "tests" / "bench" / "record.py"
    spec = importlib.util.spec_from_file_location("ragops_bench_record", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.record(
        "real-node",
        figures.rows,
        "`RAGOPS_RECORD_BENCH=1 pytest tests/realnode/test_stack_on_real_node.py`: one real node "
        "of `ragops dev-cluster up --real-node` (containerd, runc, the CNI bridge), images "
        "built here and cached; `at` counts from the test's start, after the cluster was up. "
        f"`kubectl apply` of the RAGDeployment to the first cited answer: {first_answer} s "
        "(the upload and ingestion of a 3-page PDF included). A pod's start runs from its "
        "creation to its Ready condition (real readiness probes). Memory: the kubelet's "
        "working sets of every pod on the node (Redis, moto, the operator and the stacks); "
        "the host figure is the whole machine, other jobs included (no per-QoS cgroups).",
    )
