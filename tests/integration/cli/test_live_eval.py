"""`ragops eval --url` against two real `ragops serve` processes standing for a rollout's two
colors: "good" has every document (and token checks on, against a local JWKS), "worse" lacks
one. The golden set tells them apart, and a baseline comparison fails the worse one.

At the end, the operator's quality gate and this CLI meet for real: the evaluation Job the
operator renders (builders/quality.py) runs here as the command its pod would run, and its
summary file goes to the planner's verdict (planning/quality.py) as the pod's termination
message would. kwok runs no containers, so the cluster tests write that message by hand; this
checks that what they write is what the CLI really writes."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ragops_operator.builders import quality as quality_builder
from ragops_operator.planning import quality
from tests.support.aws import MotoServer
from tests.support.builder_specs import OWNER, make_spec
from tests.support.jwks import CLIENT_ID, ISSUER, JwksServer
from tests.support.llm_fakes import FakeLLMServer
from tests.support.processes import Service, clean_env, ragops

REPO = Path(__file__).resolve().parents[3]
PDF = REPO / "examples" / "ragops-backups.pdf"
EXAMPLE = REPO / "examples" / "quality-gate.yaml"
HARBOR = """# Harbor notes

The Varna lighthouse was built in 1866 by French engineers.

The harbor pilots of Varna use radio channel 14 for every berthing request.
"""
GOLDEN = [
    {
        "question": "Where does ragops backup copy the vector store?",
        "answers": ["S3"],
        "source": "ragops-backups.pdf",
        "page": 1,
    },
    {
        "question": "Which file of a backup is uploaded last?",
        "answers": ["manifest.json"],
        "source": "ragops-backups.pdf",
        "page": 2,
    },
    {
        "question": "When was the Varna lighthouse built?",
        "answers": ["1866"],
        "source": "harbor.md",
        "page": 1,
    },
    {
        "question": "Which radio channel do the harbor pilots of Varna use for berthing requests?",
        "answers": ["channel 14"],
        "source": "harbor.md",
        "page": 1,
    },
]


@dataclass
class Stack:
    good: Service
    worse: Service
    token: str
    questions: Path
    good_data_dir: Path


def _upload(service: Service, path: Path, token: str | None) -> None:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    with path.open("rb") as handle:
        response = httpx.post(
            f"{service.url}/api/upload",
            files={"file": (path.name, handle)},
            headers=headers,
            timeout=60,
        )
    response.raise_for_status()
    job_id = response.json()["job_id"]
    for _ in range(600):
        job = httpx.get(f"{service.url}/api/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["state"] in ("ready", "failed"):
            assert job["state"] == "ready", job
            return
        time.sleep(0.2)
    raise AssertionError(f"{path.name} not ingested:\n{service.log()}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("live-eval")
    harbor = root / "harbor.md"
    harbor.write_text(HARBOR)
    questions = root / "golden.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in GOLDEN))
    jwks = JwksServer()
    good = Service(
        "serve",
        clean_env(
            RAGOPS_DATA_DIR=str(root / "good"),
            RAGOPS_AUTH_JWKS_URL=jwks.url,
            RAGOPS_AUTH_ISSUER=ISSUER,
            RAGOPS_AUTH_AUDIENCE=CLIENT_ID,
        ),
        root / "good.log",
        cwd=root,
    )
    try:
        worse = Service(
            "serve", clean_env(RAGOPS_DATA_DIR=str(root / "worse")), root / "worse.log", cwd=root
        )
    except BaseException:
        good.kill()
        raise
    token = jwks.token("tenant-a")
    try:
        for path in (PDF, harbor):
            _upload(good, path, token)
        _upload(worse, PDF, None)  # the worse color lacks harbor.md
        yield Stack(good, worse, token, questions, root / "good")
    finally:
        good.kill()
        worse.kill()
        jwks.stop()
        shutil.rmtree(root, ignore_errors=True)


def _eval(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = ragops("eval", *args, timeout=300)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, lines, result.stderr


def test_the_good_color_passes_its_minimums(stack: Stack, tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    code, lines, stderr = _eval(
        "--url", stack.good.url, "--questions", str(stack.questions), "--token", stack.token,
        "--min", "answer_hit=1", "--min", "source_hit@1=1", "--min", "page_hit=0.75",
        "--summary-file", str(summary_file),
    )  # fmt: skip
    summary = lines[-1]
    assert code == 0, (summary, stderr)
    assert summary["kind"] == "ragops-eval-summary" and summary["passed"] is True
    assert summary["questions"] == 4 and summary["errors"] == 0
    metrics = summary["metrics"]
    assert metrics["answer_hit"] == 1.0 and metrics["source_hit@1"] == 1.0
    assert metrics["answered"] == 1.0
    assert metrics["tokens"] == 0 and metrics["cost_usd"] == 0.0  # extractive: no model calls
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p95_ms"]
    assert [line["question"] for line in lines[:-1]] == [q["question"] for q in GOLDEN]
    assert json.loads(summary_file.read_text()) == summary
    assert len(summary_file.read_bytes()) < 4096
    # Answered afresh, not by the cache that the two colors of a rollout share; the cache then
    # holds these answers, which --use-cache lets count.
    assert all(line["cached"] is False for line in lines[:-1])
    _, cached_lines, _ = _eval(
        "--url", stack.good.url, "--questions", str(stack.questions), "--token", stack.token,
        "--use-cache",
    )  # fmt: skip
    assert all(line["cached"] is True for line in cached_lines[:-1])
    assert cached_lines[-1]["metrics"]["answer_hit"] == 1.0


def test_the_worse_color_scores_lower_and_fails_against_the_good_one(
    stack: Stack, tmp_path: Path
) -> None:
    _, good_lines, _ = _eval(
        "--url", stack.good.url, "--questions", str(stack.questions), "--token", stack.token
    )
    code, lines, stderr = _eval(
        "--url", stack.worse.url, "--questions", str(stack.questions), "--token", stack.token,
        "--baseline-url", stack.good.url, "--max-regression", "answer_hit=0.05",
        "--max-regression", "latency_p95_ms=100000",
    )  # fmt: skip
    summary = lines[-1]
    assert code == 1, (summary, stderr)
    good_metrics = good_lines[-1]["metrics"]
    assert summary["metrics"]["answer_hit"] < good_metrics["answer_hit"]
    assert summary["metrics"]["source_hit@1"] < good_metrics["source_hit@1"]
    assert summary["baseline"]["url"] == stack.good.url
    assert summary["baseline"]["metrics"]["answer_hit"] == good_metrics["answer_hit"]
    failed = [c for c in summary["checks"] if not c["passed"]]
    assert failed == [
        {
            "metric": "answer_hit",
            "kind": "regression",
            "value": summary["metrics"]["answer_hit"],
            "baseline": good_metrics["answer_hit"],
            "allowed": 0.05,
            "passed": False,
        }
    ]
    assert summary["passed"] is False
    # Each URL answered the same questions: four lines per URL before the summary.
    assert [line["url"] for line in lines[:-1]] == [stack.worse.url] * 4 + [stack.good.url] * 4

    # The same comparison from the good run's saved summary.
    saved = tmp_path / "good.json"
    saved.write_text(json.dumps(good_lines[-1]))
    code, lines, _ = _eval(
        "--url", stack.worse.url, "--questions", str(stack.questions),
        "--baseline", str(saved), "--max-regression", "answer_hit=0.05",
    )  # fmt: skip
    assert code == 1 and lines[-1]["checks"][0]["passed"] is False


def test_a_missing_token_is_a_clear_error(stack: Stack) -> None:
    code, lines, stderr = _eval(
        "--url", stack.good.url, "--questions", str(stack.questions), "--min", "answer_hit=0.5"
    )
    assert code == 2, (lines, stderr)
    assert lines[-1]["passed"] is False
    assert "401" in lines[-1]["error"] and "--token" in lines[-1]["error"]
    assert "Traceback" not in stderr


def test_an_unreachable_api_and_a_bad_line_exit_2(stack: Stack, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine?"}\n{"question": 3}\n')
    code, lines, _ = _eval("--url", stack.worse.url, "--questions", str(bad))
    assert code == 2 and "line 2" in lines[-1]["error"]
    code, lines, _ = _eval("--url", "http://127.0.0.1:9", "--questions", str(stack.questions))
    assert code == 2 and "cannot reach" in lines[-1]["error"]


def test_thumbs_up_answers_export_as_a_golden_set_that_tells_the_colors_apart(
    stack: Stack, tmp_path: Path
) -> None:
    auth = {"authorization": f"Bearer {stack.token}"}
    liked = GOLDEN[2]["question"], GOLDEN[1]["question"]
    for question in (*liked, "What is uploaded first?"):
        answer = httpx.post(
            f"{stack.good.url}/api/ask", json={"query": question}, headers=auth, timeout=120
        ).json()
        rating = "up" if question in liked else "down"
        response = httpx.post(
            f"{stack.good.url}/api/feedback",
            json={"answer_id": answer["answer_id"], "rating": rating},
            headers=auth,
            timeout=30,
        )
        assert response.status_code == 204, response.text
    # Read while the server runs, from its data dir's catalog.
    exported = ragops(
        "eval", "export-feedback", "--data-dir", str(stack.good_data_dir), "--tenant", "tenant-a"
    )
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [row["question"] for row in rows] == [liked[1], liked[0]]  # newest first
    # The answer's sentence on the question, not the whole answer (its channel 14 sentence).
    (key,) = rows[1]["answers"]
    assert key.endswith("The Varna lighthouse was built in 1866 by French engineers.")
    assert "channel" not in key and "[1]" not in key
    assert all(row["model"] == "extractive" and row["answer_id"] for row in rows)

    questions = tmp_path / "from-feedback.jsonl"
    questions.write_text(exported.stdout)
    code, lines, stderr = _eval(
        "--url", stack.good.url, "--questions", str(questions), "--token", stack.token,
        "--min", "answer_hit=1",
    )  # fmt: skip
    assert code == 0, (lines[-1], stderr)
    code, lines, _ = _eval(
        "--url", stack.worse.url, "--questions", str(questions), "--min", "answer_hit=1"
    )
    assert code == 1 and lines[-1]["metrics"]["answer_hit"] == 0.5


def test_questions_are_read_from_s3(stack: Stack, aws: MotoServer) -> None:
    bucket = aws.create_bucket()
    body = stack.questions.read_bytes()
    aws.client("s3").put_object(Bucket=bucket, Key="gates/golden.jsonl", Body=body)
    code, lines, stderr = _eval(
        "--url", stack.worse.url, "--questions", f"s3://{bucket}/gates/golden.jsonl"
    )
    assert code == 0, (lines[-1], stderr)
    assert lines[-1]["questions"] == 4 and lines[-1]["metrics"]["answer_hit"] == 0.5
    # --sample: the same two questions (by the seed) asked of both URLs, on every run.
    runs = [
        _eval(
            "--url",
            stack.worse.url,
            "--questions",
            f"s3://{bucket}/gates/golden.jsonl",
            "--token",
            stack.token,
            "--baseline-url",
            stack.good.url,
            "--sample",
            "2",
            "--seed",
            "3",
        )  # fmt: skip
        for _ in range(2)
    ]
    asked = [[line["question"] for line in lines[:-1]] for _, lines, _ in runs]
    assert asked[0] == asked[1] and len(asked[0]) == 4
    assert asked[0][:2] == asked[0][2:] and runs[0][1][-1]["questions"] == 2
    code, lines, _ = _eval("--url", stack.worse.url, "--questions", f"s3://{bucket}/missing")
    assert code == 2 and "cannot read questions" in lines[-1]["error"]


def test_an_llm_answer_hits_through_its_cited_excerpts_and_its_usage_is_unknown(
    tmp_path: Path,
) -> None:
    (tmp_path / "harbor.md").write_text(HARBOR)
    questions = tmp_path / "golden.jsonl"
    questions.write_text(json.dumps(GOLDEN[2]) + "\n")
    with FakeLLMServer() as fake:
        llm = Service(
            "serve",
            clean_env(
                RAGOPS_DATA_DIR=str(tmp_path / "data"),
                OPENAI_API_KEY="sk-test",
                OPENAI_BASE_URL=fake.url + "/v1",
                NO_PROXY="127.0.0.1",
            ),
            tmp_path / "llm.log",
            cwd=tmp_path,
        )
        try:
            _upload(llm, tmp_path / "harbor.md", None)
            code, lines, stderr = _eval(
                "--url", llm.url, "--questions", str(questions), "--min", "answer_hit=1"
            )
        finally:
            llm.kill()
    (line, summary) = lines
    assert code == 0, (summary, stderr)
    # The fake model's words hold no "1866"; the excerpt it cites does.
    assert line["answer"] == "The PIs sign DEA form 225 [1]." and line["answer_hit"] is True
    assert line["sources"][0]["filename"] == "harbor.md"
    # /api/ask reports no usage: unknown, not free.
    assert summary["metrics"]["tokens"] is None and summary["metrics"]["cost_usd"] is None


# The operator's quality gate ----------------------------------------------------------------

GATE = {
    "questions": {"configMapKeyRef": {"name": "golden", "key": "questions.jsonl"}},
    "minimums": {"answer_hit": 0.75},
    "maxRegression": {"answer_hit": 0.05, "source_hit@1": 0.05},
}


def _run_gate_job(
    stack: Stack, tmp_path: Path, *, preview: str, active: str
) -> tuple[int, quality.Verdict]:
    spec = make_spec(api={"rollout": {"qualityGate": GATE}})
    job = quality_builder.gate_job(spec, OWNER, template_hash="0123456789", compare=True)
    args = list(job["spec"]["template"]["spec"]["containers"][0]["args"])
    summary_file = tmp_path / "termination-log"
    # The cluster's addresses become the two local processes; everything else is as rendered.
    replace = {
        "--url": preview,
        "--baseline-url": active,
        "--questions": str(stack.questions),
        "--summary-file": str(summary_file),
    }
    for flag, value in replace.items():
        args[args.index(flag) + 1] = value
    done = ragops(*args, "--token", stack.token, timeout=300)
    finished: dict[str, Any] = {
        "metadata": job["metadata"],
        "status": {
            "conditions": [
                {"type": "Complete" if done.returncode == 0 else "Failed", "status": "True"}
            ]
        },
    }
    pod = {
        "metadata": {"creationTimestamp": "2026-12-05T00:00:00Z"},
        "status": {
            "containerStatuses": [
                {"state": {"terminated": {"message": summary_file.read_text(encoding="utf-8")}}}
            ]
        },
    }
    gate = spec.api.rollout.quality_gate
    assert gate is not None
    verdict = quality.verdict(
        finished,
        [pod],
        color="green",
        baseline_color="blue",
        wanted=quality.wanted_checks(gate.minimums, gate.max_regression),
        now="2026-12-05T00:00:00Z",
    )
    return done.returncode, verdict


def test_a_preview_answering_worse_is_refused_naming_the_metric_and_both_values(
    stack: Stack, tmp_path: Path
) -> None:
    code, verdict = _run_gate_job(stack, tmp_path, preview=stack.worse.url, active=stack.good.url)
    assert code == 1
    assert verdict.result == "failed", verdict.message
    # The worse color lacks one of two documents: half the golden questions miss.
    assert verdict.message.startswith("answer_hit 0.5 on green vs 1 on blue"), verdict.message
    assert verdict.report is not None and verdict.report["metrics"]["answer_hit"] == 0.5


def test_a_preview_answering_as_well_passes(stack: Stack, tmp_path: Path) -> None:
    code, verdict = _run_gate_job(stack, tmp_path, preview=stack.good.url, active=stack.good.url)
    assert code == 0
    assert verdict.result == "passed", verdict.message
    assert "answer_hit 1" in verdict.message


def test_the_examples_golden_set_passes_its_own_minimums_on_the_default_stack(
    stack: Stack, tmp_path: Path
) -> None:
    """examples/quality-gate.yaml applied as it is: its golden questions, asked of a stack on
    the default image holding the PDF they are about, meet the gate's minimums, so the example
    gates real regressions instead of aborting every rollout."""
    docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
    golden = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["questions.jsonl"]
    gate = docs[-1]["spec"]["api"]["rollout"]["qualityGate"]
    questions = tmp_path / "example.jsonl"
    questions.write_text(golden)
    minimums = [arg for k, v in gate["minimums"].items() for arg in ("--min", f"{k}={v}")]
    code, lines, stderr = _eval("--url", stack.worse.url, "--questions", str(questions), *minimums)
    summary = lines[-1]
    assert code == 0, (summary, stderr)
    assert summary["questions"] == len(golden.splitlines()) >= 5 and summary["errors"] == 0
    assert summary["metrics"]["answered"] == 1.0, lines
    assert {c["metric"] for c in summary["checks"]} == set(gate["minimums"])
