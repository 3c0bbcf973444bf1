"""The qdrant-client the services ship talks to the Qdrant server the project builds and tests.

qdrant-client refuses to vouch for a server more than one minor version away (a UserWarning on
every client start, in every pod's log); the pin in pyproject.toml must stay within that range
of `ragops_devcluster.qdrant.VERSION`, which is also the operator's default image."""

from __future__ import annotations

import importlib.metadata

from ragops_devcluster import qdrant


def _major_minor(version: str) -> tuple[int, int]:
    major, minor, *_ = version.lstrip("v").split(".")
    return int(major), int(minor)


def test_the_installed_client_is_within_one_minor_of_the_built_server() -> None:
    client = _major_minor(importlib.metadata.version("qdrant-client"))
    server = _major_minor(qdrant.VERSION)
    assert client[0] == server[0] and abs(client[1] - server[1]) <= 1, (
        f"qdrant-client {client} vs server {qdrant.VERSION}: pin qdrant-client within one minor "
        "version of the server the dev cluster builds"
    )
