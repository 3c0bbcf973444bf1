"""The S3 side of backups: upload and download whole files, list and delete backup folders.

Files go through boto3's managed transfer (multipart above 8 MiB, parallel parts, retries),
because a collection snapshot can be many GiB. boto3 blocks, so every call runs in a worker
thread. Endpoint, region and credentials come from boto3's own configuration (IRSA in the
cluster, `AWS_ENDPOINT_URL_S3` for moto or MinIO).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from ragops_core.adapters.object_store.s3 import make_client, missing_as_not_found, read_object


class S3BackupBucket:
    def __init__(
        self, bucket: str, *, kms_key_id: str | None = None, client: Any | None = None
    ) -> None:
        self.bucket = bucket
        self._extra: dict[str, str] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        )
        self._client = client if client is not None else make_client(None, None)

    async def upload(self, key: str, path: Path) -> None:
        await anyio.to_thread.run_sync(
            lambda: self._client.upload_file(
                str(path), self.bucket, key, ExtraArgs=dict(self._extra) or None
            )
        )

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(
            lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data, **self._extra)
        )

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(
            lambda: read_object(
                self._client, self.bucket, key, missing=f"s3://{self.bucket}/{key} does not exist"
            )
        )

    async def download(self, key: str, path: Path) -> None:
        def fetch() -> None:
            with missing_as_not_found(f"s3://{self.bucket}/{key} does not exist"):
                self._client.download_file(self.bucket, key, str(path))

        await anyio.to_thread.run_sync(fetch)

    async def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (paginated: a long retention holds thousands)."""

        def listing() -> list[str]:
            found: list[str] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                found.extend(item["Key"] for item in page.get("Contents", []))
            return found

        return await anyio.to_thread.run_sync(listing)

    async def delete_keys(self, keys: list[str]) -> None:
        def delete() -> None:
            for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                if response.get("Errors"):
                    first = response["Errors"][0]
                    raise RuntimeError(
                        f"S3 refused to delete {first.get('Key')}: {first.get('Message')}"
                    )

        await anyio.to_thread.run_sync(delete)

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._client.close)
