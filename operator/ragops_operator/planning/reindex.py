"""Changing the embedding model without ever serving a half-built or mixed index, as one pure
function of (spec, last status, what the cluster shows) -> what to run and which model the pods use.

Vectors of two models cannot share a collection, so each embedding model has its own index
version (`{provider}-{hash of the model settings}`, i.e. its own Qdrant collection), and the API
and worker pods read and write the version of the model they run. A change of
`spec.models.embedding` goes through these phases (docs/operator.md, "Changing the embedding
model"):

- Building: the Job `{name}-reindex-{h}` (`ragops reindex --from OLD`) re-embeds every chunk of
  the old version into the new one; the pods keep the old model, so queries never see the new
  collection half built.
- Switching: once that Job succeeded, the pods get the new model and version (the worker rolls,
  the API goes blue/green, its old color still reading the old version until the switch).
- CatchingUp: once no worker runs the old model (a stopping one may still have finished a
  document into the old version), the Job `{name}-catchup-{h}` copies what is still missing and
  moves the Qdrant alias; the index is Ready when that Job succeeded and the API serves the new
  model.

A re-run of `ragops reindex` copies only missing points, so a retried pod or the catch-up is
cheap, and deletes reach every version, so a document deleted meanwhile does not come back. A
new change is taken up only from Ready, Building or Failed: during Switching and CatchingUp the
pods already run the new model, and the next build must start from a complete index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ragops_operator.api import v1alpha1 as api
from ragops_operator.objects import Obj

Phase = Literal["Ready", "Building", "Switching", "CatchingUp", "Failed"]
JobKind = Literal["reindex", "catchup"]


def identity(embedding: api.EmbeddingModel) -> Obj:
    """What decides the vectors: the offline model ignores model and dimensions."""
    if embedding.provider == "local":
        return {"provider": "local"}
    return {
        "provider": embedding.provider,
        "model": embedding.model,
        "dimensions": embedding.dimensions,
    }


def version_of(embedding: api.EmbeddingModel) -> str:
    digest = hashlib.sha256(json.dumps(identity(embedding), sort_keys=True).encode()).hexdigest()[
        :8
    ]
    return f"{embedding.provider}-{digest}"


def job_suffix(kind: JobKind, version: str) -> str:
    """The Job is `{name}-{suffix}`: short, as Job names end up in label values (63 characters)."""
    return f"{kind}-{version.rsplit('-', 1)[-1]}"


@dataclass(frozen=True)
class JobWanted:
    kind: JobKind
    suffix: str  # the Job is `{name}-{suffix}`
    source: str  # version copied from
    target: api.EmbeddingModel  # the model (and so the version) copied into


@dataclass(frozen=True)
class JobState:
    """A reindex Job as the planner needs it: done, failed (with why) or still running."""

    succeeded: bool = False
    failed: str | None = None


@dataclass(frozen=True)
class IndexState:
    """status.index: the model the pods run, and a change in progress."""

    embedding: api.EmbeddingModel
    phase: Phase = "Ready"
    source: str | None = None  # the version the change copies from
    target: api.EmbeddingModel | None = None
    message: str = ""
    failed: bool = False  # a Job failed: Degraded until it is deleted (retry) or the spec changes

    @property
    def version(self) -> str:
        return version_of(self.embedding)


@dataclass(frozen=True)
class IndexPlan:
    state: IndexState
    job: JobWanted | None = None
    events: tuple[tuple[str, str, str], ...] = ()

    @property
    def effective(self) -> api.EmbeddingModel:
        """The model the API and worker pods are rendered with."""
        return self.state.embedding


@dataclass(frozen=True)
class Observed:
    jobs: dict[str, JobState]  # by Job suffix
    workers_switched: bool  # every worker pod runs the current config, none is terminating
    api_switched: bool  # the API Service selects pods of the current template
    api_failed: str | None = (
        None  # the API's rollout to the current template rolled back or aborted
    )


def plan(spec: api.EmbeddingModel, saved: IndexState, observed: Observed) -> IndexPlan:
    if saved.phase in ("Switching", "CatchingUp"):
        return _switching(saved, observed)
    if (
        version_of(spec) == saved.version
    ):  # nothing to change, or a change reverted before the switch
        if saved.phase == "Ready":
            return IndexPlan(saved)
        return IndexPlan(
            IndexState(saved.embedding, message=f"serving {saved.version}"),
            events=(
                ("Normal", "ReindexCancelled", f"spec.models.embedding is back to {saved.version}"),
            ),
        )
    return _building(spec, saved, observed)


def _building(spec: api.EmbeddingModel, saved: IndexState, observed: Observed) -> IndexPlan:
    source, target = saved.version, version_of(spec)
    job = JobWanted("reindex", job_suffix("reindex", target), source, spec)
    events: tuple[tuple[str, str, str], ...] = ()
    if (
        saved.phase not in ("Building", "Failed")
        or saved.target is None
        or version_of(saved.target) != target
    ):
        events = (
            (
                "Normal",
                "ReindexStarted",
                f"Re-embedding {source} into {target} for the new embedding model",
            ),
        )
    state = IndexState(
        saved.embedding, "Building", source, spec, f"re-embedding {source} into {target}"
    )
    run = observed.jobs.get(job.suffix)
    if run is not None and run.failed is not None:
        failed = IndexState(
            saved.embedding,
            "Failed",
            source,
            spec,
            f"re-embedding into {target} failed: {run.failed}; delete the Job to retry",
            failed=True,
        )
        new_failure = saved.phase != "Failed"
        return IndexPlan(
            failed, job, (("Warning", "ReindexFailed", failed.message),) if new_failure else events
        )
    if run is not None and run.succeeded:
        switching = IndexState(
            spec, "Switching", source, None, f"{target} built; moving the API and workers to it"
        )
        return IndexPlan(
            switching,
            None,
            (
                *events,
                ("Normal", "ReindexBuilt", f"{target} is complete; switching the pods to it"),
            ),
        )
    return IndexPlan(state, job, events)


def _switching(saved: IndexState, observed: Observed) -> IndexPlan:
    assert saved.source is not None
    version = saved.version
    catchup = JobWanted("catchup", job_suffix("catchup", version), saved.source, saved.embedding)
    if saved.phase == "Switching":
        if not observed.workers_switched:
            return IndexPlan(saved)
        saved = IndexState(
            saved.embedding,
            "CatchingUp",
            saved.source,
            None,
            f"copying what reached {saved.source} during the switch, "
            f"then moving the alias to {version}",
        )
    run = observed.jobs.get(catchup.suffix)
    if run is not None and run.failed is not None:
        message = f"catching up {version} failed: {run.failed}; delete the Job to retry"
        return IndexPlan(
            IndexState(saved.embedding, "CatchingUp", saved.source, None, message, failed=True),
            catchup,
            (("Warning", "ReindexFailed", message),) if saved.message != message else (),
        )
    if run is None or not run.succeeded:
        return IndexPlan(saved, catchup)
    if observed.api_failed is not None:
        message = (
            f"the API's move to {version} did not complete: {observed.api_failed}; "
            "fix it or change spec.models.embedding"
        )
        return IndexPlan(IndexState(saved.embedding, "CatchingUp", saved.source, None, message))
    if not observed.api_switched:
        return IndexPlan(
            IndexState(
                saved.embedding,
                "CatchingUp",
                saved.source,
                None,
                f"{version} complete; waiting for the API to serve it",
            )
        )
    done = IndexState(saved.embedding, "Ready", None, None, f"serving {version}")
    return IndexPlan(
        done,
        None,
        (
            (
                "Normal",
                "Reindexed",
                f"The API and workers use {version}; {saved.source} is no longer read",
            ),
        ),
    )


# status.index <-> IndexState -----------------------------------------------------------------


def _model(data: Obj | None) -> api.EmbeddingModel | None:
    return api.EmbeddingModel.model_validate(data) if data else None


def _dump(model: api.EmbeddingModel | None) -> Obj | None:
    return None if model is None else model.model_dump(by_alias=True, exclude_none=True)


def from_status(
    previous: Obj, *, live_embedding: api.EmbeddingModel | None, spec: api.EmbeddingModel
) -> IndexState:
    """The saved state; without one (a new stack, or a status lost) the pods' live ConfigMap
    says which model they run, and only a brand-new stack starts from the spec."""
    saved = previous.get("index")
    if not saved:
        return IndexState(live_embedding or spec)
    embedding = _model(saved.get("embedding")) or live_embedding or spec
    return IndexState(
        embedding,
        saved.get("phase") or "Ready",
        saved.get("source"),
        _model(saved.get("target")),
        str(saved.get("message") or ""),
        bool(saved.get("failed")),
    )


def to_status(state: IndexState, job_name: str | None) -> Obj:
    return {
        "version": state.version,
        "embedding": _dump(state.embedding),
        "phase": state.phase,
        "source": state.source,
        "target": _dump(state.target),
        "targetVersion": version_of(state.target) if state.target is not None else None,
        "job": job_name,
        "message": state.message,
        "failed": state.failed,
    }


def effective_spec(
    spec: api.RAGDeploymentSpec, embedding: api.EmbeddingModel
) -> api.RAGDeploymentSpec:
    """The spec the pods are rendered from: the spec, with the embedding model of the index."""
    if embedding == spec.models.embedding:
        return spec
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"embedding": embedding})}
    )


def embedding_from_config(
    data: dict[str, str] | None, env_name: Callable[[str], str]
) -> api.EmbeddingModel | None:
    """The model a live ConfigMap gives the pods (None without a ConfigMap)."""
    if not data:
        return None
    provider = data.get(env_name("embedding_provider"), "local")
    dimensions = data.get(env_name("embedding_dimensions"))
    values: Obj = {
        "provider": provider,
        "dimensions": int(dimensions) if dimensions and dimensions.isdigit() else None,
    }
    if env_name("embedding_model") in data:
        values["model"] = data[env_name("embedding_model")]
    return api.EmbeddingModel.model_validate(values)
