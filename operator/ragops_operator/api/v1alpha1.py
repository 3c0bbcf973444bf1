"""The RAGDeployment resource, `ragops.dev/v1alpha1`: the single source of its CRD.

`crds/ragops.dev_ragdeployments.yaml` is generated from these models (`ragops crd`), and CI
fails when the two drift apart. Descriptions become `kubectl explain`; `cel(...)` rules become
`x-kubernetes-validations`, so the API server itself refuses bad specs with a message that
names the field. Field names are camelCase as Kubernetes users expect; durations are
integer seconds.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

GROUP = "ragops.dev"
VERSION = "v1alpha1"
KIND = "RAGDeployment"
PLURAL = "ragdeployments"
SINGULAR = "ragdeployment"
SHORT_NAMES = ("ragd",)

# Kubernetes' own quantity grammar (resource.Quantity), so a typo fails at admission.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
SECRET_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
IAM_ROLE_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"
# The longest RAGDeployment name whose every child name and label value stays valid: the
# backup verification CronJob `{name}-backup-verify` may have at most 52 characters (its Jobs
# append 11). tests/unit/operator/builders/test_names_fit.py derives it from the builders.
MAX_NAME_LENGTH = 38
# Service names (`{name}-api`...) are DNS-1035 labels: a letter first, no dots.
NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$"


def cel(
    rule: str, message: str, *, field_path: str | None = None, reason: str | None = None
) -> dict[str, str]:
    """One `x-kubernetes-validations` entry; `field_path` points the error at a child field."""
    entry = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    if reason:
        entry["reason"] = reason
    return entry


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    return {"x-kubernetes-validations": list(rules)}


def _on_create(rule: str, message: str) -> dict[str, Any]:
    """A rule checked when the object is created only (`optionalOldSelf`: oldSelf is none then).
    Names never change, and a root rule checked on updates too would freeze a stack created
    with a longer name before the rule existed: even its status could not be written."""
    return {"rule": f"oldSelf.hasValue() || {rule}", "message": message, "optionalOldSelf": True}


NAME_RULES = (
    _on_create(
        f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
        f"metadata.name may have at most {MAX_NAME_LENGTH} characters: the names and labels "
        "of the stack's objects append to it (e.g. the CronJob NAME-backup-verify, at most 52)",
    ),
    _on_create(
        f"self.metadata.name.matches('{NAME_PATTERN}')",
        "metadata.name must start with a letter and hold only a-z, 0-9 and '-': "
        "it names Services, which are DNS-1035 labels",
    ),
)


class SpecModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are an error, not ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class SecretKeyRef(SpecModel):
    """A key of a Secret in the RAGDeployment's namespace. The operator never reads the value:
    pods get it through `valueFrom.secretKeyRef`."""

    name: str = Field(
        description="Secret name, in the RAGDeployment's namespace.",
        pattern=SECRET_NAME_PATTERN,
        max_length=253,
    )
    key: str = Field(description="Key inside the Secret.", min_length=1, max_length=253)


class ComputeQuantities(SpecModel):
    cpu: str = Field(
        description="CPU, as a Kubernetes quantity (e.g. 500m, 2).",
        pattern=QUANTITY_PATTERN,
        max_length=32,
    )
    memory: str = Field(
        description="Memory, as a Kubernetes quantity (e.g. 512Mi, 2Gi).",
        pattern=QUANTITY_PATTERN,
        max_length=32,
    )


class Resources(SpecModel):
    """Container requests and limits. HPAs compute utilisation against the requests."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "quantity(self.requests.cpu).compareTo(quantity(self.limits.cpu)) <= 0",
                "requests.cpu must not exceed limits.cpu",
                field_path=".requests.cpu",
            ),
            cel(
                "quantity(self.requests.memory).compareTo(quantity(self.limits.memory)) <= 0",
                "requests.memory must not exceed limits.memory",
                field_path=".requests.memory",
            ),
        )
    )

    requests: ComputeQuantities = Field(description="What the scheduler reserves.")
    limits: ComputeQuantities = Field(
        description="The most the container may use; memory over the limit is an OOM kill."
    )


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> Resources:
    return Resources(
        requests=ComputeQuantities(cpu=cpu, memory=memory),
        limits=ComputeQuantities(cpu=cpu_limit, memory=memory_limit),
    )


