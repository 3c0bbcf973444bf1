"""Running a long build command (go, cargo) with its output streamed line by line.

Builds take minutes: their lines feed a progress counter as they come, the last ones are kept
for the error message (compilers put the error at the end), and a timer ends a command that
hangs without printing anything.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_TAIL_LINES = 40


@dataclass(frozen=True)
class Finished:
    code: int
    timed_out: bool
    output: list[str]  # every line, without line ends
    tail: str  # the last lines, for an error message


def run_streamed(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    nice: int = 0,
    on_line: Callable[[str], None] | None = None,
    timeout: float = 3600,
) -> Finished:
    """Run `command` (stdout and stderr merged), calling `on_line` for each line; never raises
    for a failed command: the caller words its own error from the result."""
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    collected: list[str] = []
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    ) as proc:
        if nice:
            # Set right after the fork rather than in preexec_fn (unsafe with threads); the
            # compiler processes the command spawns later inherit it.
            os.setpriority(os.PRIO_PROCESS, proc.pid, nice)
        # A timer rather than a per-line check: a hung download prints nothing at all.
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                tail.append(line)
                collected.append(line)
                if on_line is not None:
                    on_line(line)
            code = proc.wait()
        finally:
            killer.cancel()
    return Finished(code, killer.finished.is_set() and code < 0, collected, "\n".join(tail))
