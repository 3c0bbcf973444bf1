"""Starting control-plane processes detached, and stopping them again by PID.

Linux only: liveness and PID-reuse checks read /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import DeadlineExceeded
from ragops_devcluster.waiting import Pending, wait_until


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    # Kernel start time (clock ticks since boot) of the PID: if the PID is later reused by an
    # unrelated program, the start time differs and we leave that program alone.
    start_ticks: int
    argv: list[str]
    log: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessRecord:
        return cls(**data)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; everything after its closing paren is fixed.
    return raw[raw.rindex(")") + 2 :].split()


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_running(record: ProcessRecord) -> bool:
    fields = _stat_fields(record.pid)
    if fields is None or fields[0] in ("Z", "X"):  # zombies have exited already
        return False
    return int(fields[19]) == record.start_ticks


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> ProcessRecord:
    """Start `argv` in its own session so it outlives the CLI and ignores the terminal's Ctrl-C."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    ticks = _start_ticks(proc.pid)
    return ProcessRecord(
        name=name, pid=proc.pid, start_ticks=ticks or 0, argv=list(argv), log=str(log)
    )


def _reap(pid: int) -> None:
    # Our own children (pytest fixtures) stay zombies until waited for; others are not ours to reap.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _stop_one(record: ProcessRecord, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)

    def gone() -> bool | Pending:
        _reap(record.pid)
        return (
            True
            if not is_running(record)
            else Pending(f"{record.name} (pid {record.pid}) still running")
        )

    try:
        wait_until(gone, timeout=timeout, what=f"{record.name} to exit after SIGTERM", interval=0.1)
    except DeadlineExceeded:
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGKILL)
        wait_until(gone, timeout=10, what=f"{record.name} to vanish after SIGKILL", interval=0.1)


def stop(records: Sequence[ProcessRecord], *, timeout: float = 10.0) -> list[str]:
    """Stop every still-running record, last started first, each before the next.

    One at a time so each component shuts down while what it depends on still runs (the API
    server can close its etcd connections cleanly, and so on); SIGKILL after `timeout` seconds.
    Returns the names of the processes that were running.
    """
    running = [r for r in reversed(records) if is_running(r)]
    for record in running:
        _stop_one(record, timeout)
    return [r.name for r in running]


def log_tail(log: str | Path, lines: int = 30) -> str:
    try:
        with open(log, errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except OSError as exc:
        return f"(no log: {exc})"
