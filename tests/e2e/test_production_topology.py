"""The production topology end to end (issue #16): `ragops api` and two `ragops worker` processes,
configured by environment variables only, over the real Qdrant server, one redis-server (answer
cache in database 1, catalog in database 0) and moto (S3 uploads, the SQS ingestion queue).

What the test checks goes through the public HTTP API (and each worker's /metrics), as a user or
a probe sees it; Qdrant's own REST API is read only to show where the points and the alias are.
The embedding change replays what the operator does (planning/reindex.py): build the new version
with `ragops reindex` while the old API keeps answering, move the pods to the new model (the API
blue/green, the workers rolled), then the catch-up run moves the alias and the old version is
dropped. The pods and commands on the new model talk gRPC to Qdrant, the old ones REST. The new
"model" is MiniLM embedding every window of each chunk (RAGOPS_DENSE_MAX_WINDOWS=0; the default
is 1): other vectors for every long chunk, and answers that stay checkable, which hash vectors
from a fake embedding API would not give.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.aws import REGION, MotoServer
from tests.support.processes import JOB_DEADLINE_SECONDS, Service, clean_env
from tests.support.qdrant_server import QdrantServer
from tests.support.redis_server import RedisServer

PDFS = {
    "crazy": "sample-files/021-pdfa/crazyones-pdfa.pdf",
    "zen": "sample-files/011-google-doc-document/google-doc-document.pdf",
    "latex": "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf",
    "columns": "sample-files/026-latex-multicolumn/multicolumn.pdf",
    "lorem": "sample-files/001-trivial/minimal-document.pdf",
    "writer": "sample-files/002-trivial-libre-office-writer/002-trivial-libre-office-writer.pdf",
    # 15 pages: a build long enough to answer many questions during it.
    "policy": "format-corpus/govdocs1-error-pdfs/error_set_1/008677.pdf",
}
CRAZY = "Who are the misfits and rebels that see things differently?"
ZEN = "Is explicit better than implicit, and simple better than complex?"
POLICY = "Whom may Principal Investigators authorize to work with controlled substances?"
QUESTIONS = {CRAZY: "crazyones-pdfa.pdf", ZEN: "google-doc-document.pdf", POLICY: "008677.pdf"}
REINDEX_DEADLINE_SECONDS = 300.0


@dataclass
class Stack:
    """What the pods of one RAGDeployment share: the settings of its ConfigMap."""

    qdrant: QdrantServer
    redis_url: str
    aws: MotoServer
    bucket: str
    queue_url: str
    collection: str
    tmp: Path

    @property
    def cache_url(self) -> str:
        return self.redis_url.rsplit("/", 1)[0] + "/1"

    def env(self, role: str, *, version: str = "v1", **settings: str) -> dict[str, str]:
        return clean_env(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            AWS_ENDPOINT_URL_S3=self.aws.url,
            AWS_ENDPOINT_URL_SQS=self.aws.url,
            NO_PROXY="127.0.0.1,localhost",
            RAGOPS_S3_BUCKET=self.bucket,
            RAGOPS_SQS_QUEUE_URL=self.queue_url,
            RAGOPS_CATALOG_URL=self.redis_url,  # database 0
            RAGOPS_REDIS_URL=self.cache_url,
            RAGOPS_QDRANT_URL=self.qdrant.url,
            RAGOPS_QDRANT_COLLECTION=self.collection,
            RAGOPS_INDEX_VERSION=version,
            # Each pod has a data dir of its own: all they share is the servers above.
            RAGOPS_DATA_DIR=str(self.tmp / role),
            # One onnxruntime thread per process: four processes share the test machine's cores.
            RAGOPS_EMBED_THREADS="1",
            # The question loop asks far more than a person would.
            RAGOPS_RATE_LIMIT_QUESTIONS="100000/minute",
            **{f"RAGOPS_{name.upper()}": value for name, value in settings.items()},
        )

    def start(self, *roles: tuple[str, str, dict[str, str]]) -> list[Service]:
        """(command, role, env) each, started side by side (each loads the model)."""
        with ThreadPoolExecutor(len(roles)) as pool:
            futures = [
                pool.submit(Service, command, env, self.tmp / f"{role}.log", cwd=self.tmp)
                for command, role, env in roles
            ]
            return [f.result() for f in futures]

    def reindex(self, *args: str, **settings: str) -> subprocess.Popen[str]:
        """`ragops reindex` as the operator's Job runs it: the stack's settings and the new
        model's."""
        return subprocess.Popen(
            [sys.executable, "-m", "ragops_cli", "reindex", *args],
            env=self.env("reindex", **settings),
            cwd=self.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def collection_points(self, version: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.qdrant.url}/collections/{self.collection}-{version}/points/scroll",
            json={"limit": 10_000, "with_payload": ["document_id"], "with_vector": ["dense"]},
            timeout=30,
        )
        response.raise_for_status()
        points: list[dict[str, Any]] = response.json()["result"]["points"]
        return points

    def alias(self) -> str | None:
        aliases = httpx.get(f"{self.qdrant.url}/aliases", timeout=10).json()["result"]["aliases"]
        return next(
            (a["collection_name"] for a in aliases if a["alias_name"] == self.collection), None
        )


