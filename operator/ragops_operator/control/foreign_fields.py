"""Fields added to the operator's children by someone else: found in metadata.managedFields,
removed with a JSON patch, reported as Events and a condition. Pure functions only.

Server-side apply (even forced) only rewrites the fields the operator applies: a field it never
set stays, owned by whoever added it (`kubectl patch` adding a sidecar container or
`hostNetwork: true`, `ingress: [{}]` opening a default-deny NetworkPolicy). Such a field is drift
when all of these hold (the policy docs/operator.md states):
- its owner is another field manager: not the operator's own managers, not a known Kubernetes
  controller, and not a write through a subresource (status, scale: controllers and autoscalers);
- it lies outside `metadata` and `status` (labels and annotations are left to other tools);
- the desired manifest does not have it (fields we set are put back by the forced apply anyway);
- it is not on the short list of fields others are meant to own: `spec.replicas` (autoscalers,
  `kubectl scale`) and the pod template's `kubectl.kubernetes.io/restartedAt` annotation
  (`kubectl rollout restart`).
Removal is a JSON patch of `remove` operations, each guarded by a `test` of the value removed:
it removes exactly those fields, and an object whose lists moved meanwhile is left for the next
pass (which its change triggers) rather than patched at a wrong list index. Taking the fields
over with a forced apply and then dropping them would not do: a field applied with the value it
already has is shared with its owner, not taken, and stays when we drop it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragops_operator.objects import Obj
from ragops_operator.planning.conditions import Condition

CONDITION = "DriftReverted"
# How long DriftReverted stays True after the last revert: long enough for an alert to see it.
REPORT_SECONDS = 900.0
# Kubernetes' own controllers: they write status (through the subresource) and annotations, and
# when they do write a spec field that is their job, not a hand edit.
CONTROLLER_MANAGERS = frozenset({"kube-controller-manager", "kube-scheduler", "kubelet"})
# Spec fields that other actors own by design, on any kind.
KEPT_PATHS: tuple[tuple[str, ...], ...] = (
    ("spec", "replicas"),
    ("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"),
)
# A Job's pod template is immutable and a Job lives for one run: nothing to revert there.
SKIPPED_KINDS = frozenset({"Job"})

Segment = tuple[str, Any]  # ("f", field name) | ("k", {merge key: value}) | ("v", set value)


@dataclass(frozen=True)
class ForeignField:
    manager: str
    path: tuple[Segment, ...]

    def describe(self) -> str:
        """`spec.template.spec.containers[name=sidecar]`, `spec.ingress`: what a user reads."""
        text = ""
        for kind, value in self.path:
            if kind == "f":
                text += f".{value}" if text else str(value)
            elif kind == "k":
                text += "[" + ",".join(f"{k}={v}" for k, v in sorted(value.items())) + "]"
            else:
                text += f"[{json.dumps(value)}]"
        return text


def _segment(key: str) -> Segment | None:
    """One fieldsV1 key; None for `.` (the node itself) and anything unknown."""
    prefix, _, rest = key.partition(":")
    if prefix == "f" and rest:
        return "f", rest
    if prefix in ("k", "v") and rest:
        try:
            return prefix, json.loads(rest)
        except ValueError:
            return None
    return None


def _item_matches(item: Any, keys: Mapping[str, Any]) -> bool:
    """A desired list item is the keyed one when no key it sets differs: a key it leaves to the
    API server's default (a port's `protocol`) must not make our own item look foreign."""
    return isinstance(item, dict) and all(
        name not in item or item[name] == value for name, value in keys.items()
    )


def _desired_child(desired: Any, segment: Segment) -> tuple[bool, Any]:
    kind, value = segment
    if kind == "f":
        return (
            (True, desired[value])
            if isinstance(desired, dict) and value in desired
            else (
                False,
                None,
            )
        )
    if not isinstance(desired, list):
        return False, None
    if kind == "k":
        for item in desired:
            if _item_matches(item, value):
                return True, item
        return False, None
    return (value in desired), value


def _walk(fields: Mapping[str, Any], desired: Any, path: tuple[Segment, ...]) -> Iterator[Any]:
    for key, below in fields.items():
        segment = _segment(key)
        if segment is None:
            continue
        here = (*path, segment)
        present, child = _desired_child(desired, segment)
        if not present and not _above_kept(here):
            yield here  # the whole subtree is theirs: remove it at its root
        elif isinstance(below, dict) and below:
            # Into what we set too, or into a map holding a kept field (the template's
            # annotations, with restartedAt): each of its other fields is judged on its own.
            yield from _walk(below, child, here)


def _names(path: tuple[Segment, ...]) -> tuple[str | None, ...]:
    return tuple(value if kind == "f" else None for kind, value in path)


def _kept(path: tuple[Segment, ...]) -> bool:
    names = _names(path)
    return any(names[: len(kept)] == kept for kept in KEPT_PATHS)


def _above_kept(path: tuple[Segment, ...]) -> bool:
    names = _names(path)
    return any(len(names) < len(kept) and kept[: len(names)] == names for kept in KEPT_PATHS)


def foreign_fields(live: Obj, desired: Obj, *, ours: frozenset[str]) -> list[ForeignField]:
    """Fields of `live` that a manager not in `ours` owns and `desired` does not have."""
    if live.get("kind") in SKIPPED_KINDS:
        return []
    found: list[ForeignField] = []
    for entry in live.get("metadata", {}).get("managedFields") or []:
        manager = str(entry.get("manager") or "")
        if manager in ours or manager in CONTROLLER_MANAGERS or entry.get("subresource"):
            continue
        top = {
            key: below
            for key, below in (entry.get("fieldsV1") or {}).items()
            if key not in ("f:metadata", "f:status", "f:apiVersion", "f:kind")
        }
        for path in _walk(top, desired, ()):
            if not _kept(path):
                found.append(ForeignField(manager, path))
    return found


def _pointer(live: Obj, path: tuple[Segment, ...]) -> list[str | int] | None:
    """The JSON-pointer tokens of `path` in `live`; None if it is not there (gone already)."""
    tokens: list[str | int] = []
    node: Any = live
    for kind, value in path:
        if kind == "f":
            if not isinstance(node, dict) or value not in node:
                return None
            tokens.append(value)
            node = node[value]
            continue
        if not isinstance(node, list):
            return None
        index = next(
            (
                i
                for i, item in enumerate(node)
                if (
                    kind == "k"
                    and isinstance(item, dict)
                    and all(item.get(k) == v for k, v in value.items())
                )
                or (kind == "v" and item == value)
            ),
            None,
        )
        if index is None:
            return None
        tokens.append(index)
        node = node[index]
    return tokens


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _value_at(live: Obj, tokens: tuple[str | int, ...]) -> Any:
    node: Any = live
    for token in tokens:
        node = node[token]
    return node


def removal_patch(live: Obj, fields: Sequence[ForeignField]) -> list[Obj]:
    """A JSON patch removing `fields` from `live`, or [] when none is there any more.

    Removals run from the last list index to the first, so earlier removals do not shift later
    ones. Each is preceded by a `test` that the path still holds what `live` holds there: the
    API server refuses the whole patch if a list moved since `live` was read (a stale index
    would remove the wrong item). Not a test of the resourceVersion: a controller's status
    update changes it every few seconds on a Deployment in a rollout."""
    pointers = {
        tuple(tokens) for field in fields if (tokens := _pointer(live, field.path)) is not None
    }

    def order(tokens: tuple[str | int, ...]) -> tuple[tuple[int, int, str], ...]:
        return tuple((1, t, "") if isinstance(t, int) else (0, 0, t) for t in tokens)

    operations: list[Obj] = []
    for pointer in sorted(pointers, key=order, reverse=True):
        path = "/" + "/".join(_escape(t) for t in pointer)
        operations.append({"op": "test", "path": path, "value": _value_at(live, pointer)})
        operations.append({"op": "remove", "path": path})
    return operations


def messages(obj: Obj, fields: Sequence[ForeignField]) -> list[str]:
    """One line per manager: what was removed, from which object, set by whom."""
    by_manager: dict[str, list[str]] = {}
    for field in fields:
        by_manager.setdefault(field.manager, []).append(field.describe())
    what = f"{obj['kind']} {obj['metadata']['name']}"
    return [
        f"Removed {', '.join(sorted(set(paths)))} from {what}: set by {manager}, not in the spec"
        for manager, paths in sorted(by_manager.items())
    ]


def _time_of(message: str) -> datetime.datetime | None:
    stamp = message.split(" ", 1)[0].rstrip(":")
    try:
        return datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return None


def drift_condition(
    previous: Sequence[Mapping[str, Any]], reverted: Sequence[str], *, now: str
) -> Condition | None:
    """The DriftReverted condition, or None to leave it out.

    True from a revert until REPORT_SECONDS after the last one (the message starts with its
    time, as lastTransitionTime moves only on a change of status); then False. A stack that
    never drifted has no such condition."""
    if reverted:
        return Condition(
            CONDITION, "True", "ForeignFieldsRemoved", f"{now}: " + "; ".join(reverted)
        )
    before = next((c for c in previous if c.get("type") == CONDITION), None)
    if before is None:
        return None
    if before.get("status") == "True":
        last = _time_of(str(before.get("message") or ""))
        current = _time_of(now)
        if (
            last is not None
            and current is not None
            and (current - last).total_seconds() < REPORT_SECONDS
        ):
            return Condition(
                CONDITION, "True", str(before.get("reason")), str(before.get("message"))
            )
    return Condition(
        CONDITION,
        "False",
        "NoRecentDrift",
        f"no field set by another manager removed in the last {int(REPORT_SECONDS)} s",
    )
