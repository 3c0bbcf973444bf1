"""An in-memory cluster behind the operator's ClusterApi protocol, for unit tests of its I/O.

Deliberately simple, and the same on the points the operator relies on:
- server-side apply stores the manifest (a field manager other than the operator's merges into
  the object, as the replica handoff does), keeps `status` and the fields a hand edit
  (`edit_by`) added, assigns uid, resourceVersion and
  generation, and is a no-op (same resourceVersion) when nothing changed;
- delete honours the uid precondition; like `kube.Cluster.delete`, 404 and 409 are not errors;
- every call is recorded (`calls`), and any call can be made to fail with an API status
  (`fail`), to exercise the transient-versus-permanent split.
"""

from __future__ import annotations

import builtins
import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.control.kube import FIELD_MANAGER, RAGD, ApiError, Kind
from ragops_operator.objects import Obj

ObjectKey = tuple[str, str, str, str]  # (apiVersion, kind, namespace, name)


@dataclass(frozen=True)
class Call:
    verb: str  # apply, list, get, create, merge_patch, json_patch, delete, patch_status, ...
    kind: str
    namespace: str = ""
    name: str = ""
    detail: Obj = field(default_factory=dict)  # apply: field manager; delete: uid, orphan; ...


@dataclass
class _Failure:
    verb: str
    kind: str | None
    name: str | None
    status: int
    times: int


def merge_patch(target: Obj, patch: Obj) -> Obj:
    """RFC 7386: None deletes a key, mappings merge, anything else replaces."""
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _labels_match(obj: Obj, selector: dict[str, str]) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


