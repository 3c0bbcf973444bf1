"""The Grafana dashboards against real scrapes: `ragops api` and `ragops worker` (over moto S3/SQS,
Redis, the Qdrant server and the fake OpenAI server, after an upload, a failed upload, questions
and feedback), the Qdrant server's own /metrics, and `ragops operator --metrics-port` reconciling
a stack on the local control plane after one of its children was deleted, and a stack whose
scheduled quality evaluation reported (its result driven by hand, as kwok runs no container).

Every metric each panel's PromQL names must be a family of the process its `job` selects, and
every label it matches or groups by must be on that family's samples (tests/support/dashboards.py;
its own test is tests/unit/test_dashboard_checker.py). The chart's four dashboards and the
per-stack dashboard the operator renders (builders/monitoring.py) are both checked.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragops_devcluster.kubectl import Kubectl
from ragops_devcluster.waiting import Pending
from ragops_operator.builders import monitoring
from ragops_operator.builders.labels import Owner
from tests.support.api import POLICY
from tests.support.aws import REGION, MotoServer
from tests.support.cluster import ClusterUnderTest, Kube, Waits
from tests.support.dashboards import Scrape, parse_scrape, problems
from tests.support.llm_fakes import FakeLLMServer
from tests.support.net import free_port
from tests.support.operator import (
    RAGD,
    OperatorProcess,
    children,
    hold_pods,
    ragdeployment,
    wait_held,
)
from tests.support.processes import JOB_DEADLINE_SECONDS, Service, clean_env
from tests.support.qdrant_server import QdrantServer
from tests.support.quality_gate import eval_summary, report_job_result
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ragops_crd")]

REPO = Path(__file__).resolve().parents[2]
CHART_DASHBOARDS = REPO / "charts" / "ragops-operator" / "dashboards"
STACK = "dash"
QUALITY_STACK = "dashq"
WORD_BUDGET = 200  # POLICY is about 60 words: once is indexed, ten times fails its budget


def chart_alert_expressions() -> dict[str, Any]:
    """The chart's PrometheusRule (templates/prometheusrule.yaml, plain PromQL in its `expr:`
    lines), shaped as a dashboard so the same check applies."""
    template = (CHART_DASHBOARDS.parent / "templates" / "prometheusrule.yaml").read_text()
    exprs = re.findall(r"^\s+expr: (.+)$", template, flags=re.M)
    assert len(exprs) == 2, exprs
    return {"title": "chart alerts", "panels": [{"targets": [{"expr": e} for e in exprs]}]}


def scrape(url: str, headers: dict[str, str] | None = None) -> str:
    response = httpx.get(f"{url}/metrics", headers=headers or {}, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def operator(
    k8s_cluster: ClusterUnderTest, tmp_path: Path
) -> Iterator[tuple[OperatorProcess, str]]:
    port = free_port()
    process = OperatorProcess(
        k8s_cluster.kubeconfig, tmp_path / "operator.log", metrics_port=port
    ).start()
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture
def data_plane(
    aws: MotoServer, redis_server: RedisServer, qdrant_server: QdrantServer, tmp_path: Path
) -> Iterator[tuple[Service, Service]]:
    """`ragops api` and `ragops worker` as in a pod: configured by the environment only."""
    queue_url, _ = aws.create_queue()
    bucket = aws.create_bucket()
    started: list[Service] = []
    # A collection of its own: the session's Qdrant server is shared.
    collection = f"dash-{uuid.uuid4().hex[:8]}"
    with FakeLLMServer() as openai_fake:

        def env(data_dir: str, **extra: str) -> dict[str, str]:
            return clean_env(
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_REGION=REGION,
                AWS_DEFAULT_REGION=REGION,
                AWS_ENDPOINT_URL_S3=aws.url,
                AWS_ENDPOINT_URL_SQS=aws.url,
                RAGOPS_S3_BUCKET=bucket,
                RAGOPS_SQS_QUEUE_URL=queue_url,
                RAGOPS_CATALOG_URL=redis_server.url,
                RAGOPS_REDIS_URL=redis_server.url,
                RAGOPS_QDRANT_URL=qdrant_server.url,
                RAGOPS_QDRANT_COLLECTION=collection,
                RAGOPS_DATA_DIR=str(tmp_path / data_dir),
                RAGOPS_TENANT="acme",
                OPENAI_API_KEY="sk-test",
                OPENAI_BASE_URL=openai_fake.url + "/v1",
                NO_PROXY="127.0.0.1",
                **extra,
            )

        try:
            worker_env = env("worker", RAGOPS_MAX_DOCUMENT_WORDS=str(WORD_BUDGET))
            started.append(Service("worker", worker_env, tmp_path / "worker.log", cwd=tmp_path))
            started.append(Service("api", env("api"), tmp_path / "api.log", cwd=tmp_path))
            yield started[1], started[0]
        finally:
            for service in started:
                service.kill()


def use_the_api(api: Service, worker: Service) -> None:
    """What gives the labelled families samples: an indexed and a failed document, a question
    answered by the language model and again from cache, feedback."""
    jobs = []
    for name, text in (("policy.md", POLICY), ("long.md", POLICY * 10)):
        posted = httpx.post(f"{api.url}/api/upload", files={"file": (name, text.encode())})
        assert posted.status_code == 202, posted.text
        jobs.append(posted.json()["job_id"])
    deadline = time.monotonic() + JOB_DEADLINE_SECONDS
    states = {}
    for job_id in jobs:
        while (state := httpx.get(f"{api.url}/api/jobs/{job_id}").json()["state"]) not in (
            "ready",
            "failed",
        ):
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.2)
        states[job_id] = state
    assert list(states.values()) == ["ready", "failed"], worker.log()
    for _ in range(2):  # the second is a cache hit
        asked = httpx.post(f"{api.url}/api/ask", json={"query": "Who books flights?"}, timeout=60)
        assert asked.status_code == 200, asked.text
    rated = httpx.post(
        f"{api.url}/api/feedback", json={"answer_id": asked.json()["answer_id"], "rating": "up"}
    )
    assert rated.status_code == 204, rated.text


def operator_reconciled_a_repair(
    kube: Kube, waits: Waits, namespace: str, url: str
) -> tuple[str, str]:
    """A stack whose ConfigMap someone deleted: the operator puts it back and says so."""
    kube.create(ragdeployment(STACK, namespace), namespace)

    def stack_conditions() -> bool | Pending:
        status = kube.get(*RAGD, STACK, namespace).get("status") or {}
        return bool(status.get("conditions")) or Pending("no status yet")

    waits.until(stack_conditions, timeout=60, what="the stack's first status")
    config = f"{STACK}-config"
    assert ("ConfigMap", config) in children(kube, namespace, STACK)
    kube.delete("v1", "ConfigMap", config, namespace)

    def repaired() -> str | Pending:
        text = scrape(url)
        line = 'ragops_operator_drift_repairs_total{kind="ConfigMap"}'
        if line in text and ("ConfigMap", config) in children(kube, namespace, STACK):
            return text
        return Pending("ConfigMap not put back, or not counted")

    text = waits.until(repaired, timeout=60, what="the deleted ConfigMap put back and counted")
    return text, config


def operator_reported_quality(
    kube: Kube, kubectl: Kubectl, waits: Waits, namespace: str, url: str
) -> str:
    """A stack with a scheduled quality evaluation whose run reported: the quality gauges."""
    gate = {
        "questions": {"configMapKeyRef": {"name": "golden", "key": "questions.jsonl"}},
        "minimums": {"answer_hit": 0.8},
        "schedule": "0 3 * * *",
    }
    stack = ragdeployment(QUALITY_STACK, namespace, api={"rollout": {"qualityGate": gate}})
    kube.create(stack, namespace)
    held = hold_pods(namespace, "quality-check")
    kubectl.apply(held)
    try:
        wait_held(kubectl, namespace, "quality-check")
        cron = f"{QUALITY_STACK}-quality-check"

        def cron_job() -> bool | Pending:
            names = {c["metadata"]["name"] for c in kube.list("batch/v1", "CronJob", namespace)}
            return cron in names or Pending(f"CronJobs: {sorted(names)}")

        waits.until(cron_job, timeout=60, what="the scheduled evaluation's CronJob")
        job = f"{QUALITY_STACK}-quality-run"
        kubectl.run(["create", "job", job, f"--from=cronjob/{cron}", "-n", namespace])
        report_job_result(kubectl, kube, namespace, job, eval_summary(0.9, 0.9))
    finally:
        for obj in reversed(held):
            kubectl.run(["delete", obj["kind"], obj["metadata"]["name"], "--ignore-not-found"])

    def gauged() -> str | Pending:
        text = scrape(url)
        wanted = f'ragops_quality_answer_hit{{color="blue",ragdeployment="{QUALITY_STACK}"'
        return text if wanted in text else Pending("no quality gauge for the scheduled run")

    return waits.until(gauged, timeout=90, what="the scheduled evaluation's quality gauges")


def test_every_dashboard_names_only_metrics_and_labels_the_processes_export(
    kube: Kube,
    kubectl: Kubectl,
    waits: Waits,
    namespace: str,
    operator: tuple[OperatorProcess, str],
    data_plane: tuple[Service, Service],
    qdrant_server: QdrantServer,
) -> None:
    api, worker = data_plane
    process, operator_url = operator
    use_the_api(api, worker)
    operator_reconciled_a_repair(kube, waits, namespace, operator_url)
    operator_text = operator_reported_quality(kube, kubectl, waits, namespace, operator_url)
    assert (
        f'ragops_operator_stack_condition{{condition="Ready",ragdeployment="{STACK}",'
        f'ragdeployment_namespace="{namespace}"' in operator_text
    ), process.log_tail()

    scrapes: dict[str, Scrape] = {
        "api": parse_scrape("api", scrape(api.url)),
        "worker": parse_scrape("worker", scrape(worker.url)),
        "qdrant": parse_scrape("qdrant", scrape(qdrant_server.url)),
        "operator": parse_scrape("operator", operator_text),
    }
    boards = {path.name: json.loads(path.read_text()) for path in CHART_DASHBOARDS.glob("*.json")}
    assert len(boards) == 4
    boards["per-stack (operator)"] = monitoring.dashboard(Owner(STACK, namespace, "uid"))
    boards["chart alerts"] = chart_alert_expressions()
    found = [problem for board in boards.values() for problem in problems(board, scrapes)]
    assert found == [], "\n".join(found)
