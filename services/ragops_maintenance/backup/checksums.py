"""Per-point checksums: what `ragops backup verify` compares a restored copy against.

A file's SHA-256 proves the bytes in S3 are the bytes uploaded; it cannot prove those bytes
restore into the points that were backed up (a snapshot of the wrong collection, a loader
that drops a vector). So every backup also records one checksum per point, of the point as
the store returns it, and verification restores into a scratch collection, reads every point
back and compares.

The checksum is SHA-256 of the point's canonical JSON (sorted keys, Python's shortest
round-trip floats, which is how the portable format writes them): both stores give back
exactly the float32 values they were given, so equal points give equal checksums.
The file is gzip text, one `id<TAB>checksum` line per point, sorted by id.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from ragops_core.errors import RestoreError
from ragops_core.portable import PortablePoint, point_to_json

CHECKSUMS_DIR = "checksums"
# The report names a few differing points, not thousands: enough to start looking.
_SHOWN = 5


def point_checksum(point: PortablePoint) -> str:
    canonical = json.dumps(
        point_to_json(point), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_checksums(path: Path, checksums: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as out:
        for point_id in sorted(checksums):
            out.write(f"{point_id}\t{checksums[point_id]}\n".encode())


def read_checksums(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            point_id, tab, digest = line.rstrip("\n").partition("\t")
            if not tab or len(digest) != 64:
                raise RestoreError(f"{path.name} line {number} is not `id<TAB>sha256`")
            found[point_id] = digest
    return found


def checksums_of(points: Iterable[PortablePoint]) -> dict[str, str]:
    return {str(point.id): point_checksum(point) for point in points}


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """What differs between the backed-up points and the restored ones; empty: identical."""
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    changed = sorted(k for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    problems = []
    for label, ids in (("missing", missing), ("unexpected", extra), ("different", changed)):
        if ids:
            shown = ", ".join(ids[:_SHOWN]) + (", ..." if len(ids) > _SHOWN else "")
            problems.append(f"{len(ids)} point(s) {label} ({shown})")
    return problems
