"""Configuration, from RAGOPS_* environment variables (and a .env file).

Every field here is also what the operator will render into the API and worker
pods, so names are the contract between the two: change with care.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _split_list(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


class Settings(BaseSettings):
    # "null" unsets an optional setting: the operator's Jobs override a ConfigMap value with it.
    model_config = SettingsConfigDict(
        env_prefix="RAGOPS_", env_file=".env", extra="ignore", env_parse_none_str="null"
    )

    data_dir: Path = Field(
        Path(".ragops"), description="Where the embedded adapters keep all state."
    )
    tenant: str = Field(
        "default", description="Tenant of requests when no authentication is configured."
    )

    ui_dir: Path | None = Field(
        None,
        description=(
            "Built chat page served at `/`; unset: the one the install built into the package "
            "(ragops_api/static/chat)."
        ),
    )

    chunk_words: int = Field(500, ge=1, description="Words per chunk.")
    overlap_words: int = Field(50, ge=0, description="Words shared by consecutive chunks.")
    top_k: int = Field(3, ge=1, le=50, description="Chunks retrieved per question by default.")
    retrieval_mode: Literal["dense", "bm25", "hybrid"] = Field(
        "hybrid", description="dense (embeddings), bm25 (words) or hybrid (both, fused by DBSF)."
    )
    fusion: Literal["dbsf", "rrf"] = Field(
        "dbsf", description="How hybrid retrieval fuses its two rankings."
    )
    dense_max_windows: int = Field(
        1,
        ge=0,
        description=(
            "Embedding windows (256 word pieces each) per chunk; 0 embeds every word of every "
            "chunk (~3x slower ingestion). BM25 always indexes every word."
        ),
    )
    embed_batch_size: int = Field(16, ge=1, description="Texts per embedding batch.")
    embed_threads: int = Field(0, ge=0, description="onnxruntime threads; 0 uses every core.")

    answer_cache_ttl_seconds: int = Field(
        3600, ge=0, description="How long an answer is served from cache."
    )
    answer_cache_scope: str = Field(
        "",
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Names this build and configuration in answer cache keys; the operator sets "
        "each API color's template hash, so colors sharing a cache never serve each other's "
        "answers.",
    )
    embedding_cache_ttl_seconds: int = Field(
        86400, ge=0, description="How long a query embedding is cached."
    )
    cache_max_entries: int = Field(10000, ge=1, description="In-process cache size (entries).")

    auth_jwks_url: str | None = Field(
        None,
        description=(
            "JWKS of the token issuer (Cognito: "
            "https://cognito-idp.REGION.amazonaws.com/POOL/.well-known/jwks.json); set, every API "
            "request needs a bearer JWT. Unset: no authentication."
        ),
    )
    auth_issuer: str | None = Field(
        None, description="Required `iss` of tokens (the user pool's URL)."
    )
    auth_audience: str | None = Field(
        None, description="Required `aud` (ID tokens) or `client_id` (access tokens)."
    )
    auth_tenant_claim: str = Field(
        "custom:tenant", description="Claim that names the caller's tenant."
    )
    auth_any_audience: bool = Field(
        False,
        description=(
            "Accept tokens of any audience (no RAGOPS_AUTH_AUDIENCE): any app client of the user "
            "pool may call the API. Without it, an unset audience refuses to start."
        ),
    )
    public_docs: bool = Field(
        True,
        description=(
            "/docs, /redoc and /openapi.json answer without a token; false: they need one too "
            "(with RAGOPS_AUTH_JWKS_URL)."
        ),
    )

    # Per-user rate limits, in the notation of the `limits` library: "60/minute", "5 per 10
    # seconds", and several joined by ";" ("10/second;60/minute": a burst cap under the
    # per-minute rate). "0": no limit.
    rate_limit_questions: str = Field(
        "60/minute",
        description=(
            "Questions (POST /api/ask, /api/ask/stream, /v1/chat/completions) each user may ask; "
            "429 with Retry-After beyond it. Counted in Redis with RAGOPS_REDIS_URL (shared by "
            "every API replica)."
        ),
    )
    rate_limit_other: str = Field(
        "3000/minute",
        description=(
            "Every other /api request of each user (uploads, job polling, documents, feedback)."
        ),
    )
    trusted_proxies: str = Field(
        "",
        description=(
            "Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For / "
            "X-Forwarded-Proto are believed (the client address of rate limits and logs). Empty: "
            "none, the socket's peer is the client. Behind the AWS ALB: the VPC's CIDR."
        ),
    )

    ui_oidc_domain: str | None = Field(
        None,
        description=(
            "Cognito hosted UI domain the chat page signs in through "
            "(https://NAME.auth.REGION.amazoncognito.com or a custom domain); used only with "
            "RAGOPS_AUTH_JWKS_URL. Unset: no sign-in."
        ),
    )
    ui_oidc_client_id: str | None = Field(
        None,
        description=(
            "App client id (public, no secret) of the chat page; needed with RAGOPS_UI_OIDC_DOMAIN."
        ),
    )
    ui_oidc_scopes: str = Field(
        "openid email profile", description="OAuth scopes the chat page asks for."
    )
    ui_oidc_redirect_path: str = Field(
        "/",
        description=(
            "Path of the page Cognito returns to (the app client's callback URL is origin + this)."
        ),
    )
    ui_oidc_token: Literal["access", "id"] = Field(
        "access",
        description=(
            "Which Cognito token the page sends as bearer: access (needs the tenant claim added by "
            "a pre token generation trigger) or id (carries custom attributes as is)."
        ),
    )

    s3_bucket: str | None = Field(
        None, description="S3 bucket for uploaded documents; unset: the data dir."
    )
    s3_prefix: str = Field(
        "", description="Key prefix in the bucket: objects are `{prefix}/{tenant}/{document_id}`."
    )
    s3_kms_key_id: str | None = Field(
        None, description="KMS key for SSE-KMS on uploads; unset: the bucket default."
    )
    sqs_queue_url: str | None = Field(
        None, description="SQS queue of ingestion jobs; unset: a SQLite queue."
    )

    qdrant_url: str | None = Field(
        None,
        description=(
            "Qdrant server (http://qdrant:6333); unset: the embedded Qdrant Edge under the data "
            "dir."
        ),
    )
    qdrant_api_key: str | None = Field(None, description="Qdrant API key.")
    qdrant_prefer_grpc: bool = Field(
        False, description="Talk gRPC (RAGOPS_QDRANT_GRPC_PORT) instead of REST."
    )
    qdrant_grpc_port: int = Field(
        6334, ge=1, le=65535, description="Qdrant's gRPC port, on the host of RAGOPS_QDRANT_URL."
    )
    qdrant_collection: str = Field(
        "ragops",
        description="Collections are `{name}-{version}`; the alias `{name}` names the one served.",
    )
    qdrant_shards: int = Field(
        1, ge=1, description="Shards of a new Qdrant collection (server only; fixed once created)."
    )
    qdrant_replication_factor: int = Field(
        1,
        ge=1,
        description=(
            "Copies of each shard on different Qdrant peers (server only; at most the peer count)."
        ),
    )
    index_version: str = Field(
        "v1", description="Index version read and written; each embedding model has its own."
    )

    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias="OPENAI_API_KEY",
        description=(
            "Set (the SDK's own variable): OpenAI answers; OPENAI_BASE_URL is honoured too."
        ),
    )
    chat_model: str = Field("gpt-4o-mini", description="OpenAI chat model.")
    bedrock_model_id: str | None = Field(
        None,
        description=(
            "Bedrock model (Converse API) used when OpenAI fails, or first when OpenAI is not set."
        ),
    )
    bedrock_region: str | None = Field(None, description="Bedrock region; unset: AWS_REGION.")
    llm_timeout_seconds: float = Field(
        30.0, gt=0, description="Per-request timeout of a language model call."
    )
    llm_max_retries: int = Field(2, ge=0, description="SDK retries of a language model call.")
    llm_first_delta_timeout_seconds: float = Field(
        20.0,
        gt=0,
        description=(
            "Longest wait for a model's first words, retries included, before the next model."
        ),
    )
    embedding_provider: Literal["local", "openai"] = Field(
        "local", description="local (offline MiniLM) or openai (needs OPENAI_API_KEY)."
    )
    embedding_model: str = Field("text-embedding-3-small", description="OpenAI embedding model.")
    embedding_dimensions: int | None = Field(
        None, ge=1, description="Shortened OpenAI embeddings; unset: native."
    )

    redis_url: str | None = Field(
        None,
        description=(
            "Redis for the answer and embedding caches (rediss:// for TLS, user:password@ for "
            "AUTH); unset: an in-process cache."
        ),
    )
    redis_timeout_seconds: float = Field(
        0.25, gt=0, description="Per-call Redis timeout before the cache is bypassed."
    )
    catalog_url: str | None = Field(
        None,
        description=(
            "Redis for the job, document and answer catalog shared by `ragops api` and `ragops "
            "worker` (must not evict: noeviction, or not the cache's Redis); unset: SQLite under "
            "the data dir."
        ),
    )

    tracing: Literal["auto", "on", "off"] = Field(
        "auto",
        description=(
            "OpenTelemetry traces over OTLP/HTTP: auto (when OTEL_EXPORTER_OTLP_ENDPOINT or "
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set), on (also to the SDK's default "
            "http://localhost:4318) or off."
        ),
    )

    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest accepted upload.")
    max_upload_pages: int = Field(
        2000,
        ge=1,
        description="Most pages of an accepted PDF (refused at upload, and by the worker).",
    )
    max_json_body_bytes: int = Field(
        1_000_000,
        ge=1,
        description=(
            "Largest request body of every route but the upload (JSON): refused with 413 before "
            "it is read."
        ),
    )
    http_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection whose request line and headers take longer is closed.",
    )
    http_body_timeout_seconds: float = Field(
        300.0,
        gt=0,
        description="A connection whose request body takes longer (after its headers) is closed.",
    )
    http_keep_alive_seconds: int = Field(
        5, ge=1, description="An idle keep-alive connection is closed after this long."
    )
    max_document_words: int = Field(
        10_000_000,
        ge=1,
        description=(
            "Most words of text one document may expand to (a 50 MB text file is about 8 M); "
            "more fails its job and leaves none of its chunks: a small PDF can draw one huge "
            "compressed text stream on every page."
        ),
    )
    max_document_seconds: float = Field(
        3600.0,
        gt=0,
        description="Longest one document may take to index; longer fails its job.",
    )
    job_visibility_seconds: int = Field(
        300, ge=10, description="How long a job may run before it is retried."
    )
    job_max_attempts: int = Field(
        3, ge=1, description="Attempts before a document's job is marked failed."
    )
    worker_grace_seconds: float = Field(
        25.0,
        ge=0,
        description=(
            "How long a stopping `ragops worker` may finish its current document before releasing "
            "it to the queue (below Kubernetes' 30 s termination grace)."
        ),
    )

    # `ragops backup` / `ragops restore` (the operator's backup CronJob sets these; see
    # docs/backup.md).
    backup_bucket: str | None = Field(
        None, description="S3 bucket of vector store backups; required by backup/restore."
    )
    backup_prefix: str = Field(
        "backups", description="Key prefix: backups are `{prefix}/{namespace}/{name}/{id}/`."
    )
    backup_namespace: str = Field(
        "local", description="Second key level: the RAGDeployment's namespace."
    )
    backup_name: str = Field("ragops", description="Third key level: the RAGDeployment's name.")
    backup_kms_key_id: str | None = Field(
        None, description="KMS key for SSE-KMS on backup objects; unset: bucket default."
    )
    backup_format: Literal["auto", "snapshot", "jsonl"] = Field(
        "auto",
        description="auto: Qdrant snapshots on a single-node server, portable points otherwise.",
    )
    backup_retention_days: int = Field(
        90, ge=1, description="Backups older than this are deleted after a good backup."
    )
    backup_keep_at_least: int = Field(
        3, ge=1, description="Newest complete backups kept whatever their age."
    )
    backup_keep_last: int | None = Field(
        None, ge=1, description="Most complete backups kept; unset: no count limit."
    )
    backup_pushgateway_url: str | None = Field(
        None, description="Prometheus Pushgateway for the backup metrics."
    )
    backup_termination_log: Path = Field(
        Path("/dev/termination-log"),
        description="Where the result JSON goes when writable (the pod's termination message).",
    )

    @model_validator(mode="after")
    def _backup_counts(self) -> Settings:
        if self.backup_keep_last is not None and self.backup_keep_last < self.backup_keep_at_least:
            raise ValueError("RAGOPS_BACKUP_KEEP_LAST must be at least RAGOPS_BACKUP_KEEP_AT_LEAST")
        return self

    @field_validator("catalog_url")
    @classmethod
    def _catalog_is_redis(cls, url: str | None) -> str | None:
        # Unset is fine (SQLite); anything else must be Redis, rather than silently SQLite.
        if url and not url.startswith(("redis://", "rediss://")):
            raise ValueError("RAGOPS_CATALOG_URL must be a redis:// or rediss:// URL")
        return url or None

    @field_validator("rate_limit_questions", "rate_limit_other")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from ragops_core.rate_limits import parse_rates  # the `limits` notation, checked at startup

        parse_rates(value)
        return value.strip()

    @field_validator("ui_oidc_domain")
    @classmethod
    def _domain_is_url(cls, domain: str | None) -> str | None:
        if not domain:
            return None
        if not domain.startswith(("https://", "http://")):
            raise ValueError(
                "RAGOPS_UI_OIDC_DOMAIN must be a URL (https://NAME.auth.REGION.amazoncognito.com)"
            )
        return domain.rstrip("/")

    @field_validator("ui_oidc_redirect_path")
    @classmethod
    def _redirect_is_path(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("RAGOPS_UI_OIDC_REDIRECT_PATH must start with /")
        return path

    @model_validator(mode="after")
    def _oidc_domain_with_client(self) -> Settings:
        if bool(self.ui_oidc_domain) != bool(self.ui_oidc_client_id):
            raise ValueError(
                "RAGOPS_UI_OIDC_DOMAIN and RAGOPS_UI_OIDC_CLIENT_ID go together: "
                "set both or neither"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _split_list(value):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"RAGOPS_TRUSTED_PROXIES: {entry!r} is not an address or CIDR (10.0.0.0/16)"
                ) from None
        return ",".join(_split_list(value))

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _split_list(self.trusted_proxies)

    @model_validator(mode="after")
    def _auth_names_issuer_and_audience(self) -> Settings:
        # A JWKS alone would accept any token its keys signed: another user pool's issuer, another
        # app's audience. Refusing to start beats discovering it in production.
        if not self.auth_jwks_url:
            return self
        if not self.auth_issuer:
            raise ValueError(
                "RAGOPS_AUTH_JWKS_URL is set but RAGOPS_AUTH_ISSUER is not: set the issuer of the "
                "tokens (the user pool's URL)"
            )
        if not self.auth_audience and not self.auth_any_audience:
            raise ValueError(
                "RAGOPS_AUTH_JWKS_URL is set but RAGOPS_AUTH_AUDIENCE is not: set the app "
                "client id tokens must be issued for, or RAGOPS_AUTH_ANY_AUDIENCE=true to accept "
                "every audience"
            )
        return self

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> Settings:
        if self.overlap_words >= self.chunk_words:
            raise ValueError("RAGOPS_OVERLAP_WORDS must be smaller than RAGOPS_CHUNK_WORDS")
        return self

    @property
    def vector_dir(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"