@dataclass
class Asked:
    at: float
    url: str
    question: str
    status: int
    top: str | None
    cached: bool | None
    seconds: float
    error: str | None = None

    @property
    def right(self) -> bool:
        return self.status == 200 and self.top == QUESTIONS[self.question]


@dataclass
class QuestionLoop:
    """Users asking all along; `url` is what the Service in front of the API pods routes to.
    The answer cache (database 1) is emptied before each question, so each one reaches the
    store: a question made unique with extra words would weaken its support and abstain."""

    url: str
    cache_url: str
    answers: list[Asked] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        cache = redis.Redis.from_url(self.cache_url)
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                question = list(QUESTIONS)[n % len(QUESTIONS)]
                url = self.url
                cache.flushdb()
                started = time.monotonic()
                try:
                    response = client.post(f"{url}/api/ask", json={"query": question})
                    body = response.json() if response.status_code == 200 else {}
                    sources = body.get("sources") or [{}]
                    self.answers.append(
                        Asked(
                            started,
                            url,
                            question,
                            response.status_code,
                            sources[0].get("filename"),
                            body.get("cached"),
                            time.monotonic() - started,
                            None if response.status_code == 200 else response.text[:300],
                        )
                    )
                except httpx.HTTPError as exc:
                    self.answers.append(
                        Asked(started, url, question, 0, None, None, 0.0, repr(exc))
                    )
                self._stop.wait(0.1)
        cache.close()

    def stop(self) -> None:
        self._stop.set()

    def answered_by(self, url: str) -> int:
        return sum(1 for a in self.answers if a.url == url and a.right)


@pytest.fixture
def stack(
    qdrant_server: QdrantServer, redis_server: RedisServer, aws: MotoServer, tmp_path: Path
) -> Stack:
    for db in (0, 1):
        redis.Redis.from_url(redis_server.url, db=db).flushdb()
    queue_url, _ = aws.create_queue()
    return Stack(
        qdrant=qdrant_server,
        redis_url=redis_server.url,
        aws=aws,
        bucket=aws.create_bucket(),
        queue_url=queue_url,
        collection=f"topology{uuid.uuid4().hex[:8]}",
        tmp=tmp_path,
    )


@pytest.fixture
def services() -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.kill()


