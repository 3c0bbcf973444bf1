"""The quality gate's evaluation Job, the continuous-quality CronJob and their NetworkPolicy.

Both run `ragops eval --url` (docs/evaluation.md) in the stack's API image: the Job asks the
preview Service the golden questions (and the active API Service the same ones, for the
regression checks) during a rollout; the CronJob asks the active API Service on a schedule.
The summary JSON is written to the termination message, which the operator reads
(planning/quality.py). Pods run as the worker's ServiceAccount (its IRSA role reads an S3
question set) under the restricted Pod Security Standard, like the stack's other Jobs.
"""

from __future__ import annotations

from typing import Any

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import aws, backup, network, pods
from ragops_operator.builders.labels import (
    COMPONENT_API,
    Owner,
    labels,
    metadata,
    selector_labels,
)
from ragops_operator.objects import Obj

COMPONENT_GATE = "quality-gate"
COMPONENT_CHECK = "quality-check"
GOLDEN_DIR = "/golden"
GOLDEN_FILE = "questions.jsonl"
TOKEN_ENV = "RAGOPS_EVAL_TOKEN"


def gate_job_name(owner: Owner, template_hash: str) -> str:
    """One Job per preview template: a superseded preview gets a new evaluation."""
    return owner.child_name(f"quality-{template_hash[:10]}")


def _service_url(owner: Owner, service: str) -> str:
    return f"http://{service}.{owner.namespace}.svc:{api_builder.SERVICE_PORT}"


def _pairs(flag: str, values: dict[str, float]) -> list[str]:
    return [part for metric in sorted(values) for part in (flag, f"{metric}={values[metric]:g}")]


def eval_args(
    gate: api.QualityGateSpec, owner: Owner, *, url: str, baseline_url: str | None
) -> list[str]:
    """`ragops eval --url` with the gate's thresholds; regressions only with a baseline."""
    questions = (
        f"s3://{gate.questions.s3.bucket}/{gate.questions.s3.key}"
        if gate.questions.s3 is not None
        else f"{GOLDEN_DIR}/{GOLDEN_FILE}"
    )
    args = ["eval", "--url", url, "--questions", questions]
    if baseline_url is not None:
        args += ["--baseline-url", baseline_url, *_pairs("--max-regression", gate.max_regression)]
    if gate.sample is not None:
        # The same seed every run: the preview and later runs are asked comparable questions.
        args += ["--sample", str(gate.sample), "--seed", "0"]
    args += _pairs("--min", gate.minimums)
    return [*args, "--summary-file", backup.TERMINATION_LOG]


def _pod(spec: api.RAGDeploymentSpec, owner: Owner, component: str, args: list[str]) -> Obj:
    gate = spec.api.rollout.quality_gate
    assert gate is not None
    # An s3:// question set is read with `spec.aws`'s static credentials, when set.
    env: list[dict[str, Any]] = aws.secret_env(spec)
    if gate.token_secret_ref is not None:
        ref = gate.token_secret_ref
        env.append(
            {"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        )
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if gate.questions.config_map_key_ref is not None:
        ref_ = gate.questions.config_map_key_ref
        mounts.append({"name": "golden", "mountPath": GOLDEN_DIR, "readOnly": True})
        volumes.append(
            {
                "name": "golden",
                "configMap": {
                    "name": ref_.name,
                    "items": [{"key": ref_.key, "path": GOLDEN_FILE}],
                },
            }
        )
    container = {
        "name": "eval",
        "image": api_builder.image(spec),
        "imagePullPolicy": spec.image_pull_policy,
        "args": args,
        # The stack's settings: the S3 endpoint and region an s3:// question set is read with.
        "envFrom": [{"configMapRef": {"name": owner.child_name("config")}}],
        "env": env,
        # Requests its /tmp like every other pod of the stack, so it is scheduled where it fits.
        "resources": pods.resources(gate.resources, ephemeral=pods.scratch_request(volumes)),
        "securityContext": pods.container_security_context(),
        "terminationMessagePath": backup.TERMINATION_LOG,
        # The summary file when written; else the log tail, whose last line is the summary too.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    }
    return backup.job_template(owner, component, container, volumes)


def gate_job(
    spec: api.RAGDeploymentSpec,
    owner: Owner,
    *,
    template_hash: str,
    compare: bool,
) -> Obj:
    """The evaluation of the preview Service, compared with the API Service (the active color)
    when `compare`. No retry: a failed check would fail again, and the deadline is the gate's
    timeout (a Job past it fails with DeadlineExceeded: never a pass)."""
    gate = spec.api.rollout.quality_gate
    assert gate is not None
    args = eval_args(
        gate,
        owner,
        url=_service_url(owner, api_builder.preview_service_name(owner)),
        baseline_url=_service_url(owner, owner.child_name("api")) if compare else None,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(owner, gate_job_name(owner, template_hash), COMPONENT_GATE),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": gate.timeout_seconds,
            "template": _pod(spec, owner, COMPONENT_GATE, args),
        },
    }


def check_cron_job(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj | None:
    """`{name}-quality-check`: the active color against the minimums, on `schedule`."""
    gate = spec.api.rollout.quality_gate
    if gate is None or gate.schedule is None:
        return None
    args = eval_args(
        gate, owner, url=_service_url(owner, owner.child_name("api")), baseline_url=None
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(owner, owner.child_name(COMPONENT_CHECK), COMPONENT_CHECK),
        "spec": {
            "schedule": gate.schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels(owner, COMPONENT_CHECK)},
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": gate.timeout_seconds,
                    "template": _pod(spec, owner, COMPONENT_CHECK, args),
                },
            },
        },
    }


def network_policy(spec: api.RAGDeploymentSpec, owner: Owner) -> Obj:
    """The stack's default-deny covers the evaluation pods (they carry its labels): they may
    reach the API pods' port (a Service's traffic is matched after it picked a pod) and HTTPS
    (an S3 question set) or `spec.aws`'s endpoint ports. DNS is the stack-wide policy's; the
    API admits anyone already."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(owner, owner.child_name("quality"), COMPONENT_GATE),
        "spec": {
            "podSelector": {
                "matchExpressions": [
                    {
                        "key": "app.kubernetes.io/component",
                        "operator": "In",
                        "values": [COMPONENT_GATE, COMPONENT_CHECK],
                    }
                ],
                "matchLabels": network.stack_selector(owner)["matchLabels"],
            },
            "policyTypes": ["Ingress", "Egress"],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": selector_labels(owner, COMPONENT_API)}}],
                    "ports": [{"protocol": "TCP", "port": spec.api.port}],
                },
                {
                    "ports": [
                        {"protocol": "TCP", "port": port}
                        for port in (network.HTTPS_PORT, *aws.endpoint_ports(spec))
                    ]
                },
            ],
        },
    }


def build(
    spec: api.RAGDeploymentSpec, owner: Owner, *, evaluate: str | None, compare: bool = True
) -> list[Obj]:
    """`evaluate`: the preview template whose evaluation Job is wanted (None: no Job)."""
    gate = spec.api.rollout.quality_gate
    if gate is None:
        return []
    wanted: list[Obj | None] = [
        gate_job(spec, owner, template_hash=evaluate, compare=compare and gate.compare_with_active)
        if evaluate is not None
        else None,
        check_cron_job(spec, owner),
    ]
    manifests = [m for m in wanted if m is not None]
    if spec.network_policy.enabled:  # kept between rollouts: no create/delete churn per rollout
        manifests.append(network_policy(spec, owner))
    return manifests
