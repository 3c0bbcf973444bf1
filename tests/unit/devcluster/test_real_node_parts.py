"""The real node's pure parts: volume objects, image archive names, the node's network choice."""

from __future__ import annotations

import io
import ipaddress
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragops_devcluster import images, nodenet, volumes
from ragops_devcluster.cli import app
from ragops_devcluster.errors import DevClusterError


def _claim() -> dict[str, object]:
    return {
        "metadata": {"namespace": "team", "name": "data", "uid": "0123456789abcdef"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}},
    }


def test_a_claim_gets_a_hostpath_volume_prebound_to_it_under_the_root(tmp_path: Path) -> None:
    volume = volumes.volume_for(_claim(), tmp_path)

    spec = volume["spec"]
    assert volume["metadata"]["name"] == "pvc-0123456789abcdef"
    assert spec["capacity"] == {"storage": "20Gi"}
    assert spec["storageClassName"] == "gp3"
    assert spec["persistentVolumeReclaimPolicy"] == "Delete"
    assert spec["claimRef"]["uid"] == "0123456789abcdef"
    assert Path(spec["hostPath"]["path"]) == tmp_path / "team-data-01234567"


def test_the_real_node_storage_class_waits_for_the_first_consumer() -> None:
    storage = volumes.storage_class()
    assert storage["metadata"]["name"] == "gp3"
    assert storage["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage["provisioner"] == volumes.PROVISIONER


def _tar(path: Path, members: dict[str, object]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_archive_names_come_from_an_oci_index_or_a_docker_manifest(tmp_path: Path) -> None:
    oci = _tar(
        tmp_path / "oci.tar",
        {
            "oci-layout": {"imageLayoutVersion": "1.0.0"},
            "index.json": {
                "manifests": [
                    {"annotations": {"org.opencontainers.image.ref.name": "localhost/a:1"}}
                ]
            },
        },
    )
    docker = _tar(tmp_path / "docker.tar", {"manifest.json": [{"RepoTags": ["localhost/b:2"]}]})

    assert images.archive_names(oci) == ["localhost/a:1"]
    assert images.archive_names(docker) == ["localhost/b:2"]
    with pytest.raises(DevClusterError, match="neither an OCI archive nor a docker archive"):
        images.archive_names(_tar(tmp_path / "other.tar", {"x.json": {}}))


def test_the_node_network_is_stable_per_directory_and_in_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nodenet, "_networks_in_use", lambda: [])
    first = nodenet.allocate(Path("/tmp/rn-one"))

    assert first == nodenet.allocate(Path("/tmp/rn-one"))
    assert first.bridge != nodenet.allocate(Path("/tmp/rn-two")).bridge
    assert len(first.bridge) <= 15
    subnet = ipaddress.IPv4Network(first.subnet)
    assert subnet.prefixlen == 24 and subnet.subnet_of(ipaddress.IPv4Network("10.250.0.0/16"))
    assert first.node_ip == str(next(subnet.hosts()))


def test_the_node_network_skips_a_subnet_already_on_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nodenet, "_networks_in_use", lambda: [])
    wanted = nodenet.allocate(Path("/tmp/rn-one"))
    monkeypatch.setattr(nodenet, "_networks_in_use", lambda: [ipaddress.IPv4Network(wanted.subnet)])

    assert nodenet.allocate(Path("/tmp/rn-one")).subnet != wanted.subnet


def test_load_image_without_a_real_node_says_how_to_start_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["load-image", "localhost/x:1", "--dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "up --real-node" in result.output


def test_familiar_docker_names_get_the_registry_containerd_stores_them_under() -> None:
    assert images.normalized("redis:7") == "docker.io/library/redis:7"
    assert images.normalized("team/app:1") == "docker.io/team/app:1"
    assert images.normalized("localhost/ragops:1") == "localhost/ragops:1"
    assert images.normalized("registry.example:5000/app:1") == "registry.example:5000/app:1"
