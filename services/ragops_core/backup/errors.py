"""Backup and restore failures, each with a message an operator can act on."""

from __future__ import annotations

from ragops_core.errors import RagOpsError


class BackupError(RagOpsError):
    """A backup could not be taken or uploaded; nothing older was deleted."""


class RestoreError(RagOpsError):
    """A restore was refused (corrupt or incompatible backup, non-empty store) or failed."""