class ReplicaRange(SpecModel):
    """Bounds of the HorizontalPodAutoscaler; the operator never sets `replicas` itself."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("self.min <= self.max", "min must be less than or equal to max", field_path=".min")
        )
    )

    min: int = Field(description="Fewest pods, also while idle.", ge=1, le=1000)
    max: int = Field(description="Most pods under load.", ge=1, le=1000)


# The summary metrics of `ragops eval --url` (docs/evaluation.md): shares, where higher is better
# (a minimum applies), and costs, where lower is better (only a regression applies).
QUALITY_RATES = ("answer_hit", "source_hit@1", "page_hit", "answered")
QUALITY_COSTS = ("latency_p50_ms", "latency_p95_ms", "tokens", "cost_usd")
QUALITY_METRICS = QUALITY_RATES + QUALITY_COSTS
Threshold = Annotated[float, Field(ge=0)]


class ConfigMapKeyRef(SpecModel):
    name: str = Field(
        description="ConfigMap in the RAGDeployment's namespace.",
        pattern=SECRET_NAME_PATTERN,
        max_length=253,
    )
    key: str = Field(
        description="Key holding the questions (JSON Lines).", min_length=1, max_length=253
    )


class S3ObjectRef(SpecModel):
    bucket: str = Field(description="S3 bucket.", min_length=3, max_length=63)
    key: str = Field(
        description="Object key of the JSON Lines file.", min_length=1, max_length=1024
    )


class GoldenQuestions(SpecModel):
    """Where the golden question set lives: exactly one of a ConfigMap key or an S3 object."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.configMapKeyRef) != has(self.s3)",
                "set exactly one of configMapKeyRef and s3",
            )
        )
    )

    config_map_key_ref: ConfigMapKeyRef | None = Field(
        None, description="A ConfigMap key, mounted into the evaluation pod."
    )
    s3: S3ObjectRef | None = Field(
        None,
        description=(
            "An S3 object, read with the stack's S3 settings and the worker's ServiceAccount "
            "(IRSA role)."
        ),
    )


def _metric_keys(field: str, metrics: tuple[str, ...]) -> dict[str, str]:
    listed = "[" + ", ".join(f"'{m}'" for m in metrics) + "]"
    return cel(
        f"self.{field}.all(k, k in {listed})",
        f"{field} keys must be among {', '.join(metrics)}",
        field_path=f".{field}",
    )


