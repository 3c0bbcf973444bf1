"""The operator's own RBAC: exactly the verbs it uses, on exactly the kinds it manages.

Generated from the same table the reconciler uses (control/kube.py MANAGED_KINDS), so a new
child kind cannot ship without its permission; `deploy/rbac.yaml` is the rendered copy (`ragops
rbac`). At the package root, not in builders/: it renders the operator's own installation, not
a child of a RAGDeployment.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml

from ragops_operator.api import v1alpha1 as api
from ragops_operator.control.kube import MANAGED_KINDS
from ragops_operator.objects import Obj

NAME = "ragops-operator"


def _child_rules() -> list[dict[str, Any]]:
    by_verbs: dict[tuple[str, ...], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for kind in MANAGED_KINDS:
        group = kind.group
        # list: observe and prune; create+patch: server-side apply; delete: prune; watch: drift.
        verbs = ("create", "delete", "list", "patch", *(("watch",) if kind.watched else ()))
        if kind.kind == "StatefulSet":
            verbs = ("get", *verbs)  # waiting for an orphaning delete to finish
        by_verbs[verbs][group].append(kind.plural)
    return [
        {"apiGroups": [group], "resources": sorted(plurals), "verbs": list(verbs)}
        for verbs, groups in sorted(by_verbs.items())
        for group, plurals in sorted(groups.items())
    ]


def cluster_role() -> Obj:
    rules = [
        {
            "apiGroups": [api.GROUP],
            "resources": [api.PLURAL],
            "verbs": ["get", "list", "patch", "watch"],
        },
        {"apiGroups": [api.GROUP], "resources": [f"{api.PLURAL}/status"], "verbs": ["patch"]},
        *_child_rules(),
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
        # Growing Qdrant's volumes in place (claims are never created or deleted by the operator).
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["list", "patch"]},
        # Reading a finished backup pod's termination message into status.lastBackup.
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
        # CRDs: kopf's discovery, and the Prometheus Operator's CRDs appearing (control/handlers.py
        # reconciles every stack then); namespaces and peering: kopf.
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
        # create: `--peering NAME` creates a missing peering object at start.
        {
            "apiGroups": ["kopf.dev"],
            "resources": ["clusterkopfpeerings", "kopfpeerings"],
            "verbs": ["create", "get", "list", "patch", "watch"],
        },
    ]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": NAME,
            "labels": {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "ragops"},
        },
        "rules": rules,
    }


def manifests(namespace: str) -> list[Obj]:
    """ServiceAccount, ClusterRole and ClusterRoleBinding for an operator running in `namespace`."""
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "ragops"}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": namespace, "labels": labels},
        },
        cluster_role(),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME, "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
        },
    ]


def render_yaml(namespace: str = "ragops-system") -> str:
    header = "# Generated from operator/ragops_operator/rbac.py by `ragops rbac`; do not edit.\n"
    body: str = yaml.safe_dump_all(manifests(namespace), sort_keys=False, width=120)
    return header + body
