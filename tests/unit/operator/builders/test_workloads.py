"""API and worker builders, the generated environment, the whole desired set, the operator's
RBAC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragops_core.settings import Settings
from ragops_operator import rbac
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import config, stack, worker
from ragops_operator.control.kube import MANAGED_KINDS, kind_of
from tests.support.builder_specs import OWNER, make_spec, one
from tests.support.pod_security import pod_spec_of, restricted_violations

REPO = Path(__file__).resolve().parents[4]


def test_every_pod_of_the_stack_passes_the_restricted_standard() -> None:
    spec = make_spec(
        vectorStore={
            "qdrant": {"replicas": 3, "replicationFactor": 2, "autoscaling": {"enabled": True}}
        },
        backup={"enabled": True, "bucket": "backups-bucket"},
    )
    manifests = stack.desired(spec, OWNER, prometheus_operator=True)
    pods = [
        (m["metadata"]["name"], pod_spec_of(m)) for m in manifests if pod_spec_of(m) is not None
    ]
    assert {name for name, _ in pods} == {
        "demo-api-blue",
        "demo-worker",
        "demo-qdrant",
        "demo-backup",
    }
    for name, pod in pods:
        assert pod is not None
        assert restricted_violations(pod) == [], name


def test_every_rendered_kind_is_one_the_operator_can_apply_and_prune() -> None:
    manifests = stack.desired(make_spec(), OWNER, prometheus_operator=True)
    for manifest in manifests:
        assert kind_of(manifest) in MANAGED_KINDS
        assert manifest["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid
    names = [(m["kind"], m["metadata"]["name"]) for m in manifests]
    assert len(names) == len(set(names)), "two children with the same kind and name"


def test_hpa_owned_deployments_carry_no_replicas() -> None:
    manifests = [*api_builder.build(make_spec(), OWNER), *worker.build(make_spec(), OWNER)]
    for deployment in (m for m in manifests if m["kind"] == "Deployment"):
        assert "replicas" not in deployment["spec"]
        hpa = one(manifests, "HorizontalPodAutoscaler", deployment["metadata"]["name"])
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


def test_api_hpa_scales_on_cpu_and_memory_and_worker_hpa_on_cpu_and_queue_depth() -> None:
    spec = make_spec(api={"replicas": {"min": 3, "max": 20}}, worker={"targetQueueDepthPerPod": 25})
    api_hpa = one(api_builder.build(spec, OWNER), "HorizontalPodAutoscaler")["spec"]
    assert (api_hpa["minReplicas"], api_hpa["maxReplicas"]) == (3, 20)
    assert {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in api_hpa["metrics"]
    } == {"cpu": 70, "memory": 80}
    worker_hpa = one(worker.build(spec, OWNER), "HorizontalPodAutoscaler")["spec"]
    external = next(m["external"] for m in worker_hpa["metrics"] if m["type"] == "External")
    assert external["target"] == {"type": "AverageValue", "averageValue": "25"}
    assert external["metric"]["selector"]["matchLabels"] == {
        "namespace": "tenant-a",
        "ragdeployment": "demo",
    }


def test_active_service_selects_exactly_one_color() -> None:
    service = one(api_builder.build(make_spec(), OWNER, active="green"), "Service")
    assert service["spec"]["selector"][api_builder.COLOR_LABEL] == "green"
    assert (
        one(api_builder.build(make_spec(), OWNER, active="green"), "Deployment")["metadata"]["name"]
        == "demo-api-green"
    )


def test_environment_names_come_from_the_services_settings() -> None:
    spec = make_spec(
        models={
            "credentialsSecretRef": {"name": "openai", "key": "OPENAI_API_KEY"},
            "fallback": {"modelId": "anthropic.claude"},
        },
        auth={"jwksUrl": "https://idp/jwks.json", "issuer": "https://idp"},
        vectorStore={"qdrant": {"apiKeySecretRef": {"name": "qdrant", "key": "api-key"}}},
    )
    known = {config.env_name(field) for field in Settings.model_fields}
    data = config.config_data(spec, OWNER)
    secrets = {
        entry["name"]: entry["valueFrom"]["secretKeyRef"] for entry in config.secret_env(spec)
    }
    assert set(data) <= known and set(secrets) <= known
    assert (
        data["RAGOPS_S3_BUCKET"] == "docs-bucket"
        and data["RAGOPS_BEDROCK_MODEL_ID"] == "anthropic.claude"
    )
    assert (
        data["RAGOPS_AUTH_JWKS_URL"] == "https://idp/jwks.json" and data["RAGOPS_TENANT"] == "demo"
    )
    assert secrets["OPENAI_API_KEY"] == {
        "name": "openai",
        "key": "OPENAI_API_KEY",
        "optional": False,
    }
    assert secrets["RAGOPS_QDRANT_API_KEY"]["name"] == "qdrant"
    assert not set(data) & set(secrets), "a setting both in the ConfigMap and from a Secret"
    # The settings model parses what the operator renders.
    parsed = Settings.model_validate(
        {
            field: data[config.env_name(field)]
            for field in Settings.model_fields
            if config.env_name(field) in data
        }
    )
    assert parsed.top_k == 3 and parsed.qdrant_url == "http://demo-qdrant:6333"


def test_extractive_chat_gets_no_openai_key() -> None:
    spec = make_spec(
        models={
            "chat": {"provider": "extractive"},
            "credentialsSecretRef": {"name": "openai", "key": "k"},
        }
    )
    assert "OPENAI_API_KEY" not in {entry["name"] for entry in config.secret_env(spec)}


def test_config_change_changes_the_pod_template() -> None:
    before = one(api_builder.build(make_spec(), OWNER), "Deployment")["spec"]["template"]
    after = one(api_builder.build(make_spec(retrieval={"topK": 5}), OWNER), "Deployment")["spec"][
        "template"
    ]
    assert before["metadata"]["annotations"] != after["metadata"]["annotations"]


def test_unknown_setting_is_an_error_not_a_silently_ignored_variable() -> None:
    with pytest.raises(KeyError):
        config.env_name("no_such_setting")


def test_rbac_file_matches_and_grants_no_wildcards() -> None:
    assert (REPO / "deploy" / "rbac.yaml").read_text() == rbac.render_yaml(), (
        "regenerate: ragops rbac > deploy/rbac.yaml"
    )
    role = rbac.cluster_role()
    text = json.dumps(role)
    assert "*" not in text
    granted = {
        (g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    for kind in MANAGED_KINDS:
        group = kind.api_version.rsplit("/", 1)[0] if "/" in kind.api_version else ""
        assert (group, kind.plural) in granted


def test_catalog_can_live_in_its_own_non_evicting_redis() -> None:
    shared = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in config.secret_env(make_spec())
    }
    assert shared["RAGOPS_CATALOG_URL"] == shared["RAGOPS_REDIS_URL"] == "redis"
    own = make_spec(
        cache={
            "redis": {
                "urlSecretRef": {"name": "cache", "key": "url"},
                "catalogUrlSecretRef": {"name": "catalog", "key": "url"},
            }
        }
    )
    separate = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in config.secret_env(own)}
    assert (separate["RAGOPS_REDIS_URL"], separate["RAGOPS_CATALOG_URL"]) == ("cache", "catalog")


def test_qdrant_layout_and_worker_deadline_reach_the_services() -> None:
    data = config.config_data(
        make_spec(vectorStore={"qdrant": {"replicas": 3, "shards": 6, "replicationFactor": 2}}),
        OWNER,
    )
    parsed = Settings.model_validate(
        {
            "qdrant_shards": data["RAGOPS_QDRANT_SHARDS"],
            "qdrant_replication_factor": data["RAGOPS_QDRANT_REPLICATION_FACTOR"],
            "worker_grace_seconds": data["RAGOPS_WORKER_GRACE_SECONDS"],
        }
    )
    assert (parsed.qdrant_shards, parsed.qdrant_replication_factor) == (6, 2)
    pod = one(worker.build(make_spec(), OWNER), "Deployment")["spec"]["template"]["spec"]
    assert parsed.worker_grace_seconds < pod["terminationGracePeriodSeconds"]


@pytest.mark.parametrize(
    "value",
    [
        "60/minute",
        "5 per 10 seconds",
        "10/second;60/minute",
        "10 per second, 60 per minute",
        "0",
        "1/hour",
        "60/min",
        "60/minute;",
        "sixty/minute",
        "",
        "10/fortnight",
    ],
)
def test_the_crd_accepts_exactly_the_rate_limits_the_services_parse(value: str) -> None:
    import re

    from ragops_core.rate_limits import parse_rates
    from ragops_operator.api.v1alpha1 import RATE_LIMIT_PATTERN

    try:
        parse_rates(value)
        services_accept = (
            value != ""
        )  # "" is "no limit" to the services, but never a value the CRD needs
    except ValueError:
        services_accept = False
    assert bool(re.match(RATE_LIMIT_PATTERN, value)) == services_accept, value


def test_rate_limits_and_the_page_limit_reach_the_pods() -> None:
    spec = make_spec(api={"rateLimits": {"questions": "10/second;60/minute"}})
    data = config.config_data(spec, OWNER)
    assert data["RAGOPS_RATE_LIMIT_QUESTIONS"] == "10/second;60/minute"
    assert (
        data["RAGOPS_RATE_LIMIT_OTHER"] == "3000/minute"
        and data["RAGOPS_MAX_UPLOAD_PAGES"] == "2000"
    )


@pytest.mark.parametrize("audience", [None, "app-client"])
def test_rendered_auth_settings_start_the_api(
    audience: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API refuses token checks without an audience unless told to accept any: the spec's
    unset audience ("not checked") must render as that explicit opt-out."""
    auth = {"jwksUrl": "https://idp/jwks.json", "issuer": "https://idp"}
    spec = make_spec(auth={**auth, "audience": audience} if audience else auth)
    data = config.config_data(spec, OWNER)
    for name, value in data.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.auth_audience == audience
    assert settings.auth_any_audience is (audience is None)


def test_the_api_keeps_idle_connections_longer_than_the_load_balancer() -> None:
    """uvicorn's default (5 s) closes idle connections an ALB (60 s) still reuses: 502s."""
    data = config.config_data(make_spec(), OWNER)
    assert int(data["RAGOPS_HTTP_KEEP_ALIVE_SECONDS"]) > 60