class FakeCluster:
    def __init__(self, *, served: dict[str, set[str]] | None = None) -> None:
        self.objects: dict[ObjectKey, Obj] = {}
        self.calls: list[Call] = []
        self.events: list[Obj] = []
        self.closed = False
        self._served = served or {}
        self._failures: list[_Failure] = []
        self._uids = itertools.count(1)
        self._versions = itertools.count(1)

    # -- test helpers ---------------------------------------------------------------------

    def fail(
        self,
        verb: str,
        *,
        status: int,
        kind: str | None = None,
        name: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `verb` (on that kind and name, if given) answer `status`."""
        self._failures.append(_Failure(verb, kind, name, status, times))

    def add(self, obj: Obj) -> Obj:
        """Store `obj` as if created (uid, resourceVersion, generation assigned); returns a copy."""
        stored = self._stamp(copy.deepcopy(obj), None)
        self.objects[self._key(stored)] = stored
        return copy.deepcopy(stored)

    def find(self, kind: str, namespace: str, name: str) -> Obj | None:
        for (_, k, ns, n), obj in self.objects.items():
            if (k, ns, n) == (kind, namespace, name):
                return obj
        return None

    def set_status(self, kind: str, namespace: str, name: str, status: Obj) -> None:
        """What a controller would write (a Deployment's ready replicas); no new generation."""
        obj = self.find(kind, namespace, name)
        assert obj is not None, f"no {kind} {namespace}/{name}"
        obj["status"] = copy.deepcopy(status)
        obj["metadata"]["resourceVersion"] = str(next(self._versions))

    def edit_by(self, manager: str, obj: Obj, fields_v1: Obj) -> None:
        """A hand edit (`kubectl patch`): `obj` replaces the stored object, which gets a new
        generation, and `manager` an Update entry owning `fields_v1` in managedFields."""
        live = self.objects[self._key(obj)]
        stored = self._stamp(copy.deepcopy(obj), live)
        entry = {"manager": manager, "operation": "Update", "fieldsV1": fields_v1}
        stored["metadata"]["managedFields"] = [
            *(stored["metadata"].get("managedFields") or []),
            entry,
        ]
        self.objects[self._key(obj)] = stored

    def of(self, verb: str) -> list[Call]:
        return [call for call in self.calls if call.verb == verb]

    def reset_calls(self) -> None:
        self.calls.clear()
        self.events.clear()

    # -- ClusterApi -------------------------------------------------------------------------

    async def apply(self, manifest: Obj, *, field_manager: str = FIELD_MANAGER) -> Obj:
        meta = manifest["metadata"]
        self._call(
            "apply",
            manifest["kind"],
            meta["namespace"],
            meta["name"],
            {"field_manager": field_manager},
        )
        key = self._key(manifest)
        live = self.objects.get(key)
        if live is not None and field_manager != FIELD_MANAGER:
            wanted = merge_patch(live, {k: v for k, v in manifest.items() if k != "metadata"})
        else:
            wanted = copy.deepcopy(manifest)
            if live is not None and "status" in live:
                wanted["status"] = copy.deepcopy(live["status"])
            if live is not None:
                for entry in live["metadata"].get("managedFields") or []:
                    if entry.get("operation") == "Update":  # a hand edit (edit_by) survives
                        _keep_owned(wanted, live, entry["fieldsV1"])
        if live is not None and self._content(wanted) == self._content(live):
            return copy.deepcopy(live)  # server-side apply of the same fields changes nothing
        stored = self._stamp(wanted, live, manager=field_manager)
        self.objects[key] = stored
        return copy.deepcopy(stored)

    async def list(
        self, kind: Kind, namespace: str, selector: dict[str, str]
    ) -> builtins.list[Obj]:
        self._call("list", kind.kind, namespace, "", {"selector": dict(selector)})
        return [
            copy.deepcopy(obj)
            for (version, k, ns, _), obj in self.objects.items()
            if (version, k) == (kind.api_version, kind.kind)
            and (not namespace or ns == namespace)
            and _labels_match(obj, selector)
        ]

    async def list_all(self, kind: Kind) -> builtins.list[Obj]:
        return await self.list(kind, "", {})

    async def get(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        self._call("get", kind.kind, namespace, name)
        obj = self.objects.get((kind.api_version, kind.kind, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    async def merge_patch(self, kind: Kind, namespace: str, name: str, patch: Obj) -> Obj:
        self._call("merge_patch", kind.kind, namespace, name, {"patch": copy.deepcopy(patch)})
        key = (kind.api_version, kind.kind, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise _error(404)
        self.objects[key] = self._stamp(merge_patch(live, patch), live)
        return copy.deepcopy(self.objects[key])

    async def create(self, kind: Kind, obj: Obj) -> Obj:
        meta = obj["metadata"]
        self._call("create", kind.kind, meta.get("namespace", ""), meta["name"])
        key = (kind.api_version, kind.kind, meta.get("namespace", ""), meta["name"])
        if key in self.objects:
            raise _error(409)
        self.objects[key] = self._stamp(copy.deepcopy(obj), None)
        return copy.deepcopy(self.objects[key])

    async def json_patch(
        self, kind: Kind, namespace: str, name: str, operations: builtins.list[Obj]
    ) -> Obj:
        """`test` and `remove` only: what the operator sends (control/foreign_fields.py)."""
        self._call("json_patch", kind.kind, namespace, name, {"ops": copy.deepcopy(operations)})
        key = (kind.api_version, kind.kind, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise _error(404)
        patched = copy.deepcopy(live)
        for operation in operations:
            *parents, last = [
                t.replace("~1", "/").replace("~0", "~") for t in operation["path"].split("/")[1:]
            ]
            node: Any = patched
            for token in parents:
                node = node[int(token)] if isinstance(node, list) else node[token]
            index: Any = int(last) if isinstance(node, list) else last
            if operation["op"] == "test":
                if isinstance(node, list) and index >= len(node):
                    raise _error(422)
                if (node[index] if isinstance(node, list) else node.get(index)) != operation[
                    "value"
                ]:
                    raise _error(422)
            elif operation["op"] == "remove":
                del node[index]
            else:
                raise AssertionError(f"the fake has no JSON patch {operation['op']!r}")
        self.objects[key] = self._stamp(patched, live)
        return copy.deepcopy(self.objects[key])

    async def delete(self, obj: Obj, *, orphan: bool = False) -> None:
        meta = obj["metadata"]
        detail = {"uid": meta["uid"], "orphan": orphan}
        try:
            self._call("delete", obj["kind"], meta["namespace"], meta["name"], detail)
        except ApiError as error:
            if error.status in (404, 409):
                return
            raise
        live = self.objects.get(self._key(obj))
        if live is not None and live["metadata"]["uid"] == meta["uid"]:  # the uid precondition
            del self.objects[self._key(obj)]

    async def patch_status(self, namespace: str, name: str, status: Obj) -> None:
        self._call("patch_status", RAGD.kind, namespace, name, {"status": copy.deepcopy(status)})
        key = (RAGD.api_version, RAGD.kind, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise _error(404)
        # The status subresource: no new generation, a new resourceVersion.
        live["status"] = merge_patch(live.get("status") or {}, status)
        live["metadata"]["resourceVersion"] = str(next(self._versions))

    async def served(self, group_version: str) -> set[str]:
        self._call("served", group_version)
        return set(self._served.get(group_version, set()))

    async def event(
        self, involved: Obj, *, type_: str, reason: str, message: str, now: str
    ) -> None:
        meta = involved["metadata"]
        self._call("event", "Event", meta["namespace"], meta["name"], {"reason": reason})
        self.events.append(
            {
                "type": type_,
                "reason": reason,
                "message": message,
                "involvedObject": {"name": meta["name"], "uid": meta["uid"]},
            }
        )

    async def close(self) -> None:
        self.closed = True

    # -- internals --------------------------------------------------------------------------

    def _call(
        self, verb: str, kind: str, namespace: str = "", name: str = "", detail: Obj | None = None
    ) -> None:
        self.calls.append(Call(verb, kind, namespace, name, detail or {}))
        for failure in self._failures:
            if (
                failure.verb == verb
                and failure.kind in (None, kind)
                and failure.name in (None, name)
                and failure.times > 0
            ):
                failure.times -= 1
                raise _error(failure.status)

    @staticmethod
    def _key(obj: Obj) -> ObjectKey:
        meta = obj["metadata"]
        return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]

    @staticmethod
    def _content(obj: Obj) -> Obj:
        meta = {
            k: v
            for k, v in obj["metadata"].items()
            if k
            not in ("uid", "resourceVersion", "generation", "managedFields", "creationTimestamp")
        }
        return {**obj, "metadata": meta}

    def _stamp(self, obj: Obj, live: Obj | None, *, manager: str | None = None) -> Obj:
        meta = obj["metadata"]
        before = (live or {}).get("metadata") or {}
        meta["uid"] = before.get("uid") or meta.get("uid") or f"uid-{next(self._uids)}"
        meta["creationTimestamp"] = before.get("creationTimestamp") or "2026-01-01T00:00:00Z"
        spec_changed = live is None or live.get("spec") != obj.get("spec")
        meta["generation"] = int(before.get("generation") or 0) + (1 if spec_changed else 0) or 1
        meta["resourceVersion"] = str(next(self._versions))
        fields = {entry["manager"]: entry for entry in before.get("managedFields") or []}
        if manager is not None:
            spec_fields: Obj = {f"f:{name}": {} for name in obj.get("spec") or {}}
            fields[manager] = {
                "manager": manager,
                "operation": "Apply",
                "fieldsV1": {"f:spec": spec_fields},
            }
        if fields:
            meta["managedFields"] = list(fields.values())
        return obj


def _keep_owned(wanted: Any, live: Any, fields: Obj) -> None:
    """What server-side apply does with fields another manager owns and the apply leaves out:
    they stay. Only `f:` fields and `k:` list items (keyed by name and the like)."""
    for key, below in fields.items():
        prefix, _, rest = key.partition(":")
        if prefix == "f" and isinstance(wanted, dict) and isinstance(live, dict) and rest in live:
            if rest not in wanted:
                wanted[rest] = copy.deepcopy(live[rest])
            elif below:
                _keep_owned(wanted[rest], live[rest], below)
        elif prefix == "k" and isinstance(wanted, list) and isinstance(live, list):
            keys = json.loads(rest)

            def matches(item: Any, keys: Obj = keys) -> bool:
                return isinstance(item, dict) and all(item.get(k) == v for k, v in keys.items())

            theirs = next((item for item in live if matches(item)), None)
            ours = next((item for item in wanted if matches(item)), None)
            if theirs is not None and ours is None:
                wanted.append(copy.deepcopy(theirs))
            elif theirs is not None and below:
                _keep_owned(ours, theirs, below)


def _error(status: int) -> ApiError:
    return ApiError(status, "Injected", json.dumps({"message": f"injected {status}"}))


def ragd(
    spec: Obj,
    *,
    name: str = "demo",
    namespace: str = "tenant-a",
    annotations: dict[str, str] | None = None,
) -> Obj:
    """A RAGDeployment body, before the fake cluster stores it (`FakeCluster.add`)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": f"{api.GROUP}/{api.VERSION}",
        "kind": api.KIND,
        "metadata": metadata,
        "spec": copy.deepcopy(spec),
    }
