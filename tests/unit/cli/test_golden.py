"""`ragops eval --url`'s arithmetic: scores, metrics, thresholds and regressions (golden.py)."""

from __future__ import annotations

import json

import pytest

from ragops_cli import golden
from ragops_cli.golden import Golden
from ragops_core.answering import NOT_FOUND
from ragops_core.domain import RatedAnswer

ANSWER = {
    "answer": "Backups go to  S3 nightly.",
    "answered": True,
    "model": "extractive",
    "sources": [
        {"filename": "ops/backups.pdf", "page": 3, "excerpt": "The manifest.JSON is last."},
        {"filename": "guide.pdf", "page": 2, "excerpt": "other"},
    ],
}


def test_an_answer_is_found_in_the_answer_or_a_cited_excerpt_whatever_the_case() -> None:
    assert golden.score(Golden("q", ("backups go to s3",)), ANSWER, 1).answer_hit is True
    assert golden.score(Golden("q", ("manifest.json is last",)), ANSWER, 1).answer_hit is True
    assert golden.score(Golden("q", ("Azure", "GCS")), ANSWER, 1).answer_hit is False
    assert golden.score(Golden("q"), ANSWER, 1).answer_hit is None  # no evidence asked for


def test_source_at_1_is_the_first_citation_and_page_any_citation_of_that_file() -> None:
    first = golden.score(Golden("q", source="backups.pdf", page=3), ANSWER, 1)
    assert (first.source_hit_at_1, first.page_hit) == (True, True)
    second = golden.score(Golden("q", source="guide.pdf", page=2), ANSWER, 1)
    assert (second.source_hit_at_1, second.page_hit) == (False, True)
    wrong_file = golden.score(Golden("q", source="guide.pdf", page=3), ANSWER, 1)
    assert wrong_file.page_hit is False  # page 3 is cited, but of another file
    abstained = {"answer": "No.", "answered": False, "sources": [], "model": "extractive"}
    nothing = golden.score(Golden("q", source="guide.pdf", page=2), abstained, 1)
    assert (nothing.source_hit_at_1, nothing.page_hit, nothing.answered) == (False, False, False)
    silent = {"answer": "S3", "sources": []}  # an API that does not report `answered`
    assert golden.score(Golden("q"), silent, 1).answered is None
    assert golden.metrics([golden.score(Golden("q"), silent, 1)])["answered"] is None


def test_usage_is_zero_for_extractive_answers_and_unknown_otherwise() -> None:
    assert (
        golden.score(Golden("q"), ANSWER, 1).tokens,
        golden.score(Golden("q"), ANSWER, 1).cost_usd,
    ) == (0, 0.0)
    llm = {**ANSWER, "model": "gpt-4o-mini"}
    assert golden.score(Golden("q"), llm, 1).tokens is None
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 0}
    priced = {**llm, "model": "openai:gpt-4o-mini", "usage": usage}
    assert golden.score(Golden("q"), priced, 1).cost_usd == pytest.approx(0.15)
    values = golden.metrics(
        [golden.score(Golden("q"), ANSWER, 1), golden.score(Golden("q"), llm, 1)]
    )
    assert values["tokens"] is None and values["cost_usd"] is None  # a partial sum would understate


def test_metrics_are_rates_over_the_questions_with_evidence_and_nearest_rank_latency() -> None:
    scores = [
        golden.score(Golden("a", ("s3",)), ANSWER, 100),
        golden.score(Golden("b", ("azure",)), ANSWER, 300),
        golden.score(Golden("c"), ANSWER, 200),
    ]
    values = golden.metrics(scores)
    assert values["answer_hit"] == 0.5
    assert values["page_hit"] is None and values["source_hit@1"] is None
    assert (values["latency_p50_ms"], values["latency_p95_ms"]) == (200, 300)


def test_a_check_on_a_metric_without_data_fails() -> None:
    values = golden.metrics([golden.score(Golden("q"), ANSWER, 5)])
    minimum, regression = golden.checks(
        values, {"page_hit": 0.0}, {"page_hit": 1.0}, {"page_hit": 0.9}
    )
    assert minimum["passed"] is False and minimum["value"] is None
    assert regression["passed"] is False
    (no_baseline,) = golden.checks({"answer_hit": 1.0}, {}, {"answer_hit": 1.0}, None)
    assert no_baseline["passed"] is False and no_baseline["baseline"] is None


def test_regressions_point_the_right_way_for_rates_and_latency() -> None:
    baseline = {"answer_hit": 0.9, "latency_p95_ms": 200.0}
    allowed = {"answer_hit": 0.05, "latency_p95_ms": 50.0}
    better = golden.checks({"answer_hit": 1.0, "latency_p95_ms": 100.0}, {}, allowed, baseline)
    assert all(c["passed"] for c in better)
    worse = golden.checks({"answer_hit": 0.8, "latency_p95_ms": 260.0}, {}, allowed, baseline)
    assert [c["passed"] for c in worse] == [False, False]
    edge = golden.checks({"answer_hit": 0.85, "latency_p95_ms": 250.0}, {}, allowed, baseline)
    assert all(c["passed"] for c in edge)  # exactly the allowed worsening passes


