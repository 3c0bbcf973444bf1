"""Run `ragops` as a real process, the way a user does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.net import free_port

START_DEADLINE_SECONDS = 90.0
JOB_DEADLINE_SECONDS = 300.0


def ragops(
    *args: str, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragops_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Callable[[], str]) -> None:
    """Until `url`/readyz answers 200; fails with the process log if it exits or the deadline
    passes."""
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready after {START_DEADLINE_SECONDS}s:\n{log()}")


class Server:
    """`ragops serve` in a child process, with its log kept for failure messages."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ragops_cli",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._log_path = log_path
        self._wait_ready()

    def _wait_ready(self) -> None:
        wait_ready(self.process, self.url, self.log)

    def log(self) -> str:
        return self._log_path.read_text()[-4000:]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=60)
        finally:
            self._log.close()
        return code

    def wait_for_job(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_DEADLINE_SECONDS
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = httpx.get(f"{self.url}/api/jobs/{job_id}", timeout=10).json()
            if job["state"] in ("ready", "failed"):
                return job
            time.sleep(0.2)
        raise AssertionError(
            f"job {job_id} unfinished after {JOB_DEADLINE_SECONDS}s: {job}\n{self.log()}"
        )


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without any RAGOPS_* variable of the caller's, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGOPS_")}
    return {**env, "COLUMNS": "200", **variables}


class Service:
    """`ragops api` or `ragops worker` in a child process, configured by environment variables
    only."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path, *, cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._log = log_path.open("a")
        # --host 127.0.0.1: the default 0.0.0.0 is for pods, tests stay on loopback.
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ragops_cli",
                command,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        wait_ready(self.process, self.url, self.log)

    def log(self) -> str:
        return self._log_path.read_text()[-6000:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """For cleanup after a failed test: nothing may outlive it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()
