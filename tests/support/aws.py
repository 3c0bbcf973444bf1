"""A moto server on a free localhost port, for proving the S3/SQS adapters over real HTTP.

The adapters talk to it through boto3 exactly as they talk to AWS (signed requests,
XML/JSON protocols, error codes); only the endpoint differs. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


class MotoServer:
    """One in-process moto server; each test makes its own uniquely named bucket and queues."""

    def __init__(self) -> None:
        # Port 0: the OS picks a free port, so parallel runs never collide.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def use_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point boto3 at this server through the SDK's own standard variables."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", self.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", self.url)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_bucket(self) -> str:
        name = f"ragops-test-{uuid.uuid4().hex[:12]}"
        self.client("s3").create_bucket(Bucket=name)
        return name

    def create_queue(self, *, dead_letter_after: int | None = None) -> tuple[str, str | None]:
        """A standard queue; with `dead_letter_after`, also its DLQ. Returns (url, dlq url)."""
        sqs = self.client("sqs")
        name = f"ragops-test-{uuid.uuid4().hex[:12]}"
        attributes: dict[str, str] = {}
        dlq_url: str | None = None
        if dead_letter_after is not None:
            dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(dead_letter_after)}
            )
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, dlq_url

    def send_raw(self, queue_url: str, body: str) -> None:
        """Send a body as S3, SNS or a misbehaving producer would: not through our adapter."""
        self.client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)

    def reset(self) -> None:
        """Forget every bucket and queue (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def s3_event(bucket: str, key: str, *, principal: str = "AWS:AIDAEXAMPLE") -> dict[str, Any]:
    """An S3 ObjectCreated notification as S3 delivers it (the key URL-encoded)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-29T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": principal},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": urllib.parse.quote_plus(key, safe="/"),
                        "size": 1024,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        ]
    }


def sns_envelope(message: dict[str, Any]) -> dict[str, Any]:
    """The wrapper SNS puts around a message it fans out to SQS (raw delivery off)."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:{REGION}:123456789012:ragops-uploads",
        "Message": json.dumps(message),
        "Timestamp": "2026-11-29T00:00:00.000Z",
    }


def s3_test_event(bucket: str) -> dict[str, Any]:
    """What S3 sends once when a notification configuration is saved."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-29T00:00:00.000Z",
        "Bucket": bucket,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
