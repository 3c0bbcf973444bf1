"""Three (or more) real Qdrant peers started exactly as the operator's StatefulSet starts them.

Nothing about the peers is retyped here: the command and environment come from the StatefulSet
the builder renders, run through a small, explicit mapping from the pod's world to this machine:

- the pod's shell entrypoint runs as it is, with Qdrant's own `/qdrant/entrypoint.sh` (the image's
  wrapper that runs `./qdrant "$@"`) replaced by a recorder of its arguments;
- each peer's DNS name on the headless Service (`<pod>.<headless>:<p2p>`) becomes 127.0.0.1 and
  that peer's free p2p port, and no other URL is accepted;
- an environment value equal to one of the container's named ports becomes the peer's free port of
  the same name; a value under one of the container's volume mounts moves under the peer's folder;
- `valueFrom` the downward API gives the pod name; Secrets come from the caller.

So a builder that passes a wrong p2p port, no `--uri`, or no cluster setting starts peers that do
not form a cluster, and the tests fail. A killed peer restarts with the same storage and the same
(re-rendered) arguments, as a restarted pod on its volume would.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from ragops_devcluster import qdrant
from ragops_operator.objects import Obj
from tests.support.net import free_port

# Qdrant's image wrapper, which the pod's entrypoint execs with the peer's arguments.
IMAGE_ENTRYPOINT = "/qdrant/entrypoint.sh"
READY_DEADLINE_SECONDS = 120.0


@dataclass(frozen=True)
class LocalPeer:
    """Where one pod of the StatefulSet lives on this machine."""

    pod: str
    ports: Mapping[str, int]  # container port name -> local port
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"


def container_of(statefulset: Obj) -> dict[str, Any]:
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    return container  # type: ignore[no-any-return]


def peer_hosts(statefulset: Obj, peers: list[LocalPeer]) -> dict[str, str]:
    """`<pod>.<headless service>:<p2p port>` -> `127.0.0.1:<local p2p port>`, for every peer."""
    headless = statefulset["spec"]["serviceName"]
    p2p = {p["name"]: p["containerPort"] for p in container_of(statefulset)["ports"]}["p2p"]
    return {f"{peer.pod}.{headless}:{p2p}": f"127.0.0.1:{peer.ports['p2p']}" for peer in peers}


def localize_args(args: list[str], hosts: Mapping[str, str]) -> list[str]:
    """Every URL argument with its host mapped; a URL to a host outside `hosts` is an error (it
    would reach nothing on this machine, and nothing in a cluster either)."""
    local = []
    for arg in args:
        parts = urlsplit(arg)
        if parts.scheme and parts.netloc:
            if parts.netloc not in hosts:
                raise ValueError(f"argument {arg!r} names no peer of the StatefulSet")
            arg = urlunsplit(parts._replace(netloc=hosts[parts.netloc]))
        local.append(arg)
    return local


def localize_env(
    container: dict[str, Any], peer: LocalPeer, secrets: Mapping[tuple[str, str], str]
) -> dict[str, str]:
    """The container's environment for `peer` on this machine (see the module docstring)."""
    ports = {str(p["containerPort"]): peer.ports[p["name"]] for p in container["ports"]}
    mounts = {m["mountPath"]: peer.directory / m["name"] for m in container["volumeMounts"]}
    env: dict[str, str] = {}
    for entry in container["env"]:
        source = entry.get("valueFrom")
        if source is None:
            value = str(entry["value"])
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            value = peer.pod
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = secrets[(ref["name"], ref["key"])]
        else:
            raise ValueError(f"no local value for {entry}")
        env[entry["name"]] = _localize_value(value, ports, mounts)
    return env


def _localize_value(value: str, ports: Mapping[str, int], mounts: Mapping[str, Path]) -> str:
    if value in ports:
        return str(ports[value])
    # The deepest mount holding the path, as the container's filesystem resolves it.
    for mount in sorted(mounts, key=len, reverse=True):
        if value == mount or value.startswith(f"{mount}/"):
            return str(mounts[mount]) + value[len(mount) :]
    return value


