"""The whole desired set of one RAGDeployment, in apply order (pure and deterministic)."""

from __future__ import annotations

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import backup, config, monitoring, network, qdrant, worker
from ragops_operator.builders import reindex as reindex_builder
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj
from ragops_operator.planning import reindex


def desired(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    active: api_builder.Color = "blue",
    render: tuple[api_builder.Color, ...] | None = None,
    preview: api_builder.Color | None = None,
    preview_minimum: int = 1,
    prometheus_operator: bool = False,
    restoring: bool = False,
    reindexing: reindex.JobWanted | None = None,
    live_qdrant: Obj | None = None,
) -> list[Obj]:
    """ConfigMap first (pods read it at start), then the data layer (and its restore or reindex
    Job while one is wanted), then the services, then the policies and monitoring that refer to
    them.

    `live_qdrant` is the running Qdrant StatefulSet (qdrant.snapshots_limit). `spec` is the
    one the pods run: during a re-index its embedding model is the index's
    current one, not yet the spec's (planning/decide.py passes `reindex.effective_spec`)."""
    return [
        config.config_map(spec, owner),
        *qdrant.build(spec, owner, live=live_qdrant),
        *backup.restore_build(spec, owner, restoring=restoring),
        *reindex_builder.build(spec, owner, reindexing),
        *api_builder.build(
            spec,
            owner,
            active=active,
            render=render,
            preview=preview,
            preview_minimum=preview_minimum,
        ),
        *worker.build(spec, owner),
        *network.build(spec, owner),
        *backup.build(spec, owner),
        *(
            backup.network_policies(spec, owner)
            if spec.backup.enabled or restoring or reindexing
            else []
        ),
        *monitoring.build(spec, owner, prometheus_operator=prometheus_operator),
    ]
