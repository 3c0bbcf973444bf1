"""Serve the built chat page (services/chat-ui/dist) at `/`, with SPA fallback.

Only GET/HEAD requests for paths outside the API and the operational endpoints are
answered here: an existing file is sent as is (hashed assets cached for a year), any
other path gets index.html so client-side routes survive a reload.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response

_RESERVED_PREFIXES = (
    "/api/",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
)
_IMMUTABLE = "public, max-age=31536000, immutable"


def _reserved(path: str) -> bool:
    return path == "/api" or path.startswith(_RESERVED_PREFIXES)


def mount_chat_ui(app: FastAPI, directory: Path) -> None:
    """Serve `directory` (a Vite build with index.html) at `/`; register after the API routes."""
    root = directory.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise FileNotFoundError(
            f"{index} not found: build the chat UI first (npm run build in services/chat-ui)"
        )

    def _index() -> FileResponse:
        # index.html names the hashed assets, so it must never be cached stale.
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def chat_ui_index() -> Response:
        return _index()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def chat_ui_files(path: str, request: Request) -> Response:
        if _reserved(request.url.path):
            raise HTTPException(status_code=404)
        candidate = (root / path).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            headers = {"Cache-Control": _IMMUTABLE} if candidate.parent.name == "assets" else None
            return FileResponse(candidate, headers=headers)
        if path.startswith("assets/"):
            # A missing hashed asset is a real 404, not the page (avoids HTML served as JS).
            raise HTTPException(status_code=404)
        return _index()
