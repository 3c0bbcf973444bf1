"""A durable local queue on SQLite with SQS semantics.

Messages survive restarts; a received message is invisible for a while and comes
back if it is not acknowledged in time (the worker crashed or gave up), exactly
like an SQS visibility timeout. `receive_count` lets the caller stop retrying a
poison message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from ragops_core.ports import QueueMessage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (visible_at);
"""

_POLL_SECONDS = 0.5


class SqliteQueue:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._arrived = asyncio.Event()

    async def send(self, body: dict[str, object]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (id, body, sent_at, visible_at) VALUES (?, ?, ?, ?)",
                (uuid.uuid4().hex, json.dumps(body), now, now),
            )
        self._arrived.set()

    async def receive(self, *, wait_seconds: float, visibility_seconds: int) -> QueueMessage | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            message = self._take(visibility_seconds)
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=min(remaining, _POLL_SECONDS))

    def _take(self, visibility_seconds: int) -> QueueMessage | None:
        now = time.time()
        receipt = uuid.uuid4().hex
        with self._lock:
            row = self._db.execute(
                "UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, "
                "receipt = ? "
                "WHERE id = (SELECT id FROM messages WHERE visible_at <= ? "
                "ORDER BY sent_at LIMIT 1) "
                "RETURNING body, receive_count",
                (now + visibility_seconds, receipt, now),
            ).fetchone()
        if row is None:
            return None
        return QueueMessage(receipt=receipt, body=json.loads(row[0]), receive_count=int(row[1]))

    def recover_in_flight(self) -> int:
        """Make every received-but-unacknowledged message visible now.

        Only safe for the process that owns the data directory (the embedded mode
        holds the vector store's lock): whatever was in flight belonged to a process
        that is gone, so there is no reason to wait out its visibility timeout.
        """
        with self._lock:
            cursor = self._db.execute(
                "UPDATE messages SET visible_at = ? WHERE receipt IS NOT NULL AND visible_at > ?",
                (time.time(), time.time()),
            )
        return cursor.rowcount

    async def extend(self, message: QueueMessage, *, visibility_seconds: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE messages SET visible_at = ? WHERE receipt = ?",
                (time.time() + visibility_seconds, message.receipt),
            )

    async def release(self, message: QueueMessage) -> None:
        """Visible again now, and this receive no longer counts (graceful shutdown mid-document)."""
        with self._lock:
            self._db.execute(
                "UPDATE messages SET visible_at = ?, receive_count = MAX(receive_count - 1, 0) "
                "WHERE receipt = ?",
                (time.time(), message.receipt),
            )

    async def dead_letter_after(self) -> int | None:
        # No dead-letter queue here: the worker drops what it gives up on (with the job failed).
        return None

    async def ack(self, message: QueueMessage) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE receipt = ?", (message.receipt,))

    async def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])

    async def close(self) -> None:
        with self._lock:
            self._db.close()
