"""`ragops serve`'s log: readable lines on a terminal, clean JSON lines when piped."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.net import free_port
from tests.support.processes import START_DEADLINE_SECONDS, Server

STARTED = "Application startup complete"


def read_terminal_until(fd: int, text: str, deadline: float) -> str:
    seen = b""
    while text.encode() not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return seen.decode(errors="replace")


def test_logs_are_readable_lines_on_a_terminal(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ragops_cli", "serve", "--port", str(free_port()), "--data-dir"]
        + [str(tmp_path / "data")],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(terminal)
    try:
        output = read_terminal_until(controller, STARTED, time.monotonic() + START_DEADLINE_SECONDS)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        os.close(controller)
    started = [line for line in output.splitlines() if STARTED in line]
    assert started, output
    assert not started[0].lstrip().startswith("{"), started[0]
    assert " INFO " in started[0], started[0]
    assert "color_message" not in output, output


def test_logs_are_json_lines_without_colour_codes_when_piped(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    server = Server(tmp_path / "data", log)
    server.stop()
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(entry["message"].startswith(STARTED) for entry in entries), log.read_text()
    for entry in entries:
        assert "color_message" not in entry, entry
        assert "\x1b[" not in json.dumps(entry, ensure_ascii=False), entry