class QualityGateSpec(SpecModel):
    """Answer quality as a rollout gate: once the preview color is ready, an evaluation Job
    (`ragops eval --url`) asks it the golden questions (and the active color the same ones);
    the preview is promoted only on a passed summary. See docs/operator.md."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            _metric_keys("minimums", QUALITY_RATES),
            _metric_keys("maxRegression", QUALITY_METRICS),
        )
    )

    questions: GoldenQuestions = Field(description="The golden question set (JSON Lines).")
    minimums: dict[str, Threshold] = Field(
        default_factory=dict,
        description="Share metric (answer_hit, source_hit@1, page_hit, answered) -> lowest value.",
        max_length=len(QUALITY_RATES),
    )
    max_regression: dict[str, Threshold] = Field(
        default_factory=dict,
        description=(
            "Metric -> largest regression allowed against the active color: a share's drop, "
            "or a latency's (ms), tokens' or cost's rise."
        ),
        max_length=len(QUALITY_METRICS),
    )
    sample: int | None = Field(
        None, ge=1, le=10000, description="Questions sampled per run; unset: all of them."
    )
    timeout_seconds: int = Field(
        600,
        ge=30,
        le=86400,
        description="Longest an evaluation may run; past it the rollout is aborted, not promoted.",
    )
    compare_with_active: bool = Field(
        True, description="Ask the active color the same questions and apply maxRegression."
    )
    token_secret_ref: SecretKeyRef | None = Field(
        None, description="Bearer token for the API when spec.auth is set (RAGOPS_EVAL_TOKEN)."
    )
    schedule: str | None = Field(
        None,
        description=(
            "Continuous quality: a CronJob evaluating the active color on this schedule against "
            "the minimums (condition QualityDegraded, alert RAGOpsQualityDegraded)."
        ),
        pattern=r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$",
    )
    resources: Resources = Field(
        default_factory=lambda: _resources("100m", "256Mi", "1", "512Mi"),
        description="Of the evaluation pod.",
    )

    @field_validator("minimums")
    @classmethod
    def _rates_only(cls, value: dict[str, float]) -> dict[str, float]:
        # The same rule as the CRD's CEL one: `ragops eval --min` refuses the others (exit 2).
        unknown = sorted(set(value) - set(QUALITY_RATES))
        if unknown:
            raise ValueError(f"minimums keys must be among {', '.join(QUALITY_RATES)}: {unknown}")
        return value

    @field_validator("max_regression")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(QUALITY_METRICS))
        if unknown:
            raise ValueError(
                f"maxRegression keys must be among {', '.join(QUALITY_METRICS)}: {unknown}"
            )
        return value


class RolloutSpec(SpecModel):
    """Blue/green rollouts of the API: a template change starts the other color behind a preview
    Service; the API Service switches once every new pod is ready, and switches back if the new
    color loses readiness while it is observed."""

    auto_promote: bool = Field(
        True,
        description=(
            "Switch as soon as the new color is ready; false: wait for the annotation "
            "ragops.dev/rollout=promote."
        ),
    )
    auto_rollback: bool = Field(
        True, description="Switch back to the previous color when the new one fails while observed."
    )
    observe_seconds: int = Field(
        900, ge=0, le=86400, description="How long the new color is watched after the switch."
    )
    retire_delay_seconds: int = Field(
        60,
        ge=0,
        le=86400,
        description=(
            "How long the previous color stays after a successful observation, then it is deleted."
        ),
    )
    progress_deadline_seconds: int = Field(
        600,
        ge=10,
        le=86400,
        description=(
            "How long the new color may take to become ready before the rollout is aborted."
        ),
    )
    analysis_window_seconds: int = Field(
        120,
        ge=10,
        le=3600,
        description=(
            "Window of the error rate and p95 latency read from spec.monitoring.prometheusUrl "
            "(at least two scrape intervals)."
        ),
    )
    analysis_interval_seconds: int = Field(
        15,
        ge=5,
        le=600,
        description="How often Prometheus is read while a new color starts or is observed.",
    )
    quality_gate: QualityGateSpec | None = Field(
        None, description="Promote only a preview whose answers pass an evaluation."
    )


_RATE = r"[0-9]+ *(/|per) *([0-9]+ *)?(second|minute|hour|day|month|year)s?"
# The `limits` library's notation, which the services parse (a unit test checks both agree).
RATE_LIMIT_PATTERN = rf"^(0|off|none|{_RATE}( *[;,|] *{_RATE})*)$"


class RateLimitsSpec(SpecModel):
    """Per-user limits of the API (429 with Retry-After), counted in Redis across replicas."""

    questions: str = Field(
        "60/minute",
        pattern=RATE_LIMIT_PATTERN,
        max_length=200,
        description=(
            "Questions per user: '60/minute', '5 per 10 seconds', '10/second;60/minute' "
            "(all enforced), or 0."
        ),
    )
    other: str = Field(
        "3000/minute",
        pattern=RATE_LIMIT_PATTERN,
        max_length=200,
        description=(
            "Every other API request per user (uploads, job polling: the chat page polls each "
            "upload ~100/minute)."
        ),
    )


class ApiSpec(SpecModel):
    """The query API (`ragops api`): ask, stream, upload, jobs, feedback, metrics."""

    image: str | None = Field(
        None, description="Image override for the API; unset: spec.image.", min_length=1
    )
    replicas: ReplicaRange = Field(
        default_factory=lambda: ReplicaRange(min=2, max=10),
        description="Autoscaling bounds (default 2-10; the seed's production runs 3-20).",
    )
    resources: Resources = Field(
        default_factory=lambda: _resources("500m", "1Gi", "2", "2Gi"),
        description="Per pod. The offline embedding model alone needs about 1 GiB.",
    )
    target_cpu_utilization: int = Field(
        70,
        ge=1,
        le=100,
        alias="targetCPUUtilization",
        description="HPA CPU target, percent of requests.",
    )
    target_memory_utilization: int = Field(
        80, ge=1, le=100, description="HPA memory target, percent of requests."
    )
    port: int = Field(
        8080, ge=1024, le=65535, description="Container port of the API (non-root, so above 1023)."
    )
    rollout: RolloutSpec = Field(
        default_factory=RolloutSpec, description="How template changes reach the API (blue/green)."
    )
    rate_limits: RateLimitsSpec = Field(
        default_factory=RateLimitsSpec, description="Per-user request limits."
    )


class QueueDepthMetric(SpecModel):
    name: str = Field(
        "ragops_ingest_queue_depth",
        description=(
            "External metric (from prometheus-adapter or KEDA) with the queue's visible messages; "
            "selected by the labels `namespace` and `ragdeployment` (the resource name)."
        ),
        min_length=1,
    )


class WorkerSpec(SpecModel):
    """The ingestion worker (`ragops worker`): queue -> extract -> chunk -> embed -> upsert."""

    image: str | None = Field(
        None, description="Image override for the worker; unset: spec.image.", min_length=1
    )
    replicas: ReplicaRange = Field(
        default_factory=lambda: ReplicaRange(min=1, max=5), description="Autoscaling bounds."
    )
    resources: Resources = Field(
        default_factory=lambda: _resources("1", "1536Mi", "2", "3Gi"),
        description="Per pod; PDF extraction and embedding are CPU-bound.",
    )
    target_cpu_utilization: int = Field(
        80,
        ge=1,
        le=100,
        alias="targetCPUUtilization",
        description="HPA CPU target, percent of requests.",
    )
    target_queue_depth_per_pod: int = Field(
        50, ge=1, description="HPA target of queued documents per worker pod."
    )
    queue_depth_metric: QueueDepthMetric = Field(
        default_factory=QueueDepthMetric, description="Where the HPA reads the queue depth."
    )
    port: int = Field(
        8081, ge=1024, le=65535, description="Port of the worker's /healthz, /readyz and /metrics."
    )
    job_visibility_seconds: int | None = Field(
        None,
        ge=10,
        le=43200,
        description=(
            "SQS visibility timeout of a document being ingested: a worker that dies without "
            "releasing it (SIGKILL, a lost node) delays it this long; a live worker extends it. "
            "Unset: the services' default (300)."
        ),
    )


class Storage(SpecModel):
    size: str = Field(
        "10Gi",
        description=(
            "Volume size per Qdrant pod. May grow (if the storage class allows expansion), "
            "never shrink."
        ),
        pattern=QUANTITY_PATTERN,
        max_length=32,
        json_schema_extra=validations(
            cel(
                "quantity(self).compareTo(quantity(oldSelf)) >= 0",
                "storage size cannot be decreased",
                reason="FieldValueForbidden",
            )
        ),
    )
    storage_class_name: str = Field(
        "gp3",
        description=(
            "StorageClass of the volumes (EBS gp3 by default). Immutable: data would not move."
        ),
        min_length=1,
        max_length=253,
        json_schema_extra=validations(
            cel("self == oldSelf", "storageClassName is immutable", reason="FieldValueForbidden")
        ),
    )


class QdrantAutoscaling(SpecModel):
    enabled: bool = Field(
        False,
        description=(
            "Add Qdrant peers under memory pressure "
            "(see docs/operator.md for what a new peer holds)."
        ),
    )
    max_replicas: int = Field(6, ge=1, le=100, description="Most Qdrant peers.")
    target_memory_utilization: int = Field(
        85, ge=1, le=100, description="HPA memory target, percent of requests."
    )


class QdrantSpec(SpecModel):
    """A Qdrant cluster: a StatefulSet in distributed mode with one volume per peer."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.replicationFactor <= self.replicas",
                "replicationFactor cannot exceed replicas",
                field_path=".replicationFactor",
            ),
            cel(
                "!self.autoscaling.enabled || self.autoscaling.maxReplicas >= self.replicas",
                "autoscaling.maxReplicas must be at least replicas",
                field_path=".autoscaling.maxReplicas",
            ),
        )
    )

    image: str = Field("qdrant/qdrant:v1.18.3", description="Qdrant server image.", min_length=1)
    replicas: int = Field(
        1, ge=1, le=100, description="Qdrant peers (the HPA's minimum when autoscaling is on)."
    )
    shards: int = Field(
        1,
        ge=1,
        le=1000,
        description="Shards per collection; more than peers lets new peers take shards over.",
    )
    replication_factor: int = Field(
        1,
        ge=1,
        le=10,
        description="Copies of each shard, on different peers; 2+ survives a lost zone.",
    )
    resources: Resources = Field(
        default_factory=lambda: _resources("500m", "1Gi", "2", "4Gi"), description="Per peer."
    )
    storage: Storage = Field(default_factory=Storage, description="Persistent volume per peer.")
    api_key_secret_ref: SecretKeyRef | None = Field(
        None, description="Qdrant API key, shared by server and clients."
    )
    deletion_policy: Literal["Retain", "Delete"] = Field(
        "Retain", description="What happens to the volumes when the RAGDeployment is deleted."
    )
    autoscaling: QdrantAutoscaling = Field(
        default_factory=QdrantAutoscaling, description="Memory-based scale-out."
    )


