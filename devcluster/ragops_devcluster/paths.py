"""Where binaries are cached and where a cluster keeps its state."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

CACHE_ENV = "RAGOPS_DEVCLUSTER_CACHE"
DIR_ENV = "RAGOPS_DEVCLUSTER_DIR"


def cache_root() -> Path:
    """Root of the binary cache; outside any repository so CI keeps it between runs."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return user_cache_path("ragops") / "devcluster"


def default_cluster_dir() -> Path:
    """Directory holding certificates, kubeconfig, etcd data, logs and PIDs of the default
    cluster."""
    override = os.environ.get(DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return user_cache_path("ragops") / "devcluster" / "cluster"