def ask(url: str, question: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/ask", json={"query": question}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ingested(worker: Service) -> int:
    """Documents this worker indexed, from its own /metrics."""
    text = httpx.get(f"{worker.url}/metrics", timeout=10).text
    found = re.search(r'^ragops_ingest_documents_total\{result="ready"\} (\S+)$', text, re.M)
    return int(float(found.group(1))) if found else 0


def wait_ready(api: Service, job_ids: list[str], workers: list[Service]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    jobs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        jobs = [httpx.get(f"{api.url}/api/jobs/{j}", timeout=10).json() for j in job_ids]
        if all(job["state"] in ("ready", "failed") for job in jobs):
            return jobs
        for worker in workers:
            assert worker.process.poll() is None, worker.log()
        time.sleep(0.2)
    raise AssertionError(f"jobs unfinished: {jobs}\n{workers[0].log()}\n{workers[1].log()}")


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=REINDEX_DEADLINE_SECONDS)
    assert process.returncode == 0, f"{out}\n{err[-4000:]}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_api_and_two_workers_over_the_qdrant_server_answer_through_an_embedding_change(
    stack: Stack, services: list[Service], pdf_dir: Path
) -> None:
    figures: dict[str, Any] = {}
    clock = time.monotonic()
    api, *workers = stack.start(
        ("api", "api-v1", stack.env("api-v1")),
        ("worker", "worker-1", stack.env("worker-1")),
        ("worker", "worker-2", stack.env("worker-2")),
    )
    services.extend([api, *workers])
    figures["start_seconds"] = round(time.monotonic() - clock, 1)

    # --- upload; either worker ingests ---
    clock = time.monotonic()
    uploads = {}
    for key, relative in PDFS.items():
        path = pdf_dir / relative
        response = httpx.post(
            f"{api.url}/api/upload",
            files={"file": (path.name, path.read_bytes(), "application/pdf")},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        uploads[key] = response.json()
    jobs = wait_ready(api, [u["job_id"] for u in uploads.values()], workers)
    figures["ingest_seconds"] = round(time.monotonic() - clock, 1)
    assert [job["state"] for job in jobs] == ["ready"] * len(PDFS), jobs
    per_worker = [ingested(worker) for worker in workers]
    figures["documents_per_worker"] = per_worker
    assert sum(per_worker) == len(PDFS) and min(per_worker) >= 1, per_worker
    documents = httpx.get(f"{api.url}/api/documents", timeout=10).json()
    assert {d["document_id"] for d in documents} == {u["document_id"] for u in uploads.values()}
    chunks = sum(d["chunks"] for d in documents)
    assert len(stack.collection_points("v1")) == chunks > len(PDFS), "in the Qdrant server"
    assert stack.alias() == f"{stack.collection}-v1"

    # --- a cited answer, then the same question from the cache ---
    first = ask(api.url, CRAZY)
    assert first["cached"] is False
    assert first["sources"][0]["filename"] == "crazyones-pdfa.pdf", first
    assert first["sources"][0]["document_id"] == uploads["crazy"]["document_id"]
    assert first["sources"][0]["excerpt"].strip() and first["answer"].strip()
    again = ask(api.url, CRAZY)
    assert again["cached"] is True
    assert (again["answer"], again["sources"]) == (first["answer"], first["sources"])

    # --- a delete: its chunks are never cited again, cached answers included ---
    latex = uploads["latex"]["document_id"]
    cites_latex = ask(api.url, "What does a blind text give you information about?")
    assert any(s["document_id"] == latex for s in cites_latex["sources"]), cites_latex
    deleted = httpx.delete(f"{api.url}/api/documents/{latex}", timeout=30)
    assert deleted.status_code in (200, 204), deleted.text
    after = ask(api.url, "What does a blind text give you information about?")
    assert after["cached"] is False, "the answer that cited it left the cache"
    assert all(s["document_id"] != latex for s in after["sources"]), after
    assert latex not in {d["document_id"] for d in httpx.get(f"{api.url}/api/documents").json()}
    remaining = chunks - next(d["chunks"] for d in documents if d["document_id"] == latex)
    v1 = stack.collection_points("v1")
    assert len(v1) == remaining
    assert {len(p["vector"]["dense"]) for p in v1} == {1}, "one window per chunk (the default)"

    # --- the embedding change, while users keep asking ---
    loop = QuestionLoop(api.url, stack.cache_url)
    asking = threading.Thread(target=loop.run, name="questions")
    asking.start()
    try:
        # Everything on the new model also talks gRPC to Qdrant, the old pods REST: both
        # protocols in one run, configured as a pod is.
        new_model = {
            "version": "v2",
            "dense_max_windows": "0",
            "qdrant_prefer_grpc": "true",
            "qdrant_grpc_port": str(stack.qdrant.grpc_port),
        }
        clock = time.monotonic()
        build = finish(stack.reindex("--from", "v1", "--batch", "4", **new_model))
        build_window = (clock, time.monotonic())
        figures["build_seconds"] = round(build_window[1] - clock, 1)
        assert (build["copied"], build["points"], build["aliasSwitched"]) == (
            remaining,
            remaining,
            False,
        ), build
        assert stack.alias() == f"{stack.collection}-v1", "nobody is sent to a half-built index"

        # The pods move to the new model: the API blue/green (the new one is ready before the
        # Service routes to it), the workers rolled; then the catch-up, once no old worker runs.
        clock = time.monotonic()
        api_v2, *workers_v2 = stack.start(
            ("api", "api-v2", stack.env("api-v2", **new_model)),
            ("worker", "worker-3", stack.env("worker-3", **new_model)),
            ("worker", "worker-4", stack.env("worker-4", **new_model)),
        )
        services.extend([api_v2, *workers_v2])
        loop.url = api_v2.url
        deadline = time.monotonic() + 60
        while loop.answered_by(api_v2.url) < 3:
            assert time.monotonic() < deadline, loop.answers[-3:]
            time.sleep(0.1)
        for worker in workers:
            assert worker.stop() == 0, worker.log()
        assert api.stop() in (0, -15), api.log()  # uvicorn re-raises SIGTERM after a clean stop
        figures["switch_seconds"] = round(time.monotonic() - clock, 1)

        clock = time.monotonic()
        catchup = finish(stack.reindex("--from", "v1", "--switch-alias", **new_model))
        figures["catchup_seconds"] = round(time.monotonic() - clock, 1)
        assert (catchup["copied"], catchup["skipped"], catchup["aliasSwitched"]) == (
            0,
            remaining,
            True,
        ), catchup
        assert stack.alias() == f"{stack.collection}-v2"

        # The old version is gone: whatever answers from now on comes from v2.
        dropped = finish(stack.reindex("--drop", "v1", **new_model))
        assert dropped == {"dropped": f"{stack.collection}-v1"}
        after_drop = time.monotonic()
        deadline = after_drop + 60
        while sum(1 for a in loop.answers if a.at > after_drop and a.right) < 4:
            assert time.monotonic() < deadline, loop.answers[-3:]
            time.sleep(0.1)
    finally:
        loop.stop()
        asking.join(timeout=60)

    failed = [a for a in loop.answers if not a.right]
    during_build = [a for a in loop.answers if build_window[0] <= a.at <= build_window[1]]
    figures["chunks_reindexed"] = remaining
    figures["answers"] = len(loop.answers)
    figures["answers_during_build"] = len(during_build)
    figures["answers_by_v2"] = loop.answered_by(api_v2.url)
    figures["answer_seconds_p50_max"] = (
        round(statistics.median(a.seconds for a in loop.answers), 3),
        round(max(a.seconds for a in loop.answers), 3),
    )
    print(f"production topology: {json.dumps(figures)}")
    assert not failed, failed[:5]
    assert during_build, "questions were answered while the new version was built"
    assert all(a.cached is False for a in loop.answers), "each loop question reached the store"

    # v2 holds the new model's vectors: every window of each chunk, several for the long ones.
    v2 = stack.collection_points("v2")
    assert len(v2) == remaining and max(len(p["vector"]["dense"]) for p in v2) > 1
    assert httpx.get(f"{stack.qdrant.url}/collections/{stack.collection}-v1").status_code == 404
    fresh = ask(api_v2.url, ZEN)
    assert fresh["sources"][0]["filename"] == "google-doc-document.pdf", fresh

    # A document uploaded after the change is ingested by the new workers into v2 and cited.
    path = pdf_dir / PDFS["latex"]
    upload = httpx.post(
        f"{api_v2.url}/api/upload",
        files={"file": (path.name, path.read_bytes(), "application/pdf")},
        timeout=30,
    )
    assert upload.status_code == 202, upload.text
    [job] = wait_ready(api_v2, [upload.json()["job_id"]], workers_v2)
    assert job["state"] == "ready", job
    assert sum(ingested(worker) for worker in workers_v2) == 1
    cited = ask(api_v2.url, "What does a blind text give you information about?")
    assert cited["cached"] is False and any(s["document_id"] == latex for s in cited["sources"])
    assert len(stack.collection_points("v2")) == chunks
    assert httpx.get(f"{stack.qdrant.url}/collections/{stack.collection}-v1").status_code == 404

    assert api_v2.stop() in (0, -15), api_v2.log()
    for worker in workers_v2:
        assert worker.stop() == 0, worker.log()
