"""Which old backups to delete, as a pure function of the listing, the policy and the time.

Applied only after a successful backup, so failing backups never eat into the good ones, and
never to the backup just made (even when a skewed clock makes it look older than another).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class StoredBackup:
    backup_id: str
    created: datetime
    complete: bool  # has its manifest.json: an upload that finished


@dataclass(frozen=True)
class RetentionPolicy:
    max_age_days: int
    keep_at_least: int = 1
    keep_last: int | None = None  # None: no limit by count
    # A folder without a manifest is a backup that died mid-upload; one day is long enough
    # for any backup still running to finish (and the CronJob forbids overlapping runs).
    incomplete_grace: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.max_age_days < 1 or self.keep_at_least < 1:
            raise ValueError("retention needs max_age_days >= 1 and keep_at_least >= 1")
        if self.keep_last is not None and self.keep_last < self.keep_at_least:
            raise ValueError("keep_last must be at least keep_at_least")


def to_delete(
    backups: list[StoredBackup], *, policy: RetentionPolicy, now: datetime, current: str
) -> list[str]:
    """Ids to delete, oldest first.

    Complete backups, newest first: the `keep_at_least` newest always stay; beyond `keep_last`
    they go; in between, those older than `max_age_days` go. Incomplete ones go after the grace.
    """
    doomed: list[StoredBackup] = []
    complete = sorted((b for b in backups if b.complete), key=lambda b: b.created, reverse=True)
    max_age = timedelta(days=policy.max_age_days)
    for rank, backup in enumerate(complete):
        if backup.backup_id == current or rank < policy.keep_at_least:
            continue
        over_count = policy.keep_last is not None and rank >= policy.keep_last
        if over_count or now - backup.created > max_age:
            doomed.append(backup)
    for backup in backups:
        if (
            not backup.complete
            and backup.backup_id != current
            and now - backup.created > policy.incomplete_grace
        ):
            doomed.append(backup)
    return [b.backup_id for b in sorted(doomed, key=lambda b: b.created)]
