"""The Terraform check tools, built or installed once and cached outside the repository.

    .venv/bin/python -m tests.terraform.tools install   # build/install what is missing (CI runs this)
    .venv/bin/python -m tests.terraform.tools paths     # where they are

OpenTofu and tflint are built from the Go module proxy (the releases' binaries cannot be
downloaded here); checkov gets its own virtualenv, since its pinned dependencies conflict with
the project's. Everything lives under ~/.cache/ragops/tools (RAGOPS_TOOLS_DIR), keyed by version.
"""  # noqa: E501

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOFU_MODULE = "github.com/opentofu/opentofu"
TOFU_VERSION = "v1.12.6"
TFLINT_MODULE = "github.com/terraform-linters/tflint"
TFLINT_VERSION = "v0.61.0"
CHECKOV_VERSION = "3.3.30"
INSTALL_COMMAND = "bash scripts/terraform-checks.sh install"


def tools_dir() -> Path:
    return Path(os.environ.get("RAGOPS_TOOLS_DIR", Path.home() / ".cache" / "ragops" / "tools"))


def tofu_path() -> Path:
    return tools_dir() / f"tofu-{TOFU_VERSION}" / "tofu"


def tflint_path() -> Path:
    return tools_dir() / f"tflint-{TFLINT_VERSION}" / "tflint"


def checkov_venv() -> Path:
    return tools_dir() / f"checkov-{CHECKOV_VERSION}"


def checkov_path() -> Path:
    return checkov_venv() / "bin" / "checkov"


def installed(path: Path) -> bool:
    if path == checkov_path() and not _stamp(checkov_venv()).is_file():
        return False
    return path.is_file() and os.access(path, os.X_OK)


def require(path: Path, what: str) -> Path:
    """The tool's path, or an AssertionError that names the command installing it."""
    if not installed(path):
        raise AssertionError(f"{what} is not installed at {path}: run `{INSTALL_COMMAND}`")
    return path


def _say(message: str) -> None:
    print(f"terraform-checks: {message}", file=sys.stderr, flush=True)


def _go() -> str:
    found = shutil.which("go") or (
        "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None
    )
    if found is None:
        raise SystemExit(
            "terraform-checks: Go is required to build OpenTofu and tflint "
            "(go >= 1.26 on PATH or /usr/local/go/bin)"
        )
    return found


def _nice(command: list[str]) -> list[str]:
    return ["nice", "-n", "15", *command] if shutil.which("nice") else command


def _run(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"terraform-checks: {' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stderr[-4000:]}"
        )
    return result.stdout


def _install_file(built: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".partial")
    shutil.copy2(built, staging)
    staging.chmod(0o755)
    staging.replace(target)  # atomic: a half-built binary is never taken for a finished one


def build_tofu() -> None:
    """OpenTofu's go.mod has replace directives, so `go install pkg@version` refuses it: build
    inside the downloaded module instead, where it is the main module and its replaces apply."""
    go = _go()
    with tempfile.TemporaryDirectory(prefix="ragops-tofu-") as scratch:
        _say(f"downloading {TOFU_MODULE}@{TOFU_VERSION} from the Go module proxy")
        info = json.loads(
            _run(
                [go, "mod", "download", "-json", f"{TOFU_MODULE}@{TOFU_VERSION}"], cwd=Path(scratch)
            )
        )
        _say(f"building tofu {TOFU_VERSION} (several minutes on 2 cores)")
        started = time.monotonic()
        output = Path(scratch) / "tofu"
        _run(
            _nice([go, "build", "-trimpath", "-o", str(output), "./cmd/tofu"]),
            cwd=Path(info["Dir"]),
        )
        _install_file(output, tofu_path())
        _say(f"built {tofu_path()} in {time.monotonic() - started:.0f} s")


def build_tflint() -> None:
    go = _go()
    with tempfile.TemporaryDirectory(prefix="ragops-tflint-") as scratch:
        _say(
            f"building tflint {TFLINT_VERSION} from the Go module proxy (a few minutes on 2 cores)"
        )
        started = time.monotonic()
        env = {**os.environ, "GOBIN": scratch}
        _run(
            _nice([go, "install", f"{TFLINT_MODULE}@{TFLINT_VERSION}"]), cwd=Path(scratch), env=env
        )
        _install_file(Path(scratch) / "tflint", tflint_path())
        _say(f"built {tflint_path()} in {time.monotonic() - started:.0f} s")


def install_checkov() -> None:
    venv = checkov_venv()
    shutil.rmtree(venv, ignore_errors=True)  # an unfinished one (no stamp) is started over
    _say(f"installing checkov {CHECKOV_VERSION} into its own virtualenv {venv}")
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    _run(_nice([*pip, f"checkov=={CHECKOV_VERSION}"]))
    _stamp(venv).write_text(CHECKOV_VERSION, encoding="utf-8")
    _say(f"installed checkov in {time.monotonic() - started:.0f} s")


def _stamp(venv: Path) -> Path:
    return venv / ".ragops-complete"


def install() -> None:
    """Build or install whatever is missing; a present tool costs nothing."""
    steps = [
        (tofu_path(), build_tofu),
        (tflint_path(), build_tflint),
        (checkov_path(), install_checkov),
    ]
    for path, step in steps:
        if installed(path):
            _say(f"{path} is there")
        else:
            step()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "install"
    if command == "install":
        install()
        return 0
    if command == "paths":
        for path in (tofu_path(), tflint_path(), checkov_path()):
            print(f"{path}\t{'ok' if installed(path) else 'missing'}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