class VectorStoreSpec(SpecModel):
    qdrant: QdrantSpec = Field(
        default_factory=QdrantSpec, description="The Qdrant cluster of this stack."
    )


class RedisSpec(SpecModel):
    url_secret_ref: SecretKeyRef = Field(
        description=(
            "Secret key holding the Redis URL of the caches (rediss:// for TLS, "
            "user:password@ for AUTH), e.g. ElastiCache."
        )
    )
    catalog_url_secret_ref: SecretKeyRef | None = Field(
        None,
        description=(
            "Secret key holding the Redis URL of the job and document catalog; it must never evict "
            "(maxmemory-policy noeviction) and should persist. Unset: the cache's Redis, which "
            "then must not evict either."
        ),
    )


class CacheSpec(SpecModel):
    redis: RedisSpec = Field(
        description="Redis for the answer and embedding caches and the job catalog."
    )
    answer_ttl_seconds: int = Field(
        3600, ge=0, description="How long an answer is served from cache."
    )
    embedding_ttl_seconds: int = Field(
        86400, ge=0, description="How long a query embedding is cached."
    )


class DocumentsSpec(SpecModel):
    bucket: str = Field(description="S3 bucket of uploaded documents.", min_length=3, max_length=63)
    prefix: str = Field(
        "", description="Key prefix; objects are `{prefix}/{tenant}/{document_id}`."
    )
    kms_key_id: str | None = Field(
        None, description="KMS key for SSE-KMS; unset: the bucket default."
    )
    queue_url: str = Field(
        description="SQS queue of ingestion jobs (with a redrive policy to a dead-letter queue).",
        pattern=r"^https?://",
    )
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest accepted upload.")
    max_upload_pages: int = Field(
        2000, ge=1, le=1_000_000, description="Most pages of an uploaded PDF."
    )


class EmbeddingModel(SpecModel):
    provider: Literal["local", "openai"] = Field(
        "local", description="local: the offline MiniLM in the image; openai: needs credentials."
    )
    model: str = Field(
        "text-embedding-3-small", description="OpenAI embedding model (provider openai)."
    )
    dimensions: int | None = Field(
        None, ge=1, description="Shortened OpenAI embeddings; unset: native."
    )


class ChatModelSpec(SpecModel):
    provider: Literal["openai", "extractive"] = Field(
        "openai",
        description=(
            "openai (needs credentials; without them answers are extractive) or extractive "
            "(quotes only)."
        ),
    )
    model: str = Field("gpt-4o-mini", description="OpenAI chat model.")


class FallbackModel(SpecModel):
    provider: Literal["bedrock"] = Field("bedrock", description="Only Bedrock today.")
    model_id: str = Field(description="Bedrock model id (Converse API).", min_length=1)
    region: str | None = Field(None, description="Bedrock region; unset: the pod's AWS region.")


class ModelsSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.embedding.provider != 'openai' || has(self.credentialsSecretRef)",
                "credentialsSecretRef is required when embedding.provider is openai",
                field_path=".credentialsSecretRef",
            )
        )
    )

    embedding: EmbeddingModel = Field(
        default_factory=EmbeddingModel, description="Embeds chunks and questions."
    )
    chat: ChatModelSpec = Field(
        default_factory=ChatModelSpec, description="Writes answers from retrieved chunks."
    )
    fallback: FallbackModel | None = Field(
        None, description="Answers when the chat model fails or times out."
    )
    credentials_secret_ref: SecretKeyRef | None = Field(
        None, description="Secret key holding OPENAI_API_KEY."
    )


class RetrievalSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.overlapWords < self.chunkWords",
                "overlapWords must be smaller than chunkWords",
                field_path=".overlapWords",
            )
        )
    )

    top_k: int = Field(3, ge=1, le=50, description="Chunks retrieved per question.")
    chunk_words: int = Field(500, ge=20, le=5000, description="Words per chunk.")
    overlap_words: int = Field(50, ge=0, le=4999, description="Words shared by consecutive chunks.")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid fuses dense and BM25 rankings."
    )


class AuthSpec(SpecModel):
    """Bearer JWTs from a Cognito user pool (or any OIDC issuer with a JWKS)."""

    jwks_url: str = Field(description="JWKS of the issuer.", pattern=r"^https://")
    issuer: str = Field(description="Required `iss` of tokens.", min_length=1)
    audience: str | None = Field(
        None, description="Required `aud` / `client_id`; unset: not checked."
    )
    tenant_claim: str = Field("custom:tenant", description="Claim naming the caller's tenant.")


class MonitoringSpec(SpecModel):
    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.labels.all(k, !k.startsWith('app.kubernetes.io/'))",
                "labels may not set app.kubernetes.io/ keys: "
                "the operator selects its children by them",
                field_path=".labels",
            ),
        )
    )

    service_monitor: bool = Field(
        True, description="ServiceMonitors for the API, worker and Qdrant (Prometheus Operator)."
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Extra labels on the ServiceMonitors and the PrometheusRule, for a Prometheus that "
            "selects them by label (kube-prometheus-stack: `release: <its release name>`)."
        ),
        max_length=32,
    )
    interval_seconds: int = Field(30, ge=5, le=3600, description="Scrape interval.")
    prometheus_rule: bool = Field(
        True,
        description="Alerts: error rate, p95 latency, queue depth, Qdrant down, backup failed.",
    )
    dashboards: bool = Field(
        True, description="Grafana dashboards as a ConfigMap labelled grafana_dashboard=1."
    )
    max_error_rate_percent: float = Field(
        5.0, gt=0, le=100, description="Alert when 5xx exceed this share of API requests."
    )
    max_p95_latency_seconds: float = Field(
        2.0, gt=0, description="Alert when the API's p95 latency exceeds this."
    )
    max_queue_depth: int = Field(
        500, ge=1, description="Alert when more documents wait than this for 15 minutes."
    )
    prometheus_url: str | None = Field(
        None,
        description=(
            "Prometheus HTTP API the operator reads during blue/green rollouts (e.g. "
            "http://prometheus-operated.monitoring:9090): the new color must stay within "
            "maxErrorRatePercent and maxP95LatencySeconds before the switch and while observed. "
            "Unset: readiness alone gates."
        ),
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        max_length=2048,
    )


class ServiceAccountSpec(SpecModel):
    iam_role_arn: str | None = Field(
        None,
        description="IAM role for service accounts (IRSA) of the API and worker.",
        pattern=IAM_ROLE_PATTERN,
    )


class NetworkPolicySpec(SpecModel):
    enabled: bool = Field(
        True, description="Default-deny in the stack, then only the flows it needs."
    )
    prometheus_namespace: str = Field(
        "monitoring", description="Namespace allowed to scrape metrics.", min_length=1
    )


ENDPOINT_URL_PATTERN = r"^https?://[^\s/]+(/\S*)?$"


class AwsCredentialsRef(SpecModel):
    """A Secret holding static AWS credentials, for clusters without IRSA and for S3/SQS-compatible
    servers (MinIO, LocalStack, moto). The operator never reads the values: pods get them as
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) through `secretKeyRef`."""

    name: str = Field(
        description="Secret name, in the RAGDeployment's namespace.",
        pattern=SECRET_NAME_PATTERN,
        max_length=253,
    )
    access_key_id_key: str = Field(
        "AWS_ACCESS_KEY_ID", description="Key holding the access key id.", min_length=1
    )
    secret_access_key_key: str = Field(
        "AWS_SECRET_ACCESS_KEY", description="Key holding the secret access key.", min_length=1
    )
    session_token_key: str | None = Field(
        None, description="Key holding a session token (temporary credentials); unset: none."
    )


