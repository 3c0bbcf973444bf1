import asyncio
from pathlib import Path

from ragops_core.adapters.queue.sqlite import SqliteQueue


def test_messages_survive_a_restart(tmp_path: Path) -> None:
    async def scenario() -> dict[str, object] | None:
        queue = SqliteQueue(tmp_path / "q.sqlite3")
        await queue.send({"job_id": "j1"})
        await queue.close()
        reopened = SqliteQueue(tmp_path / "q.sqlite3")
        message = await reopened.receive(wait_seconds=0, visibility_seconds=30)
        return message.body if message else None

    assert asyncio.run(scenario()) == {"job_id": "j1"}


def test_unacknowledged_message_returns_after_visibility_timeout(tmp_path: Path) -> None:
    async def scenario() -> tuple[object, object, int]:
        queue = SqliteQueue(tmp_path / "q.sqlite3")
        await queue.send({"n": 1})
        first = await queue.receive(wait_seconds=0, visibility_seconds=1)
        hidden = await queue.receive(wait_seconds=0, visibility_seconds=1)
        again = await queue.receive(wait_seconds=3, visibility_seconds=1)
        assert first is not None and again is not None
        return hidden, again.body, again.receive_count

    hidden, body, count = asyncio.run(scenario())
    assert hidden is None
    assert body == {"n": 1}
    assert count == 2


def test_acknowledged_message_is_gone(tmp_path: Path) -> None:
    async def scenario() -> tuple[object, int]:
        queue = SqliteQueue(tmp_path / "q.sqlite3")
        await queue.send({"n": 1})
        message = await queue.receive(wait_seconds=0, visibility_seconds=1)
        assert message is not None
        await queue.ack(message)
        await asyncio.sleep(1.1)
        return await queue.receive(wait_seconds=0, visibility_seconds=1), await queue.depth()

    assert asyncio.run(scenario()) == (None, 0)
