"""`mount_chat_ui`: built assets at `/`, SPA fallback, API and operational paths untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ragops_api.static_ui import chat_ui_dir, mount_chat_ui, mount_not_built_page
from ragops_cli.banner import serve_banner
from ragops_core.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div>')
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/documents")
    async def documents() -> list[str]:
        return []

    mount_chat_ui(app, tmp_path)
    return TestClient(app)


def test_index_and_spa_fallback(client: TestClient) -> None:
    for path in ("/", "/conversations/42", "/some/deep/link"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'id="root"' in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_assets_are_served_and_cached(client: TestClient) -> None:
    response = client.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    assert client.get("/favicon.svg").text == "<svg/>"
    assert client.get("/assets/missing-123.js").status_code == 404


def test_api_and_operational_paths_are_not_the_page(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/documents").json() == []
    for path in ("/api/nope", "/api", "/metrics", "/readyz", "/openapi.json.bak", "/docs/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "root" not in response.text


def test_no_escape_from_the_directory(client: TestClient) -> None:
    response = client.get("/%2e%2e/%2e%2e/etc/passwd")
    assert response.status_code == 200
    assert 'id="root"' in response.text


def test_missing_build_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="npm run build"):
        mount_chat_ui(FastAPI(), tmp_path)


def test_without_a_build_the_root_says_how_to_get_the_page_and_the_banner_too(
    tmp_path: Path,
) -> None:
    assert chat_ui_dir(tmp_path) is None
    app = FastAPI()
    mount_not_built_page(app)
    page = TestClient(app).get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Node.js >= 20.19" in page.text and 'href="docs"' in page.text
    banner = serve_banner("127.0.0.1", 8000, Settings(data_dir=tmp_path, ui_dir=tmp_path))
    assert "chat page: not built (install Node.js >= 20.19 with npm" in banner
    assert "API docs: http://127.0.0.1:8000/docs" in banner
