"""Building the Qdrant server from source with cargo, cached by version and build profile.

No registry these machines reach publishes a Qdrant binary (its crates.io entry is a
placeholder), so the server the tests and the local cluster run is compiled from a source
bundle prepared to build offline: Qdrant's release with its two git dependencies vendored
beside it (every other crate comes from crates.io). Where the bundle lives is configuration:
`RAGOPS_QDRANT_SOURCE`, else `vendor/qdrant/` of `RAGOPS_SHARED_DIR`, else of `../shared` next
to the working directory (the project's layout). Its sha256 is pinned.

Profile `ci` is Qdrant's own (release without LTO, opt-level 0): the cold build costs about
14 minutes on 2 cores, a fraction of what `--release` (fat LTO) costs. The tests run it. Its
HNSW indexing (~5,500 points/min) is too slow for the benchmark at 1M points, so profile
`bench` is an optional optimised build (`ragops dev-cluster build --qdrant-profile bench`):
`--release` with cargo's environment overrides (no LTO, 16 codegen units, opt-level 2), which
leave the vendored source untouched. Each profile has its own build folder; cargo's target
folder is shared (a profile compiles into its own subfolder of it) and kept outside the build
folders, like Go's build cache, so an interrupted build resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ragops_devcluster.build import cache_lock
from ragops_devcluster.errors import BinariesNotBuilt, DevClusterError
from ragops_devcluster.paths import cache_root
from ragops_devcluster.streamed import run_streamed

VERSION: Final = "v1.18.3"
BUNDLE: Final = "qdrant-1.18.3-offline.tar.gz"
BUNDLE_SHA256: Final = "77bfd88e081272a3acf97804339caa534358c951343fabb4e48df433b0875915"
# Bump when the build command or the cache layout changes.
RECIPE: Final = 1
SOURCE_ENV: Final = "RAGOPS_QDRANT_SOURCE"
PROFILE_ENV: Final = "RAGOPS_QDRANT_PROFILE"
_RECORD = "build.json"
_PROGRESS_EVERY = 50  # compiled crates between two progress lines
_TIMEOUT_SECONDS = 7200.0

Progress = Callable[[str], None]


class CargoBuildFailed(DevClusterError):
    """cargo or a tool it needs is missing, or the build failed; the message says which."""


@dataclass(frozen=True)
class BuildProfile:
    """One way of compiling the server: how cargo is asked, and where its binary lands."""

    name: str
    cargo_args: tuple[str, ...]
    output: str  # the subfolder of the target folder cargo writes this profile to
    env: Mapping[str, str]  # cargo's CARGO_PROFILE_* overrides, part of the cached record
    cold: str  # the cold cost, for messages

    def record(self) -> dict[str, object]:
        """What build.json must hold for a cached build to count as this profile's."""
        return {
            "component": "qdrant",
            "version": VERSION,
            "profile": self.name,
            "recipe": RECIPE,
            "cargo_args": list(self.cargo_args),
            "cargo_env": dict(sorted(self.env.items())),
        }


CI: Final = BuildProfile("ci", ("--profile", "ci"), "ci", {}, "about 14 minutes")
BENCH: Final = BuildProfile(
    "bench",
    ("--release",),
    "release",
    {
        # Fat LTO and one codegen unit are what make Qdrant's own release build take hours.
        "CARGO_PROFILE_RELEASE_LTO": "false",
        "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
        "CARGO_PROFILE_RELEASE_OPT_LEVEL": "2",
        "CARGO_PROFILE_RELEASE_DEBUG": "false",
    },
    # Measured once: 66 minutes cold while other jobs shared the 2 cores (load average 2 to 14).
    "over an hour",
)
PROFILES: Final = {profile.name: profile for profile in (CI, BENCH)}
# The ci build's record predates cargo_args/cargo_env; its recipe never changed, so a record
# without them is the ci command's.
_LEGACY_KEYS: Final = ("cargo_args", "cargo_env")


def profile_named(name: str | None) -> BuildProfile:
    """The profile called `name`, else $RAGOPS_QDRANT_PROFILE's, else `ci` (what tests run)."""
    chosen = name or os.environ.get(PROFILE_ENV) or CI.name
    try:
        return PROFILES[chosen]
    except KeyError:
        raise DevClusterError(
            f"unknown Qdrant build profile {chosen!r}: one of {', '.join(PROFILES)}"
        ) from None


def build_dir(profile: BuildProfile = CI) -> Path:
    return cache_root() / f"qdrant-{VERSION}-{profile.name}-r{RECIPE}"


