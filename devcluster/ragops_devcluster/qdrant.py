"""Building the Qdrant server from source with cargo, cached by version and build profile.

No registry these machines reach publishes a Qdrant binary (its crates.io entry is a
placeholder), so the server the tests and the local cluster run is compiled from a source
bundle prepared to build offline: Qdrant's release with its two git dependencies vendored
beside it (every other crate comes from crates.io). Where the bundle lives is configuration:
`RAGOPS_QDRANT_SOURCE`, else `vendor/qdrant/` of `RAGOPS_SHARED_DIR`, else of `../shared` next
to the working directory (the project's layout). Its sha256 is pinned.

Profile `ci` is Qdrant's own (release without LTO, opt-level 0): the cold build costs about
14 minutes on 2 cores, a fraction of what `--release` (fat LTO) costs. Cargo's target folder
is kept outside the build folder, like Go's build cache, so an interrupted build resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ragops_devcluster.build import cache_lock
from ragops_devcluster.errors import BinariesNotBuilt, DevClusterError
from ragops_devcluster.paths import cache_root
from ragops_devcluster.streamed import run_streamed

VERSION: Final = "v1.18.3"
PROFILE: Final = "ci"
BUNDLE: Final = "qdrant-1.18.3-offline.tar.gz"
BUNDLE_SHA256: Final = "77bfd88e081272a3acf97804339caa534358c951343fabb4e48df433b0875915"
# Bump when the build command or the cache layout changes.
RECIPE: Final = 1
SOURCE_ENV: Final = "RAGOPS_QDRANT_SOURCE"
_RECORD = "build.json"
_PROGRESS_EVERY = 50  # compiled crates between two progress lines
_TIMEOUT_SECONDS = 7200.0

Progress = Callable[[str], None]


class CargoBuildFailed(DevClusterError):
    """cargo or a tool it needs is missing, or the build failed; the message says which."""


def build_dir() -> Path:
    return cache_root() / f"qdrant-{VERSION}-{PROFILE}-r{RECIPE}"


def target_dir() -> Path:
    """Cargo's incremental state: survives a failed build, unlike build_dir()."""
    return cache_root() / f"cargo-target-qdrant-{VERSION}"


def find_qdrant() -> Path | None:
    binary = build_dir() / "bin" / "qdrant"
    return binary if (build_dir() / _RECORD).is_file() and binary.is_file() else None


NOT_BUILT = (
    f"qdrant {VERSION} is not built yet: run `ragops dev-cluster build` (cold: about 14 minutes "
    "on 2 cores with cargo and protoc; later runs reuse the cache)"
)


def require_qdrant() -> Path:
    found = find_qdrant()
    if found is None:
        raise BinariesNotBuilt(f"{NOT_BUILT} (cache: {build_dir()})")
    return found


def source_bundle() -> Path:
    """Where the offline source bundle is, by the rules of the module docstring."""
    explicit = os.environ.get(SOURCE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    shared = os.environ.get("RAGOPS_SHARED_DIR")
    base = Path(shared).expanduser() if shared else Path.cwd().parent / "shared"
    return (base / "vendor" / "qdrant" / BUNDLE).resolve()


def build(progress: Progress, *, nice: int = 10) -> Path:
    """Build the server unless the cache has it; return the binary's path."""
    found = find_qdrant()
    if found is None:
        # The Go builds' lock: two CI jobs sharing a cache must not write the same folders.
        with cache_lock(progress):
            found = find_qdrant() or _build(progress, nice=nice)
    else:
        progress(f"qdrant {VERSION}: cached in {build_dir()}")
    return found


def _build(progress: Progress, *, nice: int) -> Path:
    cargo, bundle = _require_tools(), source_bundle()
    _verify(bundle)
    directory = build_dir()
    shutil.rmtree(directory, ignore_errors=True)  # a half-written folder from a killed build
    source = directory / "src"
    source.mkdir(parents=True)
    progress(f"qdrant {VERSION}: unpacking {bundle}")
    with tarfile.open(bundle) as archive:
        archive.extractall(source, filter="data")
    progress(f"qdrant {VERSION}: compiling with cargo, profile {PROFILE} (cold: about 14 minutes)")
    started = time.monotonic()
    _cargo_build(cargo, source / "qdrant", nice=nice, progress=progress)
    (directory / "bin").mkdir()
    binary = directory / "bin" / "qdrant"
    shutil.copy2(target_dir() / PROFILE / "qdrant", binary)
    shutil.rmtree(source)  # the target folder keeps what a rebuild needs
    seconds = time.monotonic() - started
    record = {"component": "qdrant", "version": VERSION, "profile": PROFILE, "recipe": RECIPE}
    record["build_seconds"] = round(seconds, 1)
    # Written last and atomically: its presence is what marks the build as usable.
    scratch = directory / (_RECORD + ".tmp")
    scratch.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, directory / _RECORD)
    progress(f"qdrant {VERSION}: built in {int(seconds // 60)}m{int(seconds % 60):02d}s")
    return binary


def _require_tools() -> Path:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).is_file():
        raise CargoBuildFailed("cargo is required to build the Qdrant server (rustup or Debian)")
    if shutil.which("protoc") is None:
        raise CargoBuildFailed(
            "protoc is required to build the Qdrant server: apt-get install protobuf-compiler"
        )
    return Path(cargo)


def _verify(bundle: Path) -> None:
    if not bundle.is_file():
        raise CargoBuildFailed(
            f"the Qdrant source bundle {BUNDLE} is not at {bundle}: set {SOURCE_ENV} to its path"
        )
    digest = hashlib.sha256()
    with open(bundle, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != BUNDLE_SHA256:
        raise CargoBuildFailed(f"{bundle} has sha256 {digest.hexdigest()}, not {BUNDLE_SHA256}")


def _cargo_build(cargo: Path, workspace: Path, *, nice: int, progress: Progress) -> None:
    command = [str(cargo), "build", "--locked", "--profile", PROFILE, "--bin", "qdrant"]
    env = {**os.environ, "CARGO_TARGET_DIR": str(target_dir()), "CARGO_TERM_COLOR": "never"}
    started, compiled = time.monotonic(), 0

    def count(line: str) -> None:
        nonlocal compiled
        if line.lstrip().startswith("Compiling "):
            compiled += 1
            if compiled % _PROGRESS_EVERY == 0:
                elapsed = time.monotonic() - started
                progress(f"qdrant {VERSION}: {compiled} crates compiled ({elapsed:.0f}s)")

    finished = run_streamed(
        command, cwd=workspace, env=env, nice=nice, on_line=count, timeout=_TIMEOUT_SECONDS
    )
    if finished.timed_out:
        raise CargoBuildFailed(f"cargo build of qdrant {VERSION} ran longer than 2 hours")
    if finished.code != 0:
        raise CargoBuildFailed(
            f"cargo build of qdrant {VERSION} failed ({finished.code}):\n{finished.tail}"
        )
