"""The cluster directory's layout and its state file (ports, PIDs), written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragops_devcluster.procs import ProcessRecord

_STATE_VERSION = 1


@dataclass(frozen=True)
class Layout:
    """Every path a cluster uses, derived from its directory."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def components(self) -> Path:
        """Per-component kubeconfigs, cert dirs and configuration files."""
        return self.root / "components"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"


@dataclass
class ClusterState:
    server: str
    kubeconfig: str
    ports: dict[str, int]
    processes: list[ProcessRecord] = field(default_factory=list)
    # The real node's network (nodenet.NodeNetwork.to_json()), when started with one.
    node: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _STATE_VERSION,
            "server": self.server,
            "kubeconfig": self.kubeconfig,
            "ports": self.ports,
            "processes": [p.to_json() for p in self.processes],
            "node": self.node,
        }


def save(layout: Layout, state: ClusterState) -> None:
    # Saved after every spawn, so `down` finds each PID even if start-up dies half-way.
    scratch = layout.state_file.with_suffix(".tmp")
    scratch.write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, layout.state_file)


def load(layout: Layout) -> ClusterState | None:
    try:
        data = json.loads(layout.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if data.get("version") != _STATE_VERSION:
        raise ValueError(f"{layout.state_file} has unknown state version {data.get('version')!r}")
    return ClusterState(
        server=data["server"],
        kubeconfig=data["kubeconfig"],
        ports=dict(data["ports"]),
        processes=[ProcessRecord.from_json(p) for p in data["processes"]],
        node=data.get("node"),
    )


def forget(layout: Layout) -> None:
    layout.state_file.unlink(missing_ok=True)
