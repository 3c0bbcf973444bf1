"""What the real-node stack test needs beside the cluster: the in-cluster moto and Redis
manifests, S3/SQS resources made in that moto, the API reached through its Service ClusterIP,
a long PDF to ingest, and the figures it measures.

Everything goes over real HTTP to real pods: boto3 to moto's ClusterIP, httpx to the API's.
"""

from __future__ import annotations

import json
import string
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import yaml

from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending, wait_until
from tests.support.hostile_pdfs import pdf_of_objects

RAGD = "ragd"
MANIFESTS = Path(__file__).resolve().parents[1] / "realnode" / "manifests"
# moto accepts any static keys; the pods get the same ones from a Secret (spec.aws).
ACCESS_KEY, SECRET_KEY, REGION = "ragops-test", "ragops-test-secret", "us-east-1"


def infra_manifests(namespace: str, *, redis_image: str, moto_image: str) -> list[dict[str, Any]]:
    """tests/realnode/manifests/*.yaml with the images and namespace filled in."""
    text = "\n---\n".join(p.read_text() for p in sorted(MANIFESTS.glob("*.yaml")))
    text = (
        text.replace("${NAMESPACE}", namespace)
        .replace("${REDIS_IMAGE}", redis_image)
        .replace("${MOTO_IMAGE}", moto_image)
    )
    return [doc for doc in yaml.safe_load_all(text) if doc]


@dataclass(frozen=True)
class Queue:
    url: str
    dead_letter_url: str


