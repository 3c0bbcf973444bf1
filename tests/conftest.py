"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.aws import MotoServer
from tests.support.qdrant_server import QdrantServer
from tests.support.redis_server import RedisServer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The evaluation data laid beside the repository (../shared), or RAGOPS_SHARED_DIR."""
    path = Path(os.environ.get("RAGOPS_SHARED_DIR", REPO.parent / "shared"))
    if not (path / "datasets" / "pdfs" / "manifest.jsonl").is_file():
        pytest.fail(
            f"evaluation data not found at {path}/datasets; "
            "set RAGOPS_SHARED_DIR to the shared/ folder"
        )
    return path


@pytest.fixture(scope="session")
def pdf_dir(shared_dir: Path) -> Path:
    return shared_dir / "datasets" / "pdfs"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the session; tests flush what they use."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """moto in server mode: real HTTP for boto3, one per test module."""
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    moto_server.use_env(monkeypatch)
    return moto_server


@pytest.fixture(scope="session")
def qdrant_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QdrantServer]:
    """One real Qdrant server for the session (built by `ragops dev-cluster build`); tests use
    collections of their own."""
    server = QdrantServer(tmp_path_factory.mktemp("qdrant"))
    yield server
    server.stop()
