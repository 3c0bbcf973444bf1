"""The line `ragops serve` prints on start: where the chat page, the API docs and the data are."""

from __future__ import annotations

from ragops_api.static_ui import HOW_TO_BUILD, chat_ui_dir
from ragops_core.settings import Settings


def serve_banner(host: str, port: int, settings: Settings) -> str:
    url = f"http://{host}:{port}"
    chat = (
        f"chat page: {url}/"
        if chat_ui_dir(settings.ui_dir) is not None
        else f"chat page: not built ({HOW_TO_BUILD})"
    )
    return (
        f"RAGOps serving on {url}\n  {chat}\n  API docs: {url}/docs\n"
        f"  data: {settings.data_dir.resolve()}"
    )
