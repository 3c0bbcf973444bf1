"""Queue on Amazon SQS (a standard queue): ingestion jobs shared by every worker pod.

Semantics match the embedded `SqliteQueue`: a received message stays invisible for
`visibility_seconds` and comes back unless acknowledged; `extend` is
ChangeMessageVisibility, `ack` is DeleteMessage, `receive_count` is SQS's
ApproximateReceiveCount, and `depth` counts visible plus in-flight messages. Receives
long-poll (at most 20 s per call, the SQS limit). Poison messages are moved to a
dead-letter queue by the queue's own RedrivePolicy (maxReceiveCount), not by us.

Three kinds of bodies arrive:

* Ours: the JSON of `IngestMessage.to_json()`, returned as is.
* S3 event notifications (ObjectCreated:*), straight from S3 or wrapped in an SNS
  envelope (`{"Type": "Notification", "Message": "<json>"}`). Each record becomes one
  of our bodies by this rule: the object key (URL-decoded) must be
  `{prefix}/{tenant}/{filename}` with exactly those two segments under the prefix;
  then `tenant` is the first segment, `filename` the second, `document_id` is
  `document_id_for(tenant, filename)` (re-dropping a file replaces its document),
  `s3_key` is `{tenant}/{filename}` (relative to the prefix, as the ObjectStore port
  expects), `job_id` is a UUID derived from the bucket, key and event sequencer (so a
  redelivered event keeps its job id) and `user` is the event's principal id. A key
  whose second segment is a UUID is one of our own uploads
  (`{prefix}/{tenant}/{document_id}`, already enqueued by the API), and is skipped.
  Records that are not ObjectCreated (deletions, ...) are skipped too. A message with
  several records is split: the first is returned, the others are re-sent as our own
  bodies.
* `s3:TestEvent` (sent once when a bucket notification is configured): acknowledged
  and skipped, never returned.

Anything else (not JSON, not an object, missing or non-string fields, a key outside the
layout) is returned, not dropped, as `{"_malformed": "<reason>", "raw": "<first 1000
characters>"}` (plus `job_id` when the body is an object naming one), so the caller
decides: the worker marks that job failed and leaves the message unacknowledged, and
the RedrivePolicy dead-letters it (`dead_letter_after` reads the policy).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ragops_core.domain import MALFORMED, RAGOPS_NAMESPACE, document_id_for
from ragops_core.ports import QueueMessage

log = logging.getLogger(__name__)

__all__ = ["MALFORMED", "Decoded", "SqsQueue", "decode_body"]

REQUIRED_FIELDS = ("job_id", "document_id", "s3_key", "tenant", "filename")

_MAX_WAIT_SECONDS = 20  # SQS's ceiling for one long poll
# Receives a released message had before its copy was sent (see `release`); never seen by callers.
_PRIOR_RECEIVES = "_ragops_prior_receives"
_MAX_VISIBILITY_SECONDS = 43_200  # SQS's ceiling: 12 hours
_RAW_EXCERPT = 1000
# The receipt is no longer valid: the message was deleted, or its visibility ran out
# and someone else holds it now. Nothing left for this receiver to extend or delete.
_STALE_RECEIPT_CODES = frozenset(
    {"ReceiptHandleIsInvalid", "InvalidParameterValue", "AWS.SimpleQueueService.MessageNotInflight"}
)


@dataclass(frozen=True)
class Decoded:
    """What one SQS body means: bodies to hand out (none: acknowledge and skip it)."""

    bodies: list[dict[str, object]]
    skipped: str = ""


# The redrive policy is re-read this often, so a changed policy reaches running workers.
_POLICY_REFRESH_SECONDS = 300.0


class SqsQueue:
    def __init__(
        self,
        queue_url: str,
        *,
        s3_prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not queue_url:
            raise ValueError("SqsQueue needs a queue URL (RAGOPS_SQS_QUEUE_URL)")
        self._url = queue_url
        self._prefix = s3_prefix.strip("/")
        self._client = client if client is not None else _make_client(region, endpoint_url)
        self._policy: tuple[float, int | None] | None = None  # (read at, maxReceiveCount)

    async def send(self, body: dict[str, object]) -> None:
        await anyio.to_thread.run_sync(self._send, json.dumps(body))

    def _send(self, payload: str) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=payload)

    async def receive(self, *, wait_seconds: float, visibility_seconds: int) -> QueueMessage | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            remaining = deadline - time.monotonic()
            wait = min(_MAX_WAIT_SECONDS, max(0, math.ceil(remaining)))
            raw = await anyio.to_thread.run_sync(self._receive_one, wait, visibility_seconds)
            if raw is not None:
                message = await self._interpret(raw)
                if message is not None:
                    return message
            # Bounded: every pass either waited on SQS or consumed a skipped message.
            if time.monotonic() >= deadline or (raw is None and wait == 0):
                return None

    def _receive_one(self, wait: int, visibility_seconds: int) -> dict[str, Any] | None:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait,
            VisibilityTimeout=_visibility(visibility_seconds),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages[0] if messages else None

    async def _interpret(self, raw: dict[str, Any]) -> QueueMessage | None:
        receipt = str(raw["ReceiptHandle"])
        decoded = decode_body(str(raw.get("Body", "")), prefix=self._prefix)
        if not decoded.bodies:
            log.info(
                "Skipped queue message",
                extra={"reason": decoded.skipped, "message_id": raw.get("MessageId")},
            )
            await anyio.to_thread.run_sync(self._delete, receipt)
            return None
        first, *rest = decoded.bodies
        # Split before handing out the first: if we crash here the whole message comes
        # back and is split again; duplicates are harmless (document ids are stable).
        for body in rest:
            await self.send(body)
        count = int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        prior = first.pop(_PRIOR_RECEIVES, 0)
        count += prior if isinstance(prior, int) and prior > 0 else 0
        return QueueMessage(receipt=receipt, body=first, receive_count=count)

    async def extend(self, message: QueueMessage, *, visibility_seconds: int) -> None:
        await anyio.to_thread.run_sync(self._extend, message.receipt, visibility_seconds)

    def _extend(self, receipt: str, visibility_seconds: int) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url,
                ReceiptHandle=receipt,
                VisibilityTimeout=_visibility(visibility_seconds),
            )
        except ClientError as exc:
            # Raising would kill the worker's heartbeat mid-document; like SqliteQueue,
            # extending a message that is no longer ours is a no-op (with a trace).
            if _error_code(exc) not in _STALE_RECEIPT_CODES:
                raise
            log.warning("Could not extend a message no longer in flight", extra={"error": str(exc)})

    async def release(self, message: QueueMessage) -> None:
        """Available again now, without this receive counting (graceful shutdown mid-document).

        SQS counts every receive, and its redrive policy dead-letters after maxReceiveCount
        of them: a document released by a few rolling restarts would be lost as poison. So
        the release is a fresh copy carrying the receives before this one, then a delete of
        the original (a crash in between leaves a duplicate; ingestion is idempotent)."""
        body = {**message.body, _PRIOR_RECEIVES: message.receive_count - 1}
        await self.send(body)
        await anyio.to_thread.run_sync(self._delete, message.receipt)

    async def ack(self, message: QueueMessage) -> None:
        await anyio.to_thread.run_sync(self._delete, message.receipt)

    def _delete(self, receipt: str) -> None:
        try:
            self._client.delete_message(QueueUrl=self._url, ReceiptHandle=receipt)
        except ClientError as exc:
            if _error_code(exc) not in _STALE_RECEIPT_CODES:
                raise
            # Someone else received it meanwhile; they will finish (and ack) it.
            log.warning(
                "Could not acknowledge a message no longer in flight", extra={"error": str(exc)}
            )

    async def depth(self) -> int:
        return await anyio.to_thread.run_sync(self._depth)

    def _depth(self) -> int:
        attributes = self._client.get_queue_attributes(
            QueueUrl=self._url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    async def dead_letter_after(self) -> int | None:
        now = time.monotonic()
        if self._policy is None or now - self._policy[0] > _POLICY_REFRESH_SECONDS:
            self._policy = (now, await anyio.to_thread.run_sync(self._read_max_receive_count))
        return self._policy[1]

    def _read_max_receive_count(self) -> int | None:
        attributes = self._client.get_queue_attributes(
            QueueUrl=self._url, AttributeNames=["RedrivePolicy"]
        )
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            return None
        return int(json.loads(policy)["maxReceiveCount"])

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)


def decode_body(raw: str, *, prefix: str = "") -> Decoded:
    """Interpret one SQS body (see the module docstring for the rules)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return _malformed(f"body is not JSON: {exc}", raw)
    if not isinstance(data, dict):
        return _malformed(f"body is a JSON {type(data).__name__}, not an object", raw)
    if data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        try:
            data = json.loads(data["Message"])
        except ValueError as exc:
            return _malformed(f"SNS Message is not JSON: {exc}", raw)
        if not isinstance(data, dict):
            return _malformed("SNS Message is not a JSON object", raw)
    if data.get("Event") == "s3:TestEvent":
        return Decoded([], skipped="s3:TestEvent")
    if "Records" in data:
        return _decode_records(data["Records"], prefix.strip("/"), raw)
    missing = [
        name for name in REQUIRED_FIELDS if not isinstance(data.get(name), str) or not data[name]
    ]
    if missing:
        malformed = _malformed(f"missing or non-string fields: {', '.join(missing)}", raw)
        if isinstance(data.get("job_id"), str) and data["job_id"]:
            # Its job exists and someone is watching it: the worker records the reason there.
            malformed.bodies[0]["job_id"] = data["job_id"]
        return malformed
    return Decoded([data])


