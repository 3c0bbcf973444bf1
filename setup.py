"""Builds the chat page into the package while setuptools builds it (pyproject.toml has the rest).

`pip install -e .` and `pip install .` from a clone run `build_py`, so this is where the React
sources in services/chat-ui become services/ragops_api/static/chat (gitignored, never committed),
which `ragops serve` then serves at `/`. The build runs only when npm exists and the assets are
missing or older than a source file; without npm the install goes on (the API and /docs work
without the page) and `ragops serve` says how to get it. The container image builds the page in
its own Node stage and copies it in first, so there the assets are fresh and nothing is rebuilt.
RAGOPS_SKIP_UI_BUILD=1 skips the build (e.g. no access to the npm registry).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
UI_SOURCES = ROOT / "services" / "chat-ui"
# Must match `build.outDir` in services/chat-ui/vite.config.ts.
UI_OUTPUT = ROOT / "services" / "ragops_api" / "static" / "chat"
# Not part of what the page is built from: installed modules and the tests.
_NOT_SOURCES = {"node_modules", "test"}


def _say(message: str) -> None:
    print(f"ragops chat page: {message}", file=sys.stderr, flush=True)


def _source_files(directory: Path) -> Iterator[Path]:
    for entry in directory.iterdir():
        if entry.is_dir():
            if entry.name not in _NOT_SOURCES:
                yield from _source_files(entry)
        elif entry.is_file():
            yield entry


def _stale() -> bool:
    index = UI_OUTPUT / "index.html"
    if not index.is_file():
        return True
    built = index.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _source_files(UI_SOURCES))


def _npm(npm: str, *args: str) -> None:
    _say(f"npm {' '.join(args)}")
    subprocess.run([npm, *args], cwd=UI_SOURCES, check=True)


def build_chat_ui() -> None:
    if not (UI_SOURCES / "package.json").is_file():
        return  # building from a tree without the page's sources: nothing to build
    if os.environ.get("RAGOPS_SKIP_UI_BUILD") == "1":
        _say("skipped (RAGOPS_SKIP_UI_BUILD=1)")
        return
    if not _stale():
        return
    npm = shutil.which("npm")
    if npm is None:
        if (UI_OUTPUT / "index.html").is_file():
            _say("npm not found: keeping the existing build, older than its sources")
        else:
            _say(
                "npm not found: the chat page is not built (`/` will say so; the API and /docs "
                "work). Install Node.js >= 20.19 with npm and run the install again."
            )
        return
    installed = UI_SOURCES / "node_modules" / ".package-lock.json"
    lock = UI_SOURCES / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        _npm(npm, "ci", "--no-audit", "--no-fund")
    _npm(npm, "run", "build")


class BuildPyWithChatUi(build_py):
    def run(self) -> None:
        # Before the package data is collected, so a regular install copies the fresh assets.
        build_chat_ui()
        super().run()


setup(cmdclass={"build_py": BuildPyWithChatUi})
