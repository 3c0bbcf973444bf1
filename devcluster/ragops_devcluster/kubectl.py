"""Running the built kubectl against a cluster."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragops_devcluster.errors import KubectlFailed
from ragops_devcluster.waiting import Pending, wait_until


@dataclass(frozen=True)
class Kubectl:
    binary: Path
    kubeconfig: Path

    def run(self, args: Sequence[str], *, stdin: str | None = None, timeout: float = 60) -> str:
        command = [str(self.binary), f"--kubeconfig={self.kubeconfig}", *args]
        try:
            result = subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise KubectlFailed(
                f"`kubectl {' '.join(args)}` did not finish within {timeout:.0f}s"
            ) from exc
        if result.returncode != 0:
            raise KubectlFailed(f"`kubectl {' '.join(args)}` failed: {result.stderr.strip()}")
        return result.stdout

    def get(self, args: Sequence[str], *, timeout: float = 30) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(
            self.run(["get", *args, "-o", "json"], timeout=timeout)
        )
        return decoded

    def apply(self, objects: list[dict[str, Any]], *, timeout: float = 60) -> str:
        document = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        return self.run(["apply", "-f", "-"], stdin=document, timeout=timeout)

    def wait_established(self, crd: str, *, timeout: float = 60) -> None:
        """Until the CustomResourceDefinition `crd` is Established. Not `kubectl wait`: right
        after an apply the CRD has no status yet, and kubectl then fails at once
        (".status.conditions accessor error: <nil>") instead of waiting."""

        def probe() -> bool | Pending:
            status = self.get(["customresourcedefinition", crd]).get("status") or {}
            conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
            return True if conditions.get("Established") == "True" else Pending(str(conditions))

        wait_until(probe, timeout=timeout, what=f"CRD {crd} Established", interval=0.2)
