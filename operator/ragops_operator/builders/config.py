"""The environment of the API and worker pods, named by the services' own Settings model.

Variable names are derived from `ragops_core.settings.Settings` (its prefix, field names and
aliases), never retyped: renaming a setting breaks the operator's tests instead of silently
shipping pods that ignore their configuration.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ragops_core.settings import Settings
from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import aws
from ragops_operator.builders.labels import COMPONENT_STACK, Owner, metadata
from ragops_operator.objects import Obj
from ragops_operator.planning import reindex

DATA_DIR = "/var/lib/ragops"
QDRANT_HTTP_PORT = 6333
# Long enough to finish a typical document after SIGTERM; a longer one is released to the queue.
WORKER_TERMINATION_GRACE_SECONDS = 120


def env_name(field: str) -> str:
    """The environment variable that sets `Settings.<field>`; KeyError if there is no such field."""
    info = Settings.model_fields[field]
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


# Above an ALB's idle timeout (60 s unless changed): a balancer that reuses a keep-alive connection
# the pod has just closed answers that request with a 502.
KEEP_ALIVE_SECONDS = 65


def qdrant_url(owner: Owner) -> str:
    return f"http://{owner.child_name('qdrant')}:{QDRANT_HTTP_PORT}"


def _settings_values(spec: api.RAGDeploymentSpec, owner: Owner) -> dict[str, Any]:
    models, docs, retrieval = spec.models, spec.documents, spec.retrieval
    values: dict[str, Any] = {
        "data_dir": DATA_DIR,
        "tenant": spec.tenant or owner.name,
        "chunk_words": retrieval.chunk_words,
        "overlap_words": retrieval.overlap_words,
        "top_k": retrieval.top_k,
        "retrieval_mode": retrieval.mode,
        "answer_cache_ttl_seconds": spec.cache.answer_ttl_seconds,
        "embedding_cache_ttl_seconds": spec.cache.embedding_ttl_seconds,
        "s3_bucket": docs.bucket,
        "s3_prefix": docs.prefix,
        "s3_kms_key_id": docs.kms_key_id,
        "sqs_queue_url": docs.queue_url,
        "max_upload_bytes": docs.max_upload_bytes,
        "max_upload_pages": docs.max_upload_pages,
        "rate_limit_questions": spec.api.rate_limits.questions,
        "rate_limit_other": spec.api.rate_limits.other,
        "qdrant_url": qdrant_url(owner),
        "qdrant_shards": spec.vector_store.qdrant.shards,
        "qdrant_replication_factor": spec.vector_store.qdrant.replication_factor,
        "worker_grace_seconds": worker_grace_seconds(),
        "job_visibility_seconds": spec.worker.job_visibility_seconds,
        "embedding_provider": models.embedding.provider,
        "embedding_model": models.embedding.model,
        "embedding_dimensions": models.embedding.dimensions,
        # Each embedding model writes and reads its own collection
        # (see ragops_operator/planning/reindex.py).
        "index_version": reindex.version_of(models.embedding),
        "chat_model": models.chat.model,
        "http_keep_alive_seconds": KEEP_ALIVE_SECONDS,
    }
    if models.fallback is not None:
        values["bedrock_model_id"] = models.fallback.model_id
        values["bedrock_region"] = models.fallback.region
    if spec.auth is not None:
        values.update(
            auth_jwks_url=spec.auth.jwks_url,
            auth_issuer=spec.auth.issuer,
            auth_audience=spec.auth.audience,
            auth_tenant_claim=spec.auth.tenant_claim,
            # The spec documents an unset audience as "not checked"; the API refuses to start
            # with an unset audience unless told so.
            auth_any_audience=spec.auth.audience is None,
        )
    return values


def worker_grace_seconds() -> int:
    """The worker's own deadline to finish a document after SIGTERM: the pod's grace period
    less time to release the message, so Kubernetes never has to SIGKILL mid-release."""
    return max(1, WORKER_TERMINATION_GRACE_SECONDS - 15)


def config_data(spec: api.RAGDeploymentSpec, owner: Owner) -> dict[str, str]:
    """ConfigMap data: every non-secret setting, as the strings pydantic-settings parses, and
    the AWS SDK's region and endpoints (`spec.aws`, builders/aws.py)."""
    data = {
        env_name(field): str(value)
        for field, value in _settings_values(spec, owner).items()
        if value is not None
    }
    return {**data, **aws.config_values(spec)}


def secret_env(spec: api.RAGDeploymentSpec) -> list[dict[str, Any]]:
    """Env entries that point at Secrets (the services' settings, then `spec.aws`'s static
    credentials); the operator never reads or copies their values."""
    catalog = spec.cache.redis.catalog_url_secret_ref or spec.cache.redis.url_secret_ref
    refs: list[tuple[str, api.SecretKeyRef, bool]] = [
        ("redis_url", spec.cache.redis.url_secret_ref, False),
        ("catalog_url", catalog, False),
    ]
    wants_openai = "openai" in (spec.models.chat.provider, spec.models.embedding.provider)
    if wants_openai and spec.models.credentials_secret_ref is not None:
        refs.append(("openai_api_key", spec.models.credentials_secret_ref, False))
    if spec.vector_store.qdrant.api_key_secret_ref is not None:
        refs.append(("qdrant_api_key", spec.vector_store.qdrant.api_key_secret_ref, False))
    settings = [
        {
            "name": env_name(field),
            "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key, "optional": optional}},
        }
        for field, ref, optional in refs
    ]
    return settings + aws.secret_env(spec)


def config_map(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(owner, owner.child_name("config"), COMPONENT_STACK),
        "data": config_data(spec, owner),
    }


def config_hash(spec: api.RAGDeploymentSpec, owner: Owner) -> str:
    """Changes when the pods' configuration does, so pods restart (and blue/green starts) then."""
    payload = json.dumps(
        {"data": config_data(spec, owner), "secrets": secret_env(spec)}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
