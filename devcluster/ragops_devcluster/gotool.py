"""Locating the Go toolchain and running `go` commands with a reproducible environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import GoCommandFailed, GoToolchainMissing
from ragops_devcluster.streamed import run_streamed
from ragops_devcluster.versions import MIN_GO

GO_ENV = "RAGOPS_GO"
# Debian's golang-go and the official tarball land here; many shells do not have them on PATH.
_WELL_KNOWN = (Path("/usr/local/go/bin/go"), Path("/usr/lib/go/bin/go"))
_INSTALL_HINT = (
    "install Go {need} or newer (https://go.dev/doc/install) and put `go` on PATH, "
    f"or point {GO_ENV} at the go binary"
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GoToolchain:
    go: Path
    version: tuple[int, int, int]
    goos: str
    goarch: str

    @property
    def version_text(self) -> str:
        return "go" + ".".join(str(part) for part in self.version)


def parse_go_version(text: str) -> tuple[int, int, int]:
    """(1, 26, 8) from "go1.26.8", "1.26" or "1.26.0"; pre-release suffixes are ignored."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise ValueError(f"cannot read a Go version from {text!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def find_go(need: str = MIN_GO) -> GoToolchain:
    """The Go toolchain to build with, or a GoToolchainMissing that says how to get one."""
    candidates: list[Path] = []
    if os.environ.get(GO_ENV):
        explicit = Path(os.environ[GO_ENV])
        if not (explicit.is_file() and os.access(explicit, os.X_OK)):
            raise GoToolchainMissing(f"{GO_ENV}={explicit} is not an executable go binary")
        candidates.append(explicit)
    on_path = shutil.which("go")
    if on_path:
        candidates.append(Path(on_path))
    candidates.extend(_WELL_KNOWN)
    go = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    if go is None:
        raise GoToolchainMissing("no Go toolchain found: " + _INSTALL_HINT.format(need=need))
    env_out = subprocess.run(
        [str(go), "env", "-json", "GOVERSION", "GOOS", "GOARCH"],
        capture_output=True,
        text=True,
        env=build_env(),
        check=False,
        timeout=60,
    )
    if env_out.returncode != 0:
        raise GoToolchainMissing(f"{go} env failed: {env_out.stderr.strip()}")
    info = json.loads(env_out.stdout)
    toolchain = GoToolchain(go, parse_go_version(info["GOVERSION"]), info["GOOS"], info["GOARCH"])
    require_go(toolchain, need, why="the pinned releases")
    return toolchain


def require_go(toolchain: GoToolchain, need: str, *, why: str) -> None:
    """Fail clearly when a module's go.mod asks for a newer Go than the one installed."""
    if toolchain.version < parse_go_version(need):
        raise GoToolchainMissing(
            f"{why} need Go {need} but {toolchain.go} is {toolchain.version_text}: "
            + _INSTALL_HINT.format(need=need)
        )


def build_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every go command.

    GOTOOLCHAIN=local: never fetch another toolchain behind the user's back; a too-old Go is
    reported instead. CGO_ENABLED=0: static binaries that need no C compiler. GOFLAGS is reset so
    a user's -mod=vendor or similar cannot leak into the generated wrapper modules.
    """
    env = dict(os.environ)
    env.update({"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"})
    if extra:
        env.update(extra)
    return env


def run_go(
    toolchain: GoToolchain,
    args: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    nice: int = 0,
    on_line: Callable[[str], None] | None = None,
    timeout: float = 3600,
) -> str:
    """Run `go args...`, streaming output lines to `on_line`; return stdout+stderr.

    Raises GoCommandFailed carrying the last lines of output, which is where Go puts the error.
    """
    finished = run_streamed(
        [str(toolchain.go), *args],
        cwd=cwd,
        env=env or build_env(),
        nice=nice,
        on_line=on_line,
        timeout=timeout,
    )
    if finished.timed_out:
        raise GoCommandFailed(
            f"`go {' '.join(args)}` ran longer than {timeout:.0f}s and was killed"
        )
    if finished.code != 0:
        raise GoCommandFailed(
            f"`go {' '.join(args)}` failed (exit {finished.code}) in {cwd}:\n{finished.tail}"
        )
    return "\n".join(finished.output)


def go_json(
    toolchain: GoToolchain, args: Sequence[str], *, cwd: Path, timeout: float = 600
) -> dict[str, Any]:
    """Run a `go ... -json` command and decode its stdout (stderr carries download chatter)."""
    try:
        result = subprocess.run(
            [str(toolchain.go), *args],
            cwd=cwd,
            env=build_env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GoCommandFailed(
            f"`go {' '.join(args)}` ran longer than {timeout:.0f}s and was killed"
        ) from exc
    decoded: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip() else {}
    # `go mod download -json` reports a bad version inside the JSON with exit status 1.
    problem = decoded.get("Error") or (result.stderr.strip() if result.returncode else "")
    if result.returncode != 0 or problem:
        raise GoCommandFailed(
            f"`go {' '.join(args)}` failed: {problem or 'exit ' + str(result.returncode)}"
        )
    return decoded
