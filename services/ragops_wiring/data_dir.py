"""The data directory's owner: one process at a time uses an embedded data dir.

The embedded vector store (Qdrant Edge) has a lock of its own, but a second process only
meets it after `EdgeShard.load` has already replayed and truncated the shard's journals,
damaging the running owner's files. So the lock on the whole directory is taken first,
before any adapter opens a file, and a refused process leaves every byte as it was.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from ragops_core.errors import StoreBusyError

LOCK_NAME = ".ragops.lock"


class DataDirLock:
    """Held for the process's life (an advisory `flock`, so a killed owner leaves no stale lock);
    `close` is async to sit among the adapters' closers, released after all of them."""

    def __init__(self, lock: FileLock) -> None:
        self._lock = lock

    async def close(self) -> None:
        self.release()

    def release(self) -> None:
        self._lock.release(force=True)


def lock_data_dir(data_dir: Path) -> DataDirLock:
    """Own `data_dir` (created if missing) or raise StoreBusyError at once, without waiting."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # An existing lock file is opened, never truncated or written: a refusal changes no byte.
    lock = FileLock(data_dir / LOCK_NAME, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise StoreBusyError(
            f"the data dir {data_dir} is in use by another RAGOps process"
        ) from None
    return DataDirLock(lock)
