"""The Jobs of an embedding-model change: `ragops reindex` into the new model's index version
(see ragops_operator/planning/reindex.py for when each runs).

The pod reads the stack's ConfigMap like the worker, then overrides the embedding settings and
`RAGOPS_INDEX_VERSION` with the target's: during a build the ConfigMap still names the old
model, which the API and workers keep using. It runs as the worker's ServiceAccount and with the
worker's resources (re-embedding is the worker's work, in bulk), and writes its result JSON as
the termination message.
"""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import backup, config, pods, workloads
from ragops_operator.builders.labels import Owner, metadata
from ragops_operator.builders.worker import image
from ragops_operator.objects import Obj
from ragops_operator.planning import reindex

BACKOFF_LIMIT = 3


def target_env(target: api.EmbeddingModel) -> list[dict[str, Any]]:
    values = {
        "embedding_provider": target.provider,
        "embedding_model": target.model,
        "embedding_dimensions": target.dimensions,
        "index_version": reindex.version_of(target),
    }
    # An unset dimension must override the ConfigMap's value too ("null": the services' None).
    return [
        {"name": config.env_name(k), "value": "null" if v is None else str(v)}
        for k, v in values.items()
    ]


def job(spec: api.RAGDeploymentSpec, owner: Owner, wanted: reindex.JobWanted) -> Obj:
    args = ["reindex", "--from", wanted.source]
    if wanted.kind == "catchup":
        args.append("--switch-alias")
    container = {
        "name": "reindex",
        "image": image(spec),
        "imagePullPolicy": spec.image_pull_policy,
        "args": args,
        "envFrom": [{"configMapRef": {"name": owner.child_name("config")}}],
        "env": [
            *config.secret_env(spec),
            *target_env(wanted.target),
            {"name": config.env_name("backup_termination_log"), "value": backup.TERMINATION_LOG},
        ],
        "resources": pods.resources(
            spec.worker.resources, ephemeral=pods.scratch_request(workloads.SCRATCH_VOLUMES)
        ),
        "securityContext": pods.container_security_context(),
        "terminationMessagePath": backup.TERMINATION_LOG,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "data", "mountPath": config.DATA_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(owner, owner.child_name(wanted.suffix), backup.COMPONENT_REINDEX),
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "template": backup.job_template(
                owner,
                backup.COMPONENT_REINDEX,
                container,
                [dict(volume) for volume in workloads.SCRATCH_VOLUMES],
            ),
        },
    }


def build(spec: api.RAGDeploymentSpec, owner: Owner, wanted: reindex.JobWanted | None) -> list[Obj]:
    return [] if wanted is None else [job(spec, owner, wanted)]