class Moto:
    """The in-cluster moto, called from the host through its Service ClusterIP."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(Bucket=name)

    def create_queue(self, name: str, *, dead_letter_after: int = 3) -> Queue:
        """A queue with a redrive policy to its dead-letter queue, as production has."""
        sqs = self.client("sqs")
        dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(dead_letter_after)})
        url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
        return Queue(url=str(url), dead_letter_url=str(dlq))

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(str(item["Key"]) for item in listed.get("Contents", []))


class Api:
    """A stack's API Service, by ClusterIP (no authentication: the stack sets no spec.auth)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def upload(self, filename: str, data: bytes) -> dict[str, Any]:
        response = self.http.post("/api/upload", files={"file": (filename, data)})
        assert response.status_code == 202, f"upload: {response.status_code} {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, f"job {job_id}: {response.status_code} {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def wait_job(self, job_id: str, *, timeout: float = 600) -> dict[str, Any]:
        def probe() -> dict[str, Any] | Pending:
            job = self.job(job_id)
            if job["state"] in ("ready", "failed"):
                return job
            return Pending(f"job {job['state']}: {job['progress']}")

        job: dict[str, Any] = wait_until(
            probe, timeout=timeout, what=f"job {job_id} finished", interval=1
        )
        return job

    def ask(self, query: str) -> dict[str, Any]:
        response = self.http.post("/api/ask", json={"query": query})
        assert response.status_code == 200, f"ask: {response.status_code} {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def documents(self) -> list[dict[str, Any]]:
        response = self.http.get("/api/documents")
        assert response.status_code == 200, f"documents: {response.status_code} {response.text}"
        body: list[dict[str, Any]] = response.json()
        return body

    def close(self) -> None:
        self.http.close()


def wait_reachable(url: str, *, timeout: float = 60) -> None:
    """Until `url` answers at all: a Service's ClusterIP refuses connections for a moment after
    its pods are Ready, until kube-proxy has written the rules for the new endpoints."""

    def probe() -> bool | Pending:
        try:
            httpx.get(url, timeout=5)
        except httpx.TransportError as exc:
            return Pending(f"{url}: {exc!r}")
        return True

    wait_until(probe, timeout=timeout, what=f"{url} reachable", interval=0.5)


def _word(n: int) -> str:
    letters = string.ascii_lowercase
    word = ""
    n += 27
    while n:
        n, digit = divmod(n, 26)
        word = letters[digit] + word
    return word


def long_pdf(pages: int, *, words_per_page: int = 350) -> bytes:
    """A text PDF of `pages` pages, each with its own words (so no chunk and no embedding is a
    cache hit of another): long enough that a worker can be killed in the middle of it."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font]
    kids = []
    for page in range(pages):
        words = [_word(page * words_per_page + i) for i in range(words_per_page)]
        lines = [" ".join(words[i : i + 10]) for i in range(0, len(words), 10)]
        text = b"".join(b"(%s) Tj T* " % line.encode() for line in lines)
        content = zlib.compress(b"BT /F1 9 Tf 11 TL 50 760 Td " + text + b"ET", 9)
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
            % (len(content), content)
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % len(objects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % n for n in kids),
        pages,
    )
    return pdf_of_objects(objects)


@dataclass
class Figures:
    """Measured steps (seconds from `start`) and values, printed as they come and recorded as
    one table (step, seconds, detail) at the end."""

    start: float = field(default_factory=time.monotonic)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def mark(self, what: str, **detail: Any) -> float:
        elapsed = round(time.monotonic() - self.start, 1)
        text = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in detail.items())
        self.rows.append({"step": what, "at (s)": elapsed, "detail": text})
        print(f"[real-node] {elapsed:7.1f}s {what} {text}", flush=True)
        return elapsed

    def value(self, what: str, value: Any) -> None:
        self.rows.append({"step": what, "at (s)": "", "detail": str(value)})
        print(f"[real-node] {what}: {value}", flush=True)


class Cluster:
    """kubectl on the real-node cluster, with the reads the test repeats; RAGDeployments live in
    `namespace`."""

    def __init__(self, kubectl: Kubectl, namespace: str) -> None:
        self.kubectl, self.namespace = kubectl, namespace

    def get(self, *args: str) -> dict[str, Any]:
        found: dict[str, Any] = self.kubectl.get(list(args))
        return found

    def cluster_ip(self, service: str, namespace: str) -> str:
        return str(self.get("service", service, "-n", namespace)["spec"]["clusterIP"])

    def ragd(self, name: str) -> dict[str, Any]:
        return self.get(RAGD, name, "-n", self.namespace)

    def conditions(self, name: str) -> dict[str, dict[str, Any]]:
        return {c["type"]: c for c in self.ragd(name).get("status", {}).get("conditions") or []}

    def patch(self, name: str, spec: dict[str, Any]) -> None:
        body = json.dumps({"spec": spec})
        self.kubectl.run(["patch", RAGD, name, "-n", self.namespace, "--type=merge", "-p", body])

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """Pods matching `selector`, leaving out those already being deleted."""
        items: list[dict[str, Any]] = self.get("pods", "-n", namespace, "-l", selector)["items"]
        return [pod for pod in items if not pod["metadata"].get("deletionTimestamp")]

    def rollout_status(self, kind_name: str, namespace: str, timeout: int) -> None:
        self.kubectl.run(
            ["rollout", "status", kind_name, "-n", namespace, f"--timeout={timeout}s"],
            timeout=timeout + 10,
        )

    def wait_ready(self, name: str, *, timeout: float) -> None:
        def probe() -> bool | Pending:
            conditions = self.conditions(name)
            ready = conditions.get("Ready", {})
            if ready.get("status") == "True":
                return True
            return Pending(
                f"Ready={ready.get('status')} {ready.get('reason')}: {ready.get('message')}"
            )

        wait_until(probe, timeout=timeout, what=f"RAGDeployment {name} Ready", interval=2)

    def describe_failure(self, namespace: str) -> str:
        """What a failed wait should show: pods, their states and recent events."""
        parts = []
        for args in (
            ["get", "pods", "-n", namespace, "-o", "wide"],
            ["get", "events", "-n", namespace, "--sort-by=.lastTimestamp"],
        ):
            try:
                parts.append(self.kubectl.run(args)[-4000:])
            except DevClusterError as exc:
                parts.append(str(exc))
        return "\n".join(parts)


def podman(*args: str) -> str:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result.stdout


def broken_image(project: str, tag: str) -> str:
    """The project image whose command exits at once: a release that never becomes ready.
    A build with no RUN step: nothing is run, so podman needs none of its runtime flags."""
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Containerfile").write_text(f'FROM {project}\nENTRYPOINT ["/bin/false"]\n')
        podman("build", "-q", "--pull=never", "-t", tag, context)
    return tag


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pod_start_seconds(pod: dict[str, Any]) -> float | None:
    """Creation to Ready, in seconds; None if not Ready."""
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition["type"] == "Ready" and condition["status"] == "True":
            created = _timestamp(pod["metadata"]["creationTimestamp"])
            return _timestamp(condition["lastTransitionTime"]) - created
    return None


def node_memory(kubectl: Kubectl, node: str) -> str:
    """The node's working set as the kubelet reports it (its Summary API, through the API
    server's node proxy)."""
    try:
        summary = json.loads(
            kubectl.run(["get", "--raw", f"/api/v1/nodes/{node}/proxy/stats/summary"])
        )
    except DevClusterError as exc:
        return f"unavailable: {exc}"
    memory = summary["node"]["memory"]
    pods = summary.get("pods", [])
    used = sum(p.get("memory", {}).get("workingSetBytes", 0) for p in pods)
    # Without per-QoS cgroups the node's own figure is the host's root cgroup: the whole
    # machine, other processes included. The pods' sum is what the stack uses.
    return (
        f"pods {used / 2**30:.2f} GiB working set ({len(pods)} pods); "
        f"host {memory['workingSetBytes'] / 2**30:.2f} GiB"
    )


def points_of(qdrant_url: str, document_id: str) -> int:
    """Points of one document in every collection of the stack's Qdrant (exact count)."""
    with httpx.Client(base_url=qdrant_url, timeout=30) as http:
        collections = [c["name"] for c in http.get("/collections").json()["result"]["collections"]]
        body = {
            "exact": True,
            "filter": {"must": [{"key": "document_id", "match": {"value": document_id}}]},
        }
        return sum(
            int(http.post(f"/collections/{c}/points/count", json=body).json()["result"]["count"])
            for c in collections
        )


def cited(answer: dict[str, Any]) -> tuple[str, int] | None:
    sources = answer.get("sources") or []
    return (sources[0]["filename"], sources[0]["page"]) if sources else None
