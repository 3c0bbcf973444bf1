"""The helm built by `ragops dev-cluster build`, run with its own home (never the user's)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from tests.support.cluster import Obj

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "ragops-operator"


class Helm:
    """The built helm, with its config/cache/data in a temporary home (never the user's)."""

    def __init__(self, binary: Path, home: Path, kubeconfig: Path | None = None) -> None:
        self.binary, self.home, self.kubeconfig = binary, home, kubeconfig

    def __call__(self, *args: str, timeout: float = 180, check: bool = True) -> str:
        env = {
            **os.environ,
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        result = subprocess.run(
            [str(self.binary), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}{result.stdout}")
        return result.stdout + (result.stderr if not check else "")

    def template(self, *args: str, chart: Path = CHART) -> list[Obj]:
        out = self("template", "ragops-operator", str(chart), *args)
        return [doc for doc in yaml.safe_load_all(out) if doc]
