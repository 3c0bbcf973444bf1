"""Object store on a local directory: keys are relative paths under the root."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

import anyio

from ragops_core.errors import NotFoundError


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or any(part in ("..", "") for part in parts) or key.startswith("/"):
            raise ValueError(f"invalid object key {key!r}")
        return self._root.joinpath(*parts)

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put, self._path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename: a crash never leaves a half-written document behind.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {key!r} does not exist") from exc

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