def rendered_args(container: dict[str, Any], pod: str, directory: Path) -> list[str]:
    """The arguments the pod's entrypoint passes to Qdrant's wrapper, recorded by running it."""
    shell, flag, script = container["command"]
    assert IMAGE_ENTRYPOINT in script, "the pod no longer runs Qdrant's image entrypoint"
    recorder = directory / "record-args.sh"
    recorder.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n')
    recorder.chmod(recorder.stat().st_mode | stat.S_IEXEC)
    out = subprocess.run(
        [shell, flag, script.replace(IMAGE_ENTRYPOINT, str(recorder))],
        env={"PATH": os.environ["PATH"], "POD_NAME": pod},
        capture_output=True,
        check=True,
        timeout=10,
    )
    return [a.decode() for a in out.stdout.split(b"\0")[:-1]]


class QdrantCluster:
    """The StatefulSet's peers as local processes (one process group each, like a container)."""

    def __init__(
        self,
        statefulset: Obj,
        directory: Path,
        *,
        secrets: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        binary = qdrant.find_qdrant()
        if binary is None:
            pytest.fail(qdrant.NOT_BUILT, pytrace=False)
        self.binary = binary
        self.statefulset = statefulset
        self.container = container_of(statefulset)
        self.secrets = secrets or {}
        name = statefulset["metadata"]["name"]
        names = [p["name"] for p in self.container["ports"]]
        self.peers = [
            LocalPeer(
                pod=f"{name}-{ordinal}",
                ports={port: free_port() for port in names},
                directory=directory / f"{name}-{ordinal}",
            )
            for ordinal in range(statefulset["spec"]["replicas"])
        ]
        self.hosts = peer_hosts(statefulset, self.peers)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {}
        for peer in self.peers:
            self.start(peer)
        for peer in self.peers:
            self.wait_ready(peer)

    def command(self, peer: LocalPeer) -> tuple[list[str], dict[str, str]]:
        args = rendered_args(self.container, peer.pod, peer.directory)
        env = localize_env(self.container, peer, self.secrets)
        return [str(self.binary), *localize_args(args, self.hosts)], {
            "PATH": os.environ["PATH"],
            **env,
        }

    def start(self, peer: LocalPeer) -> None:
        """Start (or restart, on the same folders) one peer."""
        for mount in self.container["volumeMounts"]:
            (peer.directory / mount["name"]).mkdir(parents=True, exist_ok=True)
        argv, env = self.command(peer)
        with open(peer.directory / "qdrant.log", "ab") as log:
            self.processes[peer.pod] = subprocess.Popen(
                argv,
                cwd=peer.directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, peer: LocalPeer) -> None:
        """SIGKILL, as a node loss or an OOM kill would end the container."""
        process = self.processes[peer.pod]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def log(self, peer: LocalPeer) -> str:
        return (peer.directory / "qdrant.log").read_text(errors="replace")[-3000:]

    def wait_ready(self, peer: LocalPeer) -> None:
        """Until the peer answers /readyz, restarting it when it exits, as the kubelet restarts a
        container (a peer that starts before peer 0 listens exits: Qdrant does not retry the
        bootstrap)."""
        deadline = time.monotonic() + READY_DEADLINE_SECONDS
        backoff = 1.0
        while time.monotonic() < deadline:
            if self.processes[peer.pod].poll() is not None:
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                self.restarts[peer.pod] = self.restarts.get(peer.pod, 0) + 1
                self.start(peer)
            try:
                if httpx.get(f"{peer.url}/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{peer.pod} not ready:\n{self.log(peer)}")

    def cluster_info(self, peer: LocalPeer) -> dict[str, Any]:
        response = httpx.get(f"{peer.url}/cluster", timeout=10.0)
        response.raise_for_status()
        return response.json()["result"]  # type: ignore[no-any-return]

    def shards(self, peer: LocalPeer, collection: str) -> dict[str, Any]:
        response = httpx.get(f"{peer.url}/collections/{collection}/cluster", timeout=10.0)
        response.raise_for_status()
        return response.json()["result"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class ServiceProxy:
    """The client Service in front of the peers: every new connection goes to the next peer in
    turn, live or not, as kube-proxy does until a dead pod leaves the Service's endpoints. A
    connection to a dead peer is reset, and so are those open to a peer when it dies."""

    def __init__(self, ports: list[int]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._backends = itertools.cycle(ports)
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        started.wait(timeout=10)

    def _serve(self, started: threading.Event) -> None:
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connect, "127.0.0.1", self.port)
        )
        started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", next(self._backends)
            )
        except OSError:
            writer.transport.abort()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until it ends; a reset on one side resets the other, as a dead peer's
    connections end for its clients."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
    except OSError:
        writer.transport.abort()
