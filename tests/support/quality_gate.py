"""Driving the quality gate's evaluation result by hand on kwok, which runs no containers: an
eval summary as `ragops eval --url` writes it, and a pod of the evaluation Job that ended with
it as its termination message (a pod with a scheduling gate, which nothing runs or rewrites,
whose status the test patches)."""

from __future__ import annotations

import json

from ragops_devcluster.kubectl import Kubectl
from tests.support.cluster import Kube


def eval_summary(green: float, blue: float, *, minimum: float = 0.8, allowed: float = 0.05) -> str:
    """The summary of green (the evaluated color) against blue, checked on answer_hit."""
    regression = round(blue - green, 3)
    checks = [
        {
            "metric": "answer_hit",
            "kind": "min",
            "value": green,
            "threshold": minimum,
            "passed": green >= minimum,
        },
        {
            "metric": "answer_hit",
            "kind": "regression",
            "value": green,
            "baseline": blue,
            "allowed": allowed,
            "passed": regression <= allowed,
        },
    ]
    return json.dumps(
        {
            "kind": "ragops-eval-summary",
            "url": "http://rag-api-preview:80",
            "questions": 40,
            "errors": 0,
            "metrics": {"answer_hit": green, "source_hit@1": 0.7, "page_hit": None},
            "baseline": {"url": "http://rag-api:80", "metrics": {"answer_hit": blue}},
            "checks": checks,
            "passed": all(c["passed"] for c in checks),
        }
    )


def report_job_result(kubectl: Kubectl, kube: Kube, namespace: str, job: str, message: str) -> None:
    """A pod of `job` that ended with `message` as its termination message."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{job}-report",
            "namespace": namespace,
            "labels": {"batch.kubernetes.io/job-name": job},
        },
        "spec": {
            "schedulingGates": [{"name": "ragops.dev/test-never-schedule"}],
            "containers": [{"name": "eval", "image": "ragops/ragops:test"}],
        },
    }
    kube.create(pod, namespace)
    terminated = {"exitCode": 0, "reason": "Completed", "message": message}
    patch = {
        "status": {
            "containerStatuses": [
                {
                    "name": "eval",
                    "image": "ragops/ragops:test",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": terminated},
                }
            ]
        }
    }
    kubectl.run(
        [
            "patch",
            "pod",
            f"{job}-report",
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(patch),
        ]
    )
