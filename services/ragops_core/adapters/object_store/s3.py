"""Object store on Amazon S3: uploaded documents shared by the API and every worker.

Objects live at `{prefix}/{key}` in one bucket; our keys are already
`{tenant}/{document_id}`, so one tenant's files sit under one S3 prefix (which is
what per-tenant IAM conditions and lifecycle rules select on). With a KMS key id
every object is written with SSE-KMS under that key.

boto3 is synchronous, so each call runs in a worker thread (`anyio.to_thread`); a
boto3 client is thread-safe, so one client serves every call. The endpoint comes
from boto3's own configuration (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the
shared config file) unless one is passed; the region from `AWS_REGION`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import anyio
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ragops_core.errors import NotFoundError

# Codes S3 uses for "no such object": GetObject says NoSuchKey; a HEAD or a caller
# without s3:ListBucket permission only gets the bare HTTP status.
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3ObjectStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        kms_key_id: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3ObjectStore needs a bucket name (RAGOPS_S3_BUCKET)")
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._encryption: dict[str, str] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        )
        self._client = client if client is not None else make_client(region, endpoint_url)

    @property
    def bucket(self) -> str:
        return self._bucket

    def object_key(self, key: str) -> str:
        """The S3 key of one of our keys: `{prefix}/{key}` (or `key` without a prefix)."""
        # The local store's rule, and stricter on one point: S3 does not collapse "a//b"
        # into "a/b" as a filesystem does, so an empty segment would name another object.
        if not key or any(part in ("..", ".", "") for part in key.split("/")):
            raise ValueError(f"invalid object key {key!r}")
        return f"{self._prefix}/{key}" if self._prefix else key

    async def put(self, key: str, data: bytes) -> None:
        s3_key = self.object_key(key)
        await anyio.to_thread.run_sync(self._put, s3_key, data)

    def _put(self, s3_key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=s3_key, Body=data, **self._encryption)

    async def get(self, key: str) -> bytes:
        s3_key = self.object_key(key)
        return await anyio.to_thread.run_sync(self._get, key, s3_key)

    def _get(self, key: str, s3_key: str) -> bytes:
        return read_object(
            self._client,
            self._bucket,
            s3_key,
            missing=f"object {key!r} does not exist (s3://{self._bucket}/{s3_key})",
        )

    async def delete(self, key: str) -> None:
        s3_key = self.object_key(key)
        # DeleteObject succeeds for a missing key, matching the local store.
        await anyio.to_thread.run_sync(self._delete, s3_key)

    def _delete(self, s3_key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=s3_key)

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)


@contextlib.contextmanager
def missing_as_not_found(message: str) -> Iterator[None]:
    """A missing key (or bucket) reported by S3 becomes our NotFoundError with `message`."""
    try:
        yield
    except ClientError as exc:
        if _error_code(exc) in _MISSING_CODES:
            raise NotFoundError(message) from exc
        raise


def read_object(client: Any, bucket: str, key: str, *, missing: str) -> bytes:
    """The whole object (blocking); NotFoundError(`missing`) when there is none."""
    with missing_as_not_found(missing):
        response = client.get_object(Bucket=bucket, Key=key)
    with response["Body"] as body:
        data: bytes = body.read()
    return data


def make_client(region: str | None, endpoint_url: str | None) -> Any:
    # Standard retry mode: backoff with jitter on throttling and 5xx, the AWS-recommended default.
    config = Config(
        retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60
    )
    return boto3.session.Session().client(
        "s3",
        region_name=region or os.environ.get("AWS_REGION") or None,
        endpoint_url=endpoint_url,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
