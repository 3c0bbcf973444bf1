"""One contract for every Queue adapter: the SQLite queue and SQS (moto server) alike.

Visibility timeouts are 1 s and every wait is bounded, so the suite takes seconds.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ragops_core.adapters.queue.sqlite import SqliteQueue
from ragops_core.adapters.queue.sqs import MALFORMED, SqsQueue
from ragops_core.domain import IngestMessage, document_id_for
from ragops_core.ports import Queue
from tests.support.aws import MotoServer, s3_event, s3_test_event, sns_envelope

# Past a 1 s visibility timeout with room for moto's and SQLite's clocks.
_EXPIRE = 1.6


def ingest(n: int = 0) -> dict[str, object]:
    document_id = str(uuid.uuid4())
    body: dict[str, object] = IngestMessage(
        job_id=f"job-{n}",
        document_id=document_id,
        object_key=f"t/{document_id}",
        tenant="t",
        filename=f"file-{n}.pdf",
        user="alice",
    ).to_json()
    return body


@pytest.fixture(params=["sqlite", "sqs"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Queue]:
    adapter: SqliteQueue | SqsQueue
    if request.param == "sqlite":
        adapter = SqliteQueue(tmp_path / "queue.db")
    else:
        aws: MotoServer = request.getfixturevalue("aws")
        url, _ = aws.create_queue()
        # No endpoint argument: the adapter must find moto through AWS_ENDPOINT_URL_SQS.
        adapter = SqsQueue(url)
    yield adapter
    await adapter.close()


async def test_send_receive_ack(queue: Queue) -> None:
    body = ingest()
    await queue.send(body)
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    assert message.body == body
    assert message.receive_count == 1
    await queue.ack(message)
    assert await queue.receive(wait_seconds=0, visibility_seconds=30) is None
    assert await queue.depth() == 0


async def test_empty_receive_waits_at_most_wait_seconds(queue: Queue) -> None:
    started = asyncio.get_running_loop().time()
    assert await queue.receive(wait_seconds=1, visibility_seconds=30) is None
    assert asyncio.get_running_loop().time() - started < 3


async def test_long_poll_returns_a_message_sent_while_waiting(queue: Queue) -> None:
    body = ingest()

    async def send_later() -> None:
        await asyncio.sleep(0.3)
        await queue.send(body)

    sender = asyncio.create_task(send_later())
    message = await queue.receive(wait_seconds=5, visibility_seconds=30)
    await sender
    assert message is not None and message.body == body


async def test_unacked_message_returns_after_visibility_timeout(queue: Queue) -> None:
    body = ingest()
    await queue.send(body)
    first = await queue.receive(wait_seconds=2, visibility_seconds=1)
    assert first is not None
    assert await queue.receive(wait_seconds=0, visibility_seconds=1) is None, (
        "hidden while in flight"
    )
    await asyncio.sleep(_EXPIRE)
    second = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert second is not None
    assert second.body == body
    assert second.receive_count == 2
    await queue.ack(second)
    assert await queue.depth() == 0


async def test_extend_keeps_the_message_hidden(queue: Queue) -> None:
    await queue.send(ingest())
    message = await queue.receive(wait_seconds=2, visibility_seconds=1)
    assert message is not None
    await queue.extend(message, visibility_seconds=10)
    await asyncio.sleep(_EXPIRE)
    assert await queue.receive(wait_seconds=0, visibility_seconds=1) is None
    await queue.ack(message)
    assert await queue.depth() == 0


async def test_depth_counts_waiting_and_in_flight(queue: Queue) -> None:
    assert await queue.depth() == 0
    for n in range(3):
        await queue.send(ingest(n))
    assert await queue.depth() == 3
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    assert await queue.depth() == 3, "in flight still counts: it may come back"
    await queue.ack(message)
    assert await queue.depth() == 2


async def test_release_makes_a_message_visible_at_once_without_counting_the_receive(
    queue: Queue,
) -> None:
    body = ingest()
    await queue.send(body)
    message = await queue.receive(wait_seconds=2, visibility_seconds=300)
    assert message is not None
    await queue.release(message)
    again = await queue.receive(wait_seconds=2, visibility_seconds=300)
    assert again is not None and again.body == body and again.receive_count == 1
    assert await queue.depth() == 1, "released, not duplicated"


async def test_a_release_keeps_the_receives_that_were_real_attempts(queue: Queue) -> None:
    # Two attempts that ended without a verdict (a crash: the visibility timeout expired),
    # then a graceful stop: the next receive is the third attempt, not the fourth.
    body = ingest()
    await queue.send(body)
    for _ in range(2):
        assert await queue.receive(wait_seconds=2, visibility_seconds=1) is not None
        await asyncio.sleep(_EXPIRE)
    third = await queue.receive(wait_seconds=2, visibility_seconds=300)
    assert third is not None and third.receive_count == 3
    await queue.release(third)
    again = await queue.receive(wait_seconds=2, visibility_seconds=300)
    assert again is not None and again.receive_count == 3 and again.body == body


async def test_the_embedded_queue_has_no_dead_letter_queue(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "queue.db")
    assert await queue.dead_letter_after() is None
    await queue.close()


# --- SQS only: the dead-letter queue and the bodies S3 and SNS put on the queue ---------


async def test_sqs_reads_the_redrive_policy(aws: MotoServer) -> None:
    plain, _ = aws.create_queue()
    redriven, _ = aws.create_queue(dead_letter_after=4)
    assert await SqsQueue(plain).dead_letter_after() is None
    assert await SqsQueue(redriven).dead_letter_after() == 4


async def test_sqs_redrive_moves_a_poison_message_to_the_dead_letter_queue(aws: MotoServer) -> None:
    url, dlq_url = aws.create_queue(dead_letter_after=2)
    assert dlq_url is not None
    queue, dead = SqsQueue(url), SqsQueue(dlq_url)
    body = ingest()
    await queue.send(body)
    for attempt in (1, 2):
        message = await queue.receive(wait_seconds=2, visibility_seconds=1)
        assert message is not None and message.receive_count == attempt
        await asyncio.sleep(_EXPIRE)  # not acknowledged: the worker crashed
    assert await queue.receive(wait_seconds=1, visibility_seconds=1) is None, (
        "a third receive moves it"
    )
    dead_letter = await dead.receive(wait_seconds=2, visibility_seconds=30)
    assert dead_letter is not None and dead_letter.body == body
    assert await queue.depth() == 0


async def test_sqs_translates_s3_event_notifications(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url, s3_prefix="documents")
    aws.send_raw(
        url,
        json.dumps(
            s3_event(
                "docs-bucket", "documents/acme/Annual report 2026.pdf", principal="AWS:AIDAUPLOADER"
            )
        ),
    )
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    body = dict(message.body)
    job_id = body.pop("job_id")
    assert body == {
        "document_id": document_id_for("acme", "Annual report 2026.pdf"),
        "s3_key": "acme/Annual report 2026.pdf",
        "tenant": "acme",
        "filename": "Annual report 2026.pdf",
        "user": "AWS:AIDAUPLOADER",
    }
    assert uuid.UUID(str(job_id))
    parsed = IngestMessage.from_json(message.body)
    assert parsed.object_key == "acme/Annual report 2026.pdf"
    await queue.ack(message)
    assert await queue.depth() == 0


async def test_sqs_unwraps_s3_events_delivered_through_sns(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url, s3_prefix="documents")
    aws.send_raw(url, json.dumps(sns_envelope(s3_event("b", "documents/acme/handbook.pdf"))))
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    assert message.body["tenant"] == "acme" and message.body["filename"] == "handbook.pdf"
    assert message.body["document_id"] == document_id_for("acme", "handbook.pdf")


async def test_sqs_splits_an_event_with_several_records(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url)
    event = s3_event("b", "acme/one.pdf")
    event["Records"].append(s3_event("b", "acme/two.pdf")["Records"][0])
    aws.send_raw(url, json.dumps(event))
    names = []
    for _ in range(2):
        message = await queue.receive(wait_seconds=2, visibility_seconds=30)
        assert message is not None
        names.append(message.body["filename"])
        await queue.ack(message)
    assert sorted(names) == ["one.pdf", "two.pdf"]


async def test_sqs_skips_test_events_and_our_own_uploads(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url, s3_prefix="documents")
    aws.send_raw(url, json.dumps(s3_test_event("b")))
    own_upload = f"documents/acme/{document_id_for('acme', 'x.pdf')}"
    aws.send_raw(url, json.dumps(s3_event("b", own_upload)))
    body = ingest()
    await queue.send(body)
    received = []
    for _ in range(3):
        message = await queue.receive(wait_seconds=1, visibility_seconds=30)
        if message is not None:
            received.append(message.body)
            await queue.ack(message)
    assert received == [body]
    assert await queue.depth() == 0, "skipped messages are acknowledged"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "JSON list"),
        (json.dumps({"job_id": "j", "tenant": "t"}), "document_id, s3_key, filename"),
        (json.dumps(s3_event("b", "elsewhere/acme/a.pdf")), "outside the prefix"),
        (json.dumps(s3_event("b", "documents/acme/deep/a.pdf")), "does not follow"),
        (json.dumps({"Type": "Notification", "Message": "{oops"}), "SNS Message is not JSON"),
    ],
)
async def test_sqs_returns_malformed_bodies_for_the_caller_to_dead_letter(
    aws: MotoServer, raw: str, reason: str
) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url, s3_prefix="documents")
    aws.send_raw(url, raw)
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    assert reason in str(message.body[MALFORMED])
    assert str(message.body["raw"]) == raw[:1000]
    with pytest.raises(KeyError):
        IngestMessage.from_json(message.body)  # the worker's own check rejects it too


async def test_sqs_keeps_the_job_id_of_a_malformed_body(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    aws.send_raw(url, json.dumps({"job_id": "job-7", "tenant": "t"}))
    message = await SqsQueue(url).receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    assert message.body["job_id"] == "job-7", "so the worker can fail that job with the reason"


async def test_sqs_extend_and_ack_of_a_stale_receipt_do_not_raise(aws: MotoServer) -> None:
    url, _ = aws.create_queue()
    queue = SqsQueue(url)
    await queue.send(ingest())
    message = await queue.receive(wait_seconds=2, visibility_seconds=30)
    assert message is not None
    await queue.ack(message)
    await queue.extend(message, visibility_seconds=10)
    await queue.ack(message)


def test_sqs_needs_a_queue_url() -> None:
    with pytest.raises(ValueError, match="RAGOPS_SQS_QUEUE_URL"):
        SqsQueue("")
