"""Read which keys the referenced Secrets hold: a `get` per Secret, by name.

Why not the pods' waiting reasons (CreateContainerConfigError): they appear only once a pod
was scheduled and its kubelet tried to start it, they say nothing before the first pod (or on
a cluster whose nodes do not run containers), and they name only the first missing Secret of a
container. A `get` by name answers at once for every reference. Only the key names are kept;
the values are dropped as soon as the answer is parsed and never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from ragops_operator.control.kube import ApiError, ClusterApi, Kind

SECRETS = Kind("v1", "Secret", "secrets", watched=False)


async def read_keys(
    cluster: ClusterApi, namespace: str, names: Iterable[str]
) -> dict[str, frozenset[str] | None]:
    """{name: key names, or None if the Secret does not exist}; a Secret the operator may not
    read (403: a ClusterRole from before this check) is left out, so it is never reported
    missing on a guess."""

    async def one(name: str) -> tuple[str, frozenset[str] | None] | None:
        try:
            secret = await cluster.get(SECRETS, namespace, name)
        except ApiError as error:
            if error.status == 403:
                return None
            raise
        return name, None if secret is None else frozenset((secret.get("data") or {}).keys())

    answers = await asyncio.gather(*(one(name) for name in names))
    return dict(answer for answer in answers if answer is not None)
