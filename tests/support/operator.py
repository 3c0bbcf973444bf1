"""Run `ragops operator` as a real child process against the cluster under test, and wait on
RAGDeployments the way users do (conditions, not sleeps)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ragops_devcluster.kubectl import Kubectl, KubectlFailed
from ragops_devcluster.waiting import Pending
from tests.support.cluster import Kube, Obj, Waits, conditions

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "ragops.dev_ragdeployments.yaml"
EXAMPLES = REPO / "examples"
RAGD = ("ragops.dev/v1alpha1", "RAGDeployment")

MINIMAL_SPEC: dict[str, Any] = {
    "image": "ragops/ragops:test",
    "cache": {"redis": {"urlSecretRef": {"name": "redis", "key": "url"}}},
    "documents": {
        "bucket": "docs-bucket",
        "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/ingest",
    },
}


# The operator keeps a stack un-Ready while a Secret it references is missing, so every test
# namespace holds the Secrets the tests' specs reference (tests/cluster/conftest.py `namespace`).
REDIS_PASSWORD = "s3cr3t-redis-password"
TEST_SECRETS: dict[str, dict[str, str]] = {
    "redis": {"url": f"redis://:{REDIS_PASSWORD}@redis:6379/0"},
    "openai": {"api-key": "sk-test"},
}


def stack_secrets(namespace: str) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": data,
        }
        for name, data in TEST_SECRETS.items()
    ]


def ragdeployment(name: str, namespace: str, **spec: Any) -> Obj:
    merged = copy.deepcopy(MINIMAL_SPEC)
    merged.update(spec)
    return {
        "apiVersion": RAGD[0],
        "kind": RAGD[1],
        "metadata": {"name": name, "namespace": namespace},
        "spec": merged,
    }


def load_examples(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@dataclass
class OperatorProcess:
    """One `ragops operator` child process; its log is kept for failure messages."""

    kubeconfig: Path
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    standalone: bool = True
    # Off unless a test scrapes it: the default 8080 would clash between parallel operators.
    metrics_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ragops_cli",
                "operator",
                *(["--standalone"] if self.standalone else []),
                "--resync-seconds",
                "30",
                "--metrics-port",
                str(self.metrics_port),
                *self.extra_args,
            ],
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig), **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def ready_condition(obj: Obj) -> dict[str, Any]:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return dict(condition)
    return {}


def wait_ready(
    waits: Waits, namespace: str, name: str, *, timeout: float = 60, generation: int | None = None
) -> Obj:
    def probe() -> Obj | Pending:
        obj = waits.kube.get(*RAGD, name, namespace)
        ready = ready_condition(obj)
        observed = obj.get("status", {}).get("observedGeneration")
        current = generation if generation is not None else obj["metadata"]["generation"]
        if ready.get("status") == "True" and observed == current:
            return obj
        return Pending(
            f"Ready={ready.get('status')} ({ready.get('reason')}: {ready.get('message')}), "
            f"observedGeneration={observed}/{current}"
        )

    return waits.until(
        probe, timeout=timeout, what=f"RAGDeployment {namespace}/{name} Ready", interval=0.3
    )


def children(kube: Kube, namespace: str, name: str) -> dict[tuple[str, str], Obj]:
    selector = f"app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=ragops-operator"
    found: dict[tuple[str, str], Obj] = {}
    for api_version, kind in (
        ("v1", "ConfigMap"),
        ("v1", "ServiceAccount"),
        ("v1", "Service"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
    ):
        for item in kube.list(api_version, kind, namespace, selector):
            found[(kind, item["metadata"]["name"])] = item
    return found


__all__ = ["conditions"]


def hold_pods(namespace: str, component: str) -> list[Obj]:
    """A ValidatingAdmissionPolicy (a real admission check in the API server) refusing pods of
    one component in one namespace: kwok completes Job pods at once, so a test that must see a
    Job *running* holds its pods back, then deletes these objects to let the Job controller
    retry."""
    name = f"hold-{component}-{namespace}"[:63]
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                        },
                    ]
                },
                "validations": [
                    {
                        "expression": (
                            "object.metadata.?labels[?'app.kubernetes.io/component']"
                            f".orValue('') != '{component}'"
                        ),
                        "message": f"{component} pods are held by the test",
                    }
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                },
            },
        },
    ]


def wait_held(kubectl: Kubectl, namespace: str, component: str, *, timeout: float = 30) -> None:
    """Return once hold_pods' policy refuses a pod: the API server loads a new admission policy
    asynchronously (about a second), and a pod created meanwhile is let through."""
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "hold-probe",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/component": component},
        },
        "spec": {"containers": [{"name": "probe", "image": "probe"}]},
    }
    deadline = time.monotonic() + timeout
    while True:
        try:
            kubectl.run(["create", "--dry-run=server", "-f", "-"], stdin=json.dumps(probe))
        except KubectlFailed as refused:
            if "held by the test" in str(refused):
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError(f"the hold on {component} pods never took effect")
        time.sleep(0.2)
