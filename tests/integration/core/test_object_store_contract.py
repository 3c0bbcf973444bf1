"""One contract for every ObjectStore adapter: the local directory and S3 (moto server) alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops_core.adapters.object_store.local import LocalObjectStore
from ragops_core.adapters.object_store.s3 import S3ObjectStore
from ragops_core.errors import NotFoundError
from ragops_core.ports import ObjectStore
from tests.support.aws import MotoServer


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    aws: MotoServer = request.getfixturevalue("aws")
    # No endpoint argument: the adapter must find moto through AWS_ENDPOINT_URL_S3, as in a pod.
    return S3ObjectStore(aws.create_bucket(), prefix="documents")


async def test_put_then_get(store: ObjectStore) -> None:
    await store.put("tenant-a/doc-1", b"%PDF-1.7\x00\xff binary")
    assert await store.get("tenant-a/doc-1") == b"%PDF-1.7\x00\xff binary"


async def test_put_replaces(store: ObjectStore) -> None:
    await store.put("tenant-a/doc-1", b"first")
    await store.put("tenant-a/doc-1", b"second")
    assert await store.get("tenant-a/doc-1") == b"second"


async def test_tenants_do_not_share_keys(store: ObjectStore) -> None:
    await store.put("tenant-a/doc", b"a")
    await store.put("tenant-b/doc", b"b")
    assert [await store.get("tenant-a/doc"), await store.get("tenant-b/doc")] == [b"a", b"b"]


async def test_missing_key_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFoundError, match="tenant-a/nope"):
        await store.get("tenant-a/nope")


async def test_delete_then_get_is_not_found_and_delete_is_idempotent(store: ObjectStore) -> None:
    await store.put("tenant-a/doc-1", b"x")
    await store.delete("tenant-a/doc-1")
    with pytest.raises(NotFoundError):
        await store.get("tenant-a/doc-1")
    await store.delete("tenant-a/doc-1")
    await store.delete("tenant-a/never-existed")


@pytest.mark.parametrize("key", ["", "/abs/key", "tenant/../other/doc"])
async def test_invalid_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        await store.put(key, b"x")


@pytest.mark.parametrize("key", ["tenant//doc", "tenant/doc/", "tenant/./doc"])
async def test_s3_refuses_keys_a_filesystem_would_normalise(aws: MotoServer, key: str) -> None:
    # Locally these name the same file as "tenant/doc"; in S3 they would be other objects.
    store = S3ObjectStore(aws.create_bucket())
    with pytest.raises(ValueError, match="invalid object key"):
        await store.put(key, b"x")


async def test_s3_layout_is_prefix_then_key(aws: MotoServer) -> None:
    bucket = aws.create_bucket()
    store = S3ObjectStore(bucket, prefix="/documents/")
    await store.put("tenant-a/doc-1", b"x")
    listed = aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["documents/tenant-a/doc-1"]

    unprefixed = S3ObjectStore(bucket)
    await unprefixed.put("tenant-a/doc-2", b"y")
    assert await unprefixed.get("tenant-a/doc-2") == b"y"
    assert aws.client("s3").head_object(Bucket=bucket, Key="tenant-a/doc-2")["ContentLength"] == 1


async def test_s3_encrypts_with_the_kms_key(aws: MotoServer) -> None:
    bucket = aws.create_bucket()
    key_id = aws.client("kms").create_key(Description="ragops documents")["KeyMetadata"]["KeyId"]
    store = S3ObjectStore(bucket, prefix="documents", kms_key_id=key_id)
    await store.put("tenant-a/doc-1", b"secret")
    head = aws.client("s3").head_object(Bucket=bucket, Key="documents/tenant-a/doc-1")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    assert await store.get("tenant-a/doc-1") == b"secret"


async def test_s3_explicit_endpoint_overrides_environment(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server.use_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens there
    bucket = moto_server.create_bucket()
    store = S3ObjectStore(bucket, endpoint_url=moto_server.url)
    await store.put("t/d", b"ok")
    assert await store.get("t/d") == b"ok"


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="RAGOPS_S3_BUCKET"):
        S3ObjectStore("")
