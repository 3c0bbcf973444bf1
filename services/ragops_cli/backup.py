"""`ragops backup` and `ragops restore`: the vector store to S3 and back (docs/backup.md).

Both are batch commands, run by the operator's CronJob (backup) and restore Job, or by hand.
A backup's result goes to the pod's termination message and, when configured, to a Prometheus
Pushgateway, success or not; the exit code is non-zero on any failure.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ragops_core.errors import RestoreError
from ragops_core.settings import Settings
from ragops_maintenance.backup import layout, report

if (
    TYPE_CHECKING
):  # the stores pull in qdrant-client, boto3 and numpy: load them only to run a command
    from ragops_maintenance.backup.restore import RestoreOutcome
    from ragops_maintenance.backup.take import BackupOutcome

log = logging.getLogger(__name__)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="State directory of the embedded store [default: RAGOPS_DATA_DIR]."
    ),
]
LogLevel = Annotated[str, typer.Option(help="debug, info, warning or error.")]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**({"data_dir": data_dir} if data_dir is not None else {}), **values)  # type: ignore[arg-type]


def backup(
    ctx: typer.Context,
    backup_format: Annotated[
        str | None,
        typer.Option("--format", help="auto, snapshot or jsonl [default: RAGOPS_BACKUP_FORMAT]."),
    ] = None,
    data_dir: DataDir = None,
    log_level: LogLevel = "info",
) -> None:
    """Back up the vector store and the catalog to s3://RAGOPS_BACKUP_BUCKET/PREFIX/NAMESPACE/NAME/ID/, then apply retention."""  # noqa: E501
    if ctx.invoked_subcommand is not None:  # `ragops backup verify`
        return
    from ragops_core.logs import configure_logging

    configure_logging(log_level)
    if backup_format not in (None, "auto", "snapshot", "jsonl"):
        _fail(f"unknown format {backup_format!r}; use auto, snapshot or jsonl", code=2)
    settings = _settings(data_dir, backup_format=backup_format)
    raise typer.Exit(asyncio.run(run_backup(settings, clock=_now, console=Console())))


async def run_backup(settings: Settings, *, clock: Clock, console: Console) -> int:
    started = clock()
    try:
        outcome = await _backup(settings, clock)
    except Exception as exc:  # any failure must reach the metrics and the termination message
        log.debug("Backup failed", exc_info=True)
        message = f"backup failed: {exc}"
        _report(
            settings, time=started, snapshot=None, result="failure", points=None, message=message
        )
        _fail(message, code=1)
    note = f"; retention failed: {outcome.retention_error}" if outcome.retention_error else ""
    _report(
        settings,
        time=outcome.manifest.finished_at,
        snapshot=outcome.url,
        result="success",
        points=outcome.manifest.points,
        message=note[2:] or None,
    )
    console.print(
        f"Backed up {outcome.manifest.points} points ({outcome.manifest.kind}) to {outcome.url}; "
        f"deleted {len(outcome.deleted)} old backup(s){note}",
        highlight=False,
    )
    return 0


async def _backup(settings: Settings, clock: Clock) -> BackupOutcome:
    from ragops_wiring import backup as targets

    with targets.owning_data_dir(settings):
        return await _backup_owned(settings, clock)


async def _backup_owned(settings: Settings, clock: Clock) -> BackupOutcome:
    from ragops_maintenance.backup.take import take_backup
    from ragops_wiring import backup as targets

    bucket = targets.bucket(settings)
    target = targets.target(settings)
    catalog = targets.catalog(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="ragops-backup-") as scratch:
            return await take_backup(
                target,
                bucket,
                targets.plan(settings),
                scratch=Path(scratch),
                clock=clock,
                catalog=catalog,
            )
    finally:
        await catalog.close()
        await target.close()
        await bucket.close()


def _report(
    settings: Settings,
    *,
    time: datetime,
    snapshot: str | None,
    result: str,
    points: int | None,
    message: str | None,
) -> None:
    text = report.termination_message(
        time=time, snapshot=snapshot, result=result, points=points, message=message
    )
    report.write_termination_message(settings.backup_termination_log, text)
    typer.echo(text)
    if settings.backup_pushgateway_url:
        try:
            report.push_metrics(
                settings.backup_pushgateway_url,
                namespace=settings.backup_namespace,
                name=settings.backup_name,
                success=result == "success",
                finished=time,
            )
        except OSError as exc:  # the backup's own result stands; the stale-backup alert still fires
            log.warning(
                "Could not push backup metrics to %s: %s", settings.backup_pushgateway_url, exc
            )


def restore(
    source: Annotated[
        str,
        typer.Option(
            "--from", help="s3://BUCKET/.../ID/, a backup ID in RAGOPS_BACKUP_BUCKET, or 'latest'."
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            help="Replace a non-empty store (set aside, embedded) or another model's backup."
        ),
    ] = False,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty", help="Succeed without restoring when the store already has points."
        ),
    ] = False,
    data_dir: DataDir = None,
    log_level: LogLevel = "info",
) -> None:
    """Restore the vector store and the catalog from a backup, after verifying every checksum."""
    from ragops_core.logs import configure_logging

    configure_logging(log_level)
    settings = _settings(data_dir)
    try:
        outcome = asyncio.run(run_restore(settings, source, force=force, if_empty=if_empty))
    except Exception as exc:  # one clear line for the Job's log and exit code
        log.debug("Restore failed", exc_info=True)
        _fail(f"restore failed: {exc}", code=1)
    verb = "Kept the existing" if outcome.skipped else "Restored"
    documents = "" if outcome.skipped else f" and {outcome.documents} documents"
    Console().print(
        f"{verb} {outcome.points} points{documents} (backup {outcome.manifest.backup_id}, "
        f"{outcome.manifest.kind} from the {outcome.manifest.source} store)",
        highlight=False,
    )


