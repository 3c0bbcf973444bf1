"""Changes that server-side apply cannot make by itself, decided purely from the live object.

- Handing `replicas` to an HPA: when the operator stops applying a field it owned alone, the API
  server removes it and the workload drops to 1 replica. Before that, a separate field manager
  takes the current value over (the documented SSA ownership transfer), so the HPA inherits it.
- Growing Qdrant volumes: a StatefulSet's volumeClaimTemplates are immutable. The existing
  claims are patched to the new size, then the StatefulSet is deleted with orphan propagation
  and re-applied with the new template, adopting the running pods without a restart.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ragops_operator.objects import Obj

HANDOFF_MANAGER = "ragops-hpa-handoff"
_SUFFIXES: dict[str, int | Decimal] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([a-zA-Z]*)$")


def quantity(value: str) -> Decimal:
    """A Kubernetes quantity as a number (bytes for storage); ValueError if malformed."""
    match = _QUANTITY.match(value.strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return Decimal(match.group(1)) * Decimal(_SUFFIXES[match.group(2)])


def _owns_replicas(obj: Obj, manager: str) -> bool:
    for entry in obj["metadata"].get("managedFields") or []:
        spec_fields = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Apply"
            and "f:replicas" in spec_fields
        ):
            return True
    return False


def replica_handoff(existing: Obj | None, desired: Obj, *, manager: str) -> Obj | None:
    """The apply that hands `replicas` over before `desired` drops it, or None if not needed."""
    if (
        existing is None
        or "replicas" in desired.get("spec", {})
        or not _owns_replicas(existing, manager)
    ):
        return None
    return {
        "apiVersion": desired["apiVersion"],
        "kind": desired["kind"],
        "metadata": {
            "name": desired["metadata"]["name"],
            "namespace": desired["metadata"]["namespace"],
        },
        "spec": {"replicas": int(existing["spec"].get("replicas", 1))},
    }


def _template_sizes(stateful_set: Obj) -> dict[str, str]:
    return {
        template["metadata"]["name"]: template["spec"]["resources"]["requests"]["storage"]
        for template in stateful_set["spec"].get("volumeClaimTemplates") or []
    }


def volume_growth(existing: Obj | None, desired: Obj) -> dict[str, str]:
    """{claim template name: new size} for templates `desired` makes bigger than `existing`."""
    if existing is None or desired["kind"] != "StatefulSet":
        return {}
    before = _template_sizes(existing)
    return {
        name: size
        for name, size in _template_sizes(desired).items()
        if name in before and quantity(size) > quantity(before[name])
    }


def _claim_sizes(
    claims: list[Obj], stateful_set: str, growth: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(claim name, current size, wanted size) of the StatefulSet's claims
    (`<template>-<sts>-<ordinal>`) whose template grows."""
    found = []
    for claim in claims:
        name = claim["metadata"]["name"]
        for template, size in growth.items():
            if re.fullmatch(rf"{re.escape(template)}-{re.escape(stateful_set)}-[0-9]+", name):
                found.append((name, claim["spec"]["resources"]["requests"]["storage"], size))
    return sorted(found)


def claims_to_grow(
    claims: list[Obj], stateful_set: str, growth: dict[str, str]
) -> list[tuple[str, str]]:
    """(claim name, new size) for the StatefulSet's claims still smaller."""
    return [
        (name, size)
        for name, current, size in _claim_sizes(claims, stateful_set, growth)
        if quantity(current) < quantity(size)
    ]


def growth_event(claims: list[Obj], stateful_set: str, growth: dict[str, str]) -> tuple[str, str]:
    """(reason, message) of the Event for a template growth, from the claims as they were
    before: it says which claims grew and which stayed bigger (claims never shrink), so a
    template growing to 15Gi over a claim already at 20Gi is not reported as a volume of 15Gi."""
    grown, kept = [], []
    for name, current, size in _claim_sizes(claims, stateful_set, growth):
        if quantity(current) < quantity(size):
            grown.append(f"{name} from {current} to {size}")
        else:
            kept.append(f"{name} at {current}")
    template = ", ".join(f"{name} {size}" for name, size in sorted(growth.items()))
    parts = [f"StatefulSet {stateful_set} now asks {template} per peer"]
    if grown:
        parts.append("grew " + ", ".join(grown))
    if kept:
        parts.append("kept " + ", ".join(kept) + " (already as big or bigger; never shrunk)")
    return ("VolumesGrown" if grown else "VolumesKept"), "; ".join(parts) + "; pods kept running"
