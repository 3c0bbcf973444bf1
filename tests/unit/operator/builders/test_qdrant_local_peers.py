"""The mapping that runs the Qdrant StatefulSet's peers on this machine
(tests/support/qdrant_cluster.py): what it changes, and that it changes nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops_operator.builders import qdrant
from tests.support.builder_specs import OWNER, one, qdrant_spec
from tests.support.qdrant_cluster import (
    LocalPeer,
    container_of,
    localize_args,
    localize_env,
    peer_hosts,
    rendered_args,
)

STATEFULSET = one(
    qdrant.build(
        qdrant_spec(
            replicas=3, replicationFactor=2, apiKeySecretRef={"name": "qdrant-key", "key": "k"}
        ),
        OWNER,
    ),
    "StatefulSet",
)
PORTS = {"http": 1001, "grpc": 1002, "p2p": 1003}


def peers(tmp_path: Path) -> list[LocalPeer]:
    return [
        LocalPeer(f"demo-qdrant-{i}", {k: v + 10 * i for k, v in PORTS.items()}, tmp_path / str(i))
        for i in range(3)
    ]


def test_peer_uris_become_loopback_with_each_peers_own_p2p_port(tmp_path: Path) -> None:
    hosts = peer_hosts(STATEFULSET, peers(tmp_path))
    args = rendered_args(container_of(STATEFULSET), "demo-qdrant-2", tmp_path)
    assert localize_args(args, hosts) == [
        "--uri",
        "http://127.0.0.1:1023",
        "--bootstrap",
        "http://127.0.0.1:1003",
    ]


def test_a_url_to_no_peer_is_refused(tmp_path: Path) -> None:
    hosts = peer_hosts(STATEFULSET, peers(tmp_path))
    with pytest.raises(ValueError, match="names no peer"):
        localize_args(["--bootstrap", "http://demo-qdrant-0.demo-qdrant-headless:7000"], hosts)


def test_environment_maps_ports_paths_pod_name_and_secrets_only(tmp_path: Path) -> None:
    peer = peers(tmp_path)[1]
    env = localize_env(container_of(STATEFULSET), peer, {("qdrant-key", "k"): "secret"})
    assert env["POD_NAME"] == "demo-qdrant-1"
    assert env["QDRANT__SERVICE__HTTP_PORT"] == "1011"
    assert env["QDRANT__SERVICE__GRPC_PORT"] == "1012"
    assert env["QDRANT__CLUSTER__P2P__PORT"] == "1013"
    assert str(peer.directory).startswith("/tmp/")
    assert env["QDRANT__STORAGE__STORAGE_PATH"] == str(peer.directory / "storage")
    # Mapped once: a local folder under /tmp is not mapped again by the pod's /tmp mount.
    assert env["QDRANT_INIT_FILE_PATH"] == str(peer.directory / "init" / ".qdrant-initialized")
    assert env["QDRANT__SERVICE__API_KEY"] == "secret"
    # Everything else passes unchanged.
    assert env["QDRANT__CLUSTER__ENABLED"] == "true"
    assert env["QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"] == "2"
