"""The operator's own RBAC: exactly the verbs it uses, on exactly the kinds it manages.

Generated from the same table the reconciler uses (control/kube.py MANAGED_KINDS), so a new
child kind cannot ship without its permission; `deploy/rbac.yaml` is the rendered copy (`ragops
rbac`). At the package root, not in builders/: it renders the operator's own installation, not
a child of a RAGDeployment.
"""

from __future__ import annotations

import copy
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
        # Whether each Secret the pods reference exists and has its keys (SecretsResolved). `get`
        # only, never list or watch; RBAC cannot narrow it to the referenced names (they are the
        # users'), and only key names are kept (docs/operator.md, "Missing Secrets").
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
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


# Cluster-scoped resources among the rules: a Role cannot grant them.
_CLUSTER_SCOPED = frozenset({"customresourcedefinitions", "namespaces", "clusterkopfpeerings"})
# What an operator watching a list of namespaces still reads cluster-wide: CRDs (kopf's resource
# discovery, and noticing the Prometheus Operator's CRDs appear) and namespaces (kopf lists them
# even for exact names; forbidden, it retries nine times with warnings before it falls back).
# ClusterKopfPeerings are not granted: a namespaced operator's peering objects are KopfPeerings.
_NAMESPACED_MODE_CLUSTER_READS = frozenset({"customresourcedefinitions", "namespaces"})


def _select(rules: list[dict[str, Any]], keep: frozenset[str], *, inside: bool) -> list[Obj]:
    selected = []
    for rule in rules:
        resources = [r for r in rule["resources"] if (r.split("/")[0] in keep) == inside]
        if resources:
            # Copies: a shared list would make yaml write anchors and aliases.
            selected.append({**copy.deepcopy(rule), "resources": resources})
    return selected


def chart_rules() -> dict[str, list[Obj]]:
    """The Helm chart's three rule lists (charts/ragops-operator/files/rbac-rules.yaml).

    clusterWide: the ClusterRole above, as is. namespaced: its rules on namespaced resources, for
    a Role in each watched namespace. clusterReads: the cluster-scoped rules that such an operator
    still needs, for its (small) ClusterRole.
    """
    rules = cluster_role()["rules"]
    return {
        "clusterWide": rules,
        "namespaced": _select(rules, _CLUSTER_SCOPED, inside=False),
        "clusterReads": _select(rules, _NAMESPACED_MODE_CLUSTER_READS, inside=True),
    }


def render_chart_rules_yaml() -> str:
    header = (
        "# Generated from operator/ragops_operator/rbac.py by `ragops rbac --chart-rules`; "
        "do not edit.\n"
    )
    body: str = yaml.safe_dump(chart_rules(), sort_keys=False, width=120)
    return header + body


def render_yaml(namespace: str = "ragops-system") -> str:
    header = "# Generated from operator/ragops_operator/rbac.py by `ragops rbac`; do not edit.\n"
    body: str = yaml.safe_dump_all(manifests(namespace), sort_keys=False, width=120)
    return header + body
