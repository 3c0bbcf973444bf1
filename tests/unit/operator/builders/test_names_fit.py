"""Names that fit (issue #15 item 2): the longest name the CRD accepts renders a stack whose
every object name and label value is valid, including the names and labels Kubernetes derives
from them (StatefulSet pods and revisions, CronJob Jobs, Job pods); one character more does not.
So the CRD's limit is derived from the builders, not guessed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from ragops_operator.api import crd
from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj
from tests.support.full_stack import every_child

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# What Kubernetes appends: a ControllerRevision hash (a uint32 in decimal, 10 digits at most),
# a CronJob's scheduled time in minutes (10 digits and a dash: why CronJob names
# are at most 52), the highest StatefulSet ordinal the CRD allows (100 peers).
REVISION_HASH = "4294967295"
SCHEDULED_MINUTES = "9999999999"
MAX_PEERS = 100


def _labels(node: Any) -> Iterator[tuple[str, str]]:
    """Every label map anywhere in a manifest: metadata and templates' labels, selectors."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("labels", "matchLabels") and isinstance(value, dict):
                yield from value.items()
            elif key == "selector" and isinstance(value, dict) and "matchLabels" not in value:
                yield from ((k, v) for k, v in value.items() if isinstance(v, str))
            else:
                yield from _labels(value)
    elif isinstance(node, list):
        for item in node:
            yield from _labels(item)


def problems(manifest: Obj) -> list[str]:
    """Invalid names and label values of `manifest` and of what Kubernetes makes from it."""
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    found: list[str] = []

    def label(what: str, value: str) -> None:
        if len(value) > 63 or not LABEL_VALUE.match(value):
            found.append(f"{kind} {name}: label {what}={value!r} ({len(value)} > 63)")

    if len(name) > 253 or not SUBDOMAIN.match(name):
        found.append(f"{kind} {name}: not a DNS subdomain")
    if kind == "Service" and (len(name) > 63 or not DNS_1035.match(name)):
        found.append(f"Service {name}: not a DNS-1035 label ({len(name)} > 63)")
    for key, value in _labels(manifest):
        label(key, value)
    if kind == "StatefulSet":
        # Each pod is named `{name}-{ordinal}` (its hostname, and the pod-name label), and
        # carries `controller-revision-hash: {name}-{hash}`.
        pod = f"{name}-{MAX_PEERS - 1}"
        if len(pod) > 63 or not DNS_1123_LABEL.match(pod):
            found.append(f"StatefulSet {name}: pod {pod} is not a hostname")
        label("statefulset.kubernetes.io/pod-name", pod)
        label("controller-revision-hash", f"{name}-{REVISION_HASH}")
    if kind == "CronJob":
        if len(name) > 52:
            found.append(f"CronJob {name}: {len(name)} > 52")
        label("job-name", f"{name}-{SCHEDULED_MINUTES}")
    if kind == "Job":
        label("job-name", name)  # the Job's pods carry it, and batch.kubernetes.io/job-name
    return found


def _stack(length: int) -> list[Obj]:
    name = "r" + "x" * (length - 1)
    return every_child(Owner(name=name, namespace="tenant-a", uid="1"))


def test_the_longest_accepted_name_renders_only_valid_names_and_labels() -> None:
    manifests = _stack(api.MAX_NAME_LENGTH)
    kinds = {m["kind"] for m in manifests}
    assert {"StatefulSet", "CronJob", "Job", "Service", "Deployment"} <= kinds
    assert [p for m in manifests for p in problems(m)] == []


def test_one_character_more_breaks_a_child_so_the_limit_is_the_largest_that_fits() -> None:
    broken = [p for m in _stack(api.MAX_NAME_LENGTH + 1) for p in problems(m)]
    assert broken, "MAX_NAME_LENGTH could be larger: every child still fits"


@pytest.mark.parametrize("length", [47, 49])
def test_the_names_of_the_issue_break_the_stack(length: int) -> None:
    # 47 made a Qdrant pod label too long, 49 made an apply fail: both are refused now.
    assert [p for m in _stack(length) for p in problems(m)]
    assert length > api.MAX_NAME_LENGTH


def test_the_crd_refuses_longer_names_and_names_services_cannot_take() -> None:
    rules = crd.custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "x-kubernetes-validations"
    ]
    assert rules[0]["rule"].endswith(f"size(self.metadata.name) <= {api.MAX_NAME_LENGTH}")
    assert all(rule["optionalOldSelf"] for rule in rules), "checked on create only"
    assert "52" in rules[0]["message"]
    assert api.NAME_PATTERN in rules[1]["rule"]
    for bad in ("1abc", "a.b", "ab-"):
        assert not re.match(api.NAME_PATTERN, bad)
