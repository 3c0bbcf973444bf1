"""Kubeconfig files for the admin user and each control-plane component."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from ragops_devcluster.pki import CertPair

CONTEXT = "ragops-dev"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def write(path: Path, *, server: str, ca: Path, client: CertPair, user: str) -> Path:
    """Write a self-contained kubeconfig (certs embedded) so it works when copied elsewhere.

    JSON is valid YAML, so kubectl and every client library read it without a YAML writer here.
    """
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": CONTEXT, "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert),
                    "client-key-data": _b64(client.key),
                },
            }
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": user}}],
        "current-context": CONTEXT,
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
