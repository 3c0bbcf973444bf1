"""Run the RAGOps image with root's podman, the way a hardened pod runs it: uid 10001, a
read-only root file system, a tmpfs at /tmp and a volume at /data; on the host's network when
it must reach the tests' servers on 127.0.0.1."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Debian's podman on these machines: runc (crun refuses the hybrid cgroup layout), cgroupfs,
# and limits no higher than the hard ones (no CAP_SYS_RESOURCE): ../shared/notes/containers.md.
_GLOBAL = ("--runtime", "/usr/sbin/runc", "--cgroup-manager=cgroupfs")
_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
UID = 10001


def podman_command() -> list[str]:
    return ["podman", *_GLOBAL]


@dataclass(frozen=True)
class Image:
    reference: str
    inspected: dict[str, Any]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.inspected.get("Labels") or {})


def run_arguments(
    image: str,
    *args: str,
    name: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    entrypoint: str | None = None,
    publish: int | None = None,
) -> list[str]:
    """`podman run` of `image` with `args`; on the host's network, or with only `publish`
    (a port of 127.0.0.1) forwarded to the container's 8000 on a network of its own."""
    network = ["--publish", f"127.0.0.1:{publish}:8000"] if publish else ["--network", "host"]
    command = [
        *podman_command(),
        "run",
        "--rm",
        "--name",
        name,
        "--read-only",
        "--user",
        f"{UID}:{UID}",
        "--tmpfs",
        "/tmp:rw,size=256m,mode=1777",
        *network,
        *_LIMITS,
    ]
    if data_dir is not None:
        command += ["--volume", f"{data_dir}:/data"]
    for key, value in (env or {}).items():
        command += ["--env", f"{key}={value}"]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    return [*command, image, *args]


def data_volume(path: Path) -> Path:
    """A host directory the container's user owns, mounted at /data."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", f"{UID}:{UID}", str(path)], check=True)
    return path


def container_name(purpose: str) -> str:
    return f"ragops-test-{purpose}-{uuid.uuid4().hex[:8]}"


def run(
    image: str,
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    entrypoint: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """One command in a throw-away container; its output."""
    name = container_name("run")
    try:
        return subprocess.run(
            run_arguments(image, *args, name=name, env=env, entrypoint=entrypoint),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        remove(name)


def stop(name: str) -> None:
    subprocess.run(
        [*podman_command(), "stop", "--time", "20", name], capture_output=True, timeout=120
    )


def remove(name: str) -> None:
    """Nothing may outlive a test, even one that failed half way."""
    subprocess.run(
        [*podman_command(), "rm", "--force", "--ignore", name], capture_output=True, timeout=120
    )
