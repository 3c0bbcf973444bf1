"""The Qdrant server's build profiles: `ci` (what the tests run) and the optimised `bench` one,
each cached in its own folder, and a cached binary counting only for the recipe that built it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragops_devcluster import qdrant
from ragops_devcluster.cli import app
from ragops_devcluster.errors import DevClusterError
from ragops_devcluster.paths import CACHE_ENV


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(qdrant.PROFILE_ENV, raising=False)
    return tmp_path


def _cached(profile: qdrant.BuildProfile, record: dict[str, object]) -> Path:
    directory = qdrant.build_dir(profile)
    (directory / "bin").mkdir(parents=True)
    (directory / "bin" / "qdrant").write_bytes(b"\x7fELF")
    (directory / "build.json").write_text(json.dumps(record), encoding="utf-8")
    return directory / "bin" / "qdrant"


def test_bench_is_release_without_lto_through_cargo_overrides_in_its_own_folder(
    cache: Path,
) -> None:
    command = qdrant.cargo_command(Path("/usr/bin/cargo"), qdrant.BENCH)
    assert command == ["/usr/bin/cargo", "build", "--locked", "--release", "--bin", "qdrant"]
    env = qdrant.cargo_env(qdrant.BENCH, {"PATH": "/bin"})
    assert env["CARGO_PROFILE_RELEASE_LTO"] == "false"
    assert env["CARGO_PROFILE_RELEASE_CODEGEN_UNITS"] == "16"
    assert env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] in {"2", "3"}
    assert env["PATH"] == "/bin"
    # One cargo target folder for both (cargo keeps each profile in its own subfolder), and
    # one build folder each: building bench leaves the tests' ci binary in place.
    assert qdrant.cargo_env(qdrant.CI, {})["CARGO_TARGET_DIR"] == env["CARGO_TARGET_DIR"]
    assert (qdrant.BENCH.output, qdrant.CI.output) == ("release", "ci")
    assert qdrant.build_dir(qdrant.BENCH) != qdrant.build_dir(qdrant.CI)
    assert qdrant.build_dir(qdrant.BENCH).parent == qdrant.build_dir(qdrant.CI).parent == cache
    assert qdrant.build_dir(qdrant.CI).name == "qdrant-v1.18.3-ci-r1"  # CI caches stay valid


def test_the_callers_cargo_profile_settings_do_not_leak_into_a_build(cache: Path) -> None:
    # An exported CARGO_PROFILE_CI_OPT_LEVEL=3 would make a "ci" binary that is not the ci one.
    caller = {"CARGO_PROFILE_CI_OPT_LEVEL": "3", "CARGO_PROFILE_RELEASE_LTO": "fat", "HOME": "/h"}
    assert qdrant.cargo_env(qdrant.CI, caller)["HOME"] == "/h"
    assert not [k for k in qdrant.cargo_env(qdrant.CI, caller) if k.startswith("CARGO_PROFILE")]
    assert qdrant.cargo_env(qdrant.BENCH, caller)["CARGO_PROFILE_RELEASE_LTO"] == "false"


def test_a_cached_binary_counts_only_for_the_recipe_that_built_it(cache: Path) -> None:
    with pytest.raises(DevClusterError, match="dev-cluster build --qdrant-profile bench"):
        qdrant.require_qdrant(qdrant.BENCH)
    stale = {**qdrant.BENCH.record(), "cargo_env": {"CARGO_PROFILE_RELEASE_OPT_LEVEL": "1"}}
    binary = _cached(qdrant.BENCH, stale)
    assert qdrant.find_qdrant(qdrant.BENCH) is None  # other overrides: not this build
    (binary.parent.parent / "build.json").write_text(
        json.dumps({**qdrant.BENCH.record(), "build_seconds": 2400.0}), encoding="utf-8"
    )
    assert qdrant.find_qdrant(qdrant.BENCH) == binary
    assert qdrant.find_qdrant(qdrant.CI) is None  # the tests never pick the bench binary


def test_a_ci_build_recorded_before_the_profiles_is_still_found(cache: Path) -> None:
    # What the ci build wrote until now: no cargo command in the record.
    legacy = {"component": "qdrant", "version": "v1.18.3", "profile": "ci", "recipe": 1}
    binary = _cached(qdrant.CI, {**legacy, "build_seconds": 810.0})
    assert qdrant.find_qdrant(qdrant.CI) == binary
    assert qdrant.find_qdrant(qdrant.BENCH) is None


def test_the_profile_is_chosen_by_name_then_environment_then_ci(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert qdrant.profile_named(None) is qdrant.CI
    monkeypatch.setenv(qdrant.PROFILE_ENV, "bench")
    assert qdrant.profile_named(None) is qdrant.BENCH
    assert qdrant.profile_named("ci") is qdrant.CI
    with pytest.raises(DevClusterError, match="one of ci, bench"):
        qdrant.profile_named("fast")


def test_the_build_command_refuses_an_unknown_profile_before_building(cache: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--qdrant-profile", "fast"])
    assert result.exit_code == 1
    assert "unknown Qdrant build profile 'fast'" in result.output
    assert list(cache.iterdir()) == []  # nothing was compiled or unpacked
