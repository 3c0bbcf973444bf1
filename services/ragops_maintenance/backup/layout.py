"""Where backups live in S3: `s3://{bucket}/{prefix}/{namespace}/{name}/{backup id}/`.

A backup id is its start time in UTC, `YYYYMMDDTHHMMSSZ`: sortable as text, readable, and free
of characters S3 consoles and shells trip over. The namespace/name levels keep the backups of
every RAGDeployment apart in one shared bucket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

ID_FORMAT = "%Y%m%dT%H%M%SZ"
_ID = re.compile(r"^\d{8}T\d{6}Z$")
MANIFEST_NAME = "manifest.json"


def backup_id(started: datetime) -> str:
    return started.astimezone(UTC).strftime(ID_FORMAT)


def parse_backup_id(value: str) -> datetime | None:
    """The start time a backup id encodes; None for anything that is not one of ours."""
    if not _ID.match(value):
        return None
    try:
        return datetime.strptime(value, ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def root_prefix(prefix: str, namespace: str, name: str) -> str:
    """The key prefix holding every backup of one stack, ending in `/`."""
    parts = [part for part in (prefix.strip("/"), namespace.strip("/"), name.strip("/")) if part]
    return "/".join(parts) + "/"


@dataclass(frozen=True)
class Location:
    """One backup in S3: its bucket and key prefix (ending in `/`)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def backup_id(self) -> str:
        return self.prefix.rstrip("/").rsplit("/", 1)[-1]

    def key(self, relative: str) -> str:
        return self.prefix + relative


def parse_s3_url(url: str) -> Location:
    """`s3://bucket/some/prefix/20260101T030000Z/` (trailing slash optional)."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, key = url[len("s3://") :].partition("/")
    key = key.strip("/")
    if not bucket or not key:
        raise ValueError(
            f"{url!r} must name a bucket and a backup folder: s3://BUCKET/PREFIX/NAMESPACE/NAME/ID/"
        )
    return Location(bucket=bucket, prefix=key + "/")
