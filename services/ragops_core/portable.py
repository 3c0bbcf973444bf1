"""The portable point format: one gzip-compressed JSON Lines file per collection.

Line 1 is a header, `{"format": "ragops-points", "version": 1, "collection": NAME}`; every
other line is one point exactly as Qdrant holds it:

    {"id": "<uuid>", "payload": {...},
     "vector": {"dense": [[0.01, ...], ...],                 # multivector: one per window
                "bm25": {"indices": [17, ...], "values": [0.8, ...]}}}   # sparse

Named vectors are written generically (a list of floats, a list of lists, or indices/values),
so the same file loads into the embedded store (Qdrant Edge) and a Qdrant server: that is what
makes it the migration path between the two. Floats are written with Python's shortest
round-trip repr, so values survive exactly.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragops_core.errors import RestoreError

FORMAT = "ragops-points"
VERSION = 1


@dataclass(frozen=True)
class Sparse:
    indices: list[int]
    values: list[float]


VectorValue = list[float] | list[list[float]] | Sparse


@dataclass(frozen=True)
class PortablePoint:
    id: str | int
    payload: dict[str, Any]
    vector: dict[str, VectorValue] = field(default_factory=dict)


def vectors_from_store(vector: Any) -> dict[str, VectorValue]:
    """A point's named vectors as either store returns them; sparse ones (anything with
    `indices` and `values`: Edge's or qdrant-client's) become `Sparse`."""
    return {
        name: Sparse(indices=list(value.indices), values=list(value.values))
        if hasattr(value, "indices")
        else value
        for name, value in dict(vector or {}).items()
    }


def point_to_json(point: PortablePoint) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    for name, value in point.vector.items():
        vectors[name] = (
            {"indices": value.indices, "values": value.values}
            if isinstance(value, Sparse)
            else value
        )
    return {"id": point.id, "payload": point.payload, "vector": vectors}


def point_from_json(data: dict[str, Any]) -> PortablePoint:
    vectors: dict[str, VectorValue] = {}
    for name, value in dict(data.get("vector") or {}).items():
        if isinstance(value, dict):
            vectors[name] = Sparse(
                indices=[int(i) for i in value["indices"]],
                values=[float(v) for v in value["values"]],
            )
        else:
            vectors[name] = value
    point_id = data["id"]
    if not isinstance(point_id, str | int):
        raise ValueError(f"point id must be a string or an integer, not {point_id!r}")
    return PortablePoint(id=point_id, payload=dict(data.get("payload") or {}), vector=vectors)


class PointWriter:
    """Writes one collection's file: the header on open, then one line per point."""

    def __init__(self, path: Path, collection: str) -> None:
        self._raw = path.open("wb")
        # No name, mtime=0: the same points give the same bytes, hence the same checksum.
        self._zipped = gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", mtime=0)
        self.count = 0
        self._zipped.write(_line({"format": FORMAT, "version": VERSION, "collection": collection}))

    def write(self, point: PortablePoint) -> None:
        self._zipped.write(_line(point_to_json(point)))
        self.count += 1

    def close(self) -> None:
        self._zipped.close()
        self._raw.close()

    def __enter__(self) -> PointWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_points(path: Path, collection: str, points: Iterable[PortablePoint]) -> int:
    """Write the header and every point; returns the number of points written."""
    with PointWriter(path, collection) as writer:
        for point in points:
            writer.write(point)
    return writer.count


def read_points(path: Path, *, batch: int = 256) -> Iterator[list[PortablePoint]]:
    """The points of a file in batches; a wrong header or a broken line is a RestoreError."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        _check_header(path, next(lines, ""))
        pending: list[PortablePoint] = []
        for number, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            try:
                pending.append(point_from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise RestoreError(f"{path.name} line {number} is not a point: {exc}") from exc
            if len(pending) >= batch:
                yield pending
                pending = []
        if pending:
            yield pending


def _check_header(path: Path, line: str) -> None:
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise RestoreError(f"{path.name} does not start with a {FORMAT} header") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RestoreError(f"{path.name} does not start with a {FORMAT} header")
    if int(header.get("version", 0)) > VERSION:
        raise RestoreError(
            f"{path.name} is {FORMAT} version {header['version']}; this RAGOps reads up to "
            f"{VERSION}"
        )


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
