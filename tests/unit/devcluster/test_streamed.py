"""The build commands' runner (go, cargo): lines as they come, the tail for the error, a timer
for a command that hangs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ragops_devcluster.streamed import run_streamed


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_lines_stream_and_a_failure_keeps_the_last_ones(tmp_path: Path) -> None:
    seen: list[str] = []
    code = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit(3)"
    finished = run_streamed(_python(code), cwd=tmp_path, env=dict(os.environ), on_line=seen.append)
    assert finished.code == 3 and not finished.timed_out
    assert seen == [f"line {i}" for i in range(100)] == finished.output
    assert finished.tail.splitlines() == [f"line {i}" for i in range(60, 100)]


def test_a_command_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    finished = run_streamed(
        _python("import time; time.sleep(30)"), cwd=tmp_path, env=dict(os.environ), timeout=0.5
    )
    assert finished.timed_out and finished.code < 0
