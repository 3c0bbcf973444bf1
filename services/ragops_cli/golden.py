"""`ragops eval --url`'s arithmetic (pure): golden questions, per-answer scores, the summary's
metrics and its checks. The I/O (files, S3, HTTP) is live_eval.py.

Deterministic on purpose: no LLM judge, so a run costs nothing and two runs of the same stack
give the same scores (a quality gate must not flap).
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ragops_core.answering import NOT_FOUND
from ragops_core.domain import RatedAnswer
from ragops_core.pricing import cost_usd

# Higher is better for these; for the others (latency, tokens, cost) lower is better.
RATES = ("answer_hit", "source_hit@1", "page_hit", "answered")
COSTS = ("latency_p50_ms", "latency_p95_ms", "tokens", "cost_usd")
METRICS = RATES + COSTS

MAX_QUESTION_CHARS = 4000
MAX_ANSWERS = 50
MAX_ANSWER_CHARS = 2000
# The operator's Job writes the summary to /dev/termination-log, which Kubernetes cuts at 4096.
MAX_SUMMARY_BYTES = 4096
MAX_URL_CHARS = 300


class GoldenError(ValueError):
    """A malformed questions file or threshold: the message names the line or the argument."""


@dataclass(frozen=True)
class Golden:
    question: str
    answers: tuple[str, ...] = ()
    source: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Score:
    """One answer against its golden question; None where the question gives no evidence."""

    answer_hit: bool | None
    source_hit_at_1: bool | None
    page_hit: bool | None
    answered: bool | None  # None: the API does not say (an older or foreign API)
    latency_ms: float
    tokens: int | None
    cost_usd: float | None


def parse_questions(text: str, *, max_questions: int) -> list[Golden]:
    """JSON Lines, one object per line (blank lines skipped); unknown keys are ignored, so an
    exported file may carry notes (`answer_id`, `model`)."""
    questions: list[Golden] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(questions) == max_questions:
            raise GoldenError(f"more than {max_questions} questions (line {number})")
        questions.append(_golden(line, number))
    if not questions:
        raise GoldenError("no questions")
    return questions


def _golden(line: str, number: int) -> Golden:
    def bad(why: str) -> GoldenError:
        return GoldenError(f"line {number}: {why}")

    try:
        row = json.loads(line)
    except ValueError as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(row, dict):
        raise bad("not a JSON object")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise bad('"question" must be a non-empty string')
    if len(question) > MAX_QUESTION_CHARS:
        raise bad(f'"question" is longer than {MAX_QUESTION_CHARS} characters')
    answers = row.get("answers", [])
    if (
        not isinstance(answers, list)
        or len(answers) > MAX_ANSWERS
        or not all(isinstance(a, str) and a.strip() for a in answers)
    ):
        raise bad(f'"answers" must be a list of at most {MAX_ANSWERS} non-empty strings')
    if any(len(a) > MAX_ANSWER_CHARS for a in answers):
        raise bad(f"an answer is longer than {MAX_ANSWER_CHARS} characters")
    source = row.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise bad('"source" must be a non-empty string (a file name)')
    page = row.get("page")
    if page is not None and (isinstance(page, bool) or not isinstance(page, int) or page < 1):
        raise bad('"page" must be a whole number from 1')
    return Golden(question, tuple(answers), source, page)


def sample(questions: Sequence[Golden], n: int | None, seed: int) -> list[Golden]:
    """`n` questions chosen by `seed` (the same ones on every run and for both URLs), in the
    file's order; all of them without `n` or when `n` is not smaller."""
    if n is None or n >= len(questions):
        return list(questions)
    picked = sorted(random.Random(seed).sample(range(len(questions)), n))
    return [questions[i] for i in picked]


