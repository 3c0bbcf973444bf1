"""Serve the built chat page at `/`, with SPA fallback; say how to build it when it is missing.

The page is built into the package (static/chat, by setup.py during `pip install`, or by
`npm run build` in services/chat-ui), so a source checkout and an installed wheel find it in the
same place. Only GET/HEAD requests for paths outside the API and the operational endpoints are
answered here: an existing file is sent as is (hashed assets cached for a year), any other path
gets index.html so client-side routes survive a reload.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

# Where setup.py (and `npm run build`) put the chat page: inside this package, gitignored.
PACKAGED_UI_DIR = Path(__file__).resolve().parent / "static" / "chat"
HOW_TO_BUILD = (
    "install Node.js >= 20.19 with npm, then run `pip install -e .` (or `pip install .`) again"
)
_NOT_BUILT_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RAGOps</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>RAGOps is running</h1>
<p>The chat page was not built when RAGOps was installed: {HOW_TO_BUILD}.</p>
<p>The API works meanwhile: see <a href="docs">its documentation</a>.</p>
</body></html>
"""

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


def chat_ui_dir(configured: Path | None) -> Path | None:
    """The built chat page to serve (RAGOPS_UI_DIR, else the package's), or None if not built."""
    directory = configured or PACKAGED_UI_DIR
    return directory if (directory / "index.html").is_file() else None


def mount_not_built_page(app: FastAPI) -> None:
    """`/` without a built chat page: say how to get it instead of a bare 404."""

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def chat_ui_not_built() -> HTMLResponse:
        return HTMLResponse(_NOT_BUILT_PAGE)


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