def target_dir() -> Path:
    """Cargo's incremental state: survives a failed build, unlike build_dir()."""
    return cache_root() / f"cargo-target-qdrant-{VERSION}"


def _record_matches(recorded: object, profile: BuildProfile) -> bool:
    if not isinstance(recorded, dict):
        return False
    expected = profile.record()
    if profile is CI and not any(key in recorded for key in _LEGACY_KEYS):
        expected = {k: v for k, v in expected.items() if k not in _LEGACY_KEYS}
    return all(recorded.get(key) == value for key, value in expected.items())


def find_qdrant(profile: BuildProfile = CI) -> Path | None:
    """The cached binary of `profile`, if its record says it was built the way `profile` says
    (changed overrides must not pass off an old binary as the new recipe's)."""
    directory = build_dir(profile)
    binary = directory / "bin" / "qdrant"
    try:
        recorded = json.loads((directory / _RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return binary if _record_matches(recorded, profile) and binary.is_file() else None


def not_built(profile: BuildProfile = CI) -> str:
    flag = "" if profile is CI else f" --qdrant-profile {profile.name}"
    return (
        f"qdrant {VERSION} ({profile.name} profile) is not built yet: run `ragops dev-cluster "
        f"build{flag}` (cold: {profile.cold} on 2 cores with cargo and protoc; later runs reuse "
        "the cache)"
    )


NOT_BUILT = not_built(CI)


def require_qdrant(profile: BuildProfile = CI) -> Path:
    found = find_qdrant(profile)
    if found is None:
        raise BinariesNotBuilt(f"{not_built(profile)} (cache: {build_dir(profile)})")
    return found


def cargo_command(cargo: Path, profile: BuildProfile) -> list[str]:
    return [str(cargo), "build", "--locked", *profile.cargo_args, "--bin", "qdrant"]


def cargo_env(profile: BuildProfile, base: Mapping[str, str]) -> dict[str, str]:
    """`base` (the caller's environment) with the target folder and the profile's overrides;
    stray CARGO_PROFILE_* of the caller are dropped so the record tells the whole recipe."""
    kept = {k: v for k, v in base.items() if not k.startswith("CARGO_PROFILE_")}
    return {
        **kept,
        **profile.env,
        "CARGO_TARGET_DIR": str(target_dir()),
        "CARGO_TERM_COLOR": "never",
    }


def source_bundle() -> Path:
    """Where the offline source bundle is, by the rules of the module docstring."""
    explicit = os.environ.get(SOURCE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    shared = os.environ.get("RAGOPS_SHARED_DIR")
    base = Path(shared).expanduser() if shared else Path.cwd().parent / "shared"
    return (base / "vendor" / "qdrant" / BUNDLE).resolve()


def build(progress: Progress, *, nice: int = 10, profile: BuildProfile = CI) -> Path:
    """Build the server unless the cache has it; return the binary's path."""
    found = find_qdrant(profile)
    if found is None:
        # The Go builds' lock: two CI jobs sharing a cache must not write the same folders.
        with cache_lock(progress):
            found = find_qdrant(profile) or _build(progress, nice=nice, profile=profile)
    else:
        progress(f"qdrant {VERSION}: cached in {build_dir(profile)}")
    return found


def _build(progress: Progress, *, nice: int, profile: BuildProfile) -> Path:
    cargo, bundle = _require_tools(), source_bundle()
    _verify(bundle)
    directory = build_dir(profile)
    shutil.rmtree(directory, ignore_errors=True)  # a half-written folder from a killed build
    source = directory / "src"
    source.mkdir(parents=True)
    progress(f"qdrant {VERSION}: unpacking {bundle}")
    with tarfile.open(bundle) as archive:
        archive.extractall(source, filter="data")
    progress(
        f"qdrant {VERSION}: compiling with cargo, profile {profile.name} (cold: {profile.cold})"
    )
    started = time.monotonic()
    _cargo_build(cargo, source / "qdrant", nice=nice, progress=progress, profile=profile)
    (directory / "bin").mkdir()
    binary = directory / "bin" / "qdrant"
    shutil.copy2(target_dir() / profile.output / "qdrant", binary)
    shutil.rmtree(source)  # the target folder keeps what a rebuild needs
    seconds = time.monotonic() - started
    record = {**profile.record(), "build_seconds": round(seconds, 1)}
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


def _cargo_build(
    cargo: Path, workspace: Path, *, nice: int, progress: Progress, profile: BuildProfile
) -> None:
    command = cargo_command(cargo, profile)
    env = cargo_env(profile, os.environ)
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
