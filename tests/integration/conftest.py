"""The real app, real embedded adapters and the real offline model, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ragops_api.app import create_app
from ragops_core.adapters.embedder.onnx import OnnxMiniLMEmbedder
from ragops_core.metrics import Metrics
from ragops_core.settings import Settings
from ragops_wiring.adapters import build_adapters
from ragops_worker.service import build_worker
from tests.support.api import AppFactory
from tests.support.jwks import JwksServer
from tests.support.processes import Service


@pytest.fixture(scope="session")
def embedder() -> OnnxMiniLMEmbedder:
    # Loaded once: the model takes a second and ~1 GB to load.
    return OnnxMiniLMEmbedder()


@pytest.fixture
def make_client(tmp_path: Path, embedder: OnnxMiniLMEmbedder) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> TestClient:
        settings = Settings(**{"data_dir": tmp_path / "data", **overrides})
        metrics = Metrics()
        adapters = build_adapters(settings, metrics=metrics, embedder=embedder)
        app = create_app(
            settings, adapters, metrics=metrics, worker=build_worker(settings, adapters, metrics)
        )
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    """A JWKS endpoint publishing the test signing key (tokens from jwks_support)."""
    server = JwksServer()
    yield server
    server.stop()


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """`ragops api` / `ragops worker` processes a test starts; killed when it ends."""
    started: list[Service] = []
    yield started
    for service in started:
        service.kill()
