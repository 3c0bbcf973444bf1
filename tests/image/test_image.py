"""The one image, run as a hardened pod runs it (uid 10001, read-only root, /tmp and /data
writable): `serve` answers from an uploaded PDF with a citation; `api` and `worker` ingest
through S3/SQS (moto) and a Redis catalog; the other entrypoints are there; nothing of the
build (compilers, Go, git, pip and its cache, the sources) is left in it."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.aws import REGION, MotoServer
from tests.support.container import (
    UID,
    Image,
    container_name,
    data_volume,
    podman_command,
    remove,
    run,
    run_arguments,
    stop,
)
from tests.support.net import free_port
from tests.support.processes import JOB_DEADLINE_SECONDS, wait_ready
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.image

REPO = Path(__file__).resolve().parents[2]
PDF = REPO / "examples" / "ragops-backups.pdf"


@dataclass
class Running:
    """One `podman run` of the image, its log kept for failure messages."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> int:
        stop(self.name)
        try:
            return self.process.wait(timeout=60)
        finally:
            remove(self.name)


def start(
    image: Image,
    command: str,
    tmp: Path,
    *,
    env: dict[str, str] | None = None,
) -> Running:
    """`ragops COMMAND` in a container, ready; `serve` runs as the image's default command,
    with its port 8000 published, the others on the host's network (the tests' servers)."""
    port = free_port()
    name = container_name(command)
    log_path = tmp / f"{name}.log"
    data_dir = data_volume(tmp / f"{command}-data")
    if command == "serve":
        arguments = run_arguments(image.reference, name=name, data_dir=data_dir, publish=port)
    else:
        arguments = run_arguments(
            image.reference,
            *(command, "--host", "127.0.0.1", "--port", str(port)),
            name=name,
            data_dir=data_dir,
            env=env,
        )
    with log_path.open("wb") as log:
        process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)
    running = Running(name, f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_ready(process, running.url, running.log)
    except BaseException:
        running.stop()
        raise
    return running


@pytest.fixture(scope="module")
def served(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(image, "serve", tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


def wait_for_job(url: str, job_id: str, log: Running) -> dict[str, object]:
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job: dict[str, object] = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
        if job["state"] in ("ready", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} unfinished after {JOB_DEADLINE_SECONDS}s:\n{log.log()}")


def test_serve_answers_from_an_uploaded_pdf_with_its_citation(served: Running) -> None:
    assert httpx.get(f"{served.url}/healthz", timeout=10).status_code == 200
    page = httpx.get(f"{served.url}/", timeout=10)
    assert page.status_code == 200 and 'id="root"' in page.text, page.text[:500]

    upload = httpx.post(
        f"{served.url}/api/upload",
        files={"file": (PDF.name, PDF.read_bytes(), "application/pdf")},
        timeout=30,
    )
    assert upload.status_code == 202, upload.text
    job = wait_for_job(served.url, upload.json()["job_id"], served)
    assert job["state"] == "ready", job

    answer = httpx.post(
        f"{served.url}/api/ask",
        json={"query": "How many backups are always kept?"},
        timeout=60,
    ).json()
    assert answer["answered"] is True, answer
    assert "[1]" in answer["answer"], answer
    assert answer["sources"][0]["filename"] == "ragops-backups.pdf", answer
    assert "RAGOPS_BACKUP_KEEP_AT_LEAST" in answer["answer"] + answer["sources"][0]["excerpt"]


def test_serve_keeps_its_state_in_the_data_volume(served: Running) -> None:
    data = served.log_path.parent / "serve-data"
    written = [path for path in data.rglob("*") if path.is_file()]
    assert written, "nothing written to /data"
    assert {path.stat().st_uid for path in written} == {UID}


def test_image_runs_as_10001_with_ragops_as_entrypoint(image: Image) -> None:
    config = image.inspected["Config"]
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["ragops"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert "RAGOPS_DATA_DIR=/data" in config["Env"]


def test_labels_name_source_revision_and_version(image: Image) -> None:
    labels = image.labels
    version = subprocess.run(
        ["sed", "-n", 's/^version = "\\(.*\\)"$/\\1/p', str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.source"]
    revision = labels["org.opencontainers.image.revision"]
    # A commit of this repository (the image is cached by its inputs, so not always HEAD).
    known = subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], cwd=REPO)
    assert len(revision) == 40 and known.returncode == 0, revision


def test_every_entrypoint_is_in_the_one_image(image: Image) -> None:
    listed = run(image.reference, "--help")
    assert listed.returncode == 0, listed.stderr
    for command in ("serve", "api", "worker", "operator", "backup", "restore", "reindex"):
        assert f" {command} " in listed.stdout, (command, listed.stdout)
    # The devcluster distribution stays out: the command says how to get it.
    assert re.search(r"dev-cluster\s+Not installed", listed.stdout), listed.stdout

    operator = run(image.reference, "operator", "--help")
    assert operator.returncode == 0, operator.stderr
    assert "--peering" in operator.stdout


def test_nothing_of_the_build_is_left_in_the_image(image: Image) -> None:
    # Prints each offender found on the image's own file system (-xdev: not /proc, /tmp).
    script = r"""
for tool in gcc cc c++ g++ go make git npm node pip pip3; do
  command -v "$tool" >/dev/null 2>&1 && echo "tool: $tool"
done
find / -xdev \( -name .git -o -path '*/.cache/pip' -o -path /usr/local/go -o -name node_modules \
  -o -path /src -o -path /root/.npm \) -print 2>/dev/null | sed 's/^/path: /'
python3 -c 'import pip' 2>/dev/null && echo 'module: pip'
true
"""
    found = run(image.reference, "-c", script, entrypoint="/bin/sh")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "", found.stdout


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        if running.process.poll() is None:
            running.stop()
        remove(running.name)


def test_api_and_worker_containers_ingest_through_s3_sqs_and_redis(
    image: Image,
    aws: MotoServer,
    redis_server: RedisServer,
    services: list[Running],
    tmp_path: Path,
) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()
    queue_url, _ = aws.create_queue()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_S3": aws.url,
        "AWS_ENDPOINT_URL_SQS": aws.url,
        "RAGOPS_S3_BUCKET": aws.create_bucket(),
        "RAGOPS_SQS_QUEUE_URL": queue_url,
        "RAGOPS_CATALOG_URL": redis_server.url,
    }
    worker = start(image, "worker", tmp_path, env=env)
    services.append(worker)
    api = start(image, "api", tmp_path, env=env)
    services.append(api)

    upload = httpx.post(
        f"{api.url}/api/upload",
        files={"file": (PDF.name, PDF.read_bytes(), "application/pdf")},
        timeout=30,
    )
    assert upload.status_code == 202, upload.text
    job = wait_for_job(api.url, upload.json()["job_id"], worker)
    assert job["state"] == "ready", (job, worker.log())
    ready = httpx.get(f"{worker.url}/readyz", timeout=10).json()
    assert ready["checks"] == {"vector_store": "ok", "queue": "ok", "catalog": "ok", "worker": "ok"}
    # SIGTERM (podman stop): the worker finishes and exits 0.
    assert worker.stop() == 0, worker.log()
    listed = json.loads(httpx.get(f"{api.url}/api/documents", timeout=10).text)
    assert [d["filename"] for d in listed] == [PDF.name]


def test_a_change_to_ragops_is_a_small_layer_on_top_of_the_dependencies(image: Image) -> None:
    # Nodes and registries fetch only the layers they lack: a new release should be the few MB
    # of ragops, not the hundreds of MB of its dependencies again.
    history = json.loads(
        subprocess.run(
            [*podman_command(), "history", "--format", "json", image.reference],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    sizes = [entry["size"] for entry in history if entry["size"] > 0]  # newest first
    ragops, dependencies = sizes[0], sizes[1]
    assert ragops < 20 * 2**20 < 200 * 2**20 < dependencies, sizes