class AwsSpec(SpecModel):
    """How the stack's pods reach AWS (or an S3/SQS-compatible server): rendered as the SDK's
    standard variables on every pod that calls AWS (API, worker, backup, verification,
    restore, reindex and quality Jobs). Unset fields leave the SDK's defaults: on EKS, IRSA
    (spec.serviceAccount.iamRoleArn) and the region its webhook injects."""

    region: str | None = Field(
        None,
        description="AWS_REGION and AWS_DEFAULT_REGION of the pods (e.g. eu-west-1).",
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length=64,
    )
    endpoint_url: str | None = Field(
        None,
        description=(
            "AWS_ENDPOINT_URL: one endpoint for every AWS service the pods call (LocalStack); "
            "s3EndpointUrl and sqsEndpointUrl take precedence for their service."
        ),
        pattern=ENDPOINT_URL_PATTERN,
        max_length=2048,
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="AWS_ENDPOINT_URL_S3, e.g. http://minio.storage:9000 (path-style works).",
        pattern=ENDPOINT_URL_PATTERN,
        max_length=2048,
    )
    sqs_endpoint_url: str | None = Field(
        None,
        description="AWS_ENDPOINT_URL_SQS, e.g. http://localstack.aws:4566.",
        pattern=ENDPOINT_URL_PATTERN,
        max_length=2048,
    )
    credentials_secret_ref: AwsCredentialsRef | None = Field(
        None,
        description=(
            "Static credentials; they take precedence over IRSA in the SDK's chain. Unset: "
            "the SDK's chain (IRSA, the node's instance profile)."
        ),
    )


CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$"


class BackupVerifySpec(SpecModel):
    """A second CronJob running `ragops backup verify`: restores the newest backup into a
    scratch collection and compares it with its manifest (status.lastBackupVerification)."""

    enabled: bool = Field(False, description="Render the verification CronJob.")
    schedule: str = Field(
        "0 5 * * 0",
        description="Cron schedule (Sundays at 05:00 by default: after that night's backup).",
        pattern=CRON_PATTERN,
    )


class BackupSpec(SpecModel):
    """Scheduled backups of the vector store and the catalog to S3 (`ragops backup` in a
    CronJob); see docs/backup.md."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!self.enabled || has(self.bucket)",
                "bucket is required when backups are enabled",
                field_path=".bucket",
            ),
            cel(
                "!has(self.keepLast) || self.keepLast >= self.keepAtLeast",
                "keepLast must be at least keepAtLeast",
                field_path=".keepLast",
            ),
        )
    )

    enabled: bool = Field(False, description="Render the backup CronJob.")
    schedule: str = Field(
        "0 3 * * *", description="Cron schedule (daily at 03:00 by default).", pattern=CRON_PATTERN
    )
    time_zone: str = Field(
        "Etc/UTC", description="Time zone of the schedule (IANA name).", min_length=1
    )
    suspend: bool = Field(False, description="Pause the schedule; a running backup finishes.")
    bucket: str | None = Field(
        None,
        description="S3 bucket of the backups; required when enabled.",
        min_length=3,
        max_length=63,
    )
    prefix: str = Field(
        "backups", description="Key prefix; backups are `{prefix}/{namespace}/{name}/{id}/`."
    )
    kms_key_id: str | None = Field(
        None, description="KMS key for SSE-KMS on backup objects; unset: the bucket default."
    )
    format: Literal["auto", "snapshot", "jsonl"] = Field(
        "auto",
        description=(
            "auto: Qdrant snapshots on one peer, portable points (complete across shards) "
            "on a cluster."
        ),
    )
    retention_days: int = Field(
        90, ge=1, le=3650, description="Backups older than this are deleted after a good backup."
    )
    keep_at_least: int = Field(
        3, ge=1, le=1000, description="Newest complete backups kept whatever their age."
    )
    keep_last: int | None = Field(
        None, ge=1, le=10000, description="Most complete backups kept; unset: no count limit."
    )
    successful_jobs_history_limit: int = Field(
        3, ge=0, le=100, description="Finished Jobs kept for inspection."
    )
    failed_jobs_history_limit: int = Field(
        3, ge=0, le=100, description="Failed Jobs kept for inspection."
    )
    starting_deadline_seconds: int = Field(
        3600, ge=10, description="A run missed by more than this is skipped."
    )
    backoff_limit: int = Field(
        2, ge=0, le=10, description="Retries of a failed backup pod within one run."
    )
    active_deadline_seconds: int = Field(
        7200, ge=60, description="A run taking longer is stopped and counts as failed."
    )
    scratch_size: str = Field(
        "20Gi",
        description="emptyDir for the dump before upload: at least the store's size.",
        pattern=QUANTITY_PATTERN,
        max_length=32,
    )
    resources: Resources = Field(
        default_factory=lambda: _resources("250m", "512Mi", "1", "1Gi"),
        description="Of the backup pod.",
    )
    pushgateway_url: str | None = Field(
        None,
        description=(
            "Prometheus Pushgateway for the backup metrics (the BackupFailed alert reads them)."
        ),
        pattern=r"^https?://",
    )
    verify: BackupVerifySpec = Field(
        default_factory=BackupVerifySpec,
        description="Scheduled verification of the newest backup (needs enabled backups).",
    )


class RestoreSpec(SpecModel):
    from_snapshot: str = Field(
        description=(
            "Backup a new stack restores before serving: s3://BUCKET/.../ID/, a backup id under "
            "spec.backup's bucket and prefix, or `latest`."
        ),
        min_length=1,
        max_length=1024,
    )


class RAGDeploymentSpec(SpecModel):
    """A complete RAG stack for one tenant."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.restore) || self.restore.fromSnapshot.startsWith('s3://') "
                "|| has(self.backup.bucket)",
                "restore.fromSnapshot needs an s3:// URL or spec.backup.bucket",
                field_path=".restore.fromSnapshot",
            )
        )
    )

    image: str = Field(description="The RAGOps image (one image, every entrypoint).", min_length=1)
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="Pull policy of RAGOps containers."
    )
    tenant: str | None = Field(
        None,
        description="Tenant of unauthenticated requests; unset: the RAGDeployment's name.",
        max_length=128,
    )
    paused: bool = Field(
        False, description="Stop changing children (status and deletion keep working)."
    )
    api: ApiSpec = Field(default_factory=ApiSpec, description="The query API.")
    worker: WorkerSpec = Field(default_factory=WorkerSpec, description="The ingestion worker.")
    vector_store: VectorStoreSpec = Field(
        default_factory=VectorStoreSpec, description="The vector database."
    )
    cache: CacheSpec = Field(description="Redis caches and catalog.")
    documents: DocumentsSpec = Field(description="Where documents are stored and queued.")
    models: ModelsSpec = Field(
        default_factory=ModelsSpec, description="Embedding, chat and fallback models."
    )
    retrieval: RetrievalSpec = Field(
        default_factory=RetrievalSpec, description="Chunking and search."
    )
    auth: AuthSpec | None = Field(
        None, description="JWT authentication; unset: no authentication (trusted networks only)."
    )
    monitoring: MonitoringSpec = Field(
        default_factory=MonitoringSpec, description="Prometheus Operator objects and dashboards."
    )
    service_account: ServiceAccountSpec = Field(
        default_factory=ServiceAccountSpec, description="Identity of the pods."
    )
    network_policy: NetworkPolicySpec = Field(
        default_factory=NetworkPolicySpec, description="Traffic rules."
    )
    aws: AwsSpec = Field(
        default_factory=AwsSpec,
        description="Region, endpoints and static credentials of S3 and SQS (and other AWS APIs).",
    )
    backup: BackupSpec = Field(
        default_factory=BackupSpec, description="Scheduled backups of the vector store to S3."
    )
    restore: RestoreSpec | None = Field(
        None, description="Restore a backup into this stack before it serves (new stacks)."
    )


