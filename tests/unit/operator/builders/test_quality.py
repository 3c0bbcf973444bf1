"""The quality gate's evaluation Job, the scheduled check's CronJob and their NetworkPolicy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import quality
from ragops_operator.builders.monitoring import prometheus_rule
from ragops_operator.objects import Obj
from tests.support.builder_specs import OWNER, make_spec
from tests.support.pod_security import pod_spec_of, restricted_violations

GATE: dict[str, Any] = {
    "questions": {"configMapKeyRef": {"name": "golden", "key": "questions.jsonl"}},
    "minimums": {"answer_hit": 0.8, "answered": 0.9},
    "maxRegression": {"answer_hit": 0.05},
    "sample": 40,
    "timeoutSeconds": 300,
}


def gated(**gate: Any) -> api.RAGDeploymentSpec:
    return make_spec(api={"rollout": {"qualityGate": {**GATE, **gate}}})


def _job(spec: api.RAGDeploymentSpec) -> Obj:
    manifests = quality.build(spec, OWNER, evaluate="0123456789abcdef")
    return next(m for m in manifests if m["kind"] == "Job")


def test_the_evaluation_job_asks_the_preview_and_compares_with_the_active_service() -> None:
    job = _job(gated())
    assert job["metadata"]["name"] == "demo-quality-0123456789"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == [
        "eval",
        "--url",
        f"http://demo-api-preview.{OWNER.namespace}.svc:80",
        "--questions",
        "/golden/questions.jsonl",
        "--baseline-url",
        f"http://demo-api.{OWNER.namespace}.svc:80",
        "--max-regression",
        "answer_hit=0.05",
        "--sample",
        "40",
        "--seed",
        "0",
        "--min",
        "answer_hit=0.8",
        "--min",
        "answered=0.9",
        "--summary-file",
        "/dev/termination-log",
    ]
    assert container["image"] == make_spec().image, "the stack's API image, as the preview runs"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] == 300
    volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == "golden")
    assert volume["configMap"] == {
        "name": "golden",
        "items": [{"key": "questions.jsonl", "path": "questions.jsonl"}],
    }


def test_an_s3_question_set_and_a_token_and_no_comparison() -> None:
    spec = gated(
        questions={"s3": {"bucket": "golden-sets", "key": "demo/q.jsonl"}},
        compareWithActive=False,
        tokenSecretRef={"name": "eval-token", "key": "token"},
    )
    container = _job(spec)["spec"]["template"]["spec"]["containers"][0]
    assert "s3://golden-sets/demo/q.jsonl" in container["args"]
    assert "--baseline-url" not in container["args"]
    assert "--max-regression" not in container["args"], "no regression without a baseline"
    assert container["env"] == [
        {
            "name": "RAGOPS_EVAL_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "eval-token", "key": "token"}},
        }
    ]


def test_no_gate_no_job_and_no_schedule_no_cron_job() -> None:
    assert quality.build(make_spec(), OWNER, evaluate="abc") == []
    kinds = [m["kind"] for m in quality.build(gated(), OWNER, evaluate=None)]
    assert "Job" not in kinds and "CronJob" not in kinds


def test_the_scheduled_check_evaluates_the_active_service_against_the_minimums() -> None:
    manifests = quality.build(gated(schedule="0 * * * *"), OWNER, evaluate=None)
    cron = next(m for m in manifests if m["kind"] == "CronJob")
    assert cron["metadata"]["name"] == "demo-quality-check"
    assert cron["spec"]["schedule"] == "0 * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--url") + 1] == f"http://demo-api.{OWNER.namespace}.svc:80"
    assert "--baseline-url" not in args and "--min" in args


@pytest.mark.parametrize("schedule", [None, "*/30 * * * *"])
def test_evaluation_pods_meet_the_restricted_pod_security_standard(schedule: str | None) -> None:
    for manifest in quality.build(gated(schedule=schedule), OWNER, evaluate="abc"):
        pod = pod_spec_of(manifest)
        if pod is not None:
            assert restricted_violations(pod) == [], manifest["kind"]
            assert pod["automountServiceAccountToken"] is False


def test_evaluation_pods_may_reach_the_api_pods_through_the_default_deny() -> None:
    spec = make_spec(
        api={"rollout": {"qualityGate": GATE}, "port": 8081}, networkPolicy={"enabled": True}
    )
    policy = next(
        m for m in quality.build(spec, OWNER, evaluate="abc") if m["kind"] == "NetworkPolicy"
    )
    job = _job(spec)
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    selector = policy["spec"]["podSelector"]
    assert all(pod_labels[k] == v for k, v in selector["matchLabels"].items())
    assert pod_labels["app.kubernetes.io/component"] in selector["matchExpressions"][0]["values"]
    to_api = policy["spec"]["egress"][0]
    assert to_api["ports"] == [{"protocol": "TCP", "port": 8081}]
    assert to_api["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"


def test_the_quality_alert_exists_only_with_a_schedule() -> None:
    def alerts(spec: api.RAGDeploymentSpec) -> list[str]:
        groups = prometheus_rule(spec, OWNER)["spec"]["groups"]
        return [rule["alert"] for group in groups for rule in group["rules"]]

    assert "RAGOpsQualityDegraded" not in alerts(gated())
    assert "RAGOpsQualityDegraded" in alerts(gated(schedule="@hourly"))


def test_bad_thresholds_samples_and_schedules_are_rejected() -> None:
    with pytest.raises(ValidationError, match="minimums keys"):
        gated(minimums={"latency_p95_ms": 3000})  # lower is better: a regression only
    with pytest.raises(ValidationError, match="maxRegression keys"):
        gated(maxRegression={"answer_hitt": 0.1})
    with pytest.raises(ValidationError):
        gated(minimums={"answer_hit": -1})
    with pytest.raises(ValidationError):
        gated(sample=0)
    with pytest.raises(ValidationError):
        gated(schedule="every hour")


def test_the_example_is_a_valid_gated_stack() -> None:
    path = Path(__file__).resolve().parents[4] / "examples" / "quality-gate.yaml"
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    resource = api.RAGDeployment.model_validate(docs[-1])
    golden = next(d for d in docs if d["kind"] == "ConfigMap")
    gate = resource.spec.api.rollout.quality_gate
    assert gate is not None and gate.questions.config_map_key_ref is not None
    assert gate.questions.config_map_key_ref.name == golden["metadata"]["name"]
    for line in golden["data"][gate.questions.config_map_key_ref.key].splitlines():
        assert isinstance(json.loads(line)["question"], str)
