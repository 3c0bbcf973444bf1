"""The pure rules of backups: layout, manifest and checksums, retention, the portable format,
the termination message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ragops_core.errors import RestoreError
from ragops_core.portable import PortablePoint, Sparse, read_points, write_points
from ragops_maintenance.backup import layout, report
from ragops_maintenance.backup.manifest import (
    FORMAT_VERSION,
    BackupManifest,
    CollectionEntry,
    EmbeddingEntry,
    checksum_problems,
    file_entry,
    safe_relative,
)
from ragops_maintenance.backup.retention import RetentionPolicy, StoredBackup, to_delete

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def test_backup_ids_sort_as_time_and_parse_back() -> None:
    first, second = NOW, NOW + timedelta(seconds=1)
    assert layout.backup_id(first) == "20260601T030000Z" < layout.backup_id(second)
    assert layout.parse_backup_id("20260601T030000Z") == NOW
    assert (
        layout.parse_backup_id("notes") is None
        and layout.parse_backup_id("20261301T000000Z") is None
    )


def test_layout_keys_and_urls() -> None:
    assert layout.root_prefix("/backups/", "tenant-a", "demo") == "backups/tenant-a/demo/"
    assert layout.root_prefix("", "tenant-a", "demo") == "tenant-a/demo/"
    location = layout.parse_s3_url("s3://b/backups/tenant-a/demo/20260601T030000Z")
    assert location == layout.Location("b", "backups/tenant-a/demo/20260601T030000Z/")
    assert location.backup_id == "20260601T030000Z" and location.url.endswith("Z/")
    for bad in ("http://b/x", "s3://b", "s3:///x"):
        with pytest.raises(ValueError):
            layout.parse_s3_url(bad)


def _manifest(files: tuple[object, ...] = (), version: int = FORMAT_VERSION) -> BackupManifest:
    return BackupManifest(
        format_version=version,
        backup_id="20260601T030000Z",
        kind="points-jsonl",
        source="embedded",
        namespace="tenant-a",
        name="demo",
        collections=(
            CollectionEntry(
                name="ragops-v1",
                points=3,
                file="collections/ragops-v1.jsonl.gz",
                aliases=("ragops",),
            ),
        ),
        embedding=EmbeddingEntry(provider="local", model="m", dimensions=384),
        files=files,  # type: ignore[arg-type]
        started_at=NOW,
        finished_at=NOW + timedelta(minutes=2),
        ragops_version="0.1.0",
    )


def test_manifest_round_trips_as_camel_case_json() -> None:
    manifest = _manifest()
    data = json.loads(manifest.to_json_bytes())
    assert {
        "formatVersion",
        "backupId",
        "collections",
        "embedding",
        "files",
        "startedAt",
        "finishedAt",
        "ragopsVersion",
    } <= set(data)
    assert BackupManifest.from_json_bytes(manifest.to_json_bytes()) == manifest
    assert manifest.points == 3


def test_a_newer_or_foreign_manifest_is_refused_with_a_reason() -> None:
    with pytest.raises(RestoreError, match="newer than this RAGOps"):
        BackupManifest.from_json_bytes(_manifest(version=FORMAT_VERSION + 1).to_json_bytes())
    with pytest.raises(RestoreError, match="not a RAGOps backup manifest"):
        BackupManifest.from_json_bytes(b'{"hello": 1}')


def test_checksums_catch_changed_truncated_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"alpha")
    (tmp_path / "b").write_bytes(b"bravo")
    entries = (file_entry(tmp_path, "a"), file_entry(tmp_path, "b"))
    assert checksum_problems(entries, tmp_path) == []
    (tmp_path / "a").write_bytes(b"alphA")
    (tmp_path / "b").write_bytes(b"brav")
    problems = checksum_problems((*entries, entries[0].model_copy(update={"path": "c"})), tmp_path)
    assert (
        problems[0].startswith("a: sha256")
        and problems[1] == "b: 4 bytes, the manifest says 5"
        and problems[2] == "c: missing"
    )


@pytest.mark.parametrize("path", ["../etc/passwd", "/abs", "a//b", "a/./b", ""])
def test_a_manifest_cannot_name_a_file_outside_the_backup(path: str) -> None:
    with pytest.raises(RestoreError, match="unsafe path"):
        safe_relative(path)


def _backups(*days: int, incomplete: tuple[int, ...] = ()) -> list[StoredBackup]:
    made = [
        StoredBackup(layout.backup_id(NOW - timedelta(days=d)), NOW - timedelta(days=d), True)
        for d in days
    ]
    return made + [
        StoredBackup(layout.backup_id(NOW - timedelta(days=d)), NOW - timedelta(days=d), False)
        for d in incomplete
    ]


def _ids(*days: int) -> list[str]:
    return [layout.backup_id(NOW - timedelta(days=d)) for d in days]


CURRENT = layout.backup_id(NOW)


def test_retention_by_age_keeps_the_newest_few_and_the_current_one() -> None:
    policy = RetentionPolicy(max_age_days=90, keep_at_least=2)
    assert to_delete(_backups(0, 1, 89, 91, 200), policy=policy, now=NOW, current=CURRENT) == _ids(
        200, 91
    )
    # Backups failed for months: the newest ones survive even when all are old.
    assert to_delete(_backups(0, 100, 150, 200), policy=policy, now=NOW, current=CURRENT) == _ids(
        200, 150
    )


def test_retention_by_count_deletes_the_oldest_beyond_keep_last() -> None:
    policy = RetentionPolicy(max_age_days=3650, keep_at_least=1, keep_last=3)
    assert to_delete(_backups(0, 1, 2, 3, 4), policy=policy, now=NOW, current=CURRENT) == _ids(4, 3)


def test_retention_never_deletes_the_backup_just_made() -> None:
    # A skewed clock once wrote a backup "from the future": the current one ranks second.
    future = StoredBackup("20300101T000000Z", datetime(2030, 1, 1, tzinfo=UTC), True)
    policy = RetentionPolicy(max_age_days=1, keep_at_least=1, keep_last=1)
    assert to_delete([future, *_backups(0)], policy=policy, now=NOW, current=CURRENT) == []


def test_incomplete_backups_go_after_a_day_and_never_count() -> None:
    policy = RetentionPolicy(max_age_days=90, keep_at_least=1, keep_last=2)
    doomed = to_delete(_backups(0, 5, incomplete=(2, 0.5)), policy=policy, now=NOW, current=CURRENT)  # type: ignore[arg-type]
    assert doomed == _ids(2)


def test_retention_policy_refuses_contradictions() -> None:
    with pytest.raises(ValueError):
        RetentionPolicy(max_age_days=90, keep_at_least=5, keep_last=2)
    with pytest.raises(ValueError):
        RetentionPolicy(max_age_days=0)


def test_portable_points_round_trip_exactly(tmp_path: Path) -> None:
    points = [
        PortablePoint(
            id=f"00000000-0000-0000-0000-00000000000{i}",
            payload={"tenant": "t", "text": "é ✓", "n": i},
            vector={
                "dense": [[0.1 * i, 1 / 3], [2e-9, -0.5]],
                "bm25": Sparse([1, 99], [0.25, 1 / 7]),
            },
        )
        for i in range(5)
    ]
    path = tmp_path / "c.jsonl.gz"
    assert write_points(path, "ragops-v1", points) == 5
    assert [p for batch in read_points(path, batch=2) for p in batch] == points
    again = tmp_path / "d.jsonl.gz"
    write_points(again, "ragops-v1", points)
    assert path.read_bytes() == again.read_bytes(), "same points, same bytes, same checksum"


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": 1}\n'))
    with pytest.raises(RestoreError, match="ragops-points header"):
        list(read_points(path))


def test_termination_message_is_json_within_the_kubernetes_limit() -> None:
    text = report.termination_message(time=NOW, snapshot="s3://b/p/", result="success", points=12)
    assert json.loads(text) == {
        "time": "2026-06-01T03:00:00Z",
        "snapshot": "s3://b/p/",
        "result": "success",
        "points": 12,
    }
    long = report.termination_message(
        time=NOW, snapshot=None, result="failure", points=None, message="x" * 10000
    )
    assert len(long.encode()) <= report.TERMINATION_LIMIT and json.loads(long)["message"].endswith(
        "..."
    )


def test_termination_message_is_skipped_where_it_cannot_be_written(tmp_path: Path) -> None:
    assert report.write_termination_message(tmp_path / "log", "{}") is True
    assert report.write_termination_message(tmp_path / "missing" / "log", "{}") is False


def test_metric_names_match_what_the_alert_expects() -> None:
    from ragops_operator.builders.monitoring import BACKUP_METRICS

    assert (
        BACKUP_METRICS.last_success_timestamp,
        BACKUP_METRICS.last_result,
        BACKUP_METRICS.job_suffix,
    ) == (report.LAST_SUCCESS, report.LAST_RESULT, report.JOB_SUFFIX)
    failed = {m.name: m for m in report.registry_for(success=False, finished=NOW).collect()}
    assert set(failed) == {"ragops_backup_last_result"}
    samples = {s.labels["result"]: s.value for s in failed["ragops_backup_last_result"].samples}
    assert samples == {"success": 0, "failure": 1}


def test_catalog_file_round_trips_rows_and_is_byte_stable(tmp_path: Path) -> None:
    from ragops_core.domain import DocumentRecord, Job, JobState
    from ragops_maintenance.backup.catalog import CatalogRows, read_catalog, write_catalog

    jobs = [
        Job(
            "j2", "d2", "beta", "b.pdf", JobState.FAILED, {"pages_done": 1}, "unreadable", 1.5, 2.5
        ),
        Job("j1", "d1", "acme", "a.pdf", JobState.READY, {}, None, 1.0, 2.0),
    ]
    documents = [DocumentRecord("d1", "acme", "a.pdf", 3, 4, 1234, 2.0, "j1")]
    write_catalog(tmp_path / "a.jsonl.gz", CatalogRows(jobs, documents))
    write_catalog(tmp_path / "b.jsonl.gz", CatalogRows(list(reversed(jobs)), documents))
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    rows = read_catalog(tmp_path / "a.jsonl.gz")
    assert rows.jobs == sorted(jobs, key=lambda j: j.job_id) and rows.documents == documents


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([b'{"format":"ragops-points","version":1}'], "does not start with a ragops-catalog"),
        ([b'{"format":"ragops-catalog","version":9}'], "version 9"),
        ([b'{"format":"ragops-catalog","version":1}', b'{"job":{"job_id":"x"}}'], "line 2"),
        ([b'{"format":"ragops-catalog","version":1}', b"[1, 2]"], "line 2 is not a JSON object"),
        (
            [b'{"format":"ragops-catalog","version":1}', b'{"x":"' + b"a" * 2_000_000 + b'"}'],
            "longer than",
        ),
    ],
)
def test_a_broken_or_hostile_catalog_file_is_refused(
    tmp_path: Path, lines: list[bytes], message: str
) -> None:
    import gzip

    from ragops_maintenance.backup.catalog import read_catalog

    path = tmp_path / "catalog.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    with pytest.raises(RestoreError, match=message):
        read_catalog(path)


def test_point_checksums_see_any_change_and_differences_are_bounded(tmp_path: Path) -> None:
    from ragops_maintenance.backup.checksums import (
        differences,
        point_checksum,
        read_checksums,
        write_checksums,
    )

    point = PortablePoint(id="p", payload={"text": "a", "n": 1}, vector={"dense": [0.5, 0.25]})
    same = PortablePoint(id="p", payload={"n": 1, "text": "a"}, vector={"dense": [0.5, 0.25]})
    moved = PortablePoint(id="p", payload={"n": 1, "text": "a"}, vector={"dense": [0.5, 0.26]})
    assert point_checksum(point) == point_checksum(same) != point_checksum(moved)
    expected = {f"id-{i:02d}": "0" * 64 for i in range(20)}
    write_checksums(tmp_path / "c.tsv.gz", expected)
    assert read_checksums(tmp_path / "c.tsv.gz") == expected
    actual = {k: v for k, v in expected.items() if k != "id-03"} | {"id-00": "1" * 64, "new": "x"}
    assert differences(expected, expected) == []
    assert differences(expected, actual) == [
        "1 point(s) missing (id-03)",
        "1 point(s) unexpected (new)",
        "1 point(s) different (id-00)",
    ]
    assert differences(expected, {}) == [
        "20 point(s) missing (id-00, id-01, id-02, id-03, id-04, ...)"
    ]


def test_the_verification_message_fits_the_termination_log() -> None:
    text = report.verification_message(time=NOW, backup="s3://b/p/", ok=False, reason="x" * 10_000)
    data = json.loads(text)
    assert len(text.encode()) <= report.TERMINATION_LIMIT
    assert (data["kind"], data["result"]) == ("verification", "failed")
    assert data["reason"].endswith("...")