class StatusModel(BaseModel):
    """Status is written by the operator and read leniently: newer fields are ignored, not fatal."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Condition(StatusModel):
    type: str = Field(description="Ready, Available, Progressing, Degraded or MonitoringAvailable.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(description="CamelCase cause.")
    message: str = Field("", description="For humans.")
    last_transition_time: str = Field(description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(
        None, description="Generation the condition was computed for."
    )


class ComponentStatus(StatusModel):
    replicas: int = Field(0, description="Pods wanted now.")
    ready_replicas: int = Field(0, description="Pods passing readiness.")


class QualityCheck(StatusModel):
    metric: str = Field(description="The metric checked.")
    kind: str = Field(description="min or regression.")
    value: float | None = Field(None, description="The evaluated color's value; unset: no data.")
    threshold: float | None = Field(None, description="A min check's threshold.")
    baseline: float | None = Field(None, description="A regression check's active value.")
    allowed: float | None = Field(None, description="A regression check's largest regression.")
    passed: bool = Field(description="Whether the check passed.")


class QualityResult(StatusModel):
    """One evaluation's verdict (`ragops eval --url` summary, read from the Job's pod)."""

    result: Literal["passed", "failed", "error"] = Field(
        description="passed; failed: a check failed; error: no usable result (never promoted)."
    )
    color: str | None = Field(None, description="The color evaluated.")
    baseline_color: str | None = Field(None, description="The color compared with, if any.")
    metrics: dict[str, float | None] = Field(
        default_factory=dict, description="The evaluated color's metrics."
    )
    baseline_metrics: dict[str, float | None] | None = Field(
        None, description="The compared color's metrics."
    )
    checks: list[QualityCheck] = Field(default_factory=list, description="Each threshold's check.")
    questions: int | None = Field(None, description="Questions asked.")
    time: str | None = Field(None, description="When the result was read (RFC 3339).")
    job: str | None = Field(None, description="The evaluation Job (`kubectl logs job/NAME`).")
    message: str = Field("", description="For humans: the failed check, or why no result.")


class RolloutStatus(StatusModel):
    phase: str = Field(
        "Stable", description="Stable, Progressing, Observing, Retiring, RolledBack or Aborted."
    )
    active_hash: str | None = Field(None, description="API template the active color runs.")
    previous_color: str | None = Field(
        None, description="The last good color, kept while the new one is observed."
    )
    previous_hash: str | None = Field(None, description="Template of the previous color.")
    preview_color: str | None = Field(
        None, description="The color being started with a new template."
    )
    preview_hash: str | None = Field(None, description="Template of the preview color.")
    started_at: str | None = Field(None, description="When the preview was started (RFC 3339).")
    switched_at: str | None = Field(None, description="When the API Service switched (RFC 3339).")
    retire_at: str | None = Field(
        None, description="When the previous color will be deleted (RFC 3339)."
    )
    failed_hash: str | None = Field(
        None,
        description="A template that failed or was aborted; not retried until the spec changes.",
    )
    reason: str = Field("", description="CamelCase cause of the current phase.")
    message: str = Field("", description="For humans.")
    quality_started_at: str | None = Field(
        None, description="When the quality gate's evaluation Job was started (RFC 3339)."
    )
    quality: QualityResult | None = Field(
        None, description="The quality gate's verdict on the last preview evaluated."
    )


class ApiStatus(ComponentStatus):
    active_color: str | None = Field(
        None, description="blue or green: the color the API Service selects."
    )
    active_image: str | None = Field(None, description="Image of the active color.")
    preview_color: str | None = Field(
        None, description="The color behind the preview Service during a rollout."
    )
    preview_image: str | None = Field(None, description="Image of the preview color.")
    rollout: RolloutStatus | None = Field(None, description="Blue/green rollout state.")


class Endpoints(StatusModel):
    api: str | None = Field(None, description="In-cluster URL of the API.")
    qdrant: str | None = Field(None, description="In-cluster URL of Qdrant.")


class RestoreStatus(StatusModel):
    snapshot: str = Field(description="spec.restore.fromSnapshot this status is about.")
    phase: Literal["Running", "Completed", "Failed"] = Field(
        description="Running, Completed or Failed."
    )
    message: str = Field("", description="For humans: progress, or why the restore failed.")
    completion_time: str | None = Field(
        None, description="When the restore Job succeeded (RFC 3339)."
    )


class LastBackupStatus(StatusModel):
    time: str | None = Field(None, description="When the backup finished (RFC 3339).")
    snapshot: str | None = Field(
        None, description="s3:// URL of the backup; unset when the run failed."
    )
    result: Literal["success", "failure"] = Field(description="success or failure.")
    points: int | None = Field(None, description="Points in the backup.")
    job: str | None = Field(None, description="The Job that ran it (`kubectl logs job/NAME`).")


class LastBackupVerificationStatus(StatusModel):
    time: str | None = Field(None, description="When the verification ran (RFC 3339).")
    backup: str | None = Field(
        None, description="s3:// URL of the backup verified; unset when none was reached."
    )
    result: Literal["ok", "failed"] = Field(
        description="ok: restored into scratch, every count and checksum matches its manifest."
    )
    reason: str | None = Field(None, description="What differed, or why the run failed.")
    job: str | None = Field(None, description="The Job that ran it (`kubectl logs job/NAME`).")


class IndexStatus(StatusModel):
    version: str = Field(
        description="Index version (Qdrant collection `ragops-VERSION`) the API and workers use."
    )
    embedding: EmbeddingModel = Field(
        description="The embedding model of that version: the one the pods run."
    )
    phase: Literal["Ready", "Building", "Switching", "CatchingUp", "Failed"] = Field(
        description=(
            "Ready, or where a change of spec.models.embedding stands (see docs/operator.md)."
        )
    )
    source: str | None = Field(None, description="During a change: the version copied from.")
    target: EmbeddingModel | None = Field(
        None, description="While building: the model being indexed."
    )
    target_version: str | None = Field(
        None, description="While building: the version being written."
    )
    job: str | None = Field(None, description="The reindex Job at work (`kubectl logs job/NAME`).")
    message: str = Field("", description="For humans: progress, or what failed.")
    failed: bool = Field(False, description="A reindex Job failed; delete it to retry.")


class RAGDeploymentStatus(StatusModel):
    observed_generation: int | None = Field(
        None, description="Generation of the spec last reconciled."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Available, Progressing, Degraded, MonitoringAvailable.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    api: ApiStatus | None = Field(None, description="The query API.")
    worker: ComponentStatus | None = Field(None, description="The ingestion worker.")
    vector_store: ComponentStatus | None = Field(None, description="Qdrant.")
    endpoints: Endpoints | None = Field(None, description="Where to reach the stack.")
    restore: RestoreStatus | None = Field(
        None, description="The restore of spec.restore.fromSnapshot, once started."
    )
    last_backup: LastBackupStatus | None = Field(
        None, description="The newest finished scheduled backup."
    )
    last_backup_verification: LastBackupVerificationStatus | None = Field(
        None, description="The newest finished verification of a backup (spec.backup.verify)."
    )
    index: IndexStatus | None = Field(
        None, description="The embedding model's index, and a change of model in progress."
    )
    last_quality_check: QualityResult | None = Field(
        None, description="The newest scheduled evaluation of the active color (qualityGate)."
    )


class RAGDeployment(SpecModel):
    """Parsed custom resource; `metadata` stays a plain mapping (Kubernetes owns its schema)."""

    model_config = ConfigDict(extra="ignore")

    api_version: str = Field(f"{GROUP}/{VERSION}")
    kind: str = Field(KIND)
    metadata: dict[str, Any]
    spec: RAGDeploymentSpec
