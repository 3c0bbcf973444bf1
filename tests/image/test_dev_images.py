"""The images the dev cluster's real node runs beside the project's (scripts/build-dev-images.sh),
each run with podman as its own non-root user:

- Qdrant exactly as the operator's StatefulSet runs it (the container spec is taken from
  ragops_operator.builders.qdrant: command, environment, user, read-only root, mounts), answers
  /readyz, and creates a collection and a snapshot through qdrant-client;
- Redis answers PING, SET and GET (redis-py);
- moto serves S3 (bucket, object) and SQS (queue, message) to boto3.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import redis
from qdrant_client import QdrantClient, models

from ragops_operator.builders import qdrant as qdrant_builder
from tests.support.builder_specs import OWNER, qdrant_spec
from tests.support.container import container_name, podman_command, remove
from tests.support.dev_images import DevImages, ensure_dev_images
from tests.support.net import free_port

pytestmark = pytest.mark.image

_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
READY_SECONDS = 120
# What a build must not leave behind in a runtime image.
_BUILD_TOOLS = "gcc cc c++ g++ make go git cargo rustc pip pip3"


@pytest.fixture(scope="module")
def dev_images() -> DevImages:
    return ensure_dev_images()


def inspect(reference: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = json.loads(
        subprocess.run(
            [*podman_command(), "image", "inspect", reference],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    return found[0]


def logs(name: str) -> str:
    shown = subprocess.run(
        [*podman_command(), "logs", name], capture_output=True, text=True, timeout=60
    )
    return (shown.stdout + shown.stderr)[-6000:]


def process_uid(name: str) -> int:
    """The real uid of the container's main process, read from the host's /proc (root podman,
    no user namespace: the same numbers)."""
    pid = subprocess.run(
        [*podman_command(), "inspect", "--format", "{{.State.Pid}}", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {name}'s process {pid}")


@contextmanager
def detached(arguments: list[str], *, purpose: str) -> Iterator[str]:
    """`podman run -d` with `arguments` (options, image, command); the container's name. It is
    removed afterwards, whatever happened."""
    name = container_name(purpose)
    started = subprocess.run(
        [*podman_command(), "run", "-d", "--name", name, *_LIMITS, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        assert started.returncode == 0, f"podman run failed: {started.stderr}"
        yield name
    finally:
        remove(name)


def wait_for(check: Any, *, name: str, what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    last: object = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # the server is still starting: refused, reset
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {READY_SECONDS} s ({last!r}):\n{logs(name)}")


def host_dir(path: Path, uid: int) -> Path:
    """A volume as the kubelet would make it for a pod with fsGroup `uid`."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", f"{uid}:{uid}", str(path)], check=True)
    return path


