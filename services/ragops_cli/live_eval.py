"""`ragops eval --url`: ask a running API a golden question set and score the answers.

The I/O around golden.py: reading the questions (a file or s3://), asking /api/ask with
bounded concurrency and a per-request timeout, and the exit code. The operator's quality-gate
Job runs this command and reads the summary from its termination message (docs/evaluation.md).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ragops_cli import golden
from ragops_cli.remote import RATE_LIMIT_RETRIES, _retry_after

MAX_QUESTIONS_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 5000
MAX_ERROR_SHARE = 0.5  # beyond it the API is judged unusable: exit 2, not a failed check


class UsageError(Exception):
    """Exit 2: a bad argument or file, an unreachable API, a refused token, too many errors."""


@dataclass(frozen=True)
class Options:
    url: str
    questions: str
    token: str | None = None
    baseline_url: str | None = None
    baseline_file: Path | None = None
    sample: int | None = None
    seed: int = 0
    minimums: tuple[str, ...] = ()
    regressions: tuple[str, ...] = ()
    concurrency: int = 4
    timeout: float = 60.0
    summary_file: Path | None = None
    # False: every question is answered afresh (Cache-Control: no-cache). Colors of a rollout
    # share the answer cache, so a cached answer may be the other color's, and a hit's
    # latency is the cache's.
    use_cache: bool = False


@dataclass(frozen=True)
class Outcome:
    item: golden.Golden
    score: golden.Score | None
    response: dict[str, Any] | None
    error: str | None


def read_questions(location: str) -> str:
    """The questions file's text, refused beyond MAX_QUESTIONS_BYTES (read no further)."""
    if location.startswith("s3://"):
        return _read_s3(location)
    path = Path(location)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_QUESTIONS_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read questions {location}: {exc.strerror or exc}") from None
    return _decoded(data, location)


def _read_s3(location: str) -> str:
    # boto3 only here: the endpoint and credentials come from the usual AWS settings
    # (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION, IRSA in a pod).
    from botocore.exceptions import BotoCoreError, ClientError

    from ragops_core.adapters.object_store.s3 import make_client

    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise UsageError(f"questions {location}: expected s3://BUCKET/KEY")
    try:
        body = make_client(None, None).get_object(
            Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_QUESTIONS_BYTES}"
        )["Body"]
        data = body.read(MAX_QUESTIONS_BYTES + 1)
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(f"cannot read questions {location}: {exc}") from None
    return _decoded(data, location)