def test_thresholds_parse_and_refuse_nonsense() -> None:
    assert golden.parse_thresholds(["answer_hit=0.8", "source_hit@1=.5"], kind="min") == {
        "answer_hit": 0.8,
        "source_hit@1": 0.5,
    }
    for bad in ("answer_hit", "recall=0.5", "answer_hit=high", "answer_hit=nan", "page_hit=-1"):
        with pytest.raises(golden.GoldenError):
            golden.parse_thresholds([bad], kind="min")
    with pytest.raises(golden.GoldenError, match="lower is better"):
        golden.parse_thresholds(["latency_p95_ms=100"], kind="min")


def test_malformed_question_lines_are_named_by_number() -> None:
    good = '{"question": "Why?", "answers": ["Because"], "source": "a.pdf", "page": 2, "note": 1}'
    assert golden.parse_questions(f"\n{good}\n", max_questions=5) == [
        Golden("Why?", ("Because",), "a.pdf", 2)
    ]
    bad_lines = [
        "[1]",
        "{",
        '{"question": ""}',
        '{"question": "q", "page": 0}',
        '{"question": "q", "answers": "x"}',
        '{"question": "q", "page": true}',
    ]
    for line in bad_lines:
        with pytest.raises(golden.GoldenError, match="line 2"):
            golden.parse_questions(f"{good}\n{line}\n", max_questions=5)
    with pytest.raises(golden.GoldenError, match="more than 1"):
        golden.parse_questions(f"{good}\n{good}\n", max_questions=1)


def test_sampling_is_deterministic_and_keeps_the_file_order() -> None:
    questions = [Golden(str(i)) for i in range(50)]
    first = golden.sample(questions, 10, seed=7)
    assert first == golden.sample(questions, 10, seed=7)
    assert first != golden.sample(questions, 10, seed=8)
    assert [int(q.question) for q in first] == sorted(int(q.question) for q in first)
    assert golden.sample(questions, 100, seed=7) == questions


def test_the_summary_fits_a_termination_message_and_fails_on_errors() -> None:
    values = dict.fromkeys(golden.METRICS, 0.123456)
    every_check = golden.checks(
        values, dict.fromkeys(golden.RATES, 0.1), dict.fromkeys(golden.METRICS, 0.1), values
    )
    assert all(check["passed"] for check in every_check)
    baseline = {"url": "http://active", "metrics": values}
    summary = golden.summary("http://x/" + "a" * 5000, 5000, 1, values, baseline, every_check)
    assert summary["passed"] is False  # one error fails the run even with every check passed
    text = golden.compact(summary)
    assert len(text.encode()) < golden.MAX_SUMMARY_BYTES
    assert golden.read_summary("per-question line\n" + text + "\n")["metrics"] == values


def test_hostile_urls_errors_and_baselines_keep_the_summary_small() -> None:
    hostile = json.dumps(
        {
            "kind": "ragops-eval-summary",
            "url": "\u2603" * 10_000,
            "metrics": {"answer_hit": 0.5, "page_hit": "high", "extra": "x" * 10_000},
        }
    )
    baseline = golden.read_summary(hostile)
    assert baseline["metrics"] == {**dict.fromkeys(golden.METRICS), "answer_hit": 0.5}
    values = dict.fromkeys(golden.METRICS, 0.123456)
    every_check = golden.checks(
        values, dict.fromkeys(golden.RATES, 0.1), dict.fromkeys(golden.METRICS, 0.1), values
    )
    every_check.append(golden.errors_check("errors", 3))
    every_check.append(golden.errors_check("baseline_errors", 3))
    summary = golden.summary("\u2603" * 10_000, 5000, 3, values, baseline, every_check)
    assert len(golden.compact(summary).encode()) < golden.MAX_SUMMARY_BYTES
    failed = golden.summary("\u00e9" * 10_000, 0, 0, values, None, [], error="\u00e9" * 10_000)
    assert len(golden.compact(failed).encode()) < golden.MAX_SUMMARY_BYTES
    with pytest.raises(golden.GoldenError):
        golden.read_summary(json.dumps({"kind": "other"}))


def test_the_key_sentence_is_the_one_on_the_question_without_citation_marks() -> None:
    answer = "Backups go to S3 nightly. [1] The manifest is uploaded last! [2] Restore is manual."
    assert golden.key_sentence("What is uploaded last?", answer) == "The manifest is uploaded last!"
    assert golden.key_sentence("Unrelated?", answer) == "Backups go to S3 nightly."


def test_feedback_becomes_a_golden_question_only_where_it_is_fair() -> None:
    extractive = RatedAnswer("a1", "Where do backups go?", "They go to S3. [1]", "extractive")
    assert golden.from_feedback(extractive) == {
        "question": "Where do backups go?",
        "answers": ["They go to S3."],
        "answer_id": "a1",
        "model": "extractive",
    }
    llm = golden.from_feedback(RatedAnswer("a2", "Where?", "In S3, I think.", "gpt-4o-mini"))
    assert llm is not None and "answers" not in llm and llm["reference"] == "In S3, I think."
    assert golden.from_feedback(RatedAnswer("a3", "Why?", NOT_FOUND, "extractive")) is None
    # What the export writes reads back as questions.
    lines = "\n".join(json.dumps(row) for row in (golden.from_feedback(extractive), llm))
    assert golden.parse_questions(lines, max_questions=5)[0].answers == ("They go to S3.",)