async def run_restore(
    settings: Settings, source: str, *, force: bool, if_empty: bool
) -> RestoreOutcome:
    from ragops_wiring import backup as targets

    with targets.owning_data_dir(settings):
        location = await resolve_location(settings, source)
        return await _restore_owned(settings, location, force=force, if_empty=if_empty)


async def _restore_owned(
    settings: Settings, location: layout.Location, *, force: bool, if_empty: bool
) -> RestoreOutcome:
    from ragops_maintenance.backup.restore import restore_backup
    from ragops_wiring import backup as targets

    bucket = targets.bucket(settings, location.bucket)
    target = targets.target(settings)
    catalog = targets.catalog(settings)
    try:
        with tempfile.TemporaryDirectory(prefix="ragops-restore-") as scratch:
            return await restore_backup(
                target,
                bucket,
                location,
                scratch=Path(scratch),
                configured=targets.configured_embedding(settings),
                force=force,
                if_empty=if_empty,
                catalog=catalog,
            )
    finally:
        await catalog.close()
        await target.close()
        await bucket.close()


def verify(
    source: Annotated[
        str,
        typer.Option(
            "--from", help="s3://BUCKET/.../ID/, a backup ID in RAGOPS_BACKUP_BUCKET, or 'latest'."
        ),
    ] = "latest",
    data_dir: DataDir = None,
    log_level: LogLevel = "info",
) -> None:
    """Restore a backup into a scratch collection and compare it with its manifest.

    Checks every file checksum, the point counts and every point's checksum, and the catalog's
    counts; removes the scratch; writes verification.json next to the backup. Exits 1 on any
    difference."""
    from ragops_core.logs import configure_logging

    configure_logging(log_level)
    raise typer.Exit(asyncio.run(run_verify(_settings(data_dir), source, clock=_now)))


async def run_verify(settings: Settings, source: str, *, clock: Clock) -> int:
    from ragops_maintenance.backup.verify import verify_backup
    from ragops_wiring import backup as targets

    started = clock()
    try:
        location = await resolve_location(settings, source)
        bucket = targets.bucket(settings, location.bucket)
        target = targets.target(settings)
        try:
            with tempfile.TemporaryDirectory(prefix="ragops-verify-") as scratch:
                result = await verify_backup(
                    target, bucket, location, scratch=Path(scratch), clock=clock
                )
        finally:
            await target.close()
            await bucket.close()
    except Exception as exc:  # the Job's status must say why, whatever broke
        log.debug("Verification failed", exc_info=True)
        message = f"backup verification failed: {exc}"
        _write_verification(settings, time=started, backup=None, ok=False, reason=message)
        _fail(message, code=1)
    _write_verification(
        settings, time=result.checked_at, backup=result.url, ok=result.ok, reason=result.reason
    )
    if not result.ok:
        _fail(f"backup {result.backup_id} failed verification: {result.reason}", code=1)
    Console().print(
        f"Backup {result.backup_id} verified: {result.points} points and {result.documents} "
        f"documents restored into scratch, every checksum matches ({result.url}verification.json)",
        highlight=False,
    )
    return 0


def _write_verification(
    settings: Settings, *, time: datetime, backup: str | None, ok: bool, reason: str
) -> None:
    text = report.verification_message(time=time, backup=backup, ok=ok, reason=reason)
    report.write_termination_message(settings.backup_termination_log, text)
    typer.echo(text)


async def resolve_location(settings: Settings, source: str) -> layout.Location:
    from ragops_maintenance.backup.take import latest_backup
    from ragops_wiring import backup as targets

    """An s3:// URL as is; an id or 'latest' under this stack's folder of RAGOPS_BACKUP_BUCKET."""
    if source.startswith("s3://"):
        return layout.parse_s3_url(source)
    root = targets.root(settings)
    bucket = targets.bucket(settings)
    if source == "latest":
        try:
            found = await latest_backup(bucket, root)
        finally:
            await bucket.close()
        if found is None:
            raise RestoreError(f"no complete backup under s3://{bucket.bucket}/{root}")
        source = found
    if layout.parse_backup_id(source.strip("/")) is None:
        raise RestoreError(
            f"{source!r} is neither an s3:// URL, a backup id (YYYYMMDDTHHMMSSZ) nor 'latest'"
        )
    return layout.Location(bucket.bucket, f"{root}{source.strip('/')}/")


def register(app: typer.Typer) -> None:
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    group.callback()(backup)
    group.command()(verify)
    app.add_typer(group, name="backup")
    app.command()(restore)


def _fail(message: str, *, code: int) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)