def _decoded(data: bytes, location: str) -> str:
    if len(data) > MAX_QUESTIONS_BYTES:
        raise UsageError(f"questions {location}: larger than {MAX_QUESTIONS_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"questions {location}: not UTF-8 ({exc})") from None


def ask_all(
    url: str,
    questions: Sequence[golden.Golden],
    *,
    token: str | None,
    concurrency: int,
    timeout: float,
    use_cache: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Every question, `concurrency` at a time, in the questions' order. An unreachable API or a
    refused token stops the run (UsageError); any other failure is that question's error."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if not use_cache:
        headers["cache-control"] = "no-cache"
    fatal: list[UsageError] = []
    stop = threading.Event()
    with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:

        def one(item: golden.Golden) -> Outcome:
            if stop.is_set():
                return Outcome(item, None, None, "not asked: the run stopped")
            try:
                return _ask(client, item, sleep)
            except UsageError as exc:
                fatal.append(exc)
                stop.set()
                return Outcome(item, None, None, str(exc))

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(one, questions))
    if fatal:
        raise fatal[0]
    return outcomes


def _ask(client: httpx.Client, item: golden.Golden, sleep: Callable[[float], None]) -> Outcome:
    url = str(client.base_url)
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        started = time.perf_counter()
        try:
            response = client.post("/api/ask", json={"query": item.question})
        except httpx.TimeoutException:
            return Outcome(item, None, None, f"no answer within {client.timeout.read} s")
        except httpx.TransportError as exc:
            raise UsageError(f"cannot reach {url} ({exc or type(exc).__name__})") from None
        # Only the answered attempt is timed: waiting out a rate limit is not the API's latency.
        latency_ms = 1000 * (time.perf_counter() - started)
        if response.status_code == 429 and attempt < RATE_LIMIT_RETRIES:
            sleep(_retry_after(response))
            continue
        if response.status_code in (401, 403):
            hint = (
                ""
                if client.headers.get("authorization")
                else " (pass --token or set RAGOPS_EVAL_TOKEN)"
            )
            raise UsageError(
                f"{url} refused the request: {response.status_code} {_detail(response)}{hint}"
            )
        if not response.is_success:
            return Outcome(item, None, None, f"{response.status_code}: {_detail(response)}")
        try:
            body = response.json()
        except ValueError:
            return Outcome(item, None, None, "the answer is not JSON")
        if not isinstance(body, dict):
            return Outcome(item, None, None, "the answer is not a JSON object")
        return Outcome(item, golden.score(item, body, latency_ms), body, None)
    raise AssertionError("unreachable")  # the last attempt always returns


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = response.text
    return str(detail)[:300]


def outcome_line(url: str, outcome: Outcome) -> dict[str, Any]:
    line: dict[str, Any] = {"url": url, "question": outcome.item.question}
    if outcome.error is not None or outcome.score is None or outcome.response is None:
        line["error"] = outcome.error
        return line
    s, body = outcome.score, outcome.response
    sources = body.get("sources") or []
    line.update(
        {
            "answered": s.answered,
            "answer_hit": s.answer_hit,
            "source_hit@1": s.source_hit_at_1,
            "page_hit": s.page_hit,
            "latency_ms": round(s.latency_ms, 1),
            # A cached answer is fast: worth knowing when latencies of two colors differ.
            "cached": bool(body.get("cached", False)),
            "answer": str(body.get("answer", ""))[:500],
            "sources": [
                {"filename": src.get("filename"), "page": src.get("page")}
                for src in sources[:5]
                if isinstance(src, dict)
            ],
        }
    )
    return line


def run(options: Options, emit: Callable[[str], None]) -> int:
    """The whole command: per-question lines, then the summary (also to --summary-file);
    returns the exit code: 0 passed, 1 a check failed, 2 could not evaluate."""
    try:
        summary = _evaluate(options, emit)
    except (UsageError, golden.GoldenError) as exc:
        unknown = dict.fromkeys(golden.METRICS)  # every key, as the contract's shape has them
        summary = golden.summary(options.url, 0, 0, unknown, None, [], error=str(exc))
        code = 2
    else:
        code = 2 if "error" in summary else 0 if summary["passed"] else 1
    text = golden.compact(summary)
    emit(text)
    if options.summary_file is not None:
        try:
            options.summary_file.write_text(text)
        except OSError as exc:
            raise UsageError(f"cannot write {options.summary_file}: {exc}") from None
    return code


def _evaluate(options: Options, emit: Callable[[str], None]) -> dict[str, Any]:
    if options.baseline_url and options.baseline_file:
        raise UsageError("pass --baseline-url or --baseline, not both")
    if options.concurrency < 1 or options.concurrency > 64:
        raise UsageError("--concurrency must be between 1 and 64")
    if not 0 < options.timeout <= 3600:
        raise UsageError("--timeout must be between 0 and 3600 seconds")
    if options.sample is not None and options.sample < 1:
        raise UsageError("--sample must be at least 1")
    minimums = golden.parse_thresholds(options.minimums, kind="min")
    regressions = golden.parse_thresholds(options.regressions, kind="max-regression")
    baseline: dict[str, Any] | None = None
    if options.baseline_file is not None:
        try:
            text = options.baseline_file.read_text(encoding="utf-8")[
                -golden.MAX_SUMMARY_BYTES * 4 :
            ]
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read baseline {options.baseline_file}: {exc}") from None
        baseline = golden.read_summary(text)
    if regressions and baseline is None and not options.baseline_url:
        raise UsageError("--max-regression needs --baseline-url or --baseline")
    questions = golden.parse_questions(
        read_questions(options.questions), max_questions=MAX_QUESTIONS
    )
    chosen = golden.sample(questions, options.sample, options.seed)

    def asked(url: str) -> tuple[dict[str, Any], int]:
        outcomes = ask_all(
            url,
            chosen,
            token=options.token,
            concurrency=options.concurrency,
            timeout=options.timeout,
            use_cache=options.use_cache,
        )
        for outcome in outcomes:
            emit(json.dumps(outcome_line(url, outcome)))
        errors = sum(o.error is not None for o in outcomes)
        if errors > MAX_ERROR_SHARE * len(outcomes):
            raise UsageError(f"{errors} of {len(outcomes)} questions to {url} got no answer")
        return golden.metrics([o.score for o in outcomes if o.score is not None]), errors

    values, errors = asked(options.url)
    baseline_errors = 0
    if options.baseline_url:
        baseline_values, baseline_errors = asked(options.baseline_url)
        baseline = {"url": options.baseline_url, "metrics": baseline_values}
    check_list = golden.checks(
        values, minimums, regressions, baseline["metrics"] if baseline is not None else None
    )
    if errors:
        check_list.append(golden.errors_check("errors", errors))
    if baseline_errors:
        check_list.append(golden.errors_check("baseline_errors", baseline_errors))
    return golden.summary(options.url, len(chosen), errors, values, baseline, check_list)