def _decode_records(records: object, prefix: str, raw: str) -> Decoded:
    if not isinstance(records, list):
        return _malformed("Records is not a list", raw)
    bodies: list[dict[str, object]] = []
    skipped: list[str] = []
    for record in records:
        try:
            body = _translate_record(record, prefix)
        except (KeyError, TypeError, ValueError) as exc:
            bodies.append(_malformed(f"unusable S3 event record: {exc}", raw).bodies[0])
            continue
        if isinstance(body, str):
            skipped.append(body)
        else:
            bodies.append(body)
    return Decoded(bodies, skipped="; ".join(skipped))


def _translate_record(record: Any, prefix: str) -> dict[str, object] | str:
    """One of our bodies, or why the record is skipped; raises for a record we cannot use."""
    name = str(record["eventName"])
    if record.get("eventSource") != "aws:s3" or not name.startswith("ObjectCreated:"):
        return f"{record.get('eventSource')} {name} is not an object creation"
    bucket = str(record["s3"]["bucket"]["name"])
    s3_key = unquote_plus(str(record["s3"]["object"]["key"]))
    relative = s3_key
    if prefix:
        if not s3_key.startswith(prefix + "/"):
            raise ValueError(f"key {s3_key!r} is outside the prefix {prefix!r}")
        relative = s3_key[len(prefix) + 1 :]
    parts = relative.split("/")
    if len(parts) != 2 or not all(parts):
        layout = f"{prefix}/{{tenant}}/{{filename}}" if prefix else "{tenant}/{filename}"
        raise ValueError(f"key {s3_key!r} does not follow {layout}")
    tenant, filename = parts
    if _is_uuid(filename):
        return f"{s3_key!r} is one of our own uploads, already enqueued"
    sequencer = str(record["s3"]["object"].get("sequencer", ""))
    return {
        "job_id": str(uuid.uuid5(RAGOPS_NAMESPACE, f"s3://{bucket}/{s3_key}#{sequencer}")),
        "document_id": document_id_for(tenant, filename),
        "s3_key": relative,
        "tenant": tenant,
        "filename": filename,
        "user": str(record.get("userIdentity", {}).get("principalId", "")),
    }


def _malformed(reason: str, raw: str) -> Decoded:
    return Decoded([{MALFORMED: reason, "raw": raw[:_RAW_EXCERPT]}])


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _visibility(seconds: int) -> int:
    return min(_MAX_VISIBILITY_SECONDS, max(0, int(seconds)))


def _make_client(region: str | None, endpoint_url: str | None) -> Any:
    # Long polls hold the connection up to 20 s: the read timeout must outlast them.
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=_MAX_WAIT_SECONDS + 10,
    )
    return boto3.session.Session().client(
        "sqs",
        region_name=region or os.environ.get("AWS_REGION") or None,
        endpoint_url=endpoint_url,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
