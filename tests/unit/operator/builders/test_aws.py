"""`spec.aws`: region, endpoints and static credentials reach every pod that calls AWS, as the
SDK's standard variables, and the pinned botocore really reads them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import config, network, quality, stack
from ragops_operator.objects import Obj
from ragops_operator.planning import secrets
from tests.support.builder_specs import OWNER, make_spec

MOTO = "http://moto.infra.svc.cluster.local:5000"
AWS: dict[str, Any] = {
    "region": "us-east-1",
    "s3EndpointUrl": MOTO,
    "sqsEndpointUrl": MOTO,
    "credentialsSecretRef": {"name": "moto-credentials"},
}
GATE = {"questions": {"s3": {"bucket": "golden", "key": "q.jsonl"}}, "schedule": "@daily"}


def _full(**aws: Any) -> api.RAGDeploymentSpec:
    """Every pod kind that calls AWS is rendered: backups with verification, a quality gate."""
    return make_spec(
        aws={**AWS, **aws},
        backup={"enabled": True, "bucket": "backups", "verify": {"enabled": True}},
        restore={"fromSnapshot": "latest"},
        api={"rollout": {"qualityGate": GATE}},
    )


def _manifests(spec: api.RAGDeploymentSpec) -> list[Obj]:
    """The stack with its restore Job, and the quality gate's Jobs (planned apart from it)."""
    gate = quality.build(spec, OWNER, evaluate="0123456789abcdef")
    return stack.desired(spec, OWNER, restoring=True) + gate


def _pod_specs(manifests: list[Obj]) -> dict[str, dict[str, Any]]:
    """`Kind/name` -> pod spec, for every workload (CronJobs through their job template)."""
    found = {}
    for m in manifests:
        spec = m.get("spec", {})
        if m["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec and m["kind"] in {"Deployment", "StatefulSet", "Job", "CronJob"}:
            found[f"{m['kind']}/{m['metadata']['name']}"] = spec["template"]["spec"]
    return found


def _secret_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def test_every_pod_that_calls_aws_gets_the_endpoints_region_and_credentials() -> None:
    manifests = _manifests(_full())
    data = next(m for m in manifests if m["kind"] == "ConfigMap")["data"]
    assert {k: v for k, v in data.items() if k.startswith("AWS_")} == {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": MOTO,
        "AWS_ENDPOINT_URL_SQS": MOTO,
    }
    pods = _pod_specs(manifests)
    callers = {name for name in pods if "qdrant" not in name}
    assert callers == {
        "Deployment/demo-api-blue",
        "Deployment/demo-worker",
        "CronJob/demo-backup",
        "CronJob/demo-backup-verify",
        "Job/demo-restore",
        "CronJob/demo-quality-check",
        "Job/demo-quality-0123456789",
    }
    for name in callers:
        (container,) = pods[name]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": "demo-config"}}], name
        creds = _secret_env(container)
        assert creds["AWS_ACCESS_KEY_ID"] == {
            "name": "moto-credentials",
            "key": "AWS_ACCESS_KEY_ID",
        }
        assert creds["AWS_SECRET_ACCESS_KEY"]["key"] == "AWS_SECRET_ACCESS_KEY", name
        assert "AWS_SESSION_TOKEN" not in creds, name
    (qdrant,) = pods["StatefulSet/demo-qdrant"]["containers"]
    assert not [e for e in qdrant["env"] if e["name"].startswith("AWS_")]


def test_without_spec_aws_nothing_aws_is_rendered() -> None:
    manifests = _manifests(make_spec(backup={"enabled": True, "bucket": "backups"}))
    text = repr(manifests)
    assert "AWS_" not in text


def test_the_credentials_secret_is_checked_like_every_other_reference() -> None:
    spec = _full(
        credentialsSecretRef={
            "name": "minio",
            "accessKeyIdKey": "user",
            "secretAccessKeyKey": "password",
            "sessionTokenKey": "token",
        }
    )
    assert secrets.wanted(spec, OWNER)["minio"] == frozenset({"user", "password", "token"})


def test_the_pinned_botocore_reads_the_rendered_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the pods' SDK does with the variables: the S3 and SQS clients use the endpoints,
    the credentials chain returns the Secret's keys (not IRSA, which comes later in it)."""
    spec = make_spec(aws={"region": "eu-central-1", "endpointUrl": "http://localstack:4566"})
    for name, value in config.config_data(spec, OWNER).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-secret-too")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", MOTO)  # the per-service one wins
    session = boto3.session.Session()
    assert session.client("s3").meta.endpoint_url == MOTO
    sqs = session.client("sqs")
    assert (sqs.meta.endpoint_url, sqs.meta.region_name) == (
        "http://localstack:4566",
        "eu-central-1",
    )
    credentials = session.get_credentials()
    assert credentials is not None and credentials.access_key == "from-secret"


def test_network_policies_let_aws_callers_reach_the_endpoint_port() -> None:
    manifests = _manifests(_full())
    policies = {m["metadata"]["name"]: m["spec"] for m in manifests if m["kind"] == "NetworkPolicy"}
    for name in ("demo-api", "demo-worker", "demo-backup", "demo-quality"):
        ports = {p["port"] for rule in policies[name]["egress"] for p in rule.get("ports", [])}
        assert 5000 in ports and 443 in ports, (name, ports)
    default = network.build(make_spec(), OWNER)
    worker = next(p for p in default if p["metadata"]["name"] == "demo-worker")
    assert {p["port"] for rule in worker["spec"]["egress"] for p in rule.get("ports", [])} == {
        6333,
        6334,
        6379,
        443,
    }


def test_an_https_endpoint_on_443_or_without_port_adds_no_port() -> None:
    spec = make_spec(aws={"endpointUrl": "https://s3.internal", "sqsEndpointUrl": "http://sqs"})
    worker = next(p for p in network.build(spec, OWNER) if p["metadata"]["name"] == "demo-worker")
    ports = {p["port"] for rule in worker["spec"]["egress"] for p in rule.get("ports", [])}
    assert ports == {6333, 6334, 6379, 443, 80}


def test_changing_the_endpoint_restarts_the_pods() -> None:
    before = config.config_hash(_full(), OWNER)
    after = config.config_hash(_full(s3EndpointUrl="http://minio:9000"), OWNER)
    assert before != after


@pytest.mark.parametrize(
    "aws",
    [
        {"endpointUrl": "s3.example.com"},
        {"s3EndpointUrl": "http://has space"},
        {"region": "EU West"},
        {"credentialsSecretRef": {"name": "Not_A_Name"}},
        {"endpoint": "http://typo"},
    ],
)
def test_bad_aws_settings_are_refused(aws: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_spec(aws=aws)