def pod_arguments(
    container: dict[str, Any], pod: dict[str, Any], *, pod_name: str, volumes: dict[str, Path]
) -> list[str]:
    """podman options that run `container` of `pod` the way the kubelet would: the pod's user,
    the container's security context, its environment (fieldRef metadata.name is `pod_name`),
    `volumes` (by volume name) at its mount paths, and its command as the entrypoint."""
    user = pod["securityContext"]
    security = container["securityContext"]
    arguments = ["--user", f"{user['runAsUser']}:{user['runAsGroup']}"]
    if security.get("readOnlyRootFilesystem"):
        arguments.append("--read-only")
    if security.get("allowPrivilegeEscalation") is False:
        arguments += ["--security-opt", "no-new-privileges"]
    for capability in security.get("capabilities", {}).get("drop", []):
        arguments += ["--cap-drop", capability]
    for variable in container["env"]:
        if "value" in variable:
            value = variable["value"]
        else:
            assert variable["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}, variable
            value = pod_name
        arguments += ["--env", f"{variable['name']}={value}"]
    for mount in container["volumeMounts"]:
        arguments += ["--volume", f"{volumes[mount['name']]}:{mount['mountPath']}"]
    return [*arguments, "--entrypoint", json.dumps(container["command"])]


def test_qdrant_runs_as_the_operators_statefulset_runs_it(
    dev_images: DevImages, tmp_path: Path
) -> None:
    qdrant = qdrant_spec(image=dev_images.qdrant, replicas=1).vector_store.qdrant
    stateful_set = qdrant_builder.stateful_set(qdrant, OWNER)
    pod = stateful_set["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == dev_images.qdrant
    assert pod["securityContext"]["runAsUser"] == qdrant_builder.QDRANT_UID

    pod_name = f"{qdrant_builder.name(OWNER)}-0"
    uid = qdrant_builder.QDRANT_UID
    volumes = {
        mount["name"]: host_dir(tmp_path / mount["name"], uid)
        for mount in container["volumeMounts"]
    }
    http, grpc = free_port(), free_port()
    arguments = [
        *pod_arguments(container, pod, pod_name=pod_name, volumes=volumes),
        # The peer's own URI (--uri) names it through the headless Service.
        "--add-host",
        f"{pod_name}.{qdrant_builder.headless_name(OWNER)}:127.0.0.1",
        "--publish",
        f"127.0.0.1:{http}:{qdrant_builder.HTTP_PORT}",
        "--publish",
        f"127.0.0.1:{grpc}:{qdrant_builder.GRPC_PORT}",
        dev_images.qdrant,
    ]
    url = f"http://127.0.0.1:{http}"
    with detached(arguments, purpose="qdrant") as name:
        wait_for(
            lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200,
            name=name,
            what="Qdrant's /readyz",
        )
        assert process_uid(name) == uid

        client = QdrantClient(url=url, timeout=60, check_compatibility=False)
        collection = f"docs-{uuid.uuid4().hex[:8]}"
        client.create_collection(
            collection,
            vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE),
        )
        client.upsert(
            collection,
            points=[
                models.PointStruct(id=1, vector=[1.0, 0.0, 0.0, 0.0], payload={"page": 1}),
                models.PointStruct(id=2, vector=[0.0, 1.0, 0.0, 0.0], payload={"page": 2}),
            ],
            wait=True,
        )
        hits = client.query_points(collection, query=[0.9, 0.1, 0.0, 0.0], limit=1).points
        assert [hit.payload for hit in hits] == [{"page": 1}]

        snapshot = client.create_snapshot(collection, wait=True)
        assert snapshot is not None
        assert snapshot.name in {s.name for s in client.list_snapshots(collection)}
        client.close()

    # Everything it wrote is on the pod's volumes, as its user.
    written = list(volumes[qdrant_builder.SNAPSHOTS].rglob(snapshot.name))
    assert written and all(path.stat().st_uid == uid for path in written), written
    assert (volumes[qdrant_builder.VOLUME_NAME] / "collections" / collection).is_dir()


def test_qdrant_image_is_laid_out_like_the_official_unprivileged_one(
    dev_images: DevImages,
) -> None:
    config = inspect(dev_images.qdrant)["Config"]
    assert config["User"] == "1000:1000"
    assert config["WorkingDir"] == "/qdrant"
    assert config["Cmd"] == ["./entrypoint.sh"]
    listed = run_in(
        dev_images.qdrant,
        "stat -c '%n %u' /qdrant/qdrant /qdrant/entrypoint.sh /qdrant/config/config.yaml "
        "/qdrant/LICENSE /qdrant/storage /qdrant/snapshots && ./qdrant --version",
    )
    owners = dict(line.split() for line in listed.splitlines()[:-1])
    assert owners["/qdrant/storage"] == owners["/qdrant/snapshots"] == "1000", listed
    assert listed.splitlines()[-1].startswith("qdrant 1.18.3"), listed


def test_redis_answers_ping_set_and_get(dev_images: DevImages, tmp_path: Path) -> None:
    assert inspect(dev_images.redis)["Config"]["User"] == "999:999"
    port = free_port()
    data = host_dir(tmp_path / "data", 999)
    arguments = [
        "--read-only",
        "--volume",
        f"{data}:/data",
        "--publish",
        f"127.0.0.1:{port}:6379",
        dev_images.redis,
    ]
    with detached(arguments, purpose="redis") as name:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
        wait_for(lambda: client.ping(), name=name, what="Redis's PING")
        assert process_uid(name) == 999
        assert client.set("greeting", "hello") is True
        assert client.get("greeting") == b"hello"
        # It writes its dump where the volume is, as its user.
        assert client.save() is True
        client.close()
    assert (data / "dump.rdb").stat().st_uid == 999


def test_moto_serves_s3_and_sqs(dev_images: DevImages) -> None:
    config = inspect(dev_images.moto)["Config"]
    assert config["User"] == "10001:10001"
    port = free_port()
    arguments = [
        "--read-only",
        "--tmpfs",
        "/tmp:rw,size=64m,mode=1777",
        "--publish",
        f"127.0.0.1:{port}:5000",
        dev_images.moto,
    ]
    url = f"http://127.0.0.1:{port}"
    with detached(arguments, purpose="moto") as name:
        wait_for(
            lambda: httpx.get(f"{url}/moto-api/", timeout=5).status_code == 200,
            name=name,
            what="moto_server",
        )
        assert process_uid(name) == 10001

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

        s3 = client("s3")
        s3.create_bucket(Bucket="documents")
        s3.put_object(Bucket="documents", Key="a/b.pdf", Body=b"%PDF-1.4 bytes")
        assert s3.get_object(Bucket="documents", Key="a/b.pdf")["Body"].read() == b"%PDF-1.4 bytes"

        sqs = client("sqs")
        queue = sqs.create_queue(QueueName="ingest")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody='{"job": 1}')
        received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
        assert [message["Body"] for message in received] == ['{"job": 1}']


def run_in(reference: str, script: str) -> str:
    """`sh -c script` in a throw-away container of `reference`, as its user; its stdout."""
    name = container_name("dev-image")
    try:
        ran = subprocess.run(
            [
                *podman_command(),
                "run",
                "--rm",
                "--name",
                name,
                *_LIMITS,
                "--entrypoint",
                "/bin/sh",
                reference,
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        remove(name)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


@pytest.mark.parametrize("which", ["qdrant", "redis", "moto"])
def test_no_build_tool_is_left_in_the_image(dev_images: DevImages, which: str) -> None:
    script = (
        f'for tool in {_BUILD_TOOLS}; do command -v "$tool" >/dev/null 2>&1 && echo "$tool"; '
        "done; python3 -c 'import pip' 2>/dev/null && echo 'module: pip'; true"
    )
    found = run_in(getattr(dev_images, which), script)
    assert found.strip() == "", found
