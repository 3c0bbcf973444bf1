"""Every child one RAGDeployment can have at once, for tests that must cover them all (names
that fit, ephemeral storage): both API colors and the preview Service, Qdrant's HPA, backups and
their verification, a restore and both re-index Jobs, monitoring, the quality gate's evaluation
Job and its scheduled CronJob."""

from __future__ import annotations

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import quality as quality_builder
from ragops_operator.builders import reindex as reindex_builder
from ragops_operator.builders import stack
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj
from ragops_operator.planning import reindex
from tests.support.builder_specs import make_spec

TARGET = api.EmbeddingModel(provider="openai", model="text-embedding-3-large")


def everything_spec() -> api.RAGDeploymentSpec:
    return make_spec(
        vectorStore={
            "qdrant": {
                "replicas": 3,
                "replicationFactor": 2,
                "storage": {"size": "100Gi", "storageClassName": "gp3"},
                "autoscaling": {"enabled": True, "maxReplicas": 12},
            }
        },
        backup={"enabled": True, "bucket": "backups", "verify": {"enabled": True}},
        restore={"fromSnapshot": "latest"},
        api={
            "rollout": {
                "qualityGate": {
                    "questions": {"configMapKeyRef": {"name": "golden", "key": "q.jsonl"}},
                    "minimums": {"answer_hit": 0.8},
                    "schedule": "@hourly",
                }
            }
        },
    )


def every_child(owner: Owner) -> list[Obj]:
    spec = everything_spec()
    version = reindex.version_of(TARGET)
    jobs = [
        reindex.JobWanted(kind, reindex.job_suffix(kind, version), "local-0000aaaa", TARGET)
        for kind in ("reindex", "catchup")
    ]
    return [
        *stack.desired(
            spec,
            owner,
            render=("blue", "green"),
            preview="green",
            prometheus_operator=True,
            restoring=True,
            reindexing=jobs[0],
        ),
        *reindex_builder.build(spec, owner, jobs[1]),
        *quality_builder.build(spec, owner, evaluate="0123456789"),
    ]
