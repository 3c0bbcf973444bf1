"""Where `ragops dev-cluster build` caches helm, and what a test sees before it is built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragops_devcluster import build, versions
from ragops_devcluster.errors import BinariesNotBuilt
from ragops_devcluster.paths import CACHE_ENV


def test_helm_is_found_only_once_its_build_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert build.find_helm() is None
    with pytest.raises(BinariesNotBuilt, match="ragops dev-cluster build"):
        build.require_helm()
    goos, goarch = build.host_platform()
    directory = tmp_path / f"helm-{versions.HELM}-{goos}-{goarch}-r{versions.HELM_RECIPE}"
    (directory / "bin").mkdir(parents=True)
    (directory / "bin" / "helm").write_bytes(b"")
    # A binary without its record is a build that died half-way: not usable.
    assert build.find_helm() is None
    (directory / "build.json").write_text(json.dumps({"component": "helm"}))
    assert build.require_helm() == directory / "bin" / "helm"