def normalise(text: str) -> str:
    """Case, Unicode forms (ligatures from PDFs) and runs of whitespace do not count."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def file_name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def score(golden: Golden, response: Mapping[str, Any], latency_ms: float) -> Score:
    """Scores one /api/ask response. page_hit: a cited source on `page` (of the file `source`
    when the question names one), any citation, not only the first, since a page is finer
    evidence than a file and the first citation's page is often a neighbour of the right one."""
    sources = [s for s in response.get("sources") or [] if isinstance(s, dict)]
    answer_hit = None
    if golden.answers:
        haystack = [normalise(str(response.get("answer", "")))] + [
            normalise(str(s.get("excerpt", ""))) for s in sources
        ]
        needles = [normalise(a) for a in golden.answers]
        answer_hit = any(needle in text for needle in needles for text in haystack)
    source_hit = None
    if golden.source is not None:
        want = file_name(golden.source)
        source_hit = bool(sources) and file_name(str(sources[0].get("filename", ""))) == want
    page_hit = None
    if golden.page is not None:
        want_page_file = file_name(golden.source) if golden.source is not None else None
        page_hit = any(
            s.get("page") == golden.page
            and (golden.source is None or file_name(str(s.get("filename", ""))) == want_page_file)
            for s in sources
        )
    tokens, cost = _usage(response)
    return Score(
        answer_hit=answer_hit,
        source_hit_at_1=source_hit,
        page_hit=page_hit,
        answered=answered if isinstance(answered := response.get("answered"), bool) else None,
        latency_ms=latency_ms,
        tokens=tokens,
        cost_usd=cost,
    )


def _usage(response: Mapping[str, Any]) -> tuple[int | None, float | None]:
    """/api/ask reports no token usage, and an extractive answer provably used none. A `usage`
    object (OpenAI's shape, should an API report one) is priced by pricing.py's table; any
    other answer's usage is unknown: None, never a made-up 0."""
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return (0, 0.0) if response.get("model") == "extractive" else (None, None)
    try:
        prompt = int(usage.get("prompt_tokens", 0))
        completion = int(usage.get("completion_tokens", 0))
    except (TypeError, ValueError):
        return None, None
    # The API names models with their provider ("openai:gpt-4o-mini"); the price table does not.
    model = str(response.get("model", "")).removeprefix("openai:").removeprefix("bedrock:")
    return prompt + completion, cost_usd(model, prompt, completion)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: a latency that some request really had, not an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def metrics(scores: Sequence[Score]) -> dict[str, float | int | None]:
    """Each rate over the questions that give its evidence (None when none does)."""

    def rate(values: list[bool | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(sum(known) / len(known), 4) if known else None

    latencies = [s.latency_ms for s in scores]
    tokens = [s.tokens for s in scores]
    costs = [s.cost_usd for s in scores]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "answer_hit": rate([s.answer_hit for s in scores]),
        "source_hit@1": rate([s.source_hit_at_1 for s in scores]),
        "page_hit": rate([s.page_hit for s in scores]),
        "answered": rate([s.answered for s in scores]),
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
        # A total only when every answer's usage is known: a partial sum would understate.
        "tokens": sum(t for t in tokens if t is not None)
        if scores and None not in tokens
        else None,
        "cost_usd": round(sum(c for c in costs if c is not None), 6)
        if scores and None not in costs
        else None,
    }


def parse_thresholds(items: Sequence[str], *, kind: str) -> dict[str, float]:
    """`METRIC=NUMBER` arguments of --min or --max-regression."""
    parsed: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        name = name.strip()
        if not equals or name not in METRICS:
            raise GoldenError(
                f"--{kind} {item!r}: expected METRIC=NUMBER, METRIC one of {', '.join(METRICS)}"
            )
        if kind == "min" and name not in RATES:
            raise GoldenError(
                f"--min {name}: lower is better for {name}; use --max-regression against a baseline"
            )
        try:
            value = float(number)
        except ValueError:
            raise GoldenError(f"--{kind} {item!r}: {number!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise GoldenError(f"--{kind} {item!r}: must be a finite number >= 0")
        parsed[name] = value
    return parsed


def checks(
    values: Mapping[str, Any],
    minimums: Mapping[str, float],
    regressions: Mapping[str, float],
    baseline: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """Every --min and --max-regression as a check. A metric without data, or a regression
    without a baseline value, fails: a gate never passes on missing evidence."""
    out: list[dict[str, Any]] = []
    for name, threshold in minimums.items():
        value = values.get(name)
        out.append(
            {
                "metric": name,
                "kind": "min",
                "value": value,
                "threshold": threshold,
                "passed": value is not None and value >= threshold,
            }
        )
    for name, allowed in regressions.items():
        value = values.get(name)
        before = baseline.get(name) if baseline is not None else None
        passed = False
        if value is not None and before is not None:
            # Rates regress by falling, latency/tokens/cost by rising.
            worse = before - value if name in RATES else value - before
            passed = worse <= allowed + 1e-9
        out.append(
            {
                "metric": name,
                "kind": "regression",
                "value": value,
                "baseline": before,
                "allowed": allowed,
                "passed": passed,
            }
        )
    return out


def errors_check(name: str, errors: int) -> dict[str, Any]:
    """Questions that got no answer make the run fail: a gate must not pass on the answers
    that happened to come back."""
    return {"metric": name, "kind": "max", "value": errors, "threshold": 0, "passed": errors == 0}


def summary(
    url: str,
    questions: int,
    errors: int,
    values: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    check_list: Sequence[Mapping[str, Any]],
    *,
    error: str | None = None,
) -> dict[str, Any]:
    """The contract's summary object (docs/evaluation.md); `error` only when the run could
    not finish (exit 2)."""
    out: dict[str, Any] = {
        "kind": "ragops-eval-summary",
        "url": bounded(url, MAX_URL_CHARS),
        "questions": questions,
        "errors": errors,
        "metrics": dict(values),
        "baseline": None
        if baseline is None
        else {"url": bounded(str(baseline["url"]), MAX_URL_CHARS), "metrics": baseline["metrics"]},
        "checks": [dict(c) for c in check_list],
        "passed": error is None and errors == 0 and all(c["passed"] for c in check_list),
    }
    if error is not None:
        out["error"] = bounded(error, 500)
    return out


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` ASCII characters (others as \\x.. escapes), so that its JSON is
    at most 2 * `limit` bytes whatever it holds: the summary must stay under 4096."""
    return text.encode("ascii", "backslashreplace").decode("ascii")[:limit]


def compact(summary_object: Mapping[str, Any]) -> str:
    """One line of JSON under MAX_SUMMARY_BYTES (with at most 8 metrics, 16 checks and
    bounded strings it always is; the assertion keeps it so)."""
    text = json.dumps(summary_object, separators=(",", ":"))
    assert len(text.encode()) < MAX_SUMMARY_BYTES, "summary too large for a termination message"
    return text


def read_summary(text: str) -> dict[str, Any]:
    """The baseline ({"url", "metrics"}) in an earlier run's summary (--baseline FILE): the
    file's last non-blank line, so the whole stdout of a run works as well as --summary-file's
    output."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        row = json.loads(lines[-1]) if lines else None
    except ValueError as exc:
        raise GoldenError(f"baseline: not JSON ({exc})") from None
    if (
        not isinstance(row, dict)
        or row.get("kind") != "ragops-eval-summary"
        or not isinstance(row.get("metrics"), dict)
    ):
        raise GoldenError("baseline: not a ragops eval summary (kind ragops-eval-summary)")
    # Only the known metrics, and only numbers: the file is input like any other.
    known = {
        name: value
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        else None
        for name in METRICS
        for value in [row["metrics"].get(name)]
    }
    return {"url": bounded(str(row.get("url", "")), MAX_URL_CHARS), "metrics": known}


_CITATION = re.compile(r"\s*\[\d+\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")


def key_sentence(question: str, answer: str) -> str:
    """The answer's sentence sharing the most words with the question (the first on a tie),
    without its [n] citation marks: what a later answer, or its cited excerpts, should still
    contain."""
    asked = set(_WORD.findall(question.casefold()))
    sentences = [s.strip() for s in _SENTENCE_END.split(_CITATION.sub("", answer)) if s.strip()]
    if not sentences:
        return answer.strip()
    best = max(sentences, key=lambda s: len(asked & set(_WORD.findall(s.casefold()))))
    return best[:MAX_ANSWER_CHARS]


def from_feedback(rated: RatedAnswer) -> dict[str, Any] | None:
    """A golden question from an answer rated up, or None for an abstention (a golden question
    needs an answer). The answer log keeps no sources, so no `source`/`page`: add them by hand.
    Only an extractive answer gives `answers`: its sentences are the documents' own words, so
    the check "a later answer or its excerpts contain it" is fair; a language model's wording
    is not, so its answer is kept as `reference` for a person to cut down to the fact."""
    if not rated.query.strip() or rated.answer.strip() == NOT_FOUND:
        return None
    row: dict[str, Any] = {"question": rated.query[:MAX_QUESTION_CHARS]}
    if rated.model == "extractive":
        row["answers"] = [key_sentence(rated.query, rated.answer)]
    else:
        row["reference"] = rated.answer[:MAX_ANSWER_CHARS]
    row.update(answer_id=rated.answer_id, model=rated.model)
    return row
